//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
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
	asShipped(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "template"}, map[string]any{"stdout": renderedChart}))
	// What helm history says of a release that was never installed.
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 1, "stderr": "Error: release: not found\n"}))
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": strings.Replace(renderedChart, commitSHA, strings.Repeat("a", 40), 1)}))
	rec.Respond(daggertest.OnFile("trivy-api.json", `{"SchemaVersion": 2, "ArtifactName": "api", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": []}`))
	rec.Respond(daggertest.OnFile("trivy-worker.json", `{"SchemaVersion": 2, "ArtifactName": "worker", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": []}`))
	rec.Respond(daggertest.OnFile("trivy-airflow.json", `{"SchemaVersion": 2, "ArtifactName": "airflow", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": []}`))
	for _, env := range []string{"dev", "staging", "production"} {
		raw, err := os.ReadFile("../charts/soccer-predict/secrets/" + env + ".enc.yaml")
		require.NoError(t, err)
		rec.Respond(daggertest.OnFile("secrets/"+env+".enc.yaml", string(raw)))
	}
}

// gateResult is a gate's result as the module writes it: the model gate records the tolerances
// that judged it (here none).
func gateResult(name string, status gate.Status, summary string) gate.Result {
	r := gate.NewResult(name, status, summary)
	if name == gate.ModelGate {
		r.Details = []string{modelgate.RecordTolerances(nil)}
	}
	return r
}

func greenReport(commit string) *dagger.File {
	rep := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		rep.Results = append(rep.Results, gateResult(g.Name, gate.Pass, "x"))
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
	return gitlabJobNamed(t, "deploy-"+env, env, jobStatus, approvers...)
}

