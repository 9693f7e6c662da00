package modelgate

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

const (
	candidateJSON = `{"accuracy": 0.50, "log_loss": 1.00, "latency_ms_p95": 1.0}`
	championJSON  = `{"accuracy": 0.49, "log_loss": 1.01, "latency_ms_p95": 1.0}`
	noDriftJSON   = `{"drift_share": 0.1, "dataset_drift": false}`
)

func trained(t *testing.T) Training {
	train := command(t, "SP_TRAIN_COMMAND", project.DefaultTrainCommand)
	return Training{Gate: gate.ModelGate, Command: train, Argv: train.Argv("/reports/metrics/candidate.json", "/tmp/model/model.pkl"),
		MetricsPath: "/reports/metrics/candidate.json", Output: "model -> /tmp/model/model.pkl\n", WroteMetrics: true}
}

func names(results []gate.Result) []string {
	var out []string
	for _, r := range results {
		out = append(out, r.Name)
	}
	return out
}

// The report: a project without --full. The model gate is an error naming the setting,
// and neither signal is missing: perf-regression is skipped saying why, drift is still reported.
func TestDecideWhenTheTrainingCommandIsWrong(t *testing.T) {
	run := trainingRuns(t)["argparse-unrecognized"]
	tr := trained(t)
	tr.Argv, tr.Code, tr.Output, tr.WroteMetrics = run.Argv, run.ExitCode, run.Output, false
	results, doc := Decide(Run{Training: tr, Champion: []byte(championJSON), Drift: []byte(noDriftJSON), MaxSlowdown: 0.1})
	assert.Nil(t, doc)
	require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results))
	assert.Equal(t, gate.Error, results[0].Status)
	assert.Contains(t, results[0].Summary, "SP_TRAIN_COMMAND")
	assert.Equal(t, gate.Skipped, results[1].Status)
	assert.Equal(t, "not evaluated: the candidate training produced no metrics (see model-gate)", results[1].Summary)
	assert.Equal(t, gate.Pass, results[2].Status, "drift is about the data: it is reported whatever the model gate decided")
	v := gate.Report{Results: results}.Verdict()
	assert.Equal(t, []string{gate.ModelGate}, v.Blocking)
	assert.Empty(t, v.Signals, "a signal that was not evaluated is not raised")
}

func TestDecideChampionCases(t *testing.T) {
	noFile := fmt.Errorf("%s does not exist: %w", project.ChampionMetrics, ErrNoChampion)

	results, doc := Decide(Run{Training: trained(t), Candidate: []byte(candidateJSON), ChampionErr: noFile, Drift: []byte(noDriftJSON)})
	assert.Nil(t, doc)
	require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results))
	assert.Equal(t, gate.Error, results[0].Status)
	assert.Contains(t, results[0].Summary, "metrics/champion.json does not exist: no champion to compare with: write metrics/champion.json with `python -m soccerpredict.pipeline.train --full --out metrics/champion.json --model-out {model}` (SP_TRAIN_COMMAND)")
	assert.Contains(t, results[0].Summary, "--first-model")
	assert.Equal(t, "command: python -m soccerpredict.pipeline.train --full --out /reports/metrics/candidate.json --model-out /tmp/model/model.pkl", results[0].Details[0])
	assert.Equal(t, "not evaluated: there is no champion to compare with", results[1].Summary)
	assert.Equal(t, gate.Skipped, results[1].Status)

	// The very first model, said explicitly.
	results, doc = Decide(Run{Training: trained(t), Candidate: []byte(candidateJSON), ChampionErr: noFile, FirstModel: true, MaxSlowdown: 0.1})
	require.NotNil(t, doc)
	assert.Equal(t, gate.Pass, results[0].Status, results[0].Summary)
	assert.True(t, UsedFirstModel(gate.Report{Results: results}))

	// A champion that could not be read (an MLflow outage) is an error of the gate, not a crash.
	results, _ = Decide(Run{Training: trained(t), Candidate: []byte(candidateJSON), ChampionErr: errors.New("champion baseline from MLflow: 503"), Drift: []byte(noDriftJSON)})
	require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results))
	assert.Equal(t, gate.Error, results[0].Status)
	assert.Equal(t, "champion baseline from MLflow: 503", results[0].Summary)
	assert.Equal(t, "not evaluated: the champion could not be read", results[1].Summary)
}

func TestDecideComparesAndAlwaysReportsDrift(t *testing.T) {
	results, doc := Decide(Run{Training: trained(t), Candidate: []byte(candidateJSON), Champion: []byte(championJSON), Drift: []byte(noDriftJSON), MaxSlowdown: 0.1})
	require.NotNil(t, doc)
	assert.Contains(t, string(doc), `"drift"`, "model-gate.json carries the drift report")
	require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results))
	for _, r := range results {
		assert.Equal(t, gate.Pass, r.Status, "%s: %s", r.Name, r.Summary)
	}
	assert.Equal(t, "command: python -m soccerpredict.pipeline.train --full --out /reports/metrics/candidate.json --model-out /tmp/model/model.pkl", results[0].Details[0])

	results, _ = Decide(Run{Training: trained(t), Candidate: []byte(candidateJSON), Champion: []byte(championJSON), DriftErr: errors.New("drift report exited 1: KeyError"), MaxSlowdown: 0.1})
	require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results))
	assert.Equal(t, gate.Error, results[2].Status)
	assert.Equal(t, "drift report exited 1: KeyError", results[2].Summary)

	results, _ = Decide(Run{Training: trained(t), Candidate: []byte(candidateJSON), Champion: []byte(championJSON), MaxSlowdown: 0.1})
	require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results))
	assert.Equal(t, gate.Skipped, results[2].Status)
	assert.Equal(t, "not evaluated: no drift report", results[2].Summary)
}

// Whatever happened, the model gate reports exactly its verdict and its two signals.
func TestDecideNeverLosesASignal(t *testing.T) {
	runs := trainingRuns(t)
	var trainings []Training
	for _, run := range runs {
		tr := trained(t)
		tr.Argv, tr.Code, tr.Output, tr.WroteMetrics = run.Argv, run.ExitCode, run.Output, false
		trainings = append(trainings, tr)
	}
	trainings = append(trainings, trained(t))
	for _, tr := range trainings {
		for _, cand := range []string{candidateJSON, "nope"} {
			for _, champ := range []error{nil, ErrNoChampion, errors.New("unreachable")} {
				for _, drift := range []string{"", noDriftJSON, "{"} {
					for _, first := range []bool{false, true} {
						r := Run{Training: tr, Candidate: []byte(cand), Champion: []byte(championJSON), ChampionErr: champ, Drift: []byte(drift), FirstModel: first, MaxSlowdown: 0.1}
						results, _ := Decide(r)
						require.Equal(t, []string{gate.ModelGate, gate.PerfRegression, gate.Drift}, names(results), "%+v", r)
						for _, res := range results {
							require.NoError(t, res.Validate())
							require.NotEmpty(t, res.Summary, res.Name)
						}
					}
				}
			}
		}
	}
}
