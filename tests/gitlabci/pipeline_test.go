package gitlabci

import (
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestStages(t *testing.T) {
	assert.Equal(t, Stages, load(t).Stages())
}

func TestEveryJobIsInADeclaredStage(t *testing.T) {
	c := load(t)
	stages := map[string]bool{}
	for _, s := range c.Stages() {
		stages[s] = true
	}
	used := map[string]bool{}
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		require.NoError(t, err)
		st, _ := job["stage"].(string)
		assert.Truef(t, stages[st], "job %s: stage %q is not declared", name, st)
		used[st] = true
	}
	for _, s := range c.Stages() {
		assert.Truef(t, used[s], "stage %s has no job", s)
	}
}

// checks are run on the real file (must pass) and on broken copies (must fail).
var checks = map[string]func(c *Config, engine string) []string{
	"scripts":       func(c *Config, _ string) []string { return CheckScripts(c) },
	"dagger":        CheckDaggerVersion,
	"engine":        func(c *Config, _ string) []string { return CheckEngine(c) },
	"ctor":          func(c *Config, _ string) []string { return CheckCtorFlags(c) },
	"secrets":       func(c *Config, _ string) []string { return CheckSecrets(c) },
	"artifacts":     func(c *Config, _ string) []string { return CheckArtifacts(c) },
	"interruptible": func(c *Config, _ string) []string { return CheckInterruptible(c) },
	"deploy":        func(c *Config, _ string) []string { return CheckDeployJobs(c) },
	"rollback":      func(c *Config, _ string) []string { return CheckRollbackJobs(c) },
	"signing":       func(c *Config, _ string) []string { return CheckSigning(c) },
}

func TestChecksPassOnTheFile(t *testing.T) {
	c := load(t)
	ev := engineVersion(t)
	assert.Equal(t, "v0.21.8", ev, "the issue pins Dagger v0.21.8")
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, check(c, ev))
		})
	}
}

