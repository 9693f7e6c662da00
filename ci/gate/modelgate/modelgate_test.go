package modelgate

import (
	"encoding/json"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

func TestSpecs(t *testing.T) {
	want := map[string]Direction{"accuracy": HigherBetter, "f1": HigherBetter, "roc_auc": HigherBetter,
		"log_loss": LowerBetter, "brier": LowerBetter, "rmse": LowerBetter, "mae": LowerBetter, "latency_ms_p95": LowerBetter}
	require.Len(t, Specs(), len(want))
	for name, dir := range want {
		s, ok := Lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, dir, s.Direction, name)
		if name == "latency_ms_p95" {
			assert.Equal(t, Performance, s.Class)
		} else {
			assert.Equal(t, Quality, s.Class)
		}
	}
	_, ok := Lookup("precision")
	assert.False(t, ok)
}

func TestParseTolerances(t *testing.T) {
	got, err := ParseTolerances(" accuracy = 0.01 ,log_loss=2e-2")
	require.NoError(t, err)
	assert.Equal(t, Tolerances{"accuracy": 0.01, "log_loss": 0.02}, got)
	assert.Equal(t, "accuracy=0.01,log_loss=0.02", got.String())
	empty, err := ParseTolerances("  ")
	require.NoError(t, err)
	assert.Empty(t, empty)

	bad := map[string]string{
		"accuracy":                    "has no '='",
		"accuracy=0.01,":              "entry 2 is empty",
		"acc=0.01":                    `unknown metric "acc": use one of accuracy, f1, roc_auc`,
		"accuracy=x":                  `accuracy="x" is not a number`,
		"accuracy=-0.1":               "is negative",
		"accuracy=NaN":                "is not a number",
		"accuracy=Inf":                "is not a number",
		"accuracy=0.01,accuracy=0.02": "given twice",
		"accuracy=0.1;log_loss=0.2":   "is not a number",
	}
	for in, want := range bad {
		_, err := ParseTolerances(in)
		require.ErrorContains(t, err, want, in)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics([]byte(`{"accuracy": 0.61, "log_loss": 0.93, "latency_ms_p95": 41.5, "n_samples": 380}`))
	require.NoError(t, err)
	assert.Equal(t, Metrics{"accuracy": 0.61, "log_loss": 0.93, "latency_ms_p95": 41.5, "n_samples": 380}, m)
	bad := map[string]string{
		``:                     "not a JSON object",
		`[1]`:                  "not a JSON object",
		`{"accuracy": "0.6"}`:  "not a number",
		`{"accuracy": null}`:   "not a number",
		`{"accuracy": -0.1}`:   "is negative",
		`{"accuracy": 1e999}`:  "not a finite number",
		`{"accuracy": 0.6} {}`: "trailing data",
		`{"accuracy": 0.6`:     "not valid JSON",
	}
	for in, want := range bad {
		_, err := ParseMetrics([]byte(in))
		require.ErrorContains(t, err, want, in)
	}
}

func TestCompareTable(t *testing.T) {
	champ := Metrics{"accuracy": 0.60, "log_loss": 0.95, "latency_ms_p95": 40}
	cases := []struct {
		name      string
		cand      Metrics
		tol       string
		model     gate.Status
		perf      gate.Status
		inSummary string
	}{
		{"equal passes with zero tolerance", Metrics{"accuracy": 0.60, "log_loss": 0.95, "latency_ms_p95": 40}, "", gate.Pass, gate.Pass, "all 2 quality metrics within tolerance"},
		{"better passes", Metrics{"accuracy": 0.65, "log_loss": 0.90, "latency_ms_p95": 30}, "", gate.Pass, gate.Pass, "within tolerance"},
		{"worse accuracy fails", Metrics{"accuracy": 0.59, "log_loss": 0.95, "latency_ms_p95": 40}, "", gate.Fail, gate.Pass, "accuracy 0.59 < 0.6 (champion 0.6 - tolerance 0)"},
		{"worse accuracy within tolerance", Metrics{"accuracy": 0.595, "log_loss": 0.95, "latency_ms_p95": 40}, "accuracy=0.01", gate.Pass, gate.Pass, "within tolerance"},
		{"worse log_loss fails", Metrics{"accuracy": 0.61, "log_loss": 0.99, "latency_ms_p95": 40}, "accuracy=0.01", gate.Fail, gate.Pass, "log_loss 0.99 > 0.95"},
		{"log_loss within tolerance", Metrics{"accuracy": 0.61, "log_loss": 0.96, "latency_ms_p95": 40}, "log_loss=0.02", gate.Pass, gate.Pass, ""},
		{"missing metric fails", Metrics{"accuracy": 0.61, "latency_ms_p95": 40}, "", gate.Fail, gate.Pass, "the champion reports 0.95 but the candidate does not"},
		{"latency 10% slower is fine", Metrics{"accuracy": 0.61, "log_loss": 0.9, "latency_ms_p95": 44}, "", gate.Pass, gate.Pass, ""},
		{"latency regression is a signal only", Metrics{"accuracy": 0.61, "log_loss": 0.9, "latency_ms_p95": 45}, "", gate.Pass, gate.Fail, ""},
		{"latency absolute tolerance on top", Metrics{"accuracy": 0.61, "log_loss": 0.9, "latency_ms_p95": 45}, "latency_ms_p95=2", gate.Pass, gate.Pass, ""},
		{"missing latency raises the signal", Metrics{"accuracy": 0.61, "log_loss": 0.9}, "", gate.Pass, gate.Fail, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tol, err := ParseTolerances(c.tol)
			require.NoError(t, err)
			out, err := Compare(c.cand, champ, Config{Tolerances: tol, MaxSlowdown: DefaultMaxSlowdown})
			require.NoError(t, err)
			model, perf := out.Results()
			assert.Equal(t, gate.ModelGate, model.Name)
			assert.Equal(t, gate.Blocking, model.Kind)
			assert.Equal(t, gate.PerfRegression, perf.Name)
			assert.Equal(t, gate.Signal, perf.Kind)
			assert.Equal(t, c.model, model.Status, model.Summary)
			assert.Equal(t, c.perf, perf.Status, perf.Summary)
			assert.Contains(t, model.Summary, c.inSummary)
			assert.Equal(t, c.model == gate.Pass, gate.Report{Results: []gate.Result{model, perf}}.Verdict().Pass,
				"only model-gate decides the verdict")
		})
	}
}

