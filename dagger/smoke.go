package main

import (
	"context"
	"fmt"
	"path"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Smoke runs the training pipeline end to end in smoke mode on the reduced dataset and keeps
// the metrics it writes (metrics/candidate.json). It proves the pipeline runs; `model-gate`
// trains the full candidate it compares with the champion.
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

// smokeRun trains in smoke mode and returns the candidate metrics (nil when training failed).
func (m *SoccerPredict) smokeRun(ctx context.Context) (*dagger.File, gate.Result, error) {
	ctr, err := m.python(ctx, testRequirements()...)
	if err != nil {
		return nil, gate.Result{}, err
	}
	metrics := path.Join(reportsDir, gate.CandidateMetrics)
	ctr = ctr.WithDirectory(path.Dir(metrics), dag.Directory())
	done, code, out, err := run(ctx, ctr, projectpkg.Smoke(metrics, "/tmp/model/model.pkl"))
	if err != nil {
		return nil, gate.Result{}, err
	}
	if code != 0 {
		return nil, gate.ClassifyRun(gate.NewResult(gate.Smoke, gate.Fail, fmt.Sprintf("smoke training exited %d", code), gate.Tail(out, 20)...), code, out), nil
	}
	exists, err := done.Exists(ctx, metrics)
	if err != nil {
		return nil, gate.Result{}, err
	}
	if !exists {
		return nil, gate.NewResult(gate.Smoke, gate.Fail, "smoke training succeeded but wrote no "+gate.CandidateMetrics+": the pipeline must write its metrics there"), nil
	}
	return done.File(metrics), gate.NewResult(gate.Smoke, gate.Pass, "smoke training completed: "+gate.Last(out)), nil
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
