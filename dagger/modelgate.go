package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/mlflow"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// ModelGate trains the candidate with the project's training command on its full data
// (SP_TRAIN_COMMAND; default: the sample's `python -m soccerpredict.pipeline.train --full --out
// {metrics} --model-out {model}`, the run that wrote metrics/champion.json) and compares its
// metrics with the champion's (metrics/champion.json, or the MLflow `champion` alias when
// MLFLOW_TRACKING_URI is set) within SP_MODEL_TOLERANCES. Worse quality metrics fail it. A
// training command the project does not accept (unknown flag, no such module or script) is an
// error naming SP_TRAIN_COMMAND, never a fail; so is no champion, unless this is the very first
// model (--first-model or SP_FIRST_MODEL=true; production refuses it). The report shows the exact
// command. Latency regressions and data drift (Evidently) are signals only, always reported:
// skipped, with the reason, when they could not be evaluated. It reads MLflow, so its result is
// never reused from another session.
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

// modelGateWith gathers what the model gate decides on — the candidate's training run, the
// champion, the drift report — and hands it to modelgate.Decide.
func (m *SoccerPredict) modelGateWith(ctx context.Context, firstModel bool) (outcome, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return outcome{}, err
	}
	train, err := s.TrainCommand()
	if err != nil {
		return outcome{}, err
	}
	done, training, err := m.train(ctx, gate.ModelGate, train)
	if err != nil {
		return outcome{}, err
	}
	run := modelgate.Run{
		Training:    training,
		FirstModel:  firstModel || s.FirstModel,
		Tolerances:  s.ModelTolerances,
		MaxSlowdown: s.PerfBudgetPct / 100,
	}
	files := dag.Directory()
	if training.Produced() {
		candidate := done.File(training.MetricsPath)
		cand, err := candidate.Contents(ctx)
		if err != nil {
			return outcome{}, err
		}
		run.Candidate = []byte(cand)
		files = files.WithFile(gate.CandidateMetrics, candidate)
		run.Champion, _, run.ChampionErr = m.champion(ctx)
	}
	run.Drift, run.DriftErr = m.drift(ctx)
	results, doc := modelgate.Decide(run)
	if doc != nil {
		files = files.WithNewFile(gate.ModelGateJSON, string(doc))
	}
	return outcome{Results: results, Files: files}, nil
}

// modelOut is where a training run saves its model ({model}): the gates keep only the metrics.
const modelOut = "/tmp/model/model.pkl"

// train runs one of the project's training commands (SP_TRAIN_COMMAND, SP_SMOKE_COMMAND) with
// {metrics} at the reports' metrics/candidate.json, exactly as configured and without a shell,
// and returns the container it ran in with what it observed, for modelgate.Training to judge.
// A command the engine could not start at all is observed (StartErr), not an error.
func (m *SoccerPredict) train(ctx context.Context, gateName string, cmd projectpkg.Command) (*dagger.Container, modelgate.Training, error) {
	ctr, err := m.python(ctx, testRequirements()...)
	if err != nil {
		return nil, modelgate.Training{}, err
	}
	metrics := path.Join(reportsDir, gate.CandidateMetrics)
	t := modelgate.Training{Gate: gateName, Command: cmd, Argv: cmd.Argv(metrics, modelOut), MetricsPath: metrics}
	ctr = ctr.WithDirectory(path.Dir(metrics), dag.Directory())
	done, code, out, err := run(ctx, ctr, t.Argv)
	var tool *ToolError
	if errors.As(err, &tool) && slices.Equal(tool.Exec().Cmd, t.Argv) {
		t.StartErr = err
		return nil, t, nil
	}
	if err != nil {
		return nil, modelgate.Training{}, err
	}
	t.Code, t.Output = code, out
	if code == 0 {
		if t.WroteMetrics, err = done.Exists(ctx, metrics); err != nil {
			return nil, modelgate.Training{}, err
		}
	}
	return done, t, nil
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
// `model_version` of the committed metrics/champion.json (written by SP_TRAIN_COMMAND).
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
		train, _ := s.TrainCommand() // valid: Load checked it
		return "", fmt.Errorf("model version from %s: %w (write it with `%s` (%s), or pass --model-version)", projectpkg.ChampionMetrics, err, train.Rendered(projectpkg.ChampionMetrics), configpkg.TrainCommandSetting)
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
	client, err := m.mlflow(ctx, s, nil, nil)
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

// mlflow is a client of the configured tracking server, authenticated as MLflow's own client
// does: MLFLOW_TRACKING_USERNAME with password as HTTP Basic, else token as Bearer (defaults:
// the constructor's --mlflow-password and --mlflow-token; none for a server without
// authentication).
func (m *SoccerPredict) mlflow(ctx context.Context, s configpkg.Settings, token, password *dagger.Secret) (*mlflow.Client, error) {
	if s.MLflowURL == "" {
		return nil, fmt.Errorf("MLflow is not configured: set MLFLOW_TRACKING_URI (in --settings-file) to the tracking server")
	}
	if token == nil {
		token = m.MlflowToken
	}
	if password == nil {
		password = m.MlflowPassword
	}
	bearer, err := secretText(ctx, token)
	if err != nil {
		return nil, err
	}
	pw, err := secretText(ctx, password)
	if err != nil {
		return nil, err
	}
	var opts []mlflow.Option
	if s.MLflowUsername != "" || pw != "" {
		opts = append(opts, mlflow.WithBasicAuth(s.MLflowUsername, pw))
	}
	return mlflow.New(s.MLflowURL, bearer, opts...)
}
