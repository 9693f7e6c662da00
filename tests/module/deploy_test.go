//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const (
	kubeconfigPlain = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: kube-token-plaintext-7"
	ageKeyPlain     = "AGE-SECRET-KEY-1TESTONLYPLAINTEXTXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	gitlabTokenPln  = "glpat-deploy-token-plaintext"
	jobTokenPln     = "glcbt-job-token-plaintext"
	renderedChart   = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: soccer-predict-trace\n  annotations:\n    soccerpredict.io/git-commit: " + commitSHA + "\n"
)

func deployImages() (string, string, string) {
	return registry + "/api@" + digestOf(1), registry + "/worker@" + digestOf(2), registry + "/airflow@" + digestOf(3)
}

func deployHappy(t *testing.T) {
	t.Helper()
	happy(t)
	projectFiles(t)
	noTrustKey(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "template"}, map[string]any{"stdout": renderedChart}))
	// What helm history says of a release that was never installed.
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 1, "stderr": "Error: release: not found\n"}))
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": strings.Replace(renderedChart, commitSHA, strings.Repeat("a", 40), 1)}))
	rec.Respond(daggertest.OnFile("trivy-api.json", `{"SchemaVersion": 2, "ArtifactName": "api", "Results": []}`))
	rec.Respond(daggertest.OnFile("trivy-worker.json", `{"SchemaVersion": 2, "ArtifactName": "worker", "Results": []}`))
	rec.Respond(daggertest.OnFile("trivy-airflow.json", `{"SchemaVersion": 2, "ArtifactName": "airflow", "Results": []}`))
	for _, env := range []string{"dev", "staging", "production"} {
		raw, err := os.ReadFile("../charts/soccer-predict/secrets/" + env + ".enc.yaml")
		require.NoError(t, err)
		rec.Respond(daggertest.OnFile("secrets/"+env+".enc.yaml", string(raw)))
	}
}

func greenReport(commit string) *dagger.File {
	rep := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		rep.Results = append(rep.Results, gate.NewResult(g.Name, gate.Pass, "x"))
	}
	b, _ := rep.JSON()
	return dag.File("gate-report.json", string(b))
}

// gitlabWithApprovals serves the GitLab API calls the policy makes: the commit's author, job 777
// of pipeline 555 run by erin (GET /job with the job token, GET …/jobs/777 with the deploy token),
// and the deployment of job 777 with the given approvers.
func gitlabWithApprovals(t *testing.T, env string, approvers ...string) *httptest.Server {
	return gitlabJob(t, env, "running", approvers...)
}

