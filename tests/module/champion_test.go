//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// championRegistry speaks the two MLflow REST endpoints the model gate reads.
func championRegistry(t *testing.T, token string, accuracy float64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error_code": "UNAUTHENTICATED", "message": "bad token"})
			return
		}
		switch r.URL.Path {
		case "/api/2.0/mlflow/registered-models/alias":
			assert.Equal(t, "soccer-predict", r.URL.Query().Get("name"))
			assert.Equal(t, "champion", r.URL.Query().Get("alias"))
			_ = json.NewEncoder(w).Encode(map[string]any{"model_version": map[string]any{
				"name": "soccer-predict", "version": "12", "run_id": "run-12", "current_stage": "None", "status": "READY",
			}})
		case "/api/2.0/mlflow/runs/get":
			assert.Equal(t, "run-12", r.URL.Query().Get("run_id"))
			_ = json.NewEncoder(w).Encode(map[string]any{"run": map[string]any{
				"info": map[string]any{"run_id": "run-12"},
				"data": map[string]any{"metrics": []map[string]any{
					{"key": "accuracy", "value": accuracy, "timestamp": 1, "step": 0},
					{"key": "log_loss", "value": 1.2, "timestamp": 1, "step": 0},
				}},
			}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestModelGateTakesTheChampionFromMLflow(t *testing.T) {
	token := "mlflow-token-plaintext-42"
	srv := championRegistry(t, token, 0.99)
	m := fresh(t, func(a *newArgs) { a.mlflowToken = dag.SetSecret("mlflow-token", token) })
	m.Settings = append(m.Settings, "MLFLOW_TRACKING_URI="+srv.URL)
	happy(t)

	o, err := m.modelGate(context.Background())
	require.NoError(t, err)
	res := results(o)[gate.ModelGate]
	assert.Equal(t, gate.Fail, res.Status, "the candidate (~0.48) is worse than MLflow's champion (0.99)")
	assert.Contains(t, res.Summary+fmtDetails(res), "accuracy")
	assert.Empty(t, rec.Leaked(token))

	// A better candidate passes against the same champion.
	rec.Respond(daggertest.OnFile("metrics/candidate.json", `{"accuracy": 0.995, "log_loss": 1.0, "brier": 0.5, "latency_ms_p95": 1}`))
	require.NoError(t, m.ModelGate(context.Background(), false))
}

func TestModelGateNamesMLflowAuthFailures(t *testing.T) {
	srv := championRegistry(t, "right-token", 0.5)
	m := fresh(t, func(a *newArgs) { a.mlflowToken = dag.SetSecret("mlflow-token", "wrong-token") })
	m.Settings = append(m.Settings, "MLFLOW_TRACKING_URI="+srv.URL)
	happy(t)
	err := m.ModelGate(context.Background(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "champion baseline from MLflow")
	assert.NotContains(t, err.Error(), "wrong-token")
}

func fmtDetails(r gate.Result) string {
	b, _ := json.Marshal(r.Details)
	return string(b)
}
