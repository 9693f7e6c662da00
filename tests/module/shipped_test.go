//go:build daggerharness

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/gitlabci"
)

// pipelineKind is one kind of pipeline .gitlab-ci.yml runs, with the predefined variables
// GitLab sets in its jobs (https://docs.gitlab.com/ci/variables/predefined_variables/).
type pipelineKind struct {
	name string
	vars map[string]string
}

func pipelineKinds() []pipelineKind {
	common := map[string]string{
		"CI_COMMIT_SHA": commitSHA, "CI_DEFAULT_BRANCH": "main", "CI_REGISTRY_IMAGE": registry,
		"CI_REGISTRY": "registry.example.com", "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "job-token-plaintext",
		"CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX": "gitlab.com:443/soccerpredictai/dependency_proxy/containers",
		"CI_DEPENDENCY_PROXY_SERVER":             "gitlab.com:443", "CI_DEPENDENCY_PROXY_USER": "gitlab-ci-token", "CI_DEPENDENCY_PROXY_PASSWORD": "job-token-plaintext",
		"CI_PROJECT_ID": "42", "CI_JOB_ID": "777", "CI_PIPELINE_ID": "555", "CI_COMMIT_TIMESTAMP": "2025-03-01T09:00:00+01:00",
		"CI_PIPELINE_URL": "https://gitlab.com/soccerpredictai/soccerpredict/-/pipelines/555", "CI_JOB_TOKEN": "job-token-plaintext", "GITLAB_USER_LOGIN": "erin",
		"CI_API_V4_URL": "https://gitlab.com/api/v4", "CI_PROJECT_URL": "https://gitlab.com/soccerpredictai/soccerpredict",
	}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range common {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	return []pipelineKind{
		{"push to main", with(map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_REF_SLUG": "main"})},
		{"merge request", with(map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_NAME": "feature/better-model", "CI_COMMIT_REF_SLUG": "feature-better-model", "CI_MERGE_REQUEST_IID": "7"})},
		{"release tag", with(map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1.2.0", "CI_COMMIT_REF_NAME": "v1.2.0", "CI_COMMIT_REF_SLUG": "v1-2-0"})},
	}
}

// projectVariable is one row of docs/gitlab.md's CI/CD variables table: names and the jobs
// (patterns such as deploy-*, or all jobs) that get them.
type projectVariable struct {
	names, jobs []string
	all         bool
}

func projectVariables(t *testing.T) []projectVariable {
	t.Helper()
	raw, err := os.ReadFile("../docs/gitlab.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(raw), "## CI/CD variables")
	require.True(t, ok, "docs/gitlab.md has a CI/CD variables section")
	tick := regexp.MustCompile("`([^`]+)`")
	var out []projectVariable
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "## ") {
			break
		}
		cols := strings.Split(line, "|")
		if len(cols) < 4 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "`") {
			continue
		}
		var v projectVariable
		for _, m := range tick.FindAllStringSubmatch(cols[1], -1) {
			v.names = append(v.names, m[1])
		}
		v.all = strings.Contains(cols[2], "all jobs")
		for _, m := range tick.FindAllStringSubmatch(cols[2], -1) {
			v.jobs = append(v.jobs, m[1])
		}
		out = append(out, v)
	}
	require.NotEmpty(t, out)
	return out
}

// jobVars is everything GitLab gives a job's script: predefined variables, the job's and the
// file's variables, the project's CI/CD variables documented for that job, and the dotenv
// report of publish when the job needs publish's artifacts. Nothing else.
func jobVars(t *testing.T, c *gitlabci.Config, kind pipelineKind, name string, job map[string]any) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for k, v := range kind.vars {
		vars[k] = v
	}
	if gv, ok := c.Doc["variables"].(map[string]any); ok {
		for k, v := range gv {
			vars[k] = fmt.Sprint(v)
		}
	}
	if jv, ok := job["variables"].(map[string]any); ok {
		for k, v := range jv {
			vars[k] = fmt.Sprint(v)
		}
	}
	// GitLab gives the job each OIDC token its id_tokens declare, as a variable.
	if tokens, ok := job["id_tokens"].(map[string]any); ok {
		for k := range tokens {
			vars[k] = "plaintext-of-" + k
		}
	}
	// A manual rollback job is run with its variables filled in GitLab's "Run job" form
	// (docs/gitlab.md, Rollbacks): what the reviewer of the rollback types there.
	if when, _ := job["when"].(string); strings.HasPrefix(name, "rollback-") || when == "manual" {
		for k, v := range map[string]string{"ROLLBACK_MODEL_VERSION": "11", "ROLLBACK_REASON": "bad rollout of 42, reviewed in MR 12", "ROLLBACK_REVISION": "41"} {
			if _, declared := vars[k]; declared {
				vars[k] = v
			}
		}
	}
	for _, pv := range projectVariables(t) {
		match := pv.all
		for _, pattern := range pv.jobs {
			if ok, _ := path.Match(pattern, name); ok {
				match = true
			}
		}
		if match {
			for _, n := range pv.names {
				if _, predefined := vars[n]; !predefined {
					vars[n] = "plaintext-of-" + n
				}
			}
		}
	}
	needs, _ := job["needs"].([]any)
	for _, n := range needs {
		need, _ := n.(map[string]any)
		artifacts, set := need["artifacts"].(bool)
		if need["job"] == "publish" && (artifacts || !set) {
			for i, svc := range []string{"api", "worker", "airflow"} {
				vars[strings.ToUpper(svc)+"_IMAGE"] = registry + "/" + svc + "@" + digestOf(i+1)
			}
		}
	}
	return vars
}

// modelVersionPending: until the bundled champion metrics carry model_version (issue 12, part
// B), a deploy line without --model-version stops at the traceability record. This list
// expects exactly that error, so it fails the day the gap closes: then delete it.
func modelVersionPending(t *testing.T) bool {
	raw, err := os.ReadFile("../tests/testdata/soccerpredict/metrics/champion.json")
	require.NoError(t, err)
	var champion map[string]any
	require.NoError(t, json.Unmarshal(raw, &champion))
	_, ok := champion["model_version"]
	return !ok
}

// Every `dagger call` line of .gitlab-ci.yml, with only what GitLab gives its job, must reach
// the cluster, the registry or GitLab (or run its gate's tool) with the bundled project.
func TestShippedLinesRunAsShipped(t *testing.T) {
	c, err := gitlabci.LoadConfig("../.gitlab-ci.yml")
	require.NoError(t, err)
	pending := modelVersionPending(t)
	ran := map[string]bool{}
	for _, kind := range pipelineKinds() {
		created, jobs, err := c.Pipeline(kind.vars)
		require.NoError(t, err)
		require.True(t, created, kind.name)
		names := make([]string, 0, len(jobs))
		for n := range jobs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			job, err := c.Job(name)
			require.NoError(t, err)
			script, _ := job["script"].([]any)
			for i, l := range script {
				line := fmt.Sprint(l)
				t.Run(fmt.Sprintf("%s/%s/%d", kind.name, name, i), func(t *testing.T) {
					d, err := gitlabci.ParseDaggerCall(line)
					require.NoError(t, err)
					env := callEnv{vars: jobVars(t, c, kind, name, job)}
					rec.Reset()
					artifactsOfAGreenPipeline(t)
					world := &outsideWorld{}
					gitlabComFake(t, world)
					// The File-type CI/CD variable SOCCERPREDICT_SETTINGS (docs/gitlab.md): a path
					// to the production settings, as GitLab writes it for the job.
					// It names the MLflow server, here a loopback fake that counts as the outside.
					mlflow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						world.mu.Lock()
						world.gitlab = append(world.gitlab, "mlflow "+r.Method+" "+r.URL.RequestURI())
						world.mu.Unlock()
						w.WriteHeader(http.StatusNotFound)
						_, _ = w.Write([]byte(`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"not in this fake"}`))
					}))
					t.Cleanup(mlflow.Close)
					rec.Respond(daggertest.OnFile("plaintext-of-SOCCERPREDICT_SETTINGS", "MLFLOW_TRACKING_URI="+mlflow.URL+"\n"))
					err = env.runLine(t, d)
					if envFlag, _ := d.Chain[0].Arg("env"); pending && d.Function() == "deploy" && envFlag != "dev" {
						require.Error(t, err, "the bundled champion now says its model version: remove modelVersionPending")
						assert.Contains(t, err.Error(), "model version")
						return
					}
					mustReachTheWorld(t, d, world, err)
					ran[d.Function()] = true
					if d.Function() == "publish" {
						// The shipped publish signs keylessly with the job's OIDC token under the
						// committed policy (docs/evidence.md "Signing"): the line is accepted under it
						// (TestPublishSignsKeylesslyWithTheTokenOnlyAsASecretFile: how the token is
						// mounted), and its plaintext never reaches a query.
						signed := false
						for _, a := range d.AllArgs() {
							signed = signed || (a.Name == "sigstore-id-token" && a.Value == "env:SIGSTORE_ID_TOKEN")
						}
						assert.True(t, signed, "publish passes --sigstore-id-token=env:SIGSTORE_ID_TOKEN: %s", d.Line)
						assert.Empty(t, rec.Leaked("plaintext-of-SIGSTORE_ID_TOKEN"))
					}
				})
			}
		}
	}
	for _, fn := range []string{"base", "publish-base", "gate-report", "check", "requirements-check", "scan-report", "scan", "publish", "release", "docs"} {
		assert.True(t, ran[fn], "no shipped line ran %s", fn)
	}
}