func TestNoChampionAndNoQuality(t *testing.T) {
	out, err := Compare(Metrics{"accuracy": 0.5, "f1": 0.4}, nil, DefaultConfig())
	require.NoError(t, err)
	assert.True(t, out.NoChampion)
	model, perf := out.Results()
	assert.Equal(t, gate.Pass, model.Status)
	assert.Equal(t, FirstModelSummary+": candidate accepted on 2 quality metrics", model.Summary)
	assert.Equal(t, "no latency metric reported", perf.Summary)

	out, err = Compare(Metrics{"latency_ms_p95": 3, "custom": 1}, Metrics{}, DefaultConfig())
	require.NoError(t, err)
	model, _ = out.Results()
	assert.Equal(t, gate.Fail, model.Status)
	assert.Contains(t, model.Summary, "no quality metric")
	assert.Equal(t, []string{"custom"}, out.Ignored)
	assert.Contains(t, model.Details, "not compared (unknown direction): custom")

	out, err = Compare(Metrics{"accuracy": 0.7, "rmse": 1}, Metrics{"accuracy": 0.6}, DefaultConfig())
	require.NoError(t, err)
	model, _ = out.Results()
	assert.Equal(t, gate.Pass, model.Status)
	assert.Contains(t, strings.Join(model.Details, "\n"), "rmse 1: new metric, the champion has no value")
}

func TestConfigValidate(t *testing.T) {
	_, err := Compare(Metrics{}, Metrics{}, Config{MaxSlowdown: -0.1})
	require.ErrorContains(t, err, "max slowdown")
	_, err = Compare(Metrics{}, Metrics{}, Config{Tolerances: Tolerances{"nope": 1}})
	require.ErrorContains(t, err, `unknown metric "nope"`)
	_, err = Compare(Metrics{}, Metrics{}, Config{Tolerances: Tolerances{"f1": math.NaN()}})
	require.ErrorContains(t, err, "finite")
}

// Property (monotonic): improving one candidate metric never turns a pass into a fail,
// for model-gate nor perf-regression.
func TestMonotonicProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	names := MetricNames()
	for i := 0; i < 5000; i++ {
		champ, cand := Metrics{}, Metrics{}
		tol := Tolerances{}
		for _, n := range names {
			if rng.Intn(4) > 0 {
				champ[n] = rng.Float64()
			}
			if rng.Intn(5) > 0 {
				cand[n] = rng.Float64()
			}
			if rng.Intn(3) == 0 {
				tol[n] = rng.Float64() / 20
			}
		}
		cfg := Config{Tolerances: tol, MaxSlowdown: rng.Float64() / 5}
		before, err := Compare(cand, champ, cfg)
		require.NoError(t, err)
		m0, p0 := before.Results()

		n := names[rng.Intn(len(names))]
		if _, ok := cand[n]; !ok {
			continue
		}
		s, _ := Lookup(n)
		improved := Metrics{}
		for k, v := range cand {
			improved[k] = v
		}
		step := rng.Float64() / 2
		if s.Direction == HigherBetter {
			improved[n] += step
		} else {
			improved[n] = math.Max(0, improved[n]-step)
		}
		after, err := Compare(improved, champ, cfg)
		require.NoError(t, err)
		m1, p1 := after.Results()
		if m0.Status == gate.Pass {
			require.Equal(t, gate.Pass, m1.Status, "improving %s broke model-gate: %v -> %v", n, cand, improved)
		}
		if p0.Status == gate.Pass {
			require.Equal(t, gate.Pass, p1.Status, "improving %s broke perf-regression", n)
		}
	}
}

