package gitlabci

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// docsEnvRow is a row of the environments table in docs/gitlab.md:
// | `env` | tier | `job` | trigger | approvals |
var docsEnvRow = regexp.MustCompile("(?m)^\\| `([a-z]+)` \\| ([a-z]+) \\| `([a-z-]+)` \\| [^|]+ \\| ([0-9]+) \\|$")

// envRows parses the environments table of the GitLab documentation.
func envRows(doc string) map[string][3]string {
	out := map[string][3]string{}
	for _, m := range docsEnvRow.FindAllStringSubmatch(doc, -1) {
		out[m[1]] = [3]string{m[2], m[3], m[4]}
	}
	return out
}

func checkDocs(t *testing.T, c *Config, doc string) []string {
	t.Helper()
	var problems []string
	rows := envRows(doc)
	for _, env := range domain.Environments() {
		row, ok := rows[string(env)]
		if !ok {
			problems = append(problems, fmt.Sprintf("docs: no row for %s in the environments table", env))
			continue
		}
		if row[0] != tierName[env] {
			problems = append(problems, fmt.Sprintf("docs: %s tier is %s, want %s", env, row[0], tierName[env]))
		}
		if row[1] != DeployJob(c, env) {
			problems = append(problems, fmt.Sprintf("docs: %s job is %s, want %s", env, row[1], DeployJob(c, env)))
		}
		if n, _ := strconv.Atoi(row[2]); n != env.Approvals() {
			problems = append(problems, fmt.Sprintf("docs: %s needs %s approvals, the policy says %d", env, row[2], env.Approvals()))
		}
	}
	// Every secret the file references is documented, and so is every job.
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		require.NoError(t, err)
		calls, err := Calls(job)
		require.NoError(t, err)
		if !strings.Contains(doc, "`"+name+"`") {
			problems = append(problems, fmt.Sprintf("docs: job %s is not described", name))
		}
		for _, d := range calls {
			for _, a := range d.AllArgs() {
				if v, ok := strings.CutPrefix(a.Value, "env:"); ok && !strings.Contains(doc, "`"+v+"`") {
					problems = append(problems, fmt.Sprintf("docs: secret variable %s is not documented", v))
				}
			}
		}
	}
	for _, s := range []string{"_EXPERIMENTAL_DAGGER_RUNNER_HOST", "GITLAB_CI_SCHEMA"} {
		if !strings.Contains(doc, s) {
			problems = append(problems, "docs: "+s+" is not documented")
		}
	}
	return problems
}

func TestDocsMatchThePipelineAndThePolicy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "gitlab.md"))
	require.NoError(t, err)
	doc := string(data)
	c := load(t)
	assert.Empty(t, checkDocs(t, c, doc))

	ev := strings.TrimPrefix(engineVersion(t), "v")
	assert.Contains(t, doc, "DAGGER_VERSION: \""+ev+"\"", "docs state the pinned CLI version")
	job, err := c.Job("gates")
	require.NoError(t, err)
	dv := job["variables"].(map[string]any)["DOCKER_VERSION"].(string)
	assert.Contains(t, doc, "docker:"+dv+"-dind", "docs name the pinned dind image")

	broken := strings.Replace(doc, "| `production` | production | `deploy-production` | manual, after `deploy-staging` succeeded | 2 |",
		"| `production` | production | `deploy-production` | manual, after `deploy-staging` succeeded | 1 |", 1)
	require.NotEqual(t, doc, broken, "the production row is where the test expects it")
	assert.Contains(t, strings.Join(checkDocs(t, c, broken), "\n"), "production needs 1 approvals, the policy says 2")
	assert.Contains(t, strings.Join(checkDocs(t, c, strings.ReplaceAll(doc, "`GITLAB_RELEASE_TOKEN`", "the release token")), "\n"),
		"GITLAB_RELEASE_TOKEN is not documented")
}
