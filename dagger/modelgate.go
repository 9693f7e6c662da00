package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/buildinfo"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/mlflow"
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
// +cache="session"
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
	champion, _, err := m.champion(ctx)
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

// champion returns the champion's metrics (JSON name → number) and model version: from the
// MLflow registry when MLFLOW_TRACKING_URI is set, else the project's metrics/champion.json
// (nil metrics when neither has one: there is no champion yet).
func (m *SoccerPredict) champion(ctx context.Context) ([]byte, string, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return nil, "", err
	}
	if s.MLflowURL != "" {
		return m.mlflowChampion(ctx, s)
	}
	src := m.project()
	ok, err := src.Exists(ctx, projectpkg.ChampionMetrics)
	if err != nil || !ok {
		return nil, "", err
	}
	doc, err := src.File(projectpkg.ChampionMetrics).Contents(ctx)
	if err != nil {
		return nil, "", err
	}
	version, _ := buildinfo.ModelVersion("", []byte(doc)) // optional: a file may carry none
	return []byte(doc), version, nil
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

// mlflowChampion reads the champion from the MLflow model registry: the version behind the
// `champion` alias and its run's metrics.
func (m *SoccerPredict) mlflowChampion(ctx context.Context, s configpkg.Settings) ([]byte, string, error) {
	client, err := m.mlflow(ctx, s, nil)
	if err != nil {
		return nil, "", err
	}
	version, metrics, err := client.ChampionMetrics(ctx, s.MLflowModel)
	if errors.Is(err, mlflow.ErrNotFound) {
		return nil, "", nil // no champion yet: the first candidate becomes the baseline
	}
	if err != nil {
		return nil, "", fmt.Errorf("champion baseline from MLflow: %w", err)
	}
	doc, err := json.Marshal(metrics)
	return doc, version, err
}

// mlflow is a client of the configured tracking server, authenticated with token (default: the
// constructor's --mlflow-token; none for a server without authentication).
func (m *SoccerPredict) mlflow(ctx context.Context, s configpkg.Settings, token *dagger.Secret) (*mlflow.Client, error) {
	if s.MLflowURL == "" {
		return nil, fmt.Errorf("MLflow is not configured: set MLFLOW_TRACKING_URI (in --settings-file) to the tracking server")
	}
	if token == nil {
		token = m.MlflowToken
	}
	bearer, err := secretText(ctx, token)
	if err != nil {
		return nil, err
	}
	return mlflow.New(s.MLflowURL, bearer)
}
