package modelgate

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// trainingRun is one real run of testdata/training_runs.json (gen_training_runs.py: Debian's
// python3, argparse, click and env printing what they print).
type trainingRun struct {
	Name     string   `json:"name"`
	Argv     []string `json:"argv"`
	ExitCode int      `json:"exitCode"`
	Output   string   `json:"output"`
}

func trainingRuns(t *testing.T) map[string]trainingRun {
	t.Helper()
	raw, err := os.ReadFile("testdata/training_runs.json")
	require.NoError(t, err)
	var runs []trainingRun
	require.NoError(t, json.Unmarshal(raw, &runs))
	out := map[string]trainingRun{}
	for _, r := range runs {
		out[r.Name] = r
	}
	return out
}

func command(t *testing.T, setting, line string) project.Command {
	t.Helper()
	c, err := project.ParseCommand(setting, line)
	require.NoError(t, err)
	return c
}

// A command the project refuses, or that does not exist, is an error of the gate naming the
// setting to change, never a fail of the project; what the project's own code does is a fail.
func TestTrainingRunsAreClassifiedFromRealOutput(t *testing.T) {
	runs := trainingRuns(t)
	tests := []struct {
		run    string
		status gate.Status
		says   []string
	}{
		{"argparse-unrecognized", gate.Error, []string{"train.py: error: unrecognized arguments: --full"}},
		{"argparse-missing-required", gate.Error, []string{"the following arguments are required: --out"}},
		{"argparse-expected-one-argument", gate.Error, []string{"argument --out: expected one argument"}},
		{"click-no-such-option", gate.Error, []string{"Error: No such option: --full"}},
		{"python-no-module", gate.Error, []string{"Python has no module soccerpredict_ml.train"}},
		{"python-no-toplevel-module", gate.Error, []string{"Python has no module train"}},
		{"python-package-not-runnable", gate.Error, []string{"Python has no module soccerpredict.pipeline"}},
		{"python-no-script", gate.Error, []string{"the script /src/scripts/train.py does not exist"}},
		{"env-command-not-found", gate.Error, []string{"exited 127: the program was not found"}},
		{"env-not-executable", gate.Error, []string{"exited 126: the program is not executable"}},
		{"project-data-error", gate.Fail, []string{"missing columns: home_goals"}},
		{"project-traceback", gate.Fail, []string{"ValueError: Input contains NaN"}},
		{"project-missing-dependency", gate.Fail, []string{"No module named 'lightgbm_not_installed'"}},
		{"project-package-missing-dependency", gate.Fail, []string{"No module named 'lightgbm_not_installed'"}},
		{"project-exit-two", gate.Fail, []string{"not enough matches"}},
	}
	require.Len(t, runs, len(tests), "every generated run has an expected verdict here")
	train := command(t, "SP_TRAIN_COMMAND", project.DefaultTrainCommand)
	for _, tt := range tests {
		t.Run(tt.run, func(t *testing.T) {
			run, ok := runs[tt.run]
			require.True(t, ok)
			r := Training{Gate: gate.ModelGate, Command: train, Argv: run.Argv, MetricsPath: "/reports/metrics/candidate.json",
				Code: run.ExitCode, Output: run.Output}.Result()
			assert.Equal(t, tt.status, r.Status, r.Summary)
			assert.Equal(t, gate.ModelGate, r.Name)
			text := r.Summary + "\n" + fmtLines(r.Details)
			for _, s := range tt.says {
				assert.Contains(t, text, s)
			}
			require.NotEmpty(t, r.Details)
			assert.Equal(t, "command: "+project.Join(run.Argv), r.Details[0], "the report shows the exact argv")
			if tt.status == gate.Error {
				assert.Contains(t, r.Summary, "set SP_TRAIN_COMMAND (in --settings-file)", "the error names the setting to change")
				assert.Contains(t, r.Summary, "`"+project.Join(run.Argv)+"`")
				assert.Contains(t, r.Summary, "not judged")
			} else {
				assert.NotContains(t, r.Summary, "SP_TRAIN_COMMAND", "a failure of the project's own code is not the setting's")
			}
		})
	}
}