func TestChecksCatchBrokenCopies(t *testing.T) {
	base := load(t)
	ev := engineVersion(t)
	cases := []struct {
		name  string
		check string
		edit  func(t *testing.T, d map[string]any)
		want  string
	}{
		{"publish without its OIDC token", "signing", func(t *testing.T, d map[string]any) {
			delete(node(t, d, "publish"), "id_tokens")
		}, "declare `id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`"},
		{"an OIDC token for another audience", "signing", func(t *testing.T, d map[string]any) {
			node(t, d, "publish", "id_tokens", "SIGSTORE_ID_TOKEN")["aud"] = "https://gitlab.com"
		}, "declare `id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`"},
		{"publish signing with a key", "signing", func(t *testing.T, d map[string]any) {
			editScript(t, d, "publish", "--sigstore-id-token=env:SIGSTORE_ID_TOKEN", "--signing-key=env:SP_SIGNING_KEY")
		}, "passes --signing-key, which the committed keyless policy refuses"},
		{"publish not signing", "signing", func(t *testing.T, d map[string]any) {
			editScript(t, d, "publish", " --sigstore-id-token=env:SIGSTORE_ID_TOKEN", "")
		}, "publish must sign keylessly"},
		{"a non-dagger line", "scripts", func(t *testing.T, d map[string]any) {
			j := node(t, d, "gates")
			j["script"] = append(j["script"].([]any)[:1], "echo done")
		}, "is not a `dagger call"},
		{"a pipe to jq", "scripts", func(t *testing.T, d map[string]any) {
			editScript(t, d, "publish", "export --path=images", "export --path=images | jq .")
		}, "shell syntax"},
		{"a shell conditional", "scripts", func(t *testing.T, d map[string]any) {
			j := node(t, d, "scan")
			j["script"] = []any{`if [ -n "$X" ]; then dagger call scan; fi`}
		}, "shell syntax"},
		{"three dagger lines", "scripts", func(t *testing.T, d map[string]any) {
			j := node(t, d, "gates")
			s := j["script"].([]any)
			j["script"] = append(s, s[1])
		}, "runs 3 dagger lines"},
		{"curl in before_script", "scripts", func(t *testing.T, d map[string]any) {
			j := node(t, d, ".dagger-cli")
			j["before_script"] = []any{"apk add curl", InstallLine, ProxyLoginLine}
		}, "before_script must be exactly"},
		{"a job overriding before_script", "scripts", func(t *testing.T, d map[string]any) {
			node(t, d, "pages")["before_script"] = []any{"curl -fsSL https://dl.dagger.io/dagger/install.sh | sh"}
		}, "job pages: before_script"},
		{"an automatic rollback", "scripts", func(t *testing.T, d map[string]any) {
			j := node(t, d, "deploy-dev")
			j["script"] = []any{strings.Replace(j["script"].([]any)[0].(string), " deploy --env=dev", " rollback-service --env=dev", 1)}
		}, "rollbacks are never run by CI"},
		{"a global after_script", "scripts", func(t *testing.T, d map[string]any) {
			d["after_script"] = []any{"dagger call cleanup"}
		}, "top-level after_script"},
		{"another Dagger version", "dagger", func(t *testing.T, d map[string]any) {
			node(t, d, ".dagger-cli", "variables")["DAGGER_VERSION"] = "0.21.7"
		}, `want "0.21.8"`},
		{"a job overriding the Dagger version", "dagger", func(t *testing.T, d map[string]any) {
			node(t, d, "release")["variables"] = map[string]any{"DAGGER_VERSION": "latest"}
		}, "job release: DAGGER_VERSION"},
		{"dind without TLS", "engine", func(t *testing.T, d map[string]any) {
			node(t, d, ".dagger-dind", "variables")["DOCKER_HOST"] = "tcp://docker:2375"
		}, "DOCKER_HOST"},
		{"an unpinned docker", "engine", func(t *testing.T, d map[string]any) {
			node(t, d, ".dagger-cli", "variables")["DOCKER_VERSION"] = "latest"
		}, "exact X.Y.Z tag"},
		{"no dind service", "engine", func(t *testing.T, d map[string]any) {
			delete(node(t, d, ".dagger-dind"), "services")
		}, "services are"},
		{"a runner host in the file", "engine", func(t *testing.T, d map[string]any) {
			node(t, d, ".dagger-dind", "variables")["_EXPERIMENTAL_DAGGER_RUNNER_HOST"] = "tcp://engine:1234"
		}, "must not be set"},
		{"a missing constructor flag", "ctor", func(t *testing.T, d map[string]any) {
			editScript(t, d, "requirements", " --registry-mirror=$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX", "")
		}, "--registry-mirror=$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX is missing"},
		{"a wrong constructor value", "ctor", func(t *testing.T, d map[string]any) {
			editScript(t, d, "scan", "--ref=$CI_COMMIT_REF_NAME", "--ref=$CI_COMMIT_BRANCH")
		}, "want --ref=$CI_COMMIT_REF_NAME"},
		{"a password on the command line", "secrets", func(t *testing.T, d map[string]any) {
			editScript(t, d, "publish", "--password=env:CI_REGISTRY_PASSWORD", "--password=$CI_REGISTRY_PASSWORD")
		}, "pass credentials as --password=env:NAME"},
		{"a token expanded in another flag", "secrets", func(t *testing.T, d map[string]any) {
			editScript(t, d, "release", "--project-id=$CI_PROJECT_ID", "--project-id=$GITLAB_RELEASE_TOKEN")
		}, "expands $GITLAB_RELEASE_TOKEN"},
		{"a credential defined in the file", "secrets", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-dev")["variables"] = map[string]any{"SOPS_AGE_KEY": "AGE-SECRET-KEY-1XXXX"}
		}, "defines variable SOPS_AGE_KEY"},
		{"a misplaced junit report", "artifacts", func(t *testing.T, d map[string]any) {
			node(t, d, "gates", "artifacts", "reports")["junit"] = "reports/junit-report.xml"
		}, `want "reports/junit.xml"`},
		{"reports only on success", "artifacts", func(t *testing.T, d map[string]any) {
			node(t, d, "scan", "artifacts")["when"] = "on_success"
		}, "need when: always"},
		{"no expiry", "artifacts", func(t *testing.T, d map[string]any) {
			delete(node(t, d, "publish", "artifacts"), "expire_in")
		}, "need expire_in"},
		{"an SBOM nobody uploads", "artifacts", func(t *testing.T, d map[string]any) {
			delete(node(t, d, "scan", "artifacts", "reports"), "cyclonedx")
		}, "no job uploads: [cyclonedx]"},
		{"an artifact path nothing exports", "artifacts", func(t *testing.T, d map[string]any) {
			node(t, d, "gates", "artifacts")["paths"] = []any{"report/"}
		}, "is not a directory the job exports"},
		{"coverage in another format", "artifacts", func(t *testing.T, d map[string]any) {
			node(t, d, "gates", "artifacts", "reports", "coverage_report")["coverage_format"] = "jacoco"
		}, "coverage_format: cobertura"},
		{"a report from the wrong function", "artifacts", func(t *testing.T, d map[string]any) {
			node(t, d, "scan", "artifacts", "reports")["junit"] = "scan/junit.xml"
		}, "comes from gate-report"},
		{"an interruptible deploy", "interruptible", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-dev")["interruptible"] = true
		}, "job deploy-dev: interruptible is true"},
		{"a non-interruptible gate", "interruptible", func(t *testing.T, d map[string]any) {
			node(t, d, "gates")["interruptible"] = false
		}, "job gates: interruptible is false"},
		{"an implicit interruptible", "interruptible", func(t *testing.T, d map[string]any) {
			delete(node(t, d, "release"), "interruptible")
		}, "job release: set interruptible"},
		{"an automatic production deploy", "deploy", func(t *testing.T, d map[string]any) {
			delete(node(t, d, "deploy-production")["rules"].([]any)[0].(map[string]any), "when")
		}, "must be when: manual"},
		{"a non-blocking staging deploy", "deploy", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-staging")["rules"].([]any)[0].(map[string]any)["allow_failure"] = true
		}, "must be blocking"},
		{"a manual dev deploy", "deploy", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-dev")["rules"].([]any)[0].(map[string]any)["when"] = "manual"
		}, "deploys automatically"},
		{"a deploy from merge requests", "deploy", func(t *testing.T, d map[string]any) {
			j := node(t, d, "deploy-dev")
			j["rules"] = append(j["rules"].([]any), map[string]any{"if": `$CI_PIPELINE_SOURCE == "merge_request_event"`})
		}, "may match outside pushes to the default branch"},
		{"a deploy from any branch", "deploy", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-production")["rules"].([]any)[0].(map[string]any)["if"] = `$CI_COMMIT_BRANCH`
		}, "may match outside pushes to the default branch"},
		{"a shared resource group", "deploy", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-production")["resource_group"] = "staging"
		}, "share resource_group staging"},
		{"no staging job", "deploy", func(t *testing.T, d map[string]any) {
			delete(d, "deploy-staging")
		}, "no job deploys to staging"},
		{"the wrong environment flag", "deploy", func(t *testing.T, d map[string]any) {
			editScript(t, d, "deploy-staging", "--env=staging", "--env=production")
		}, "deploy --env=production, want --env=staging"},
		{"a wrong tier", "deploy", func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-dev", "environment")["deployment_tier"] = "testing"
		}, "want development"},
		{"a gate report file instead of the registry's evidence", "deploy", func(t *testing.T, d map[string]any) {
			editScript(t, d, "deploy-production", "--pipeline-source=", "--gate-report=reports/gate-report.json --pipeline-source=")
		}, "deploy --gate-report=reports/gate-report.json: drop it"},
		{"no registry credentials to read the evidence", "deploy", func(t *testing.T, d map[string]any) {
			editScript(t, d, "deploy-staging", " --registry-password=env:CI_REGISTRY_PASSWORD", "")
		}, "deploy needs --registry-password=env:NAME"},
		{"images not from publish", "deploy", func(t *testing.T, d map[string]any) {
			editScript(t, d, "deploy-production", "--api-image=$API_IMAGE", "--api-image=$CI_REGISTRY_IMAGE/api:latest")
		}, "want --api-image=$API_IMAGE"},
		{"reports not downloaded", "deploy", func(t *testing.T, d map[string]any) {
			j := node(t, d, "deploy-production")
			j["needs"] = []any{"scan", "publish", map[string]any{"job": "gates", "artifacts": false}}
		}, "must need gates with its artifacts"},
		{"an unknown environment", "deploy", func(t *testing.T, d map[string]any) {
			node(t, d, "pages")["environment"] = map[string]any{"name": "qa"}
		}, "which the policy does not know"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := mutate(t, base, func(d map[string]any) { tc.edit(t, d) })
			problems := checks[tc.check](broken, ev)
			require.NotEmpty(t, problems, "check %s accepted a broken copy", tc.check)
			assert.Contains(t, strings.Join(problems, "\n"), tc.want)
		})
	}
}

