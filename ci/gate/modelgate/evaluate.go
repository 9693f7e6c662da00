package modelgate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Inputs are the raw files of one model-gate run.
type Inputs struct {
	// Candidate is metrics/candidate.json (required).
	Candidate []byte
	// Champion is the champion's metrics JSON; empty means there is no champion. That is an
	// error of the gate unless FirstModel says this is the very first model.
	Champion []byte
	// FirstModel accepts a candidate without a champion (SP_FIRST_MODEL, `--first-model`).
	// With a champion present it is an error: the flag never weakens a real comparison.
	FirstModel bool
	// Tolerances is the tolerance string, e.g. "accuracy=0.01,log_loss=0.02" (may be empty).
	Tolerances string
	// MaxSlowdown is the relative latency increase tolerated (see DefaultMaxSlowdown).
	MaxSlowdown float64
	// Drift is the drift JSON; empty means no drift report (no drift result).
	Drift []byte
	// Train is the project's training command (SP_TRAIN_COMMAND), named in the fix when there
	// is no champion: it is how metrics/champion.json is written.
	Train project.Command
}

// Evaluate compares a candidate's metrics with the champion's: it returns [model-gate,
// perf-regression] plus [drift] when a drift report was given, and the model-gate.json
// document. Bad input is an Error of the model gate naming the problem, perf-regression is
// skipped (not evaluated) with the same reason, and the document is nil.
func Evaluate(in Inputs) ([]gate.Result, []byte) {
	var results []gate.Result
	fail := func(err error) ([]gate.Result, []byte) {
		results = append(results, gate.Errored(gate.ModelGate, err), notEvaluated(gate.PerfRegression, err.Error()))
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
	switch {
	case !hasQuality(champ) && !in.FirstModel:
		return fail(NoChampion(fmt.Errorf("the champion's metrics have no quality metric: %w", ErrNoChampion), in.Train))
	case !hasQuality(champ):
		champ = nil // the first model: nothing to compare with
	case in.FirstModel:
		return fail(errors.New("first model requested (SP_FIRST_MODEL / --first-model) but a champion exists: drop it, the candidate is compared with the champion"))
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

// ErrNoChampion is the model gate's error when there is no champion to compare with.
var ErrNoChampion = errors.New("no champion to compare with")

// NoChampion is the model gate's error for cause (which wraps ErrNoChampion): it says how to
// provide a champion, naming train — the project's training command (SP_TRAIN_COMMAND), which
// writes metrics/champion.json.
func NoChampion(cause error, train project.Command) error {
	setting := orDefault(train.Setting, "SP_TRAIN_COMMAND")
	write := fmt.Sprintf("write %s with the project's training command (%s, with %s = %s)", project.ChampionMetrics, setting, project.MetricsPlaceholder, project.ChampionMetrics)
	if c := train.Rendered(project.ChampionMetrics); c != "" {
		write = fmt.Sprintf("write %s with `%s` (%s)", project.ChampionMetrics, c, setting)
	}
	return fmt.Errorf("%w: %s, set the MLflow `champion` alias, "+
		"or, for the very first model only, set SP_FIRST_MODEL=true (`model-gate --first-model`); production refuses a first model", cause, write)
}

// FirstModelSummary starts the model-gate summary of a candidate accepted as the first model.
const FirstModelSummary = "first model (SP_FIRST_MODEL): no champion to compare with"

// UsedFirstModel reports whether a gate report's model gate accepted its candidate as the first
// model, without a champion. Production refuses such a report (ci/deploy/policy).
func UsedFirstModel(rep gate.Report) bool {
	for _, r := range rep.Results {
		if r.Name == gate.ModelGate && strings.HasPrefix(r.Summary, FirstModelSummary) {
			return true
		}
	}
	return false
}

// hasQuality reports whether m has a known quality metric: a champion without one is no champion.
func hasQuality(m Metrics) bool {
	for name := range m {
		if s, ok := Lookup(name); ok && s.Class == Quality {
			return true
		}
	}
	return false
}