// gitlabJobNamed is GitLab with job 777 named name (its deployment of env holds the approvals), in
// jobStatus. The commit's author, Alice Author <alice@example.com> in git, opened its merge
// request as the GitLab user aauthor ("A. Author"), a name git's free text does not give away.
func gitlabJobNamed(t *testing.T, name, env, jobStatus string, approvers ...string) *httptest.Server {
	t.Helper()
	job := map[string]any{
		"id": 777, "name": name, "status": jobStatus, "ref": "main",
		"user":     map[string]any{"id": 5, "username": "erin", "name": "Erin Engineer"},
		"pipeline": map[string]any{"id": 555, "sha": commitSHA, "ref": "main", "status": "running"},
		"commit":   map[string]any{"id": commitSHA},
	}
	made := &apiDeployments{}
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
		if made.serve(w, r) || serveUser(w, r) || serveProject(w, r) {
			return
		}
		switch {
		case r.URL.Path == "/api/v4/projects/42/repository/commits/"+commitSHA:
			_ = json.NewEncoder(w).Encode(map[string]any{"id": commitSHA, "title": "feat: model v2", "author_name": "Alice Author", "author_email": "alice@example.com"})
		case r.URL.Path == "/api/v4/projects/42/repository/commits/"+commitSHA+"/merge_requests":
			_ = json.NewEncoder(w).Encode([]map[string]any{{"id": 31, "iid": 3, "title": "feat: model v2", "state": "merged",
				"author": map[string]any{"id": 4, "username": "aauthor", "name": "A. Author", "state": "active", "bot": false}}})
		case r.URL.Path == "/api/v4/users":
			_, _ = w.Write([]byte(`[]`)) // alice keeps her email private
		case r.URL.Path == "/api/v4/projects/42/jobs/777":
			_ = json.NewEncoder(w).Encode(job)
		case r.URL.Path == "/api/v4/user":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 9, "username": "mallory", "name": "Mallory"})
		case r.URL.Path == "/api/v4/projects/42/deployments" || r.URL.Path == "/api/v4/projects/42/deployments/9001":
			var approvals []map[string]any
			for _, a := range approvers {
				approvals = append(approvals, approval(a))
			}
			d := map[string]any{
				"id": 9001, "iid": 12, "ref": "main", "sha": commitSHA, "status": "running",
				"user":        map[string]any{"username": "dave", "name": "Dave Deployer"},
				"environment": map[string]any{"id": 3, "name": env},
				"deployable": map[string]any{"id": 777, "name": name, "status": jobStatus,
					"pipeline": map[string]any{"id": 555, "sha": commitSHA, "ref": "main", "status": "running"}},
				"approvals": approvals,
			}
			if strings.HasSuffix(r.URL.Path, "/9001") {
				_ = json.NewEncoder(w).Encode(d)
				return
			}
			assert.Equal(t, env, r.URL.Query().Get("environment"))
			_ = json.NewEncoder(w).Encode(append(made.list(env), d))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDryRunRendersRedactedManifestsDiffAndDecisionWithoutApplying(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	api, worker, airflow := deployImages()
	kube := dag.SetSecret("kubeconfig", kubeconfigPlain)
	age := dag.SetSecret("age", ageKeyPlain)
	out, err := m.Deploy(context.Background(), "staging", api, worker, airflow, kube, age, "7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	require.NoError(t, err, "a dry run reports the policy's refusal, it does not fail on it")
	assert.Contains(t, out, "dry run of deploy soccer-predict to staging (namespace soccerpredict-staging): nothing was applied")
	assert.Contains(t, out, "promotion policy: deploy would be refused:")
	files := dryRunDocs(t, out)
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
	assert.True(t, ok, "a dry run decrypts into a tmpfs like deploy")
	assert.Contains(t, tmpl.Container.String(), `from(address:"alpine/helm:4.3.2")`)
	get := mustExec(t, "set -o pipefail; helm get manifest soccer-predict --namespace soccerpredict-staging | /usr/local/bin/manifest-redact")
	mount, ok := get.Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	require.True(t, ok, "kubeconfig must be a mounted secret: %s", get.Container)
	_, ok = mount.Ref("source")
	assert.True(t, ok)
	_, upgraded := rec.ExecWith("helm", "upgrade")
	assert.False(t, upgraded, "a dry run never applies")
	assert.Empty(t, rec.Leaked(kubeconfigPlain))
	assert.Empty(t, rec.Leaked(ageKeyPlain))

	_, err = m.Deploy(context.Background(), "production", api, worker, airflow, kube, nil, "7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	assert.ErrorContains(t, err, "pass --age-key")
}

func TestDeployRefusesWithEveryReasonAndChangesNothing(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	rec.Respond(daggertest.OnFile("trivy-api.json", `{"SchemaVersion": 2, "ArtifactName": "/tmp/image.tar", "ArtifactType": "container_image", "Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "openssl", "InstalledVersion": "1", "FixedVersion": "2", "Severity": "CRITICAL"}]}]}`))
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "refused by the promotion policy (nothing was changed)")
	assert.Contains(t, msg, "approval")
	assert.Contains(t, msg, "scan", "the Trivy report attached to the api image has a blocking finding")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)
	_, built := rec.ExecWith("go", "build", "./cmd/sops-decrypt")
	assert.False(t, built, "nothing is even prepared for a refused deploy")

	_, err = m.Deploy(context.Background(), "prod", api, worker, airflow, dag.SetSecret("k", "x"), dag.SetSecret("a", "y"), "", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	assert.ErrorContains(t, err, "dev, staging, production")
	_, err = m.Deploy(context.Background(), "dev", registry+"/api:latest", worker, airflow, dag.SetSecret("k", "x"), dag.SetSecret("a", "y"), "", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, 0, "", nil, nil, nil, false)
	assert.ErrorContains(t, err, "not pinned by digest")
}

func TestDeployDevRunsHelmUnderSopsWithMountedSecrets(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	out, err := m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil, false)
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
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--rollback-on-failure rolled it back, the previous release is still serving")
	assert.Contains(t, err.Error(), "context deadline exceeded")
}

