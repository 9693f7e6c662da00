// Package modelgate compares a candidate model's metrics with the champion's
// (the blocking model-gate and the perf-regression signal) and reads the drift report
// (the drift signal).
package modelgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Direction says which way a metric improves.
type Direction string

const (
	// HigherBetter metrics improve as they grow (accuracy, f1, roc_auc).
	HigherBetter Direction = "higher-better"
	// LowerBetter metrics improve as they shrink (log_loss, brier, rmse, mae, latency).
	LowerBetter Direction = "lower-better"
)

// Class says which gate a metric feeds.
type Class string

const (
	// Quality metrics feed the blocking model-gate.
	Quality Class = "quality"
	// Performance metrics feed the perf-regression signal.
	Performance Class = "performance"
)

// Spec describes a known metric.
type Spec struct {
	Name      string
	Direction Direction
	Class     Class
}

var specs = []Spec{
	{"accuracy", HigherBetter, Quality},
	{"f1", HigherBetter, Quality},
	{"roc_auc", HigherBetter, Quality},
	{"log_loss", LowerBetter, Quality},
	{"brier", LowerBetter, Quality},
	{"rmse", LowerBetter, Quality},
	{"mae", LowerBetter, Quality},
	{"latency_ms_p95", LowerBetter, Performance},
}

// Specs returns every known metric in a fixed order.
func Specs() []Spec {
	out := make([]Spec, len(specs))
	copy(out, specs)
	return out
}

// MetricNames returns the known metric names in a fixed order.
func MetricNames() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// Lookup returns the spec of a known metric.
func Lookup(name string) (Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Metrics maps a metric name to its value.
type Metrics map[string]float64

// MetadataKeys are the documented keys of a metrics file that are not metrics: the training
// pipeline writes them next to the metrics (model_version is what deploy, build labels and trace
// read from metrics/champion.json). model_version is a string or a non-negative integer, the
// others non-negative integers; none is compared.
var MetadataKeys = []string{"model_version", "n_train", "n_test"}

func isMetadata(k string) bool {
	for _, m := range MetadataKeys {
		if m == k {
			return true
		}
	}
	return false
}

func checkMetadata(k string, v any) error {
	switch x := v.(type) {
	case string:
		if k == "model_version" && strings.TrimSpace(x) != "" {
			return nil
		}
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil && f >= 0 && f == math.Trunc(f) {
			return nil
		}
	}
	want := "a non-negative integer"
	if k == "model_version" {
		want = "a non-empty string or a non-negative integer"
	}
	return fmt.Errorf("metrics: %q is %v: want %s", k, v, want)
}

// ParseMetrics reads a JSON object of metric name to number, e.g.
// {"accuracy": 0.61, "log_loss": 0.93, "latency_ms_p95": 41.5}. Every value must be a
// finite number; known metrics must be non-negative. The MetadataKeys are checked and left
// out of the result.
func ParseMetrics(data []byte) (Metrics, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New(`metrics: not a JSON object: write {"accuracy": 0.61, "log_loss": 0.93, ...}`)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("metrics: not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("metrics: trailing data after the JSON object: write one object")
	}
	out := make(Metrics, len(raw))
	for k, v := range raw {
		if isMetadata(k) {
			if err := checkMetadata(k, v); err != nil {
				return nil, err
			}
			continue
		}
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("metrics: %q is %v, not a number: write every metric as a number", k, v)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("metrics: %q = %s is not a finite number", k, n)
		}
		if _, known := Lookup(k); known && f < 0 {
			return nil, fmt.Errorf("metrics: %q = %v is negative: %s cannot be below 0", k, f, k)
		}
		out[k] = f
	}
	return out, nil
}

// Tolerances maps a metric name to its absolute tolerance (how much worse than the
// champion the candidate may be). Missing metrics have tolerance 0.
type Tolerances map[string]float64

