//go:build daggerharness

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"dagger/soccer-predict/internal/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const rbHistory = `[
 {"revision":1,"updated":"2024-05-01T10:00:00.000000000Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"1.2.0","description":"Install complete"},
 {"revision":2,"updated":"2024-05-02T10:00:00.000000000Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"1.3.0","description":"Upgrade complete"},
 {"revision":3,"updated":"2024-05-03T10:00:00.000000000Z","status":"failed","chart":"soccer-predict-0.1.1","app_version":"1.4.0","description":"Upgrade \"soccer-predict\" failed"},
 {"revision":4,"updated":"2024-05-04T10:00:00.000000000Z","status":"deployed","chart":"soccer-predict-0.1.1","app_version":"1.4.1","description":"Upgrade complete"}]`

const rbReason = "INC-123: p95 latency regression after v1.4.1"

func rbChart() string { return "/work/repo/charts/soccer-predict" }

func rbHelmRollbacks() []daggertest.Exec {
	var out []daggertest.Exec
	for _, e := range rec.Execs() {
		if len(e.Args) > 1 && e.Args[0] == "helm" && e.Args[1] == "rollback" {
			out = append(out, e)
		}
	}
	return out
}

// rbRecord extracts the audit record printed after the message.
func rbRecord(t *testing.T, out string) rollback.Record {
	t.Helper()
	i := strings.Index(out, "\n{") + 1
	require.Greater(t, i, 0, out)
	var r rollback.Record
	require.NoError(t, json.Unmarshal([]byte(out[i:]), &r), out)
	return r
}

func TestRollbackServicePlansFromHelmHistoryAndChangesNothingWithoutConfirm(t *testing.T) {
	m := fresh(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": rbHistory}))
	out, err := m.RollbackService(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), 0, false, "", "ana", nil, nil, nil, "", 0, 0, 0)
	require.NoError(t, err)

	h := mustExec(t, "helm", "history", "soccer-predict", "--namespace", "soccerpredict-production", "-o", "json")
	_, ok := h.Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	assert.True(t, ok, "the kubeconfig is a mounted secret file: %s", h.Container)
	_, ok = h.Container.StepWhere("withEnvVariable", "name", "SP_READ_AT")
	assert.True(t, ok, "the history is read live, never from the cache")
	assert.Contains(t, h.Container.String(), `from(address:"alpine/helm:4.3.2")`)

	assert.Empty(t, rbHelmRollbacks(), "nothing acts without --confirm")
	assert.Contains(t, out, "nothing was changed")
	assert.Contains(t, out, "--confirm")
	assert.Contains(t, out, "3  failed", "the history is shown to choose a revision")
	r := rbRecord(t, out)
	assert.Equal(t, rollback.RollbackService, r.Action)
	assert.Equal(t, domain.Production, r.Env)
	assert.Equal(t, "2", r.Target, "the previous good revision skips the failed revision 3")
	assert.Equal(t, "4", r.From)
	assert.Equal(t, "ana (not proven)", r.Actor, "--actor is display only: without GitLab's word it is marked unproven")
	assert.False(t, r.Confirmed)
	assert.Contains(t, out, "confirming will be refused until", "the plan says what confirming still needs")
	assert.Contains(t, r.Plan, "helm rollback soccer-predict 2 --namespace soccerpredict-production --wait=watcher --timeout 10m0s")
	assert.Equal(t, rollback.FollowUp, r.FollowUp)
	assert.Empty(t, rec.Leaked("KUBE-SECRET-token"))

	// --confirm without proof of who rolls back and without approvals acts neither.
	_, err = m.RollbackService(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), 0, true, rbReason, "ana", nil, nil, nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused (nothing was changed)")
	assert.Contains(t, err.Error(), "--actor=ana cannot be checked")
	assert.Contains(t, err.Error(), "production needs 2 approval(s)")
	assert.Empty(t, rbHelmRollbacks())
}

// rbGitLab points m at a fake GitLab answering as gitlab.com, the instance the policy trusts (see
// gitlabWithApprovals: the token's owner is mallory, job 777 of pipeline 555 is erin's).
func rbGitLab(t *testing.T, m *SoccerPredict, srv *httptest.Server) {
	t.Helper()
	asGitLabCom(t, srv)
	m.Settings = append(m.Settings, "CI_PROJECT_ID=42")
}

func TestRollbackServiceRollsBackWithConfirmAndReason(t *testing.T) {
	m := fresh(t)
	rbGitLab(t, m, gitlabWithApprovals(t, "staging"))
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": rbHistory}))
	rec.Respond(daggertest.OnExec([]string{"helm", "rollback"}, map[string]any{"stdout": "Rollback was a success! Happy Helming!\n"}))
	out, err := m.RollbackService(context.Background(), "staging", dag.SetSecret("kubeconfig", relKube), 1, true, rbReason, "", nil, dag.SetSecret("gitlab", gitlabTokenPln), nil, "", 0, 0, 0)
	require.NoError(t, err)

	rb := rbHelmRollbacks()
	require.Len(t, rb, 1)
	assert.Equal(t, []string{"helm", "rollback", "soccer-predict", "1", "--namespace", "soccerpredict-staging", "--wait=watcher", "--timeout", "10m0s"}, rb[0].Args)
	_, ok := rb[0].Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	assert.True(t, ok)
	_, ok = rb[0].Container.StepWhere("withEnvVariable", "name", "SP_ROLLBACK_AT")
	assert.True(t, ok, "a rollback is never served from the cache")

	assert.Contains(t, out, "Rollback was a success")
	assert.Contains(t, out, "CI must be re-run")
	r := rbRecord(t, out)
	assert.True(t, r.Confirmed)
	assert.Equal(t, "1", r.Target)
	assert.Equal(t, rbReason, r.Reason)
	assert.Equal(t, "mallory", r.Actor, "the actor is the owner of the GitLab token, never free text")
	assert.Empty(t, rec.Leaked("KUBE-SECRET-token"))
	assert.Empty(t, rec.Leaked(gitlabTokenPln))

	// The record outlives the job: a revision of the audit release, after the rollback.
	store := mustExec(t, "helm", "upgrade", "--install", "soccer-predict-audit", "/audit-chart", "--namespace", "soccerpredict-staging")
	assert.Contains(t, store.Line(), "--set-file record=/audit/audit.json")
	assert.Contains(t, store.Line(), "--description rollback-service 4 → 1 by mallory")
	files := store.Container.Files()
	stored, err := rollback.ParseRecord([]byte(files["audit/audit.json"]))
	require.NoError(t, err, "the stored file is the record: %v", files)
	assert.Equal(t, r, stored)
	assert.Contains(t, files["audit-chart/templates/configmap.yaml"], "kind: ConfigMap")
	_, afterRollback := store.Container.StepWhere("withEnvVariable", "name", "SP_ROLLBACK_AT")
	assert.True(t, afterRollback, "the record is stored by the container that rolled back, after it")
	assert.Contains(t, out, "audit record stored")

	// --actor naming someone else than the token's owner is refused and changes nothing.
	m = fresh(t)
	rbGitLab(t, m, gitlabWithApprovals(t, "staging"))
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": rbHistory}))
	_, err = m.RollbackService(context.Background(), "staging", dag.SetSecret("kubeconfig", relKube), 1, true, rbReason, "ana", nil, dag.SetSecret("gitlab", gitlabTokenPln), nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--actor=ana disagrees with GitLab, which says mallory deploys")
	assert.Empty(t, rbHelmRollbacks())
}

func TestRollbackServiceInProductionNeedsTheApprovalsOfADeploy(t *testing.T) {
	runWith := func(srv *httptest.Server, jobToken *dagger.Secret) (string, error) {
		m := fresh(t, withRelease)
		rbGitLab(t, m, srv)
		rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": rbHistory}))
		rec.Respond(daggertest.OnExec([]string{"helm", "rollback"}, map[string]any{"stdout": "Rollback was a success!\n"}))
		return m.RollbackService(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), 0, true, rbReason, "",
			nil, dag.SetSecret("gitlab", gitlabTokenPln), jobToken, "", 777, 555, 0)
	}
	run := func(srv *httptest.Server) (string, error) { return runWith(srv, dag.SetSecret("job", jobTokenPln)) }
	_, err := run(gitlabJobNamed(t, "rollback-service-production", "production", "running", "bob"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "production needs 2 approval(s)")
	assert.Empty(t, rbHelmRollbacks(), "nothing is rolled back")

	_, err = run(gitlabJobNamed(t, "rollback-service-production", "production", "running", "bob", "erin"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "erin (the person deploying)", "the job's user cannot approve their own rollback")
	assert.Empty(t, rbHelmRollbacks())

	_, err = run(gitlabJobNamed(t, "rollback-service-production", "production", "success", "bob", "carol"))
	require.Error(t, err, "a finished rollback job cannot be replayed")
	assert.Contains(t, err.Error(), "prove this GitLab job with --job-token", "GitLab no longer vouches for a finished job's token")
	assert.Empty(t, rbHelmRollbacks())

	_, err = runWith(gitlabJobNamed(t, "rollback-service-production", "production", "success", "bob", "carol"), nil)
	require.Error(t, err, "named without its token, the finished job is looked up and refused")
	assert.Contains(t, err.Error(), "refused (nothing was changed)")
	assert.Contains(t, err.Error(), "job 777 is success, not running")
	assert.Empty(t, rbHelmRollbacks())

	out, err := run(gitlabJobNamed(t, "rollback-service-production", "production", "running", "bob", "carol"))
	require.NoError(t, err)
	require.Len(t, rbHelmRollbacks(), 1)
	assert.Equal(t, "erin", rbRecord(t, out).Actor)
	mustExec(t, "helm", "upgrade", "--install", "soccer-predict-audit")
	assert.Empty(t, rec.Leaked(jobTokenPln))
}

func TestRollbackServiceRefusesABadRevisionAndChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      string
		revision int
		want     string
		history  bool
	}{
		{"not in the history", "production", 9, "revision 9 is not in the history", true},
		{"the deployed one", "production", 4, "revision 4 is the one deployed now", true},
		{"a failed one", "production", 3, "not superseded", true},
		{"negative", "production", -1, "--revision=-1", false},
		{"unknown environment", "prod", 0, "prod", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fresh(t)
			rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": rbHistory}))
			_, err := m.RollbackService(context.Background(), tc.env, dag.SetSecret("kubeconfig", relKube), tc.revision, true, rbReason, "ana", nil, nil, nil, "", 0, 0, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rbHelmRollbacks(), "a bad revision changes nothing")
			_, read := rec.ExecWith("helm", "history")
			assert.Equal(t, tc.history, read)
			if tc.history {
				assert.Contains(t, err.Error(), "nothing was changed")
			}
		})
	}
}

func TestRollbackServiceNamesAMissingRelease(t *testing.T) {
	m := fresh(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 1, "stderr": "Error: release: not found\n"}))
	_, err := m.RollbackService(context.Background(), "dev", dag.SetSecret("kubeconfig", relKube), 0, true, rbReason, "ana", dag.Host().Directory(rbChart()), nil, nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "release: not found")
	assert.Contains(t, err.Error(), "soccerpredict-dev")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Empty(t, rbHelmRollbacks())
}

// rbMLflow serves the model-registry endpoints rollback-model uses, with MLflow's shapes.
type rbMLflow struct {
	mu       sync.Mutex
	versions map[string]string // version → status
	champion string
	token    string // the bearer token it accepts
	// basic is "user:password" when the server runs `mlflow server --app-name basic-auth`: it
	// then accepts only that HTTP Basic login and answers anything else with 401.
	basic string
	tags  map[string]string
	calls []string
	auth  []string
}

const rbMLflowToken = "MLFLOW-SECRET-token"

func newRBMLflow(t *testing.T) (*rbMLflow, *httptest.Server) {
	t.Helper()
	f := &rbMLflow{versions: map[string]string{"3": "READY", "4": "READY", "5": "FAILED_REGISTRATION"}, champion: "4", token: rbMLflowToken}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *rbMLflow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "message": msg})
	}
	if u, p, ok := r.BasicAuth(); f.basic != "" && (!ok || u+":"+p != f.basic) || f.basic == "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	mv := func(v string) map[string]any {
		return map[string]any{"model_version": map[string]any{"name": "soccer-predict", "version": v, "run_id": "run" + v, "status": f.versions[v], "current_stage": "None"}}
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/2.0/mlflow/model-versions/get":
		if _, ok := f.versions[q.Get("version")]; !ok || q.Get("name") != "soccer-predict" {
			fail(404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Model Version (name=%s, version=%s) not found", q.Get("name"), q.Get("version")))
			return
		}
		_ = json.NewEncoder(w).Encode(mv(q.Get("version")))
	case r.Method == http.MethodGet && r.URL.Path == "/api/2.0/mlflow/registered-models/alias":
		if f.champion == "" {
			fail(400, "INVALID_PARAMETER_VALUE", "Registered model alias champion not found.")
			return
		}
		_ = json.NewEncoder(w).Encode(mv(f.champion))
	case r.Method == http.MethodPost && r.URL.Path == "/api/2.0/mlflow/registered-models/alias":
		b, _ := io.ReadAll(r.Body)
		var body struct{ Name, Alias, Version string }
		_ = json.Unmarshal(b, &body)
		if body.Alias != "champion" {
			fail(400, "INVALID_PARAMETER_VALUE", "unexpected alias")
			return
		}
		f.champion = body.Version
		fmt.Fprint(w, `{}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/2.0/mlflow/registered-models/set-tag":
		b, _ := io.ReadAll(r.Body)
		var body struct{ Name, Key, Value string }
		_ = json.Unmarshal(b, &body)
		if body.Name != "soccer-predict" || body.Key == "" {
			fail(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name="+body.Name+" not found")
			return
		}
		if f.tags == nil {
			f.tags = map[string]string{}
		}
		f.tags[body.Key] = body.Value
		fmt.Fprint(w, `{}`)
	default:
		fail(404, "ENDPOINT_NOT_FOUND", "no such endpoint")
	}
}