// gitlabJob is gitlabWithApprovals with job 777 in jobStatus.
func gitlabJob(t *testing.T, env, jobStatus string, approvers ...string) *httptest.Server {
	t.Helper()
	job := map[string]any{
		"id": 777, "name": "deploy-" + env, "status": jobStatus, "ref": "main",
		"user":     map[string]any{"id": 5, "username": "erin", "name": "Erin Engineer"},
		"pipeline": map[string]any{"id": 555, "sha": commitSHA, "ref": "main", "status": "running"},
		"commit":   map[string]any{"id": commitSHA},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v4/job" {
			if r.Header.Get("JOB-TOKEN") != jobTokenPln || jobStatus != "running" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
				return
			}
			_ = json.NewEncoder(w).Encode(job)
			return
		}
		if r.Header.Get("PRIVATE-TOKEN") != gitlabTokenPln {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
			return
		}
		switch {
		case r.URL.Path == "/api/v4/projects/42/repository/commits/"+commitSHA:
			_ = json.NewEncoder(w).Encode(map[string]any{"id": commitSHA, "title": "feat: model v2", "author_name": "Alice Author", "author_email": "alice@example.com"})
		case r.URL.Path == "/api/v4/projects/42/jobs/777":
			_ = json.NewEncoder(w).Encode(job)
		case r.URL.Path == "/api/v4/user":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 9, "username": "mallory", "name": "Mallory"})
		case r.URL.Path == "/api/v4/projects/42/deployments" || r.URL.Path == "/api/v4/projects/42/deployments/9001":
			var approvals []map[string]any
			for _, a := range approvers {
				approvals = append(approvals, map[string]any{"user": map[string]any{"username": a, "name": a}, "status": "approved"})
			}
			d := map[string]any{
				"id": 9001, "iid": 12, "ref": "main", "sha": commitSHA, "status": "running",
				"user":        map[string]any{"username": "dave", "name": "Dave Deployer"},
				"environment": map[string]any{"id": 3, "name": env},
				"deployable": map[string]any{"id": 777, "name": "deploy-" + env, "status": jobStatus,
					"pipeline": map[string]any{"id": 555, "sha": commitSHA, "ref": "main", "status": "running"}},
				"approvals": approvals,
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
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	api, worker, airflow := deployImages()
	kube := dag.SetSecret("kubeconfig", kubeconfigPlain)
	age := dag.SetSecret("age", ageKeyPlain)
	dir, err := m.Plan(context.Background(), "staging", api, worker, airflow, "7", kube, age, nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
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
	assert.Contains(t, tmpl.Container.String(), `from(address:"alpine/helm:4.3.2")`)
	get := mustExec(t, "set -o pipefail; helm get manifest soccer-predict --namespace soccerpredict-staging | /usr/local/bin/manifest-redact")
	mount, ok := get.Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	require.True(t, ok, "kubeconfig must be a mounted secret: %s", get.Container)
	_, ok = mount.Ref("source")
	assert.True(t, ok)
	_, upgraded := rec.ExecWith("helm", "upgrade")
	assert.False(t, upgraded, "plan never applies")
	assert.Empty(t, rec.Leaked(kubeconfigPlain))
	assert.Empty(t, rec.Leaked(ageKeyPlain))

	_, err = m.Plan(context.Background(), "production", api, worker, airflow, "7", kube, nil, nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, 0, "", nil, nil, nil)
	assert.ErrorContains(t, err, "pass --age-key")
}

func TestDeployRefusesWithEveryReasonAndChangesNothing(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	rec.Respond(daggertest.OnFile("trivy-api.json", `{"SchemaVersion": 2, "ArtifactName": "/tmp/image.tar", "Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "openssl", "InstalledVersion": "1", "FixedVersion": "2", "Severity": "CRITICAL"}]}]}`))
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "refused by the promotion policy (nothing was changed)")
	assert.Contains(t, msg, "approval")
	assert.Contains(t, msg, "scan", "the Trivy report attached to the api image has a blocking finding")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)
	_, built := rec.ExecWith("go", "build", "./cmd/sops-decrypt")
	assert.False(t, built, "nothing is even prepared for a refused deploy")

	_, err = m.Deploy(context.Background(), "prod", api, worker, airflow, dag.SetSecret("k", "x"), dag.SetSecret("a", "y"), "", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, 0, "", nil, nil, nil)
	assert.ErrorContains(t, err, "dev, staging, production")
	_, err = m.Deploy(context.Background(), "dev", registry+"/api:latest", worker, airflow, dag.SetSecret("k", "x"), dag.SetSecret("a", "y"), "", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, 0, "", nil, nil, nil)
	assert.ErrorContains(t, err, "not pinned by digest")
}

func TestDeployDevRunsHelmUnderSopsWithMountedSecrets(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	out, err := m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.NoError(t, err)
	assert.Contains(t, out, "deployed soccer-predict to dev")

	e := mustExec(t, "/usr/local/bin/sops-decrypt", "exec-file", "--identity", "/run/secrets/age.key",
		"--file", "/chart/secrets/dev.enc.yaml", "--tmpdir", "/run/decrypted", "--",
		"helm", "upgrade", "--install", "--rollback-on-failure", "--wait=watcher", "--timeout", "10m0s")
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
	_, ok = build.Container.StepWhere("withWorkdir", "path", "/pipeline/ci/deploy/secrets")
	assert.True(t, ok, "sops-decrypt is built from its own module")
	assert.Empty(t, rec.Leaked(kubeconfigPlain))
	assert.Empty(t, rec.Leaked(ageKeyPlain))

	rec.Respond(daggertest.OnExec([]string{"helm", "upgrade"}, map[string]any{}))
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if args, ok := c.ExecArgs(); ok && strings.Contains(strings.Join(args, " "), "helm upgrade") && c.Leaf == "stdout" {
			return &daggertest.ExecError{Cmd: args, ExitCode: 1, Stderr: "Error: UPGRADE FAILED: release soccer-predict failed, and has been rolled back due to rollback-on-failure being set: context deadline exceeded"}, true
		}
		return nil, false
	})
	_, err = m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--rollback-on-failure rolled it back, the previous release is still serving")
	assert.Contains(t, err.Error(), "context deadline exceeded")
}

