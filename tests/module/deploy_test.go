//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const (
	kubeconfigPlain = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: kube-token-plaintext-7"
	ageKeyPlain     = "AGE-SECRET-KEY-1TESTONLYPLAINTEXTXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	gitlabTokenPln  = "glpat-deploy-token-plaintext"
	renderedChart   = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: soccer-predict-trace\n  annotations:\n    soccerpredict.io/git-commit: " + commitSHA + "\n"
)

func deployImages() (string, string, string) {
	return registry + "/api@" + digestOf(1), registry + "/worker@" + digestOf(2), registry + "/airflow@" + digestOf(3)
}

func deployHappy(t *testing.T) {
	t.Helper()
	happy(t)
	projectFiles(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "template"}, map[string]any{"stdout": renderedChart}))
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": strings.Replace(renderedChart, commitSHA, strings.Repeat("a", 40), 1)}))
	rec.Respond(daggertest.OnFile("trivy-api.json", `{"SchemaVersion": 2, "ArtifactName": "api", "Results": []}`))
	rec.Respond(daggertest.OnFile("trivy-worker.json", `{"SchemaVersion": 2, "ArtifactName": "worker", "Results": []}`))
	rec.Respond(daggertest.OnFile("trivy-airflow.json", `{"SchemaVersion": 2, "ArtifactName": "airflow", "Results": []}`))
}

func greenReport(commit string) *dagger.File {
	return dag.File("gate-report.json", `{"schemaVersion": 1, "commit": "`+commit+`", "started": "", "finished": "", "verdict": "pass", "blockingFailures": [], "signalsRaised": [],
  "results": [{"name": "lint", "kind": "blocking", "status": "pass", "durationMs": 1, "summary": "clean", "details": []}]}`)
}