func (f *rbMLflow) posts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, "POST") {
			n++
		}
	}
	return n
}

func rbModelPipeline(t *testing.T, url string) *SoccerPredict {
	t.Helper()
	m := fresh(t)
	if url != "" {
		m.Settings = append(m.Settings, "MLFLOW_TRACKING_URI="+url)
	}
	return m
}

func TestRollbackModelPlansThenMovesTheChampionAliasOnlyWhenConfirmed(t *testing.T) {
	f, srv := newRBMLflow(t)
	m := rbModelPipeline(t, srv.URL)
	token := dag.SetSecret("mlflow-token", rbMLflowToken)

	out, err := m.RollbackModel(context.Background(), "3", false, "", token, nil, "ana", "production", nil, nil, "", 0, 0, 0)
	require.NoError(t, err)
	assert.Zero(t, f.posts(), "nothing moves without --confirm")
	assert.Equal(t, "4", f.champion)
	assert.Contains(t, out, "nothing was changed")
	r := rbRecord(t, out)
	assert.Equal(t, rollback.RollbackModel, r.Action)
	assert.Equal(t, "3", r.Target)
	assert.Equal(t, "4", r.From)
	assert.Contains(t, r.Plan, "move alias champion of model soccer-predict from version 4 to version 3")

	// The champion is what production serves: --env=staging, where a proven person would be
	// enough, does not move it.
	mr := rbModelPipeline(t, srv.URL)
	rbGitLab(t, mr, gitlabWithApprovals(t, "staging"))
	_, err = mr.RollbackModel(context.Background(), "3", true, rbReason, token, nil, "", "staging", dag.SetSecret("gitlab", gitlabTokenPln), nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `rollback-model moves the "champion" alias of soccer-predict, which production serves: it needs production's approvals`)
	assert.Zero(t, f.posts(), "--env=staging moves nothing")

	// A free-text actor with no approvals: production's champion does not move.
	_, err = m.RollbackModel(context.Background(), "3", true, rbReason, token, nil, "ana", "production", nil, nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused (nothing was changed)")
	assert.Contains(t, err.Error(), "production needs 2 approval(s)")
	assert.Zero(t, f.posts())

	// The rollback job, proven by its own token, with two independent approvals.
	m = fresh(t, withRelease)
	m.Settings = append(m.Settings, "MLFLOW_TRACKING_URI="+srv.URL)
	rbGitLab(t, m, gitlabJobNamed(t, "rollback-model-production", "production", "running", "bob", "carol"))
	// A confirmation with too short a reason moves nothing.
	_, err = m.RollbackModel(context.Background(), "3", true, "short", token, nil, "", "production",
		dag.SetSecret("gitlab", gitlabTokenPln), dag.SetSecret("job", jobTokenPln), "", 777, 555, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rollback not confirmed, nothing was changed: a reason of at least 10 characters is required (got 5)")
	assert.Zero(t, f.posts(), "a confirmation without a reason moves nothing")
	// Nor does a reason MLflow could not keep in the record's tag: checked before the alias moves.
	_, err = m.RollbackModel(context.Background(), "3", true, strings.Repeat("INC-123 ", 700), token, nil, "", "production",
		dag.SetSecret("gitlab", gitlabTokenPln), dag.SetSecret("job", jobTokenPln), "", 777, 555, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MLflow stores at most 5000 in a registered model tag: shorten --reason")
	assert.Zero(t, f.posts(), "the record is checked before the alias moves")

	out, err = m.RollbackModel(context.Background(), "3", true, rbReason, token, nil, "", "production",
		dag.SetSecret("gitlab", gitlabTokenPln), dag.SetSecret("job", jobTokenPln), "", 777, 555, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, f.posts(), "the alias, then the record")
	assert.Equal(t, "3", f.champion)
	r = rbRecord(t, out)
	assert.True(t, r.Confirmed)
	assert.Equal(t, "4", r.From)
	assert.Equal(t, "erin", r.Actor)
	assert.Contains(t, out, "CI must be re-run")
	stored, err := rollback.ParseRecord([]byte(f.tags[rollback.ModelTag]))
	require.NoError(t, err, "the record is kept on the registered model")
	assert.Equal(t, r, stored)
	assert.Empty(t, rec.Leaked(jobTokenPln))
	assert.Empty(t, rec.Leaked(gitlabTokenPln))
	for _, a := range f.auth {
		assert.Equal(t, "Bearer "+rbMLflowToken, a, "the token travels only in the Authorization header")
	}
	assert.Empty(t, rec.Leaked(rbMLflowToken))
	assert.Empty(t, rec.Execs(), "rollback-model only talks to MLflow")
}

// `mlflow server --app-name basic-auth` answers a Bearer token with 401; MLflow's own client logs
// in with MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD as HTTP Basic, and so does the module.
func TestRollbackModelLogsInWithHTTPBasicAsMLflowsClient(t *testing.T) {
	f, srv := newRBMLflow(t)
	f.basic = "ci-bot:MLFLOW-SECRET-password"
	m := rbModelPipeline(t, srv.URL)
	_, err := m.RollbackModel(context.Background(), "3", false, "", dag.SetSecret("mlflow-token", rbMLflowToken), nil, "ana", "production", nil, nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 401", "a token alone does not log in")

	m.Settings = append(m.Settings, "MLFLOW_TRACKING_USERNAME=ci-bot")
	out, err := m.RollbackModel(context.Background(), "3", false, "", dag.SetSecret("mlflow-token", rbMLflowToken), dag.SetSecret("mlflow-password", "MLFLOW-SECRET-password"), "ana", "production", nil, nil, "", 0, 0, 0)
	require.NoError(t, err, "the positive twin: username and password as Basic")
	assert.Contains(t, out, "move alias champion of model soccer-predict from version 4 to version 3")
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("ci-bot:MLFLOW-SECRET-password")), f.auth[len(f.auth)-1])
	assert.Empty(t, rec.Leaked("MLFLOW-SECRET-password"))
}

func TestRollbackModelRefusesAVersionThatCannotServeAndChangesNothing(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"9", "RESOURCE_DOES_NOT_EXIST"},
		{"5", "FAILED_REGISTRATION"},
		{"4", "already the champion"},
		{"v3", "not a positive integer"},
		{"0", "not a positive integer"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			f, srv := newRBMLflow(t)
			m := rbModelPipeline(t, srv.URL)
			_, err := m.RollbackModel(context.Background(), tc.version, true, rbReason, dag.SetSecret("mlflow-token", rbMLflowToken), nil, "ana", "production", nil, nil, "", 0, 0, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.Zero(t, f.posts())
			assert.Equal(t, "4", f.champion)
		})
	}
}

