package main

import (
	"context"
	"path"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/modelgate"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/reports"
)

// ModelGate compares the smoke run's candidate metrics with the champion's baseline
// (metrics/champion.json, or the MLflow `champion` alias when MLFLOW_TRACKING_URI is set)
// within SP_MODEL_TOLERANCES. Worse quality metrics fail it; latency regressions and data
// drift (Evidently) are reported as signals only. `gate-report` returns model-gate.json.
//
// +check
func (m *SoccerPredict) ModelGate(ctx context.Context) error {
	return enforce(ctx, m.modelGate)
}

func (m *SoccerPredict) modelGate(ctx context.Context) (outcome, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return outcome{}, err
	}
	candidate, smokeRes, err := m.smokeRun(ctx)
	if err != nil {
		return outcome{}, err
	}
	if candidate == nil {
		return outcome{Results: []gate.Result{
			gate.NewResult(gate.ModelGate, gate.Fail, "no candidate metrics: the smoke run failed", smokeRes.Summary),
			gate.NewResult(gate.PerfRegression, gate.Skipped, "not evaluated: no candidate metrics"),
		}}, nil
	}
	cand, err := candidate.Contents(ctx)
	if err != nil {
		return outcome{}, err
	}
	champion, err := m.championMetrics(ctx)
	if err != nil {
		return outcome{}, err
	}
	drift, driftErr := m.drift(ctx)
	results, doc := modelgate.Evaluate(modelgate.Inputs{
		Candidate:   []byte(cand),
		Champion:    champion,
		Tolerances:  s.ModelTolerances,
		MaxSlowdown: s.PerfBudgetPct / 100,
		Drift:       drift,
	})
	if driftErr != nil {
		results = append(results, gate.Errored(gate.Drift, driftErr))
	}
	o := outcome{Results: results}
	if doc != nil {
		o.Files = dag.Directory().WithNewFile(reports.ModelGate, string(doc))
	}
	return o, nil
}

// championMetrics returns the champion baseline: from MLflow when configured, else the
// project's metrics/champion.json (nil when neither exists: there is no champion yet).
func (m *SoccerPredict) championMetrics(ctx context.Context) ([]byte, error) {
	src := m.project()
	ok, err := src.Exists(ctx, projectpkg.ChampionMetrics)
	if err != nil || !ok {
		return nil, err
	}
	s, err := src.File(projectpkg.ChampionMetrics).Contents(ctx)
	return []byte(s), err
}

// drift runs the Evidently drift report between the reference and current datasets. It is a
// signal: when it cannot run, the model gate still decides on metrics.
func (m *SoccerPredict) drift(ctx context.Context) ([]byte, error) {
	ctr, err := m.python(ctx, projectpkg.DataRequirements)
	if err != nil {
		return nil, err
	}
	out := path.Join(reportsDir, "drift.json")
	done, code, log, err := run(ctx, ctr, projectpkg.Drift(out))
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, &toolError{tool: "drift report", code: code, log: log}
	}
	s, err := done.File(out).Contents(ctx)
	return []byte(s), err
}
