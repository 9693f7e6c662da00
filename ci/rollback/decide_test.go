package rollback

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
	"gitlab.com/soccerpredictai/pipeline/ci/mlflow"
)

const (
	rbCommit = "0123456789abcdef0123456789abcdef01234567"
	rbReason = "INC-123: p95 latency regression after v1.4.1"
	// rbHistory is `helm history -o json` of a release whose revision 3 failed and 4 is deployed.
	rbHistory = `[
 {"revision":1,"updated":"2024-05-01T10:00:00Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"1.2.0","description":"Install complete"},
 {"revision":2,"updated":"2024-05-02T10:00:00Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"1.3.0","description":"Upgrade complete"},
 {"revision":3,"updated":"2024-05-03T10:00:00Z","status":"failed","chart":"soccer-predict-0.1.1","app_version":"1.4.0","description":"Upgrade failed"},
 {"revision":4,"updated":"2024-05-04T10:00:00Z","status":"deployed","chart":"soccer-predict-0.1.1","app_version":"1.4.1","description":"Upgrade complete"}]`
)

func rbSettings() config.Settings {
	return config.Settings{Commit: rbCommit, Namespace: "soccerpredict", Release: "soccer-predict", HelmTimeout: 10 * time.Minute,
		MLflowURL: "https://mlflow.example.com", MLflowModel: "soccer-predict"}
}

// tokenOwner is GitLab's answer on a laptop: the token belongs to erin.
func tokenOwner() Who {
	return Who{Proof: policy.Proof{Source: policy.ProofSource{API: policy.TrustedGitLabAPI, Project: policy.TrustedProject},
		TokenOwner: &gitlab.User{Username: "erin", Name: "Erin"}}, Author: policy.Identity{Name: "Alice", Email: "alice@example.com"}}
}

// approvedBy is tokenOwner with the production deployment 9001 of job 777 (the rollback job of
// action), approved by approvers.
func approvedBy(t *testing.T, action Action, approvers ...string) Who {
	t.Helper()
	var approvals []map[string]any
	for _, a := range approvers {
		approvals = append(approvals, map[string]any{"user": map[string]any{"username": a, "name": a}, "status": "approved"})
	}
	raw, err := json.Marshal(map[string]any{
		"id": 9001, "sha": rbCommit, "status": "blocked", "user": map[string]any{"username": "dave"},
		"environment": map[string]any{"name": "production"},
		"deployable":  map[string]any{"id": 777, "name": string(action) + "-production", "pipeline": map[string]any{"id": 555, "sha": rbCommit}},
		"approvals":   approvals,
	})
	require.NoError(t, err)
	var d gitlab.Deployment
	require.NoError(t, json.Unmarshal(raw, &d))
	w := tokenOwner()
	w.Proof.Deployment = policy.EvidenceFromDeployment(&d)
	return w
}

