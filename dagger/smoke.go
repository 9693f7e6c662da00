package main

import (
	"context"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Smoke runs the project's smoke training command (SP_SMOKE_COMMAND; default: the sample's
// `python -m soccerpredict.pipeline.train --smoke --out {metrics} --model-out {model}`) end to end
// on the reduced dataset and keeps the metrics it writes (metrics/candidate.json). It proves the
// pipeline runs; `model-gate` trains the full candidate it compares with the champion. A command
// the project does not accept is an error naming SP_SMOKE_COMMAND, never a fail; the report shows
// the exact command.
//
// +check
func (m *SoccerPredict) Smoke(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.smoke)
}

// SmokeMetrics runs the smoke training and returns the candidate metrics file.
func (m *SoccerPredict) SmokeMetrics(ctx context.Context) (_ *dagger.File, err error) {
	defer surface(&err)
	f, res, err := m.smokeRun(ctx)
	if err != nil {
		return nil, err
	}
	if res.Blocks() {
		return nil, verdictError([]gate.Result{res})
	}
	return f, nil
}

// smokeRun trains with SP_SMOKE_COMMAND and returns the candidate metrics (nil when training
// produced none) and the smoke gate's result.
func (m *SoccerPredict) smokeRun(ctx context.Context) (*dagger.File, gate.Result, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return nil, gate.Result{}, err
	}
	cmd, err := s.SmokeCommand()
	if err != nil {
		return nil, gate.Result{}, err
	}
	done, training, err := m.train(ctx, gate.Smoke, cmd)
	if err != nil {
		return nil, gate.Result{}, err
	}
	if !training.Produced() {
		return nil, training.Result(), nil
	}
	return done.File(training.MetricsPath), training.Result(), nil
}

func (m *SoccerPredict) smoke(ctx context.Context) (outcome, error) {
	f, res, err := m.smokeRun(ctx)
	if err != nil {
		return outcome{}, err
	}
	o := single(res)
	if f != nil {
		o = o.withFiles(dag.Directory().WithFile(gate.CandidateMetrics, f))
	}
	return o, nil
}
