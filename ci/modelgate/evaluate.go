package modelgate

import (
	"bytes"
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Inputs are the raw files of one model-gate run.
type Inputs struct {
	// Candidate is metrics/candidate.json (required).
	Candidate []byte
	// Champion is the champion's metrics JSON; empty means there is no champion yet.
	Champion []byte
	// Tolerances is the tolerance string, e.g. "accuracy=0.01,log_loss=0.02" (may be empty).
	Tolerances string
	// MaxSlowdown is the relative latency increase tolerated (see DefaultMaxSlowdown).
	MaxSlowdown float64
	// Drift is the drift JSON; empty means no drift report (no drift result).
	Drift []byte
}

// Evaluate runs the whole model gate: it returns [model-gate, perf-regression] plus
// [drift] when a drift report was given, and the model-gate.json document. Bad input
// yields Error results (model-gate blocks, the signals do not) naming the problem, and
// a nil document.
func Evaluate(in Inputs) ([]gate.Result, []byte) {
	var results []gate.Result
	fail := func(err error) ([]gate.Result, []byte) {
		results = append(results, gate.Errored(gate.ModelGate, err), gate.Errored(gate.PerfRegression, err))
		if len(bytes.TrimSpace(in.Drift)) > 0 {
			results = append(results, DriftResult(in.Drift))
		}
		return results, nil
	}
	tol, err := ParseTolerances(in.Tolerances)
	if err != nil {
		return fail(err)
	}
	cand, err := ParseMetrics(in.Candidate)
	if err != nil {
		return fail(fmt.Errorf("candidate %w", err))
	}
	var champ Metrics
	if len(bytes.TrimSpace(in.Champion)) > 0 {
		if champ, err = ParseMetrics(in.Champion); err != nil {
			return fail(fmt.Errorf("champion %w", err))
		}
	}
	out, err := Compare(cand, champ, Config{Tolerances: tol, MaxSlowdown: in.MaxSlowdown})
	if err != nil {
		return fail(err)
	}
	model, perf := out.Results()
	results = append(results, model, perf)
	var drift *Drift
	if len(bytes.TrimSpace(in.Drift)) > 0 {
		d, err := ParseDrift(in.Drift)
		if err != nil {
			results = append(results, gate.Errored(gate.Drift, err))
		} else {
			drift = &d
			results = append(results, d.Result())
		}
	}
	doc, err := out.JSON(drift)
	if err != nil {
		results[0] = gate.Errored(gate.ModelGate, err)
		return results, nil
	}
	return results, doc
}
