package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/mlflow"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// ModelGate trains the candidate with the project's full pipeline (`train --full`: params.yaml on
// the full dataset, as metrics/champion.json was written) and compares its metrics with the
// champion's (metrics/champion.json, or the MLflow `champion` alias when MLFLOW_TRACKING_URI is
// set) within SP_MODEL_TOLERANCES. Worse quality metrics fail it; no champion is an error unless
// this is the very first model (--first-model or SP_FIRST_MODEL=true; production refuses it).
// Latency regressions and data drift (Evidently) are signals only. It reads MLflow, so its
// result is never reused from another session.
//
// +check
// +cache="session"
func (m *SoccerPredict) ModelGate(
	ctx context.Context,
	// Accept the candidate without a champion: only for the very first model (production refuses it).
	// +optional
	firstModel bool,
) (err error) {
	defer surface(&err)
	return enforce(ctx, func(ctx context.Context) (outcome, error) { return m.modelGateWith(ctx, firstModel) })
}

func (m *SoccerPredict) modelGate(ctx context.Context) (outcome, error) {
	return m.modelGateWith(ctx, false)
}

func (m *SoccerPredict) modelGateWith(ctx context.Context, firstModel bool) (outcome, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return outcome{}, err
	}
	firstModel = firstModel || s.FirstModel
	candidate, trainRes, err := m.candidateRun(ctx)
	if err != nil {
		return outcome{}, err
	}
	if candidate == nil {
		return outcome{Results: []gate.Result{
			gate.NewResult(gate.ModelGate, trainRes.Status, "no candidate metrics: "+trainRes.Summary, trainRes.Details...),
			gate.NewResult(gate.PerfRegression, gate.Skipped, "not evaluated: no candidate metrics"),
		}}, nil
	}
	cand, err := candidate.Contents(ctx)
	if err != nil {
		return outcome{}, err
	}
	champion, _, err := m.champion(ctx)
	switch {
	case errors.Is(err, modelgate.ErrNoChampion) && firstModel:
		champion = nil // the first model: Evaluate accepts it and says so
	case errors.Is(err, modelgate.ErrNoChampion):
		return outcome{Results: []gate.Result{
			gate.Errored(gate.ModelGate, err),
			gate.NewResult(gate.PerfRegression, gate.Skipped, "not evaluated: no champion"),
		}}, nil
	case err != nil:
		return outcome{}, err
	}
	drift, driftErr := m.drift(ctx)
	results, doc := modelgate.Evaluate(modelgate.Inputs{
		Candidate:   []byte(cand),
		Champion:    champion,
		FirstModel:  firstModel,
		Tolerances:  s.ModelTolerances,
		MaxSlowdown: s.PerfBudgetPct / 100,
		Drift:       drift,
	})
	if driftErr != nil {
		results = append(results, gate.Errored(gate.Drift, driftErr))
	}
	o := outcome{Results: results}
	files := dag.Directory().WithFile(gate.CandidateMetrics, candidate)
	if doc != nil {
		files = files.WithNewFile(gate.ModelGateJSON, string(doc))
	}
	o.Files = files
	return o, nil
}

// candidateRun trains the model gate's candidate with the full pipeline and returns its metrics
// (nil when training failed or could not run; the result says which).
func (m *SoccerPredict) candidateRun(ctx context.Context) (*dagger.File, gate.Result, error) {
	ctr, err := m.python(ctx, testRequirements()...)
	if err != nil {
		return nil, gate.Result{}, err
	}
	metrics := path.Join(reportsDir, gate.CandidateMetrics)
	ctr = ctr.WithDirectory(path.Dir(metrics), dag.Directory())
	done, code, out, err := run(ctx, ctr, projectpkg.FullTrain(metrics, "/tmp/model/model.pkl"))
	if err != nil {
		return nil, gate.Result{}, err
	}
	if code != 0 {
		r := gate.NewResult(gate.ModelGate, gate.Fail, fmt.Sprintf("candidate training (train --full) exited %d", code), gate.Tail(out, 20)...)
		return nil, gate.ClassifyRun(r, code, out), nil
	}
	exists, err := done.Exists(ctx, metrics)
	if err != nil {
		return nil, gate.Result{}, err
	}
	if !exists {
		return nil, gate.NewResult(gate.ModelGate, gate.Fail, "candidate training succeeded but wrote no "+gate.CandidateMetrics+": the pipeline must write its metrics there"), nil
	}
	return done.File(metrics), gate.NewResult(gate.ModelGate, gate.Pass, "candidate trained: "+gate.Last(out)), nil
}

// champion returns the champion's metrics file and model version: from the MLflow registry when
// MLFLOW_TRACKING_URI is set, else the project's metrics/champion.json. No champion (no file, a
// file without a quality metric, no `champion` alias) is an error wrapping modelgate.ErrNoChampion;
// every other MLflow error is an error too.
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
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("%s does not exist: %w", projectpkg.ChampionMetrics, modelgate.ErrNoChampion)
	}
	doc, err := src.File(projectpkg.ChampionMetrics).Contents(ctx)
	if err != nil {
		return nil, "", err
	}
	version, _ := trace.ModelVersion("", []byte(doc)) // modelVersion insists on it; the gate does not
	return []byte(doc), version, nil
}

// modelVersion is the model version deploy, build labels and trace record, from one source:
// the version behind MLflow's `champion` alias when MLFLOW_TRACKING_URI is set, otherwise the
// `model_version` of the committed metrics/champion.json (written by `train --full`).
func (m *SoccerPredict) modelVersion(ctx context.Context) (string, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	doc, version, err := m.champion(ctx)
	if err != nil {
		return "", fmt.Errorf("model version: %w", err)
	}
	if s.MLflowURL != "" {
		return version, nil
	}
	v, err := trace.ModelVersion("", doc)
	if err != nil {
		return "", fmt.Errorf("model version from %s: %w (write it with `python -m soccerpredict.pipeline.train --full --out %s`, or pass --model-version)", projectpkg.ChampionMetrics, err, projectpkg.ChampionMetrics)
	}
	return v, nil
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
		return nil, "", fmt.Errorf("MLflow model %q has no %q alias (%v): %w", s.MLflowModel, mlflow.ChampionAlias, err, modelgate.ErrNoChampion)
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

// gateReportFirstModel reports whether the gate report's model gate accepted its candidate as the
// first model, without a champion (production refuses that: ci/deploy/policy).
func (m *SoccerPredict) gateReportFirstModel(ctx context.Context, f *dagger.File) (bool, error) {
	if f == nil {
		return false, nil
	}
	raw, err := f.Contents(ctx)
	if err != nil {
		return false, err
	}
	rep, err := gate.ParseReport([]byte(raw))
	if err != nil {
		return false, fmt.Errorf("--gate-report: %w", err)
	}
	return modelgate.UsedFirstModel(rep), nil
}