func TestRollbackModelNamesTheMissingTrackingServerSetting(t *testing.T) {
	m := rbModelPipeline(t, "")
	_, err := m.RollbackModel(context.Background(), "3", true, rbReason, nil, nil, "ana", "production", nil, nil, "", 0, 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MLFLOW_TRACKING_URI")
}

// Rollback-data fixtures: the sample project inside the repository.
const (
	rbProject = "tests/testdata/soccerpredict"
	rbHead    = "1111111111111111111111111111111111111111"
	rbTarget  = "2222222222222222222222222222222222222222"
	rbCreds   = "[default]\naws_access_key_id = AKIA-SECRET\naws_secret_access_key = DVC-SECRET-key\n"
)

func rbGit(t *testing.T, nameStatus string) {
	t.Helper()
	rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "HEAD"}, map[string]any{"exitCode": 0, "stdout": rbHead + "\n"}))
	rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "--quiet", "data-2024-05^{commit}"}, map[string]any{"exitCode": 0, "stdout": rbTarget + "\n"}))
	rec.Respond(daggertest.OnExec([]string{"git", "diff", "--stat"}, map[string]any{"exitCode": 0, "stdout": " " + rbProject + "/dvc.lock | 4 ++--\n 1 file changed\n"}))
	rec.Respond(daggertest.OnExec([]string{"git", "diff", "--no-renames", "--name-status"}, map[string]any{"exitCode": 0, "stdout": nameStatus}))
}