// The exact case of the issue: a project whose training script has no --full, called with the
// sample's default. The fix offered is the configured command without what the parser refused.
func TestTrainingWithoutFullSuggestsTheCommandWithoutIt(t *testing.T) {
	run := trainingRuns(t)["argparse-unrecognized"]
	r := Training{Gate: gate.ModelGate, Command: command(t, "SP_TRAIN_COMMAND", project.DefaultTrainCommand),
		Argv: run.Argv, Code: run.ExitCode, Output: run.Output}.Result()
	assert.Equal(t, gate.Error, r.Status)
	assert.Contains(t, r.Summary, "(now `python -m soccerpredict.pipeline.train --full --out {metrics} --model-out {model}`)")
	assert.Contains(t, r.Summary, "e.g. without what it refused: SP_TRAIN_COMMAND=python -m soccerpredict.pipeline.train --out {metrics} --model-out {model}")

	click := trainingRuns(t)["click-no-such-option"]
	r = Training{Gate: gate.Smoke, Command: command(t, "SP_SMOKE_COMMAND", "python click_train.py --full --out {metrics}"),
		Argv: click.Argv, Code: click.ExitCode, Output: click.Output}.Result()
	assert.Equal(t, gate.Error, r.Status)
	assert.Equal(t, gate.Smoke, r.Name)
	assert.Contains(t, r.Summary, "smoke training: the project was called wrongly")
	assert.Contains(t, r.Summary, "e.g. without what it refused: SP_SMOKE_COMMAND=python click_train.py --out {metrics}")

	// No suggestion when the refused words are not literal words of the command (here the
	// parser refused a value the module filled in), nor for other parser errors.
	refusedValue := "usage: train.py [-h] [--smoke]\ntrain.py: error: unrecognized arguments: --out /reports/metrics/candidate.json\n"
	r = Training{Gate: gate.ModelGate, Command: command(t, "SP_TRAIN_COMMAND", "python train.py --out {metrics}"),
		Argv: []string{"python", "train.py", "--out", "/reports/metrics/candidate.json"}, Code: 2, Output: refusedValue}.Result()
	assert.Equal(t, gate.Error, r.Status)
	assert.NotContains(t, r.Summary, "e.g.")
	required := trainingRuns(t)["argparse-missing-required"]
	r = Training{Gate: gate.ModelGate, Command: command(t, "SP_TRAIN_COMMAND", "python -m soccerpredict.pipeline.train --smoke --out {metrics}"),
		Argv: required.Argv, Code: required.ExitCode, Output: required.Output}.Result()
	assert.NotContains(t, r.Summary, "e.g.")
}

func TestTrainingThatRanOrCouldNotStart(t *testing.T) {
	train := command(t, "SP_TRAIN_COMMAND", "python scripts/train.py --out {metrics}")
	argv := train.Argv("/reports/metrics/candidate.json", "/tmp/model/model.pkl")
	ok := Training{Gate: gate.ModelGate, Command: train, Argv: argv, MetricsPath: "/reports/metrics/candidate.json",
		Output: "training...\naccuracy 0.51\n", WroteMetrics: true}.Result()
	assert.Equal(t, gate.Pass, ok.Status)
	assert.Equal(t, "candidate training completed: accuracy 0.51", ok.Summary)
	assert.Equal(t, []string{"command: python scripts/train.py --out /reports/metrics/candidate.json"}, ok.Details)

	// Exit 0 without the metrics: the command was not told where to write them in a way it uses.
	none := Training{Gate: gate.ModelGate, Command: train, Argv: argv, MetricsPath: "/reports/metrics/candidate.json", Output: "done\n"}.Result()
	assert.Equal(t, gate.Error, none.Status)
	assert.Contains(t, none.Summary, "exited 0 but wrote no metrics JSON at /reports/metrics/candidate.json")
	assert.Contains(t, none.Summary, "set SP_TRAIN_COMMAND")

	// The engine could not start the program at all.
	start := Training{Gate: gate.Smoke, Command: command(t, "SP_SMOKE_COMMAND", "soccer-train --out {metrics}"),
		Argv: []string{"soccer-train", "--out", "m.json"}, StartErr: errors.New(`exec: "soccer-train": executable file not found in $PATH`)}.Result()
	assert.Equal(t, gate.Error, start.Status)
	assert.Contains(t, start.Summary, "could not be started (exec: \"soccer-train\": executable file not found in $PATH)")
	assert.Contains(t, start.Summary, "set SP_SMOKE_COMMAND")

	// The runtime could not find the program (the text Go's os/exec, and the engine, print).
	_, lookErr := exec.LookPath("soccer-train-not-installed")
	require.Error(t, lookErr)
	missing := Training{Gate: gate.ModelGate, Command: command(t, "SP_TRAIN_COMMAND", "soccer-train-not-installed --out {metrics}"),
		Argv: []string{"soccer-train-not-installed", "--out", "m.json"}, Code: 1, Output: lookErr.Error()}.Result()
	assert.Equal(t, gate.Error, missing.Status, missing.Summary)
	assert.Contains(t, missing.Summary, "the program soccer-train-not-installed is not installed in the image")
	assert.Contains(t, missing.Summary, "set SP_TRAIN_COMMAND")
	// … but the project's own script calling a missing program is the project's failure.
	inner := Training{Gate: gate.ModelGate, Command: train, Argv: argv, Code: 1, Output: "Traceback …\n" + lookErr.Error()}.Result()
	assert.NotContains(t, inner.Summary, "SP_TRAIN_COMMAND")

	// The tool image itself broken (not the project, not the setting): an error of the image.
	pull := Training{Gate: gate.ModelGate, Command: train, Argv: argv, Code: 1, Output: "exec format error"}.Result()
	assert.Equal(t, gate.Error, pull.Status)
	assert.Contains(t, pull.Summary, "fix the tool image")
}

func fmtLines(lines []string) string {
	b, _ := json.Marshal(lines)
	return string(b)
}