func TestCheckServiceRefusesBadFlagsBeforeAnythingIsRead(t *testing.T) {
	ok := Flags{Env: "production"}
	for name, tc := range map[string]struct {
		flags      Flags
		revision   int
		kubeconfig bool
		reason     string
	}{
		"unknown environment": {Flags{Env: "prod"}, 0, true, `unknown environment "prod"`},
		"negative revision":   {ok, -1, true, "--revision=-1: pass a revision number from `helm history`"},
		"no kubeconfig":       {ok, 0, false, "--kubeconfig is required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := CheckService(tc.flags, tc.revision, tc.kubeconfig, rbSettings())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
	req, err := CheckService(ok, 2, true, rbSettings())
	require.NoError(t, err, "the positive twin")
	assert.Equal(t, []string{"helm", "history", "soccer-predict", "--namespace", "soccerpredict-production", "-o", "json"}, req.History)
}

func service(t *testing.T, env string, revision int, confirm bool, actor string, who Who, history string) (ServicePlan, error) {
	t.Helper()
	req, err := CheckService(Flags{Env: env, Confirm: confirm, Reason: rbReason, Claims: policy.Claims{Actor: actor}}, revision, true, rbSettings())
	require.NoError(t, err)
	return DecideService(ServiceFacts{Request: req, History: []byte(history), Who: who})
}

func TestDecideServiceRefusesWithTheReason(t *testing.T) {
	for name, tc := range map[string]struct {
		env             string
		revision, twin  int
		who, twinWho    func(*testing.T) Who
		history, reason string
	}{
		"not in the history":    {"staging", 9, 2, nil, nil, rbHistory, "cannot roll back soccer-predict in soccerpredict-staging: revision 9 is not in the history"},
		"the deployed revision": {"staging", 4, 0, nil, nil, rbHistory, "revision 4 is the one deployed now"},
		"a failed revision":     {"staging", 3, 1, nil, nil, rbHistory, "not superseded"},
		"no history":            {"staging", 0, 0, nil, nil, " ", "helm history output is empty"},
		"who rolls back is not proven": {"staging", 0, 0, func(*testing.T) Who { return Who{} }, nil, rbHistory,
			"rollback-service in staging refused (nothing was changed): deployment to staging refused:\n  - who rolls back is unknown"},
		"one approval in production": {"production", 0, 0, func(t *testing.T) Who { return approvedBy(t, RollbackService, "bob") }, func(t *testing.T) Who { return approvedBy(t, RollbackService, "bob", "carol") }, rbHistory,
			"production needs 2 approval(s) from distinct people other than the commit author and the person deploying; deployment 9001 has 1 (bob)"},
	} {
		t.Run(name, func(t *testing.T) {
			who, twinWho, twinHistory := tokenOwner(), tokenOwner(), rbHistory
			if tc.who != nil {
				who = tc.who(t)
			}
			if tc.twinWho != nil {
				twinWho = tc.twinWho(t)
			}
			_, err := service(t, tc.env, tc.revision, true, "", who, tc.history)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, err.Error(), "nothing was changed")

			p, err := service(t, tc.env, tc.twin, true, "", twinWho, twinHistory)
			require.NoError(t, err, "the positive twin")
			assert.True(t, p.Outcome.Act)
		})
	}
}

func TestDecideServicePlansThePreviousGoodRevision(t *testing.T) {
	p, err := service(t, "production", 0, false, "ana", Who{}, rbHistory)
	require.NoError(t, err)
	assert.False(t, p.Outcome.Act, "nothing acts without --confirm")
	assert.Nil(t, p.Rollback)
	assert.Equal(t, "2", p.Outcome.Record.Target, "the failed revision 3 is skipped")
	assert.Equal(t, "4", p.Outcome.Record.From)
	assert.Equal(t, "ana (not proven)", p.Outcome.Record.Actor)
	assert.Equal(t, `helm rollback soccer-predict 2 --namespace soccerpredict-production --wait=watcher --timeout 10m0s (revision 4 soccer-predict-0.1.1 → revision 2 soccer-predict-0.1.0, "Upgrade complete")`, p.Outcome.Record.Plan)
	assert.True(t, strings.HasPrefix(p.Report, "helm history (newest first):\n  4  deployed    soccer-predict-0.1.1  Upgrade complete\n"), p.Report)
	assert.Contains(t, p.Report, "confirming will be refused until:\n  - ")
	assert.Contains(t, p.Report, "re-run with --confirm")

	p, err = service(t, "staging", 1, true, "", tokenOwner(), rbHistory)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "rollback", "soccer-predict", "1", "--namespace", "soccerpredict-staging", "--wait=watcher", "--timeout", "10m0s"}, p.Rollback)
	assert.Equal(t, "erin", p.Outcome.Record.Actor, "the token's owner, never free text")
	assert.Equal(t, []string{"helm", "upgrade", "--install", "soccer-predict-audit", "/audit-chart", "--namespace", "soccerpredict-staging", "--create-namespace",
		"--set-file", "record=/audit/audit.json", "--description", "rollback-service 4 → 1 by erin"}, p.Store)

	out, err := p.Done("Rollback was a success! Happy Helming!\n")
	require.NoError(t, err)
	assert.Contains(t, out, "Rollback was a success")
	assert.Contains(t, out, "audit record stored: helm history soccer-predict-audit --namespace soccerpredict-staging")
	assert.EqualError(t, p.RollbackFailed(1, "Error: timed out waiting for the condition"),
		"helm rollback of soccer-predict in soccerpredict-staging to revision 1 failed (exit 1): Error: timed out waiting for the condition")
	err = p.StoreFailed("exit 1: forbidden")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "rolled back soccer-predict in soccerpredict-staging to revision 1, but the audit record could not be stored in release soccer-predict-audit of soccerpredict-staging (exit 1: forbidden): file this record by hand"), err.Error())
	assert.Contains(t, err.Error(), `"actor": "erin"`)
}