// Property: model-gate fails iff some champion quality metric is missing from, or beaten
// beyond tolerance by, the candidate (given the candidate reports a quality metric).
func TestModelGateIffProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for i := 0; i < 3000; i++ {
		champ, cand := Metrics{}, Metrics{}
		for _, s := range Specs() {
			if rng.Intn(2) == 0 {
				champ[s.Name] = float64(rng.Intn(10)) / 10
			}
			if rng.Intn(3) > 0 {
				cand[s.Name] = float64(rng.Intn(10)) / 10
			}
		}
		out, err := Compare(cand, champ, DefaultConfig())
		require.NoError(t, err)
		model, _ := out.Results()
		want, anyQ := gate.Pass, false
		for _, s := range Specs() {
			if s.Class != Quality {
				continue
			}
			cv, hc := cand[s.Name]
			anyQ = anyQ || hc
			ch, hh := champ[s.Name]
			if !hh {
				continue
			}
			if !hc || (s.Direction == HigherBetter && cv < ch) || (s.Direction == LowerBetter && cv > ch) {
				want = gate.Fail
			}
		}
		if !anyQ {
			want = gate.Fail
		}
		require.Equal(t, want, model.Status, "cand %v champ %v: %s", cand, champ, model.Summary)
	}
}

func TestDrift(t *testing.T) {
	d, err := ParseDrift([]byte(`{"drift_share": 0.4, "dataset_drift": true, "number_of_columns": 10, "number_of_drifted_columns": 4, "drifted_columns": ["home_form", "odds_home"], "threshold": 0.3}`))
	require.NoError(t, err)
	r := d.Result()
	assert.Equal(t, gate.Drift, r.Name)
	assert.Equal(t, gate.Signal, r.Kind)
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, "drift share 0.40 (4 of 10 columns): dataset drift detected", r.Summary)
	assert.Equal(t, []string{"drifted columns: home_form, odds_home"}, r.Details)
	assert.True(t, gate.Report{Results: []gate.Result{r}}.Verdict().Pass, "drift never blocks")

	ok := DriftResult([]byte(`{"drift_share": 0.05, "dataset_drift": false}`))
	assert.Equal(t, gate.Pass, ok.Status)
	assert.Equal(t, "drift share 0.05: no dataset drift", ok.Summary)

	bad := map[string]string{
		``:                        "not a JSON object",
		`{"dataset_drift": true}`: `no "drift_share"`,
		`{"drift_share": 0.1}`:    `no "dataset_drift"`,
		`{"drift_share": 1.5, "dataset_drift": true}`:                                                          "not between 0 and 1",
		`{"drift_share": "x", "dataset_drift": true}`:                                                          "not valid drift JSON",
		`{"drift_share": 0.1, "dataset_drift": "yes"}`:                                                         "not valid drift JSON",
		`{"drift_share": 0.1, "dataset_drift": false, "number_of_columns": 2, "number_of_drifted_columns": 3}`: "inconsistent",
		`{"drift_share": 0.1, "dataset_drift": false, "number_of_columns": -1}`:                                "must be >= 0",
	}
	for in, want := range bad {
		_, err := ParseDrift([]byte(in))
		require.ErrorContains(t, err, want, in)
		r := DriftResult([]byte(in))
		assert.Equal(t, gate.Error, r.Status)
		assert.Equal(t, gate.Signal, r.Kind, "a broken drift report still never blocks")
	}
}

