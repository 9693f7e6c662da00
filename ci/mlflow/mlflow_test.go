package mlflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "mlflow-SECRET-token"

// fakeMLflow speaks the four documented endpoints with MLflow's JSON shapes and error bodies.
type fakeMLflow struct {
	mu       sync.Mutex
	versions map[string]map[string]map[string]any // model → version → model_version object
	aliases  map[string]map[string]string         // model → alias → version
	tags     map[string]map[string]string         // model → tag → value
	runs     map[string]string                    // run id → raw metrics JSON array
	calls    []string
	auth     []string
	// aliasMiss is how the server answers an unset alias: "sql" (400 INVALID_PARAMETER_VALUE) or "404".
	aliasMiss string
}

func newFake() *fakeMLflow {
	mv := func(name, version, run, status string) map[string]any {
		return map[string]any{
			"name": name, "version": version, "creation_timestamp": 1714550400000, "last_updated_timestamp": "1714550500000",
			"user_id": "", "current_stage": "None", "description": "", "source": "mlflow-artifacts:/1/" + run + "/artifacts/model",
			"run_id": run, "status": status, "tags": []any{}, "aliases": []any{},
		}
	}
	return &fakeMLflow{
		versions: map[string]map[string]map[string]any{
			"soccer-predict": {
				"3": mv("soccer-predict", "3", "run3", "READY"),
				"4": mv("soccer-predict", "4", "run4", "READY"),
				"5": mv("soccer-predict", "5", "run5", "FAILED_REGISTRATION"),
			},
			"fresh-model": {"1": mv("fresh-model", "1", "", "READY")},
		},
		aliases: map[string]map[string]string{"soccer-predict": {"champion": "4"}},
		runs: map[string]string{
			"run4": `[{"key":"log_loss","value":0.95,"timestamp":1714550400000,"step":0},{"key":"accuracy","value":0.52,"timestamp":1714550400000,"step":3},{"key":"brier","value":"NaN","timestamp":1,"step":0}]`,
			"run3": `[{"key":"log_loss","value":1.01,"timestamp":1714550400000,"step":0}]`,
		},
		aliasMiss: "sql",
	}
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "message": msg})
}