// gitlabWithApprovals serves the GitLab API calls the policy makes: the commit's author and
// the deployment of job 777 with the given approvers.
func gitlabWithApprovals(t *testing.T, env string, approvers ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != gitlabTokenPln {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
			return
		}
		switch {
		case r.URL.Path == "/api/v4/projects/42/repository/commits/"+commitSHA:
			_ = json.NewEncoder(w).Encode(map[string]any{"id": commitSHA, "title": "feat: model v2", "author_name": "Alice Author", "author_email": "alice@example.com"})
		case r.URL.Path == "/api/v4/projects/42/deployments" || r.URL.Path == "/api/v4/projects/42/deployments/9001":
			var approvals []map[string]any
			for _, a := range approvers {
				approvals = append(approvals, map[string]any{"user": map[string]any{"username": a, "name": a}, "status": "approved"})
			}
			d := map[string]any{
				"id": 9001, "iid": 12, "ref": "main", "sha": commitSHA, "status": "running",
				"user":        map[string]any{"username": "dave", "name": "Dave Deployer"},
				"environment": map[string]any{"id": 3, "name": env},
				"deployable":  map[string]any{"id": 777, "name": "deploy-" + env, "status": "running"},
				"approvals":   approvals,
			}
			if strings.HasSuffix(r.URL.Path, "/9001") {
				_ = json.NewEncoder(w).Encode(d)
				return
			}
			assert.Equal(t, env, r.URL.Query().Get("environment"))
			_ = json.NewEncoder(w).Encode([]map[string]any{d})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPlanRendersRedactedManifestsDiffAndDecisionWithoutApplying(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	kube := dag.SetSecret("kubeconfig", kubeconfigPlain)
	age := dag.SetSecret("age", ageKeyPlain)
	dir, err := m.Plan(context.Background(), "staging", api, worker, airflow, "7", kube, age, nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"))
	require.NoError(t, err)
	id, _ := dir.ID(context.Background())
	files := containerChain(t, string(id)).Files()
	assert.Equal(t, renderedChart, files["manifests.yaml"])
	assert.Contains(t, files["diff.txt"], "changed")
	var decision struct {
		Allowed bool     `json:"allowed"`
		Reasons []string `json:"reasons"`
	}
	require.NoError(t, json.Unmarshal([]byte(files["policy.json"]), &decision))
	assert.False(t, decision.Allowed, "staging without proven approvals is refused")
	assert.NotEmpty(t, decision.Reasons)
	assert.Contains(t, files["trace.json"], commitSHA)
	assert.Contains(t, files["trace.json"], digestOf(2))

	tmpl := mustExec(t, "/usr/local/bin/sops-decrypt exec-file --identity /run/secrets/age.key --file /chart/secrets/staging.enc.yaml", "helm template", "-f '{}'", "--set-string", "images.api.digest="+digestOf(1), "| /usr/local/bin/manifest-redact")
	assert.Contains(t, tmpl.Line(), "values-staging.yaml")
	_, ok := tmpl.Container.StepWhere("withMountedTemp", "path", "/run/decrypted")
	assert.True(t, ok, "plan decrypts into a tmpfs like deploy")
	assert.Contains(t, tmpl.Container.String(), `from(address:"alpine/helm:3.16.3")`)
	get := mustExec(t, "set -o pipefail; helm get manifest soccer-predict --namespace soccerpredict-staging | /usr/local/bin/manifest-redact")
	mount, ok := get.Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	require.True(t, ok, "kubeconfig must be a mounted secret: %s", get.Container)
	_, ok = mount.Ref("source")
	assert.True(t, ok)
	_, upgraded := rec.ExecWith("helm", "upgrade")
	assert.False(t, upgraded, "plan never applies")
	assert.Empty(t, rec.Leaked(kubeconfigPlain))
	assert.Empty(t, rec.Leaked(ageKeyPlain))

	_, err = m.Plan(context.Background(), "production", api, worker, airflow, "7", kube, nil, nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"))
	assert.ErrorContains(t, err, "pass --age-key")
}

func TestDeployRefusesWithEveryReasonAndChangesNothing(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, "", nil)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "refused by the promotion policy (nothing was changed)")
	assert.Contains(t, msg, "approval")
	assert.Contains(t, msg, "gate report")
	assert.Contains(t, msg, "scan")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)
	_, built := rec.ExecWith("go", "build", "./cmd/sops-decrypt")
	assert.False(t, built, "nothing is even prepared for a refused deploy")

	_, err = m.Deploy(context.Background(), "prod", api, worker, airflow, dag.SetSecret("k", "x"), dag.SetSecret("a", "y"), "", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, "", nil)
	assert.ErrorContains(t, err, "dev, staging, production")
	_, err = m.Deploy(context.Background(), "dev", registry+"/api:latest", worker, airflow, dag.SetSecret("k", "x"), dag.SetSecret("a", "y"), "", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, "", nil)
	assert.ErrorContains(t, err, "not pinned by digest")
}

func TestDeployDevRunsHelmUnderSopsWithMountedSecrets(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	out, err := m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, "", nil)
	require.NoError(t, err)
	assert.Contains(t, out, "deployed soccer-predict to dev")

	e := mustExec(t, "/usr/local/bin/sops-decrypt", "exec-file", "--identity", "/run/secrets/age.key",
		"--file", "/chart/secrets/dev.enc.yaml", "--tmpdir", "/run/decrypted", "--",
		"helm", "upgrade", "--install", "--atomic", "--wait", "--timeout", "10m0s")
	line := e.Line()
	for _, want := range []string{"--namespace soccerpredict-dev", "soccer-predict /chart", "-f /chart/values-dev.yaml", "-f {}",
		"images.api.digest=" + digestOf(1), "images.worker.repository=" + registry + "/worker", "trace.gitCommit=" + commitSHA, "trace.modelVersion=7"} {
		assert.Contains(t, line, want)
	}
	c := e.Container
	for _, p := range []string{"/run/secrets/kubeconfig", "/run/secrets/age.key"} {
		_, ok := c.StepWhere("withMountedSecret", "path", p)
		assert.True(t, ok, "%s must be a mounted secret", p)
	}
	_, ok := c.StepWhere("withMountedTemp", "path", "/run/decrypted")
	assert.True(t, ok, "decrypted values live in a tmpfs, never in a layer")
	build := mustExec(t, "go", "build", "./cmd/sops-decrypt")
	_, ok = build.Container.StepWhere("withWorkdir", "path", "/pipeline/ci/secrets")
	assert.True(t, ok, "sops-decrypt is built from its own module")
	assert.Empty(t, rec.Leaked(kubeconfigPlain))
	assert.Empty(t, rec.Leaked(ageKeyPlain))

	rec.Respond(daggertest.OnExec([]string{"helm", "upgrade"}, map[string]any{}))
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if args, ok := c.ExecArgs(); ok && strings.Contains(strings.Join(args, " "), "helm upgrade") && c.Leaf == "stdout" {
			return &daggertest.ExecError{Cmd: args, ExitCode: 1, Stderr: "Error: UPGRADE FAILED: release soccer-predict failed, and has been rolled back due to atomic being set: context deadline exceeded"}, true
		}
		return nil, false
	})
	_, err = m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, "", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--atomic rolled it back, the previous release is still serving")
	assert.Contains(t, err.Error(), "context deadline exceeded")
}

