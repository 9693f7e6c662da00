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

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// noChampionFile answers `exists` of metrics/champion.json with false.
func noChampionFile(c daggertest.Call) (any, bool) {
	if c.Leaf == "exists" {
		if p, _ := c.LeafArgs["path"].(string); strings.HasSuffix(p, "metrics/champion.json") {
			return false, true
		}
	}
	return nil, false
}

// The model gate trains its candidate exactly as metrics/champion.json was written.
func TestModelGateTrainsTheCandidateWithTheFullPipeline(t *testing.T) {
	m := fresh(t)
	happy(t)
	o, err := m.modelGate(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Pass, results(o)[gate.ModelGate].Status, results(o)[gate.ModelGate].Summary)
	e := mustExec(t, "python", "-m", "soccerpredict.pipeline.train", "--full", "--out", "/reports/metrics/candidate.json")
	assert.NotContains(t, e.Line(), "--smoke")
	files := filesOf(t, o)
	assert.Contains(t, files, "metrics/candidate.json")
	assert.Contains(t, files, "model-gate.json")

	// Training that cannot run at all is an error of the gate, not a fail of the project.
	rec.Respond(daggertest.OnExec([]string{"--full"}, map[string]any{"exitCode": 1, "combinedOutput": "/usr/local/bin/python: No module named soccerpredict.pipeline.train"}))
	o, err = m.modelGate(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Error, results(o)[gate.ModelGate].Status)
	// A training run that fails on the project's data is a fail.
	rec.Respond(daggertest.OnExec([]string{"--full"}, map[string]any{"exitCode": 1, "combinedOutput": "error: matches.csv: missing columns: home_goals"}))
	o, err = m.modelGate(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Fail, results(o)[gate.ModelGate].Status)
	assert.Contains(t, fmtDetails(results(o)[gate.ModelGate]), "missing columns")
}

// No champion fails closed, unless the caller says this is the very first model.
func TestModelGateWithoutAChampionIsAnErrorUnlessFirstModel(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(noChampionFile)
	err := m.ModelGate(context.Background(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model-gate ERROR")
	assert.Contains(t, err.Error(), "metrics/champion.json does not exist")
	assert.Contains(t, err.Error(), "--first-model")

	o, err := m.modelGateWith(context.Background(), true)
	require.NoError(t, err)
	res := results(o)[gate.ModelGate]
	assert.Equal(t, gate.Pass, res.Status)
	assert.True(t, modelgate.UsedFirstModel(gate.Report{Results: o.Results}))
	require.NoError(t, m.ModelGate(context.Background(), true))

	// The same through the setting, which `check` and `gate-report` read.
	m.Settings = append(m.Settings, "SP_FIRST_MODEL=true")
	require.NoError(t, m.ModelGate(context.Background(), false))

	// A champion file without any quality metric is no champion either.
	m = fresh(t)
	happy(t)
	rec.Respond(daggertest.OnFile("metrics/champion.json", `{"model_version": "3", "n_train": 10}`))
	err = m.ModelGate(context.Background(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no champion")
}

// mlflowWithoutChampion answers 404 for the champion alias, as MLflow does when it is not set.
func mlflowWithoutChampion(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered model alias champion not found."})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestModelGateMLflowWithoutAChampionAliasIsAnError(t *testing.T) {
	srv := mlflowWithoutChampion(t)
	m := fresh(t)
	m.Settings = append(m.Settings, "MLFLOW_TRACKING_URI="+srv.URL)
	happy(t)
	err := m.ModelGate(context.Background(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `has no "champion" alias`)
	require.NoError(t, m.ModelGate(context.Background(), true), "the very first model, said explicitly")

	// Deploy, build labels and trace need a model version: the alias's absence is an error there too.
	projectFiles(t)
	_, _, err = m.versions(context.Background(), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model version")
	_, model, err := m.versions(context.Background(), "7")
	require.NoError(t, err)
	assert.Equal(t, "7", model, "an explicit --model-version wins")
}

// The model version comes from one place: MLflow's champion alias when configured, else the
// committed champion.json's model_version.
func TestModelVersionSource(t *testing.T) {
	m := fresh(t)
	happy(t)
	var champion struct {
		ModelVersion string `json:"model_version"`
	}
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "../tests/testdata/soccerpredict/metrics/champion.json")), &champion))
	require.NotEmpty(t, champion.ModelVersion, "the bundled champion carries model_version")
	v, err := m.modelVersion(context.Background())
	require.NoError(t, err)
	assert.Equal(t, champion.ModelVersion, v)

	rec.Respond(daggertest.OnFile("metrics/champion.json", `{"accuracy": 0.5}`))
	_, err = m.modelVersion(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train --full")

	token := "mlflow-token-for-version"
	srv := championRegistry(t, token, 0.5)
	m = fresh(t, func(a *newArgs) { a.mlflowToken = dag.SetSecret("mlflow-token", token) })
	m.Settings = append(m.Settings, "MLFLOW_TRACKING_URI="+srv.URL)
	happy(t)
	v, err = m.modelVersion(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "12", v)
	assert.Empty(t, rec.Leaked(token))
}

// Production refuses a gate report whose model gate had no champion, even with every approval.
func TestDeployProductionRefusesAFirstModelGateReport(t *testing.T) {
	api, worker, airflow := deployImages()
	srv := gitlabWithApprovals(t, "production", "bob", "carol")
	m := fresh(t, withRelease)
	asGitLabCom(t, srv)
	m.Settings = append(m.Settings, "CI_PROJECT_ID=42")
	deployHappy(t)
	// The gate report attached in the registry is green, but its model gate ran as the first model.
	registryEvidence(t, firstModelReport(t, commitSHA))
	_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "", 777, 0, "", "push",
		nil, nil, nil, dag.SetSecret("job", jobTokenPln), 555, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused by the promotion policy")
	assert.Contains(t, err.Error(), "first model")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)
}

// A release is production's: a green gate report whose model gate ran as the first model is
// refused there too, and nothing is promoted.
func TestReleaseRefusesAFirstModelGateReport(t *testing.T) {
	_, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m := relPipeline(t, srv.URL)
	registryEvidence(t, firstModelReport(t, relCommit))
	rec.Respond(relPromoter())
	_, err := m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "release refused, nothing was promoted")
	assert.Contains(t, err.Error(), "first model")
	assert.Empty(t, relPromotions())
}

// firstModelReport is a green gate report of commit whose model gate ran as the first model.
func firstModelReport(t *testing.T, commit string) string {
	t.Helper()
	rep := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		summary := "x"
		if g.Name == gate.ModelGate {
			summary = modelgate.FirstModelSummary + ": candidate accepted on 3 quality metrics"
		}
		rep.Results = append(rep.Results, gateResult(g.Name, gate.Pass, summary))
	}
	raw, err := rep.JSON()
	require.NoError(t, err)
	return string(raw)
}