// ParseTolerances reads "accuracy=0.01,log_loss=0.02" (spaces allowed, empty string
// means none). Names must be known metrics, values finite, >= 0 and within MaxTolerance, each
// name once.
func ParseTolerances(s string) (Tolerances, error) {
	out := Tolerances{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("tolerance entry %d is empty: write name=value pairs separated by commas, e.g. accuracy=0.01,log_loss=0.02", i+1)
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("tolerance entry %q has no '=': write name=value, e.g. accuracy=0.01", part)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if _, known := Lookup(name); !known {
			return nil, fmt.Errorf("tolerance for unknown metric %q: use one of %s", name, strings.Join(MetricNames(), ", "))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("tolerance for %q given twice: give each metric once", name)
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("tolerance %s=%q is not a number: write e.g. %s=0.01", name, value, name)
		}
		if f < 0 {
			return nil, fmt.Errorf("tolerance %s=%s is negative: tolerances are how much worse the candidate may be, >= 0", name, value)
		}
		if err := checkBound(name, f); err != nil {
			return nil, err
		}
		out[name] = f
	}
	return out, nil
}

// String renders the tolerances as "name=value,…" sorted by name (ParseTolerances reads it back).
func (t Tolerances) String() string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(t[k], 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// Tolerance bounds. A tolerance absorbs the noise between two trainings of the same model on
// the same data (the defaults are 0.001 to 0.002); it is not a way to accept a worse model. The
// bounds are fixed here, in the module's code, not in a setting: a settings file that could
// raise them (accuracy=1 passes any candidate) would turn the blocking gate into a waiver.
//   - MaxQualityTolerance: 0.05 for every quality metric. accuracy, f1, roc_auc and brier live in
//     [0, 1], so 0.05 is five points, 25 times the default accuracy tolerance; log_loss, rmse and
//     mae of a match model are of the order of 1, so 0.05 is about 5%. A larger regression is a
//     decision to review, not noise.
//   - MaxPerformanceTolerance: 50 ms on top of the relative slowdown for latency_ms_p95, a
//     signal only (perf-regression never blocks).
const (
	MaxQualityTolerance     = 0.05
	MaxPerformanceTolerance = 50.0
)

// MaxTolerance is the largest tolerance metric name may have (0 for an unknown metric).
func MaxTolerance(name string) float64 {
	s, ok := Lookup(name)
	switch {
	case !ok:
		return 0
	case s.Class == Performance:
		return MaxPerformanceTolerance
	}
	return MaxQualityTolerance
}

// checkBound refuses a tolerance above its metric's bound.
func checkBound(name string, tol float64) error {
	if limit := MaxTolerance(name); tol > limit {
		return fmt.Errorf("tolerance %s=%s is above its bound %s: a tolerance absorbs the noise between two trainings of the same model, it does not accept a worse one; lower it in SP_MODEL_TOLERANCES (the bounds are fixed in ci/gate/modelgate)",
			name, strconv.FormatFloat(tol, 'g', -1, 64), strconv.FormatFloat(limit, 'g', -1, 64))
	}
	return nil
}

// TolerancesDetail starts the detail of the model-gate result that records the tolerances that
// judged it (RecordTolerances); ReportTolerances reads it back from a gate report.
const TolerancesDetail = "tolerances (SP_MODEL_TOLERANCES): "

// RecordTolerances is the model-gate detail recording t.
func RecordTolerances(t Tolerances) string {
	if len(t) == 0 {
		return TolerancesDetail + "none"
	}
	return TolerancesDetail + t.String()
}

// ReportTolerances returns the tolerances a gate report's passed model gate was judged with, and
// refuses a report whose passed model gate does not record them or records tolerances above the
// bounds. A report without a passed model gate has none to check.
func ReportTolerances(rep gate.Report) (Tolerances, error) {
	for _, r := range rep.Results {
		if r.Name != gate.ModelGate || r.Status != gate.Pass {
			continue
		}
		for _, d := range r.Details {
			raw, ok := strings.CutPrefix(d, TolerancesDetail)
			if !ok {
				continue
			}
			if raw == "none" {
				raw = ""
			}
			t, err := ParseTolerances(raw)
			if err != nil {
				return nil, fmt.Errorf("the gate report's model gate was judged with tolerances this module refuses: %w; re-run `check`", err)
			}
			return t, nil
		}
		return nil, errors.New("the gate report's model gate does not record the tolerances (SP_MODEL_TOLERANCES) that judged it: re-run `check` with this module so the report says what judged the candidate")
	}
	return Tolerances{}, nil
}