func TestDeployProductionNeedsTwoApprovalsProvenByGitLab(t *testing.T) {
	api, worker, airflow := deployImages()
	deploy := func(srv *httptest.Server) (string, error) {
		m := fresh(t, withRelease)
		m.Settings = append(m.Settings, "CI_API_V4_URL="+srv.URL+"/api/v4", "CI_PROJECT_ID=42")
		deployHappy(t)
		scanDir := dag.Directory().
			WithNewFile("trivy-api.json", "{}").WithNewFile("trivy-worker.json", "{}").WithNewFile("trivy-airflow.json", "{}")
		return m.Deploy(context.Background(), "production", api, worker, airflow,
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", dag.SetSecret("gitlab", gitlabTokenPln), "", 777, 0, "erin", "push",
			greenReport(commitSHA), scanDir, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, "", nil)
	}

	// One approval, and one from the commit's author: refused.
	_, err := deploy(gitlabWithApprovals(t, "production", "bob", "alice"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused by the promotion policy")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)

	// Two distinct approvers who are neither the author nor the deployer: allowed.
	out, err := deploy(gitlabWithApprovals(t, "production", "bob", "carol"))
	require.NoError(t, err)
	assert.Contains(t, out, "deployed soccer-predict to production")
	mustExec(t, "helm", "upgrade", "--namespace", "soccerpredict-production")
	assert.Empty(t, rec.Leaked(gitlabTokenPln))

	// A gate report of another commit is never accepted.
	m := fresh(t, withRelease)
	deployHappy(t)
	_, err = m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", greenReport(strings.Repeat("b", 40)), nil, dag.Host().Directory("/c"), nil, "", nil)
	assert.ErrorContains(t, err, "pass the gate-report.json of the pipeline that ran on "+commitSHA)
}

func TestPlanFailsWhenHelmCannotRenderInsteadOfReturningAnEmptyManifest(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if args, ok := c.ExecArgs(); ok && strings.Contains(strings.Join(args, " "), "helm template") && c.Leaf == "stdout" {
			return &daggertest.ExecError{Cmd: args, ExitCode: 1, Stderr: "Error: values don't meet the specifications of the schema(s)"}, true
		}
		return nil, false
	})
	api, worker, airflow := deployImages()
	_, err := m.Plan(context.Background(), "dev", api, worker, airflow, "7", nil, nil, nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "render the chart for dev")
	e := mustExec(t, "helm template")
	assert.True(t, strings.HasPrefix(e.Line(), "sh -c set -o pipefail; "), "a failing helm must fail the pipe: %s", e.Line())
}