func (f *fakeMLflow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if a := r.Header.Get("Authorization"); a != "Bearer "+testToken {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "pw-SECRET" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "You are not authenticated. Please see the documentation. (got %s)", a)
			return
		}
	}
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/2.0/mlflow/registered-models/alias":
		name, alias := q.Get("name"), q.Get("alias")
		v, ok := f.aliases[name][alias]
		if !ok {
			if f.aliasMiss == "404" {
				writeErr(w, 404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name="+name+" not found")
			} else {
				writeErr(w, 400, "INVALID_PARAMETER_VALUE", "Registered model alias "+alias+" not found.")
			}
			return
		}
		out := map[string]any{}
		for k, val := range f.versions[name][v] {
			out[k] = val
		}
		out["aliases"] = []string{alias}
		_ = json.NewEncoder(w).Encode(map[string]any{"model_version": out})
	case r.Method == http.MethodGet && r.URL.Path == "/api/2.0/mlflow/model-versions/get":
		mv, ok := f.versions[q.Get("name")][q.Get("version")]
		if !ok {
			writeErr(w, 404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Model Version (name=%s, version=%s) not found", q.Get("name"), q.Get("version")))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"model_version": mv})
	case r.Method == http.MethodGet && r.URL.Path == "/api/2.0/mlflow/runs/get":
		metrics, ok := f.runs[q.Get("run_id")]
		if !ok {
			writeErr(w, 404, "RESOURCE_DOES_NOT_EXIST", "Run '"+q.Get("run_id")+"' not found")
			return
		}
		fmt.Fprintf(w, `{"run":{"info":{"run_id":%q,"status":"FINISHED"},"data":{"metrics":%s,"params":[],"tags":[]},"inputs":{}}}`, q.Get("run_id"), metrics)
	case r.Method == http.MethodPost && r.URL.Path == "/api/2.0/mlflow/registered-models/alias":
		if r.Header.Get("Content-Type") != "application/json" {
			writeErr(w, 400, "BAD_REQUEST", "expected JSON")
			return
		}
		b, _ := io.ReadAll(r.Body)
		var body struct{ Name, Alias, Version string }
		if err := json.Unmarshal(b, &body); err != nil || body.Name == "" || body.Alias == "" || body.Version == "" {
			writeErr(w, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter")
			return
		}
		if _, ok := f.versions[body.Name][body.Version]; !ok {
			writeErr(w, 404, "RESOURCE_DOES_NOT_EXIST", "Model Version not found")
			return
		}
		if f.aliases[body.Name] == nil {
			f.aliases[body.Name] = map[string]string{}
		}
		f.aliases[body.Name][body.Alias] = body.Version
		fmt.Fprint(w, `{}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/2.0/mlflow/registered-models/set-tag":
		b, _ := io.ReadAll(r.Body)
		var body struct{ Name, Key, Value string }
		if err := json.Unmarshal(b, &body); err != nil || body.Name == "" || body.Key == "" {
			writeErr(w, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter")
			return
		}
		if _, ok := f.versions[body.Name]; !ok {
			writeErr(w, 404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name="+body.Name+" not found")
			return
		}
		if f.tags == nil {
			f.tags = map[string]map[string]string{}
		}
		if f.tags[body.Name] == nil {
			f.tags[body.Name] = map[string]string{}
		}
		f.tags[body.Name][body.Key] = body.Value
		fmt.Fprint(w, `{}`)
	default:
		writeErr(w, 404, "ENDPOINT_NOT_FOUND", "no such endpoint")
	}
}

func setup(t *testing.T, opts ...Option) (*Client, *fakeMLflow) {
	t.Helper()
	f := newFake()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", testToken, append([]Option{WithHTTPClient(srv.Client())}, opts...)...)
	require.NoError(t, err)
	return c, f
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "mlflow:5000", "ftp://x", "http://u:p@x", "http://x?token=1"} {
		_, err := New(bad, "")
		assert.Error(t, err, bad)
	}
	_, err := New("http://x", "a\nb")
	assert.Error(t, err)
	c, err := New("https://example.com/mlflow/", "")
	require.NoError(t, err)
	assert.Equal(t, "/mlflow", c.base.Path)
}

func TestChampionMetrics(t *testing.T) {
	c, f := setup(t)
	version, metrics, err := c.ChampionMetrics(context.Background(), "soccer-predict")
	require.NoError(t, err)
	assert.Equal(t, "4", version)
	assert.Equal(t, 0.95, metrics["log_loss"])
	assert.Equal(t, 0.52, metrics["accuracy"])
	assert.True(t, math.IsNaN(metrics["brier"]))
	assert.Equal(t, []string{
		"GET /api/2.0/mlflow/registered-models/alias?alias=champion&name=soccer-predict",
		"GET /api/2.0/mlflow/runs/get?run_id=run4",
	}, f.calls)
	for _, a := range f.auth {
		assert.Equal(t, "Bearer "+testToken, a)
	}
}

func TestGetModelVersion(t *testing.T) {
	c, _ := setup(t)
	mv, err := c.GetModelVersion(context.Background(), "soccer-predict", "3")
	require.NoError(t, err)
	assert.Equal(t, &ModelVersion{
		Name: "soccer-predict", Version: "3", RunID: "run3", Source: "mlflow-artifacts:/1/run3/artifacts/model",
		Status: "READY", CurrentStage: "None", Aliases: []string{}, CreationTimestamp: 1714550400000, LastUpdatedTimestamp: 1714550500000,
	}, mv)

	_, err = c.GetModelVersion(context.Background(), "soccer-predict", "9")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNotFound))
	assert.Contains(t, err.Error(), "RESOURCE_DOES_NOT_EXIST")
	assert.Contains(t, err.Error(), "has no version 9")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)

	for _, bad := range []string{"", "0", "-1", "v3", "03", "champion"} {
		_, err := c.GetModelVersion(context.Background(), "soccer-predict", bad)
		assert.ErrorContains(t, err, "not a positive integer", bad)
	}
	_, err = c.GetModelVersion(context.Background(), "", "3")
	assert.ErrorContains(t, err, "model name")
}

func TestMissingAlias(t *testing.T) {
	for _, style := range []string{"sql", "404"} {
		t.Run(style, func(t *testing.T) {
			c, f := setup(t)
			f.aliasMiss = style
			_, _, err := c.ChampionMetrics(context.Background(), "fresh-model")
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrNotFound), err.Error())
			assert.Contains(t, err.Error(), `registered model "fresh-model" has no alias "champion"`)
		})
	}
}

func TestRunErrors(t *testing.T) {
	c, f := setup(t)
	f.aliases["soccer-predict"]["champion"] = "3"
	delete(f.runs, "run3")
	_, _, err := c.ChampionMetrics(context.Background(), "soccer-predict")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNotFound))
	assert.Contains(t, err.Error(), "run run3 does not exist")

	f.aliases["fresh-model"] = map[string]string{"champion": "1"}
	_, _, err = c.ChampionMetrics(context.Background(), "fresh-model")
	assert.ErrorContains(t, err, "no run id")
}

func TestUnauthorized(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(srv.URL, "wrong-SECRET")
	require.NoError(t, err)
	_, _, err = c.ChampionMetrics(context.Background(), "soccer-predict")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnauthorized))
	assert.Contains(t, err.Error(), "401")
	assert.Contains(t, err.Error(), "refused the credentials")
	assert.NotContains(t, err.Error(), "SECRET")
}

func TestSetAlias(t *testing.T) {
	c, f := setup(t)
	require.NoError(t, c.SetAlias(context.Background(), "soccer-predict", "champion", "3"))
	assert.Equal(t, "3", f.aliases["soccer-predict"]["champion"])
	assert.Equal(t, "POST /api/2.0/mlflow/registered-models/alias?", f.calls[0])

	err := c.SetAlias(context.Background(), "soccer-predict", "champion", "8")
	assert.True(t, errors.Is(err, ErrNotFound))
	assert.Error(t, c.SetAlias(context.Background(), "soccer-predict", "", "3"))
	assert.Error(t, c.SetAlias(context.Background(), "soccer-predict", "champion", "x"))
	assert.Equal(t, "3", f.aliases["soccer-predict"]["champion"], "a refused call changes nothing")
}

func TestSetChampion(t *testing.T) {
	c, f := setup(t)
	prev, err := c.SetChampion(context.Background(), "soccer-predict", "3")
	require.NoError(t, err)
	assert.Equal(t, "4", prev)
	assert.Equal(t, "3", f.aliases["soccer-predict"]["champion"])

	// The target is verified before anything moves.
	f.calls = nil
	_, err = c.SetChampion(context.Background(), "soccer-predict", "7")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNotFound))
	assert.Equal(t, "3", f.aliases["soccer-predict"]["champion"])
	for _, call := range f.calls {
		assert.NotContains(t, call, "POST")
	}

	_, err = c.SetChampion(context.Background(), "soccer-predict", "5")
	assert.ErrorContains(t, err, "FAILED_REGISTRATION")
	assert.Equal(t, "3", f.aliases["soccer-predict"]["champion"])

	prev, err = c.SetChampion(context.Background(), "fresh-model", "1")
	require.NoError(t, err)
	assert.Equal(t, "", prev, "no champion before")
}

func TestNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>proxy login</html>") }))
	defer srv.Close()
	c, err := New(srv.URL, testToken)
	require.NoError(t, err)
	_, err = c.GetModelVersion(context.Background(), "m", "1")
	assert.ErrorContains(t, err, "not the expected JSON")
}

func TestFlexDecoding(t *testing.T) {
	var i flexInt64
	require.NoError(t, json.Unmarshal([]byte(`"123"`), &i))
	assert.Equal(t, flexInt64(123), i)
	require.NoError(t, json.Unmarshal([]byte(`456`), &i))
	assert.Equal(t, flexInt64(456), i)
	assert.Error(t, json.Unmarshal([]byte(`"x"`), &i))

	var fl flexFloat
	require.NoError(t, json.Unmarshal([]byte(`"Infinity"`), &fl))
	assert.True(t, math.IsInf(float64(fl), 1))
	require.NoError(t, json.Unmarshal([]byte(`"0.5"`), &fl))
	assert.Equal(t, flexFloat(0.5), fl)
	assert.Error(t, json.Unmarshal([]byte(`"high"`), &fl))
}

func FuzzAPIError(f *testing.F) {
	f.Add(400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"Registered model alias champion not found."}`)
	f.Add(404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"x"}`)
	f.Add(500, `not json`)
	f.Add(401, `{"error_code":"UNAUTHENTICATED","message":"bad token tok-SECRET"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		c := &Client{token: "tok-SECRET"}
		err := c.apiError("GET /x", status, []byte(body), "hint")
		if err == nil || err.Error() == "" {
			t.Fatal("no error")
		}
		var e *APIError
		if !errors.As(err, &e) {
			t.Fatal("not an APIError")
		}
		if strings.Contains(err.Error(), "tok-SECRET") {
			t.Fatalf("token leaked: %v", err)
		}
		if len(e.Message) > 304 {
			t.Fatalf("message not truncated: %d", len(e.Message))
		}
	})
}

func TestSetModelTag(t *testing.T) {
	c, f := setup(t)
	require.NoError(t, c.SetModelTag(context.Background(), "soccer-predict", "k", "{\"a\": 1}"))
	assert.Equal(t, "{\"a\": 1}", f.tags["soccer-predict"]["k"])
	assert.Equal(t, "POST /api/2.0/mlflow/registered-models/set-tag?", f.calls[0])
	assert.True(t, errors.Is(c.SetModelTag(context.Background(), "nope", "k", "v"), ErrNotFound))
	assert.Error(t, c.SetModelTag(context.Background(), "soccer-predict", " ", "v"))
}