const rbChanged = "M\t" + rbProject + "/dvc.lock\nD\t" + rbProject + "/data/raw/matches.csv.dvc\nA\t" + rbProject + "/data/raw/odds.csv.dvc\n"

func rbActs() []string {
	var out []string
	for _, e := range rec.Execs() {
		l := e.Line()
		if strings.HasPrefix(l, "git restore") || strings.HasPrefix(l, "git checkout") || strings.HasPrefix(l, "dvc ") || strings.Contains(l, "dvc pull") {
			out = append(out, l)
		}
	}
	return out
}

func TestRollbackDataPlansFromGitWithoutTouchingAnything(t *testing.T) {
	m := fresh(t)
	rbGit(t, rbChanged)
	repo := dag.Host().Directory("/work/repo")
	dir, err := m.RollbackData(context.Background(), "data-2024-05", false, "", "ana", nil, "production", repo)
	require.NoError(t, err)

	stat := mustExec(t, "git", "diff", "--stat", rbTarget, "--", rbProject+"/dvc.lock", ":(glob)"+rbProject+"/**/*.dvc")
	assert.Contains(t, stat.Container.String(), `withDirectory(path:"/repo",source:<host.directory(path:"/work/repo")>)`)
	assert.Contains(t, stat.Container.String(), `from(address:"python:3.11-slim-bookworm")`)
	assert.Contains(t, stat.Container.String(), "apt-get install", "git is installed in the Python image")
	mustExec(t, "pip", "install", "-r", "requirements-data.txt")
	assert.Empty(t, rbActs(), "nothing is restored without --confirm")

	files := relDir(t, dir)
	assert.ElementsMatch(t, []string{"audit.json", "rollback-plan.txt"}, rbKeys(files), "without --confirm only the plan and the record")
	var r rollback.Record
	require.NoError(t, json.Unmarshal([]byte(files["audit.json"]), &r))
	assert.Equal(t, rollback.RollbackData, r.Action)
	assert.Equal(t, "data-2024-05", r.Target)
	assert.Equal(t, rbHead, r.From)
	assert.False(t, r.Confirmed)
	assert.Contains(t, files["rollback-plan.txt"], rbProject+"/dvc.lock | 4 ++--")
	assert.Contains(t, files["rollback-plan.txt"], "delete "+rbProject+"/data/raw/odds.csv.dvc")
	assert.Contains(t, files["rollback-plan.txt"], "nothing was changed")
}

func rbKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRollbackDataRestoresThePointerFilesWithConfirm(t *testing.T) {
	m := fresh(t)
	rbGit(t, rbChanged)
	rec.Respond(daggertest.OnExec([]string{"dvc", "checkout"}, map[string]any{"exitCode": 1, "combinedOutput": "ERROR: Checkout failed for following targets:\ndata/raw/matches.csv\nIs your cache up to date?\n"}))
	dir, err := m.RollbackData(context.Background(), "data-2024-05", true, rbReason, "ana", nil, "production", dag.Host().Directory("/work/repo"))
	require.NoError(t, err)

	restore := mustExec(t, "git", "restore", "--source="+rbTarget, "--worktree", "--")
	assert.Equal(t, []string{"git", "restore", "--source=" + rbTarget, "--worktree", "--",
		rbProject + "/dvc.lock", rbProject + "/data/raw/matches.csv.dvc", rbProject + "/data/raw/odds.csv.dvc"}, restore.Args,
		"files changed since the rev are restored, files added since are removed")
	co := mustExec(t, "dvc", "checkout")
	_, ok := co.Container.StepWhere("withWorkdir", "path", "/repo/"+rbProject)
	assert.True(t, ok, "dvc runs in the project directory: %s", co.Container)

	files := relDir(t, dir)
	for _, f := range []string{rbProject + "/dvc.lock", rbProject + "/data/raw/matches.csv.dvc"} {
		require.Contains(t, files, f)
		assert.Contains(t, files[f], `withExec(args:["git","restore","--source=`+rbTarget, "the returned pointer file is the restored one")
		assert.Contains(t, files[f], `file(path:"/repo/`+f+`")`)
	}
	assert.NotContains(t, files, rbProject+"/data/raw/odds.csv.dvc")
	for f := range files {
		assert.NotContains(t, f, ".dvc/", "never the DVC config (it may hold credentials)")
	}
	var r rollback.Record
	require.NoError(t, json.Unmarshal([]byte(files["audit.json"]), &r))
	assert.True(t, r.Confirmed)
	assert.Equal(t, rbReason, r.Reason)
	assert.Contains(t, files["rollback-plan.txt"], "not in this run's cache", "an empty cache is reported, not hidden")
	assert.Contains(t, files["rollback-plan.txt"], "CI must be re-run")
}