// deployAs deploys to production against the fake GitLab srv with the given identity flags.
func deployAs(t *testing.T, srv *httptest.Server, jobID int, actor string, jobToken *dagger.Secret, pipelineID int) (string, error) {
	t.Helper()
	api, worker, airflow := deployImages()
	m := fresh(t, withRelease)
	m.Settings = append(m.Settings, "CI_API_V4_URL="+srv.URL+"/api/v4", "CI_PROJECT_ID=42")
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	return m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "", jobID, 0, actor, "push",
		nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), jobToken, pipelineID, "", nil, nil, nil)
}

func TestDeployProductionNeedsTwoApprovalsProvenByGitLab(t *testing.T) {
	api, worker, airflow := deployImages()
	deploy := func(srv *httptest.Server) (string, error) {
		return deployAs(t, srv, 777, "erin", dag.SetSecret("job", jobTokenPln), 555)
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
	assert.Empty(t, rec.Leaked(jobTokenPln))

	// A gate report of another commit is never accepted.
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, strings.Repeat("b", 40), gate.Pass))
	_, err = m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, 0, "", nil, nil, nil)
	assert.ErrorContains(t, err, "it is the report of "+strings.Repeat("b", 40)+", not of "+commitSHA)
	noTrustKey(t) // staging's report-file fallback exists only while no attestation key is configured
	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", greenReport(strings.Repeat("b", 40)), nil, dag.Host().Directory("/c"), nil, 0, "", nil, nil, nil)
	assert.ErrorContains(t, err, "--gate-report: gate report: gate report does not count as evidence: it is the report of "+strings.Repeat("b", 40))
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
	_, err := m.Plan(context.Background(), "dev", api, worker, airflow, "7", nil, nil, nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "render the chart for dev")
	e := mustExec(t, "helm template")
	assert.True(t, strings.HasPrefix(e.Line(), "sh -c set -o pipefail; "), "a failing helm must fail the pipe: %s", e.Line())
}

// TestDeployIdentityIsProvenNeverDeclared: the bypasses of issue 11 through the module's flags.
func TestDeployIdentityIsProvenNeverDeclared(t *testing.T) {
	refused := func(t *testing.T, err error, want string) {
		t.Helper()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refused by the promotion policy (nothing was changed)")
		assert.Contains(t, err.Error(), want)
		_, ran := rec.ExecWith("helm", "upgrade")
		assert.False(t, ran, "nothing is deployed")
	}
	t.Run("laptop names a finished job and a deployer", func(t *testing.T) {
		// No job token: the job is looked up with the deploy token and it is no longer running.
		_, err := deployAs(t, gitlabJob(t, "production", "success", "bob", "carol"), 777, "erin", nil, 555)
		refused(t, err, "job 777 is success, not running")
	})
	t.Run("--actor names someone else than the job's user", func(t *testing.T) {
		_, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "carol"), 777, "dave", dag.SetSecret("job", jobTokenPln), 555)
		refused(t, err, "--actor=dave disagrees with GitLab, which says erin deploys")
	})
	t.Run("the job's own approver deploys", func(t *testing.T) {
		_, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "erin"), 777, "", dag.SetSecret("job", jobTokenPln), 555)
		refused(t, err, "erin (the person deploying)")
	})
	t.Run("another pipeline", func(t *testing.T) {
		_, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "carol"), 777, "", dag.SetSecret("job", jobTokenPln), 554)
		refused(t, err, "belongs to pipeline 555, not --pipeline-id=554")
	})
	t.Run("laptop: the deployer is the token's owner", func(t *testing.T) {
		_, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "carol"), 0, "erin", nil, 0)
		refused(t, err, "--actor=erin disagrees with GitLab, which says mallory deploys")
	})
	t.Run("an expired job token changes nothing", func(t *testing.T) {
		_, err := deployAs(t, gitlabJob(t, "production", "success", "bob", "carol"), 777, "", dag.SetSecret("job", jobTokenPln), 555)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "prove this GitLab job with --job-token")
		assert.NotContains(t, err.Error(), jobTokenPln)
		_, ran := rec.ExecWith("helm", "upgrade")
		assert.False(t, ran)
	})
}