func TestEvaluateAndJSON(t *testing.T) {
	res, doc := Evaluate(Inputs{
		Candidate:   []byte(`{"accuracy": 0.58, "log_loss": 0.93, "latency_ms_p95": 50, "n": 3}`),
		Champion:    []byte(`{"accuracy": 0.60, "log_loss": 0.95, "latency_ms_p95": 40}`),
		Tolerances:  "accuracy=0.01",
		MaxSlowdown: 0.10,
		Drift:       []byte(`{"drift_share": 0.1, "dataset_drift": false}`),
	})
	require.Len(t, res, 3)
	assert.Equal(t, []string{"model-gate", "perf-regression", "drift"}, []string{res[0].Name, res[1].Name, res[2].Name})
	assert.Equal(t, gate.Fail, res[0].Status)
	assert.Equal(t, gate.Fail, res[1].Status)
	assert.Equal(t, gate.Pass, res[2].Status)
	require.NotNil(t, doc)

	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m))
	assert.EqualValues(t, 1, m["schemaVersion"])
	assert.Equal(t, "fail", m["modelGate"])
	assert.Equal(t, "fail", m["perfRegression"])
	assert.Equal(t, "pass", m["drift"])
	assert.Equal(t, "accuracy=0.01", m["tolerances"])
	assert.Equal(t, []any{"n"}, m["ignored"])
	metrics := m["metrics"].([]any)
	require.Len(t, metrics, 3)
	acc := metrics[0].(map[string]any)
	assert.Equal(t, "accuracy", acc["name"])
	assert.Equal(t, "higher-better", acc["direction"])
	assert.InDelta(t, 0.59, acc["limit"], 1e-12)
	assert.Equal(t, "fail", acc["status"])

	// no champion (the very first model, said explicitly), no drift
	res, doc = Evaluate(Inputs{Candidate: []byte(`{"f1": 0.5}`), MaxSlowdown: 0.1, FirstModel: true})
	require.Len(t, res, 2)
	assert.Equal(t, gate.Pass, res[0].Status)
	require.NoError(t, json.Unmarshal(doc, &m))
	assert.Nil(t, m["drift"])
	assert.Equal(t, true, m["noChampion"])
	assert.Nil(t, m["metrics"].([]any)[0].(map[string]any)["champion"])

	// bad inputs become Error results and no document
	for _, in := range []Inputs{
		{Candidate: []byte(`nope`)},
		{Candidate: []byte(`{"f1": 1}`), Champion: []byte(`[`)},
		{Candidate: []byte(`{"f1": 1}`), Tolerances: "f1"},
		{Candidate: []byte(`{"f1": 1}`), MaxSlowdown: -1},
	} {
		res, doc := Evaluate(in)
		assert.Nil(t, doc)
		require.Len(t, res, 2)
		assert.Equal(t, gate.Error, res[0].Status)
		assert.Equal(t, gate.Blocking, res[0].Kind)
		assert.Equal(t, gate.Skipped, res[1].Status, "perf-regression could not be evaluated: skipped, not raised")
		assert.Equal(t, "not evaluated: "+res[0].Summary, res[1].Summary)
	}
	res, _ = Evaluate(Inputs{Candidate: []byte(`{"f1": 1}`), Drift: []byte(`{}`), FirstModel: true})
	require.Len(t, res, 3)
	assert.Equal(t, gate.Error, res[2].Status)
	assert.Equal(t, gate.Pass, res[0].Status)
}

func FuzzParseTolerances(f *testing.F) {
	for _, s := range []string{"", "accuracy=0.01,log_loss=0.02", "f1=1e-3", "acc=", "=,=", "accuracy=0.1,accuracy=0.1", " mae = 0 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tol, err := ParseTolerances(s)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		for name, v := range tol {
			_, ok := Lookup(name)
			require.True(t, ok)
			require.GreaterOrEqual(t, v, 0.0)
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0))
		}
		// String round-trips
		back, err := ParseTolerances(tol.String())
		require.NoError(t, err)
		require.Equal(t, tol, back)
		require.NoError(t, Config{Tolerances: tol}.Validate())
	})
}

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte(`{"accuracy": 0.61, "log_loss": 0.93}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"x": -1e308}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetrics(data)
		if err != nil {
			return
		}
		out, err := Compare(m, m, DefaultConfig())
		require.NoError(t, err)
		_, perf := out.Results()
		require.Equal(t, gate.Pass, perf.Status, "a model never regresses against itself")
		for _, c := range out.Comparisons {
			require.Equal(t, gate.Pass, c.Status, c.Reason)
		}
	})
}

func FuzzParseDrift(f *testing.F) {
	f.Add([]byte(`{"drift_share": 0.4, "dataset_drift": true, "number_of_columns": 10, "number_of_drifted_columns": 4}`))
	f.Add([]byte(`{"drift_share": 0, "dataset_drift": false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDrift(data)
		r := DriftResult(data)
		require.Equal(t, gate.Signal, r.Kind)
		if err != nil {
			require.Equal(t, gate.Error, r.Status)
			return
		}
		require.True(t, d.Share >= 0 && d.Share <= 1)
		require.Equal(t, d.DatasetDrift, r.Status == gate.Fail)
	})
}