func TestRollbackDataPullsWithMountedRemoteCredentials(t *testing.T) {
	m := fresh(t)
	rbGit(t, rbChanged)
	rec.Respond(daggertest.OnExec([]string{"dvc", "pull"}, map[string]any{"exitCode": 0, "combinedOutput": "1 file fetched\n"}))
	dir, err := m.RollbackData(context.Background(), "data-2024-05", true, rbReason, "ana", dag.SetSecret("dvc-creds", rbCreds), "production", dag.Host().Directory("/work/repo"))
	require.NoError(t, err)
	pull := mustExec(t, "dvc", "remote", "modify", "--local", "credentialpath", "/run/secrets/dvc-remote-credentials", "dvc pull")
	_, ok := pull.Container.StepWhere("withMountedSecret", "path", "/run/secrets/dvc-remote-credentials")
	assert.True(t, ok, "the credentials are a mounted secret file: %s", pull.Container)
	assert.Contains(t, relDir(t, dir)["rollback-plan.txt"], "dvc pull: the data of data-2024-05 is in the remote")
	assert.Empty(t, rec.Leaked("DVC-SECRET-key"))

	rec.Respond(daggertest.OnExec([]string{"dvc", "pull"}, map[string]any{"exitCode": 1, "combinedOutput": "ERROR: failed to pull data from the cloud - Access Denied\n"}))
	_, err = m.RollbackData(context.Background(), "data-2024-05", true, rbReason, "ana", dag.SetSecret("dvc-creds", rbCreds), "production", dag.Host().Directory("/work/repo"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Access Denied")
}

func TestRollbackDataRefusesABadRevAndChangesNothing(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		m := fresh(t)
		_, err := m.RollbackData(context.Background(), "--upload-pack=evil", true, rbReason, "ana", nil, "production", dag.Host().Directory("/work/repo"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "nothing was changed")
		assert.Empty(t, rec.Execs(), "a malformed rev never reaches git")
	})
	t.Run("unknown", func(t *testing.T) {
		m := fresh(t)
		rbGit(t, rbChanged)
		rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "--quiet", "data-2024-05^{commit}"}, map[string]any{"exitCode": 1}))
		_, err := m.RollbackData(context.Background(), "data-2024-05", true, rbReason, "ana", nil, "production", dag.Host().Directory("/work/repo"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"data-2024-05" is not a commit of the repository`)
		assert.Contains(t, err.Error(), "nothing was changed")
		assert.Empty(t, rbActs())
	})
	t.Run("no history", func(t *testing.T) {
		m := fresh(t)
		rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "HEAD"}, map[string]any{"exitCode": 128, "stderr": "fatal: not a git repository (or any of the parent directories): .git\n"}))
		_, err := m.RollbackData(context.Background(), "data-2024-05", true, rbReason, "ana", nil, "production", dag.Host().Directory("/work/repo"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a git repository")
		assert.Contains(t, err.Error(), ".git")
	})
	t.Run("same pointers", func(t *testing.T) {
		m := fresh(t)
		rbGit(t, "")
		_, err := m.RollbackData(context.Background(), "data-2024-05", true, rbReason, "ana", nil, "production", dag.Host().Directory("/work/repo"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "nothing to roll back")
		assert.Empty(t, rbActs())
	})
	t.Run("confirm without reason", func(t *testing.T) {
		m := fresh(t)
		rbGit(t, rbChanged)
		_, err := m.RollbackData(context.Background(), "data-2024-05", true, "", "ana", nil, "production", dag.Host().Directory("/work/repo"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "at least 10 characters")
		assert.Empty(t, rbActs())
	})
}