// TestDeployAndPlanRefuseProductionSecretsTheTestKeyOpens: a production SOPS file encrypted to the
// repository's test key is refused before anything runs.
func TestDeployAndPlanRefuseProductionSecretsTheTestKeyOpens(t *testing.T) {
	staging, err := os.ReadFile("../charts/soccer-predict/secrets/staging.enc.yaml")
	require.NoError(t, err)
	testKeyed := func() {
		// Registered last, so it answers before deployHappy's real production file.
		rec.Respond(daggertest.OnFile("secrets/production.enc.yaml", string(staging)))
	}
	srv := gitlabWithApprovals(t, "production", "bob", "carol")
	api, worker, airflow := deployImages()

	m := fresh(t, withRelease)
	m.Settings = append(m.Settings, "CI_API_V4_URL="+srv.URL+"/api/v4", "CI_PROJECT_ID=42")
	deployHappy(t)
	testKeyed()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err = m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "", 777, 0, "", "push",
		nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), dag.SetSecret("job", jobTokenPln), 555, "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repository's TEST key")
	assert.Contains(t, err.Error(), "sops updatekeys secrets/production.enc.yaml")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran, "nothing is deployed")

	m = fresh(t, withRelease)
	deployHappy(t)
	testKeyed()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err = m.Plan(context.Background(), "production", api, worker, airflow, "7", nil, dag.SetSecret("age", ageKeyPlain), nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repository's TEST key")
	_, rendered := rec.ExecWith("helm", "template")
	assert.False(t, rendered)
}

// pendingHistory is `helm history -o json` of a release whose revision 3 a killed deploy left
// pending-upgrade at updated.
func pendingHistory(updated time.Time) string {
	return `[{"revision":1,"updated":"2026-12-01T10:00:00Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"0.1.0","description":"Install complete"},` +
		`{"revision":2,"updated":"2026-12-02T10:00:00Z","status":"deployed","chart":"soccer-predict-0.1.0","app_version":"0.1.0","description":"Upgrade complete"},` +
		`{"revision":3,"updated":"` + updated.UTC().Format(time.RFC3339) + `","status":"pending-upgrade","chart":"soccer-predict-0.1.0","app_version":"0.1.0","description":"Preparing upgrade"}]`
}

func TestDeployRecoversAReleaseAKilledDeployLeftPending(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	deployDev := func() (string, error) {
		return m.Deploy(context.Background(), "dev", api, worker, airflow,
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	}

	// Pending for a minute: another deploy may be running; refused before helm upgrade runs.
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": pendingHistory(time.Now().Add(-time.Minute))}))
	_, err := deployDev()
	require.ErrorContains(t, err, "another deploy of soccer-predict in soccerpredict-dev is in progress (revision 3 is pending-upgrade since")
	_, upgraded := rec.ExecWith("helm", "upgrade", "--install")
	assert.False(t, upgraded, "nothing is deployed while another deploy may run")
	_, rolledBack := rec.ExecWith("helm", "rollback")
	assert.False(t, rolledBack)

	// Pending for longer than the deploys' timeout: rolled back to revision 2, said so, then deployed.
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": pendingHistory(time.Now().Add(-time.Hour))}))
	out, err := deployDev()
	require.NoError(t, err)
	assert.Contains(t, out, "revision 3 of soccer-predict in soccerpredict-dev was left pending-upgrade at ")
	assert.Contains(t, out, "rolled back to revision 2 (the last deployed) before deploying")
	assert.Contains(t, out, "deployed soccer-predict to dev")
	mustExec(t, "helm", "rollback", "soccer-predict", "2", "--namespace", "soccerpredict-dev", "--wait=watcher", "--timeout", "10m0s")
}
