package modelgate

import (
	"errors"
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Run is everything the module gathered for one model-gate run.
type Run struct {
	// Training is the candidate's training run (SP_TRAIN_COMMAND).
	Training Training
	// Candidate is the metrics JSON the training wrote; read only when the training passed.
	Candidate []byte
	// Champion is the champion's metrics JSON. ChampionErr is why there is none: wrapping
	// ErrNoChampion when there is no champion, any other error when it could not be read.
	Champion    []byte
	ChampionErr error
	// FirstModel accepts a candidate without a champion (see Inputs.FirstModel).
	FirstModel bool
	// Tolerances and MaxSlowdown are as in Inputs.
	Tolerances  string
	MaxSlowdown float64
	// Drift is the drift report; DriftErr is why there is none (the report could not run).
	Drift    []byte
	DriftErr error
}

// Decide is the model gate: its verdict and its two signals, always exactly [model-gate,
// perf-regression, drift], and the model-gate.json document (nil when nothing was compared).
//
//   - The candidate's training decides first (Training.Result): when it produced no metrics, the
//     gate is that result and perf-regression is skipped, saying why.
//   - No champion is an error naming how to write one (NoChampion), unless FirstModel; a champion
//     that could not be read is an error. perf-regression is skipped then, saying why.
//   - Otherwise Evaluate compares the candidate with the champion.
//   - Drift is about the data, not the model: it is reported whatever the model gate decided — the
//     report's verdict, an error when the report could not run, or skipped when there is none.
//
// The model-gate result always carries the command that trained the candidate.
func Decide(r Run) ([]gate.Result, []byte) {
	drift := driftSignal(r.Drift, r.DriftErr)
	train := r.Training.Result()
	if train.Status != gate.Pass {
		return []gate.Result{train, notEvaluated(gate.PerfRegression, "the candidate training produced no metrics (see model-gate)"), drift}, nil
	}
	champion := r.Champion
	switch {
	case errors.Is(r.ChampionErr, ErrNoChampion) && r.FirstModel:
		champion = nil // the first model: Evaluate accepts it and says so
	case errors.Is(r.ChampionErr, ErrNoChampion):
		return withCommand([]gate.Result{gate.Errored(gate.ModelGate, NoChampion(r.ChampionErr, r.Training.Command)),
			notEvaluated(gate.PerfRegression, "there is no champion to compare with"), drift}, train), nil
	case r.ChampionErr != nil:
		return withCommand([]gate.Result{gate.Errored(gate.ModelGate, r.ChampionErr),
			notEvaluated(gate.PerfRegression, "the champion could not be read"), drift}, train), nil
	}
	in := Inputs{
		Candidate: r.Candidate, Champion: champion, FirstModel: r.FirstModel,
		Tolerances: r.Tolerances, MaxSlowdown: r.MaxSlowdown, Train: r.Training.Command,
	}
	if r.DriftErr == nil {
		in.Drift = r.Drift // Evaluate reports it, and model-gate.json carries it
	}
	results, doc := Evaluate(in)
	if len(results) == 2 { // no drift report to evaluate
		results = append(results, drift)
	}
	return withCommand(results, train), doc
}

// driftSignal is the drift result: the report's verdict, an Error when it could not run or does
// not parse (still a signal), Skipped when there is no report.
func driftSignal(report []byte, err error) gate.Result {
	switch {
	case err != nil:
		return gate.Errored(gate.Drift, err)
	case len(report) == 0:
		return notEvaluated(gate.Drift, "no drift report")
	}
	return DriftResult(report)
}

// notEvaluated is a signal the gate could not evaluate: Skipped, saying why.
func notEvaluated(name, why string) gate.Result {
	return gate.NewResult(name, gate.Skipped, fmt.Sprintf("not evaluated: %s", why))
}

// withCommand adds the training's command line (the first detail of train) to the model-gate
// result, so the report always shows what trained the candidate.
func withCommand(results []gate.Result, train gate.Result) []gate.Result {
	if len(train.Details) == 0 {
		return results
	}
	for i := range results {
		if results[i].Name == gate.ModelGate {
			results[i].Details = append([]string{train.Details[0]}, results[i].Details...)
		}
	}
	return results
}