// deployAs deploys to production against the fake GitLab srv with the given identity flags.
func deployAs(t *testing.T, srv *httptest.Server, jobID int, actor string, jobToken *dagger.Secret, pipelineID int) (string, error) {
	t.Helper()
	asGitLabCom(t, srv)
	return deployWith(t, jobID, actor, jobToken, pipelineID, "CI_PROJECT_ID=42")
}

// deployWith deploys to production with the given identity flags and settings.
func deployWith(t *testing.T, jobID int, actor string, jobToken *dagger.Secret, pipelineID int, settings ...string) (string, error) {
	t.Helper()
	api, worker, airflow := deployImages()
	m := fresh(t, withRelease)
	m.Settings = append(m.Settings, settings...)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	return m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "", jobID, 0, actor, "push",
		nil, nil, nil, jobToken, pipelineID, "", nil, nil, nil, false)
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
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	assert.ErrorContains(t, err, "it is the report of "+strings.Repeat("b", 40)+", not of "+commitSHA)
	asShipped(t) // staging counts only signed evidence: a report file, green or not, is refused
	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", greenReport(strings.Repeat("b", 40)), nil, nil, nil, 0, "", nil, nil, nil, false)
	assert.ErrorContains(t, err, "report files are not signed")
}

func TestDryRunFailsWhenHelmCannotRenderInsteadOfReturningAnEmptyManifest(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if args, ok := c.ExecArgs(); ok && strings.Contains(strings.Join(args, " "), "helm template") && c.Leaf == "stdout" {
			return &daggertest.ExecError{Cmd: args, ExitCode: 1, Stderr: "Error: values don't meet the specifications of the schema(s)"}, true
		}
		return nil, false
	})
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "dev", api, worker, airflow, nil, nil, "7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil, true)
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
	t.Run("laptop borrows a running job's identity by naming it", func(t *testing.T) {
		// The job runs and its deployment is approved: with only a personal token, naming it
		// used to make its user the deployer.
		_, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "carol"), 777, "", nil, 555)
		refused(t, err, "job 777 was looked up by its id, not proven by its own token")
	})
	t.Run("the author approves under her GitLab account, not her git name", func(t *testing.T) {
		_, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "aauthor"), 777, "", dag.SetSecret("job", jobTokenPln), 555)
		refused(t, err, "aauthor (linked to the commit's author in GitLab)")
	})
	t.Run("a GitLab of the caller's choosing approves", func(t *testing.T) {
		// The attacker's server answers everything a real GitLab would, approvals included.
		srv := gitlabWithApprovals(t, "production", "bob", "carol")
		_, err := deployWith(t, 777, "", dag.SetSecret("job", jobTokenPln), 555, "CI_API_V4_URL="+srv.URL+"/api/v4", "CI_PROJECT_ID=42")
		refused(t, err, "approvals are proven by "+srv.URL+"/api/v4, not by the GitLab fixed for staging and production (https://gitlab.com/api/v4")
	})
	t.Run("a settings file that blocks no severity production blocks", func(t *testing.T) {
		asGitLabCom(t, gitlabWithApprovals(t, "production", "bob", "carol"))
		_, err := deployWith(t, 777, "", dag.SetSecret("job", jobTokenPln), 555, "CI_PROJECT_ID=42", "SP_SCAN_SEVERITIES=UNKNOWN")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SP_SCAN_SEVERITIES=UNKNOWN does not block HIGH and CRITICAL, which always block in production")
		_, ran := rec.ExecWith("helm", "upgrade")
		assert.False(t, ran, "nothing is deployed")
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
	asGitLabCom(t, srv)
	m.Settings = append(m.Settings, "CI_PROJECT_ID=42")
	deployHappy(t)
	testKeyed()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err = m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "", 777, 0, "", "push",
		nil, nil, nil, dag.SetSecret("job", jobTokenPln), 555, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repository's TEST key")
	assert.Contains(t, err.Error(), "sops updatekeys secrets/production.enc.yaml")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran, "nothing is deployed")

	m = fresh(t, withRelease)
	deployHappy(t)
	testKeyed()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err = m.Deploy(context.Background(), "production", api, worker, airflow, nil, dag.SetSecret("age", ageKeyPlain), "7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repository's TEST key")
	_, rendered := rec.ExecWith("helm", "template")
	assert.False(t, rendered)
}