// Pipeline contexts, with the variables GitLab predefines for each kind of pipeline.
func mrVars() map[string]string {
	return map[string]string{
		"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main",
		"CI_COMMIT_REF_NAME": "feature/x", "CI_MERGE_REQUEST_IID": "7",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
	}
}

func pushVars(branch string) map[string]string {
	return map[string]string{
		"CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main",
		"CI_COMMIT_BRANCH": branch, "CI_COMMIT_REF_NAME": branch,
	}
}

func tagVars(tag string) map[string]string {
	return map[string]string{
		"CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main",
		"CI_COMMIT_TAG": tag, "CI_COMMIT_REF_NAME": tag,
	}
}

func with(vars map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range vars {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestPipelines(t *testing.T) {
	c := load(t)
	auto := PlannedJob{When: "on_success"}
	gated := PlannedJob{When: "manual", AllowFailure: false}
	// Rollbacks: manual, never blocking the pipeline, on the default branch only (not in mr).
	rollback := PlannedJob{When: "manual", AllowFailure: true}
	mr := map[string]PlannedJob{"base-build": auto, "gates": auto, "requirements": auto, "scan": auto}
	main := map[string]PlannedJob{
		"base-publish": auto, "gates": auto, "requirements": auto, "scan": auto, "publish": auto,
		"deploy-dev": auto, "deploy-staging": gated, "deploy-production": gated, "pages": auto,
		"rollback-service-staging": rollback, "rollback-service-production": rollback, "rollback-model-production": rollback,
	}
	cases := []struct {
		name string
		vars map[string]string
		want map[string]PlannedJob // nil: no pipeline
	}{
		{"merge request: lint, tests, build validation", mrVars(), mr},
		{"merge request from a fork-like source", with(mrVars(), "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "99"), mr},
		{"push to the default branch: build, push, dev deploy, manual promotions, pages", pushVars("main"), main},
		{"push to another branch: no pipeline", pushVars("feature/x"), nil},
		{"push to a branch with an open merge request: no duplicate pipeline", with(pushVars("feature/x"), "CI_OPEN_MERGE_REQUESTS", "group/project!7"), nil},
		{"push to a branch named like a tag", pushVars("v1.2.3"), nil},
		{"tag v1.2.3: gates, release", tagVars("v1.2.3"), map[string]PlannedJob{"gates": auto, "release": auto}},
		{"tag v10.0.20: gates, release", tagVars("v10.0.20"), map[string]PlannedJob{"gates": auto, "release": auto}},
		{"tag 1.2.3 without v", tagVars("1.2.3"), nil},
		{"tag v1.2", tagVars("v1.2"), nil},
		{"tag v1.2.3-rc.1 (pre-release)", tagVars("v1.2.3-rc.1"), nil},
		{"tag v01.2.3 (leading zero)", tagVars("v01.2.3"), nil},
		{"tag release-2024", tagVars("release-2024"), nil},
		{"tag v1.2.3 with a suffix line", tagVars("v1.2.3\nx"), nil},
		{"schedule on the default branch", with(pushVars("main"), "CI_PIPELINE_SOURCE", "schedule"), nil},
		{"web pipeline on the default branch", with(pushVars("main"), "CI_PIPELINE_SOURCE", "web"), nil},
		{"API-triggered tag pipeline", with(tagVars("v1.2.3"), "CI_PIPELINE_SOURCE", "api"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			created, jobs, err := c.Pipeline(tc.vars)
			require.NoError(t, err)
			if tc.want == nil {
				assert.False(t, created, "workflow:rules must not create this pipeline")
				return
			}
			require.True(t, created, "workflow:rules must create this pipeline")
			assert.Equal(t, tc.want, jobs)
		})
	}
}

func TestPipelinesFollowThePolicy(t *testing.T) {
	c := load(t)
	plan := func(vars map[string]string) map[string]PlannedJob {
		created, jobs, err := c.Pipeline(vars)
		require.NoError(t, err)
		require.True(t, created)
		return jobs
	}
	functions := func(jobs map[string]PlannedJob) map[string]string {
		out := map[string]string{}
		for name := range jobs {
			job, err := c.Job(name)
			require.NoError(t, err)
			calls, err := Calls(job)
			require.NoError(t, err)
			for _, d := range calls {
				out[d.Function()] = name
			}
		}
		return out
	}

	t.Run("merge requests run every gate and build validation and change nothing", func(t *testing.T) {
		jobs := plan(mrVars())
		fns := functions(jobs)
		for _, fn := range []string{"gate-report", "check", "requirements-check", "scan-report", "scan", "base"} {
			assert.Containsf(t, fns, fn, "merge requests must run %s", fn)
		}
		for name := range jobs {
			job, _ := c.Job(name)
			calls, _ := Calls(job)
			assert.Emptyf(t, sideEffects(job, calls), "merge request job %s has a side effect", name)
		}
	})

	t.Run("the default branch builds, pushes and deploys dev automatically", func(t *testing.T) {
		jobs := plan(pushVars("main"))
		fns := functions(jobs)
		for _, fn := range []string{"check", "scan", "publish-base", "publish", "deploy", "docs"} {
			assert.Containsf(t, fns, fn, "the default branch must run %s", fn)
		}
		for _, env := range domain.Environments() {
			name := DeployJob(c, env)
			require.Contains(t, jobs, name)
			want := "on_success"
			if env.Approvals() > 0 {
				want = "manual"
			}
			assert.Equalf(t, want, jobs[name].When, "deploy to %s", env)
		}
		assert.Equal(t, "pages", fns["docs"], "GitLab Pages publishes the job named pages")
	})

	t.Run("promotions are ordered dev, staging, production", func(t *testing.T) {
		envs := domain.Environments()
		for i := 1; i < len(envs); i++ {
			job, err := c.Job(DeployJob(c, envs[i]))
			require.NoError(t, err)
			prev := DeployJob(c, envs[i-1])
			found := false
			for _, n := range Needs(job) {
				found = found || n.Job == prev
			}
			assert.Truef(t, found, "deploy to %s must need %s", envs[i], prev)
		}
	})

	t.Run("tags run the gates and release, nothing else", func(t *testing.T) {
		fns := functions(plan(tagVars("v2.0.0")))
		assert.Equal(t, map[string]string{"gate-report": "gates", "check": "gates", "release": "release"}, fns)
		job, err := c.Job("release")
		require.NoError(t, err)
		calls, err := Calls(job)
		require.NoError(t, err)
		tag, ok := calls[0].CtorArg("tag")
		assert.True(t, ok, "release passes --tag")
		assert.Equal(t, "$CI_COMMIT_TAG", tag)
		v, _ := calls[0].Chain[0].Arg("version")
		assert.Equal(t, "$CI_COMMIT_TAG", v)
		_, given := calls[0].Chain[0].Arg("gate-report")
		assert.False(t, given, "release reads the gate report attached to each image in the registry, never a file")
		needsGates := false
		needs, _ := job["needs"].([]any)
		for _, n := range needs {
			if m, ok := n.(map[string]any); ok && m["job"] == "gates" && m["artifacts"] == true {
				needsGates = true
			}
		}
		assert.True(t, needsGates, "release needs the gates job's reports")
	})

	t.Run("pages never waits for the manual deploys", func(t *testing.T) {
		job, err := c.Job("pages")
		require.NoError(t, err)
		needs, ok := job["needs"].([]any)
		assert.True(t, ok && len(needs) == 0, "pages must declare needs: []")
	})
}

func TestEveryIfParses(t *testing.T) {
	c := load(t)
	ifs, err := c.IfExpressions()
	require.NoError(t, err)
	require.NotEmpty(t, ifs)
	for where, src := range ifs {
		e, err := ParseExpr(src)
		if assert.NoErrorf(t, err, "%s", where) {
			again, err := ParseExpr(e.String())
			require.NoError(t, err)
			assert.Equal(t, e.String(), again.String())
		}
	}
	// Hidden jobs hold no rules: every rule is visible where it applies.
	for k, v := range c.Doc {
		if m, ok := v.(map[string]any); ok && strings.HasPrefix(k, ".") {
			assert.NotContainsf(t, m, "rules", "hidden job %s", k)
		}
	}
}

// tagRegexps returns every regular expression the file matches $CI_COMMIT_TAG against.
func tagRegexps(t *testing.T, c *Config) []*regexp.Regexp {
	ifs, err := c.IfExpressions()
	require.NoError(t, err)
	var out []*regexp.Regexp
	keys := make([]string, 0, len(ifs))
	for k := range ifs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e, err := ParseExpr(ifs[k])
		require.NoError(t, err)
		Walk(e, func(x Expr) {
			if cmp, ok := x.(Compare); ok && cmp.Op == "=~" && cmp.Left.Kind == "var" && cmp.Left.Text == "CI_COMMIT_TAG" {
				out = append(out, cmp.Right.Regexp())
			}
		})
	}
	return out
}

// The release-tag patterns accept exactly the tags a tag pipeline publishes under: a
// domain.ParseVersion that ci/artifact.ReleaseTag accepts (final releases).
func TestReleaseTagPatternAgreesWithCiTags(t *testing.T) {
	res := tagRegexps(t, load(t))
	require.Len(t, res, 3, "workflow:rules, the gates job and the release job match $CI_COMMIT_TAG")
	for _, r := range res[1:] {
		assert.Equal(t, res[0].String(), r.String(), "one release tag pattern")
	}

	fixed := []string{
		"v0.0.0", "v1.2.3", "v10.20.30", "v1.2.3-rc.1", "v1.2.3+build.5", "1.2.3", "v1.2", "v1.2.3.4",
		"v01.2.3", "v1.02.3", "v1.2.03", "V1.2.3", "v1.2.3 ", " v1.2.3", "v", "", "vv1.2.3", "v-1.2.3",
		"v1..3", "v1.2.3-", "release-1.2.3", "v1.2.3\n",
	}
	rng := rand.New(rand.NewSource(20240611))
	pieces := []string{"v", "V", "0", "1", "9", "10", "01", "00", "42", ".", ".", ".", "-", "rc", "+", "a", "x", " "}
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		if rng.Intn(4) > 0 {
			fmt.Fprintf(&b, "v%d.%d.%d", rng.Intn(30), rng.Intn(30), rng.Intn(30))
		}
		for n := rng.Intn(4); n > 0; n-- {
			p := pieces[rng.Intn(len(pieces))]
			if rng.Intn(2) == 0 {
				b.WriteString(p)
			} else {
				s := b.String()
				k := rng.Intn(len(s) + 1)
				b.Reset()
				b.WriteString(s[:k] + p + s[k:])
			}
		}
		fixed = append(fixed, b.String())
	}
	accepted := 0
	for _, tag := range fixed {
		v, err := domain.ParseVersion(tag)
		if err == nil {
			_, err = artifact.ReleaseTag(v)
		}
		want := err == nil
		if want {
			accepted++
		}
		for _, re := range res {
			assert.Equalf(t, want, re.MatchString(tag), "tag %q: ci/artifact.ReleaseTag error %v", tag, err)
		}
	}
	assert.Greater(t, accepted, 100, "the generator must produce valid release tags too")
}