func TestCheckModelRefusesBadFlags(t *testing.T) {
	noServer := rbSettings()
	noServer.MLflowURL = ""
	for name, tc := range map[string]struct {
		version, env string
		settings     config.Settings
		reason       string
	}{
		"not a version":       {"v3", "production", rbSettings(), `model version "v3" is not a positive integer`},
		"no tracking server":  {"3", "production", noServer, "set MLFLOW_TRACKING_URI"},
		"unknown environment": {"3", "prod", rbSettings(), `unknown environment "prod"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := CheckModel(Flags{Env: tc.env}, tc.version, tc.settings)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, err.Error(), "nothing was changed")
		})
	}
	req, err := CheckModel(Flags{Env: "production"}, "3", rbSettings())
	require.NoError(t, err, "the positive twin")
	assert.Equal(t, "soccer-predict", req.Model)
}

func model(t *testing.T, confirm bool, status, champion string, who Who) (ModelPlan, error) {
	t.Helper()
	req, err := CheckModel(Flags{Env: "production", Confirm: confirm, Reason: rbReason}, "3", rbSettings())
	require.NoError(t, err)
	return DecideModel(ModelFacts{Request: req, Version: mlflow.ModelVersion{Version: "3", RunID: "run3", Status: status}, Champion: champion, Who: who})
}

func TestDecideModelRefusesWithTheReason(t *testing.T) {
	_, err := model(t, true, "FAILED_REGISTRATION", "4", tokenOwner())
	assert.ErrorContains(t, err, "model soccer-predict version 3 is FAILED_REGISTRATION, not READY")
	_, err = model(t, true, "READY", "3", tokenOwner())
	assert.ErrorContains(t, err, "version 3 is already the champion of soccer-predict: nothing to roll back")
	_, err = model(t, true, "READY", "4", Who{})
	assert.ErrorContains(t, err, "rollback-model of soccer-predict refused (nothing was changed)")

	p, err := model(t, true, "READY", "4", approvedBy(t, RollbackModel, "bob", "carol"))
	require.NoError(t, err, "the positive twin")
	assert.True(t, p.Outcome.Act)
	assert.Equal(t, "move alias champion of model soccer-predict from version 4 to version 3 (run run3)", p.Outcome.Record.Plan)
	assert.Equal(t, "4", p.Moved("4").From)
	assert.Equal(t, "", p.Moved("").From, "the registry's answer, not the plan's, is recorded")
	out, err := p.Done("")
	require.NoError(t, err)
	assert.Contains(t, out, "champion of soccer-predict: version (none) → 3\naudit record stored: tag soccerpredict.audit.last-rollback of registered model soccer-predict")

	p, err = model(t, false, "", "", Who{})
	require.NoError(t, err, "a plan without a champion or proof changes nothing and says so")
	assert.False(t, p.Outcome.Act)
	assert.Contains(t, p.Outcome.Record.Plan, "from version (none) to version 3 (run run3)")
	assert.Contains(t, p.Report, "confirming will be refused until")
}

// The champion alias is what production serves: moving it is a production change, whatever --env
// says (an attacker with push rights and no approver would otherwise pass --env=staging, where a
// known actor is enough).
func TestRollbackModelIsJudgedByTheEnvironmentTheAliasServes(t *testing.T) {
	for _, env := range []string{"staging", "dev"} {
		_, err := CheckModel(Flags{Env: env, Confirm: true, Reason: rbReason}, "3", rbSettings())
		require.Error(t, err, env)
		assert.Contains(t, err.Error(), `rollback-model moves the "champion" alias of soccer-predict, which production serves: it needs production's approvals; drop --env=`+env+` (or pass --env=production)`)
		assert.Contains(t, err.Error(), "nothing was changed")
	}

	// A request whose environment was set by hand is still judged by the alias.
	req, err := CheckModel(Flags{Env: "production", Confirm: true, Reason: rbReason}, "3", rbSettings())
	require.NoError(t, err)
	assert.Equal(t, domain.Production, req.Env)
	forged := req
	forged.Env = domain.Staging
	facts := ModelFacts{Request: forged, Version: mlflow.ModelVersion{Version: "3", RunID: "run3", Status: "READY"}, Champion: "4", Who: tokenOwner()}
	_, err = DecideModel(facts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rollback-model of soccer-predict refused (nothing was changed): deployment to production refused")
	assert.Contains(t, err.Error(), "production needs 2 approval(s) proven by GitLab and none was given")

	facts.Who = approvedBy(t, RollbackService, "bob", "carol")
	_, err = DecideModel(facts)
	assert.ErrorContains(t, err, "deployment 9001 was created by job rollback-service-production, not rollback-model-production", "another rollback job's approvals")

	facts.Who = approvedBy(t, RollbackModel, "bob", "carol")
	p, err := DecideModel(facts)
	require.NoError(t, err, "the positive twin: production's approvals")
	assert.True(t, p.Outcome.Act)
	assert.Equal(t, domain.Production, p.Outcome.Record.Env, "the record is filed under the environment the alias serves")
}

// The registered model whose champion production serves is fixed in code: a settings file naming
// another (SP_MLFLOW_MODEL) does not choose what rollback-model judges and moves.
func TestRollbackModelMovesOnlyTheModelProductionServes(t *testing.T) {
	s := rbSettings()
	s.MLflowModel = "shadow-model"
	_, err := CheckModel(Flags{Env: "production", Confirm: true, Reason: rbReason}, "3", s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `SP_MLFLOW_MODEL=shadow-model is not the registered model production serves (soccer-predict, mlflow.ProductionModel): drop it from the settings; nothing was changed`)

	req, err := CheckModel(Flags{Env: "production", Confirm: true, Reason: rbReason}, "3", rbSettings())
	require.NoError(t, err, "the positive twin")
	assert.Equal(t, mlflow.ProductionModel, req.Model)
}

// MLflow refuses a registered model tag value over 5000 characters (400 INVALID_PARAMETER_VALUE):
// the record must fit before the alias moves, not after.
func TestRollbackModelRecordMustFitMLflowsTagLimitBeforeAnythingMoves(t *testing.T) {
	decide := func(reason string) (ModelPlan, error) {
		req, err := CheckModel(Flags{Env: "production", Confirm: true, Reason: reason}, "3", rbSettings())
		require.NoError(t, err)
		return DecideModel(ModelFacts{Request: req, Version: mlflow.ModelVersion{Version: "3", RunID: "run3", Status: "READY"}, Champion: "4", Who: approvedBy(t, RollbackModel, "bob", "carol")})
	}
	_, err := decide(strings.Repeat("r", 5000))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the audit record of this rollback-model would be")
	assert.Contains(t, err.Error(), "characters; MLflow stores at most 5000 in a registered model tag: shorten --reason")
	assert.Contains(t, err.Error(), "nothing was changed")

	p, err := decide(strings.Repeat("r", 3000))
	require.NoError(t, err, "the positive twin")
	raw, err := p.Moved(strings.Repeat("9", 18)).JSON()
	require.NoError(t, err)
	assert.LessOrEqual(t, len([]rune(string(raw))), mlflow.MaxTagValueLen, "whatever version the registry moved it from, the record fits")
}

func TestDataRollbackRefusesWhatCannotBeRestored(t *testing.T) {
	_, err := CheckData(Flags{Env: "production"}, "-rf", "p")
	assert.ErrorContains(t, err, `data rev "-rf" is not a commit sha`)
	_, err = CheckData(Flags{Env: "prod"}, "data-2024-05", "p")
	assert.ErrorContains(t, err, `unknown environment "prod"`)
	req, err := CheckData(Flags{Env: "production", Confirm: true, Reason: rbReason, Claims: policy.Claims{Actor: "ana"}}, "data-2024-05", "p")
	require.NoError(t, err)

	facts := DataFacts{Request: req, Head: "1111111", Target: "2222222", Stat: " p/dvc.lock | 4 ++--", NameStatus: "M\tp/dvc.lock\nA\tp/data/odds.csv.dvc\n"}
	p, err := DecideData(facts)
	require.NoError(t, err)
	assert.Equal(t, []string{"p/dvc.lock"}, p.Restore)
	assert.Equal(t, []string{"p/data/odds.csv.dvc"}, p.Remove)
	assert.Equal(t, []string{"p/dvc.lock", "p/data/odds.csv.dvc"}, p.Changed())
	notes := p.Notes("dvc pull: the data of data-2024-05 is in the remote.")
	assert.True(t, strings.HasPrefix(notes, "restore the DVC pointer files of p from data-2024-05 (2222222):\n p/dvc.lock | 4 ++--\ndelete p/data/odds.csv.dvc (added after data-2024-05)\n"), notes)
	assert.Contains(t, notes, "dvc pull: the data of data-2024-05 is in the remote.\nCommit the restored pointer files")
	assert.Equal(t, "ana", p.Outcome.Record.Actor)

	nothing := facts
	nothing.NameStatus = ""
	_, err = DecideData(nothing)
	assert.ErrorContains(t, err, "the DVC pointer files at data-2024-05 (2222222) are the ones in the repository now: nothing to roll back")
	bad := facts
	bad.NameStatus = "R100\tp/a.dvc\tp/b.dvc\n"
	_, err = DecideData(bad)
	assert.ErrorContains(t, err, "read which DVC pointer files changed since data-2024-05 (2222222)")
}