// dryRunDocs splits deploy --dry-run's answer at its `==> name <==` headers (as `tail` prints
// several files) into its documents, by name.
func dryRunDocs(t *testing.T, out string) map[string]string {
	t.Helper()
	header := regexp.MustCompile(`(?m)^==> (\S+) <==\n`)
	names := header.FindAllStringSubmatch(out, -1)
	parts := header.Split(out, -1)
	require.NotEmpty(t, names, "a dry run's answer holds its documents: %s", out)
	docs := map[string]string{}
	for i, n := range names {
		doc := parts[i+1]
		if i+1 < len(names) {
			doc = strings.TrimSuffix(doc, "\n") // the blank line before the next header
		}
		docs[n[1]] = doc
	}
	return docs
}

// One argument list: every flag given to deploy reaches its dry run and the deploy alike (the same
// evidence read with the same registry login, the same GitLab proof, the same chart values); only
// --dry-run tells them apart: helm template and a diff instead of helm upgrade.
func TestDryRunAndDeployShareEveryFlag(t *testing.T) {
	srv := gitlabWithApprovals(t, "production", "bob", "carol")
	api, worker, airflow := deployImages()
	run := func(dryRun bool) (string, daggertest.Exec, []string) {
		m := fresh(t, withRelease)
		asGitLabCom(t, srv)
		m.Settings = append(m.Settings, "CI_PROJECT_ID=42")
		deployHappy(t)
		registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
		out, err := m.Deploy(context.Background(), "production", api, worker, airflow,
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", dag.SetSecret("gitlab", gitlabTokenPln), "", 777, 0, "erin", "push",
			nil, nil, nil, dag.SetSecret("job", jobTokenPln), 555,
			"ci-user", dag.SetSecret("registry-password", "registry-plaintext-pw"), nil, nil, dryRun)
		require.NoError(t, err, execsText())
		verify := mustExec(t, "/usr/local/bin/oci", "verify", "--username-file", "--password-file")
		helm := mustExec(t, "/usr/local/bin/sops-decrypt", "exec-file", "--", "helm")
		var values []string
		for _, v := range regexp.MustCompile(`--set-string (\S+)`).FindAllStringSubmatch(helm.Line(), -1) {
			values = append(values, v[1])
		}
		_, upgraded := rec.ExecWith("helm", "upgrade")
		assert.Equal(t, !dryRun, upgraded, "helm upgrade runs only without --dry-run")
		return out, verify, values
	}
	dry, dryVerify, dryValues := run(true)
	out, verify, values := run(false)
	assert.Contains(t, dry, "promotion policy: deploy would be allowed", "the dry run proves the approvals the deploy proves")
	assert.Contains(t, out, "deployed soccer-predict to production")
	nonce := regexp.MustCompile(`(--nonce) [0-9a-f]{32}`)
	assert.NotEqual(t, verify.Line(), dryVerify.Line(), "each run asks with its own nonce")
	assert.Equal(t, nonce.ReplaceAllString(verify.Line(), "$1 N"), nonce.ReplaceAllString(dryVerify.Line(), "$1 N"), "the same evidence is read")
	assert.Contains(t, values, "trace.modelVersion=7")
	assert.Contains(t, values, "images.api.digest="+digestOf(1))
	assert.Equal(t, values, dryValues, "the same values are rendered and installed")
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
			"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil, false)
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
