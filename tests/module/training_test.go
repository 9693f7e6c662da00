//go:build daggerharness

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// reshapedTrain is the training script of a project shaped unlike the bundled sample: it trains on
// its full data by default and knows only --smoke, --out and --model-out — there is no --full.
// Retraining reproduces the committed champion, so a correct call passes the gate.
const reshapedTrain = `"""Train the model: full data unless --smoke."""
import argparse
import json
import pathlib

parser = argparse.ArgumentParser(description="Train the outcome model.")
parser.add_argument("--smoke", action="store_true", help="the reduced dataset")
parser.add_argument("--out", required=True, help="metrics JSON")
parser.add_argument("--model-out", default="models/model.pkl")
args = parser.parse_args()
metrics = json.loads(pathlib.Path("metrics/champion.json").read_text())
for path in (args.out, args.model_out):
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
pathlib.Path(args.model_out).write_bytes(b"model")
pathlib.Path(args.out).write_text(json.dumps(metrics))
print(json.dumps(metrics, sort_keys=True))
`

// reshapedProject writes that project into a temporary directory: the script as the sample's
// module soccerpredict.pipeline.train, and a copy of the sample's metrics/champion.json.
func reshapedProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"src/soccerpredict/__init__.py":          "",
		"src/soccerpredict/pipeline/__init__.py": "",
		"src/soccerpredict/pipeline/train.py":    reshapedTrain,
		"metrics/champion.json":                  fixture(t, "../tests/testdata/soccerpredict/metrics/champion.json"),
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return dir
}

// debianPython is the interpreter the real runs use (tests/python/run.sh uses the same).
func debianPython(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: install python3 (tests/run.sh needs it anyway)", py)
		}
		t.Skipf("%s is missing: these tests run the project's training script for real", py)
	}
	return py
}

// runsLocally answers every exec that writes the candidate metrics by really running it in dir
// with Debian's python3: `python` is that interpreter, the container's /reports and /tmp/model
// are directories of dir, PYTHONPATH is dir/src as in the module's Python container. The exit
// code, the output, whether the metrics exist and their contents are the run's own.
func runsLocally(t *testing.T, dir string) daggertest.Responder {
	py := debianPython(t)
	type result struct {
		code int
		out  string
	}
	var mu sync.Mutex
	done := map[string]result{}
	local := func(p string) string {
		for _, prefix := range []string{"/reports/", "/tmp/model/"} {
			if strings.HasPrefix(p, prefix) {
				return filepath.Join(dir, p)
			}
		}
		return p
	}
	runOnce := func(args []string) result {
		mu.Lock()
		defer mu.Unlock()
		key := strings.Join(args, "\x00")
		if r, ok := done[key]; ok {
			return r
		}
		argv := make([]string, len(args))
		for i, a := range args {
			argv[i] = local(a)
		}
		if argv[0] == "python" {
			argv[0] = py
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "src"), "PYTHONDONTWRITEBYTECODE=1")
		out, err := cmd.CombinedOutput()
		r := result{out: string(out)}
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			r.code = exit.ExitCode()
		case err != nil:
			r.code, r.out = 127, err.Error()
		}
		done[key] = r
		return r
	}
	training := func(args []string) bool {
		return strings.Contains(strings.Join(args, " "), "/reports/"+gate.CandidateMetrics)
	}
	return func(c daggertest.Call) (any, bool) {
		if args, ok := c.ExecArgs(); ok && training(args) {
			r := runOnce(args)
			switch c.Leaf {
			case "exitCode":
				return r.code, true
			case "combinedOutput":
				return r.out, true
			case "exists":
				p, _ := c.LeafArgs["path"].(string)
				_, err := os.Stat(local(p))
				return err == nil, true
			}
			return nil, false
		}
		n := len(c.Chain)
		if c.Leaf == "contents" && n >= 2 && c.Chain[n-1].Field == "file" && c.Chain[n-2].Field == "withExec" {
			if args := c.Chain[n-2].Strings("args"); training(args) {
				runOnce(args)
				b, err := os.ReadFile(local(c.Chain[n-1].Str("path")))
				if err != nil {
					return nil, false
				}
				return string(b), true
			}
		}
		return nil, false
	}
}

// onReshapedProject is a pipeline whose tools succeed (happy) but whose training commands really
// run on the reshaped project in dir.
func onReshapedProject(t *testing.T) (*SoccerPredict, string) {
	t.Helper()
	dir := reshapedProject(t)
	m := fresh(t)
	happy(t)
	rec.Respond(runsLocally(t, dir))
	return m, dir
}

// The project: its training script has no --full. With the default SP_TRAIN_COMMAND (the
// sample's) the model gate is an error that names the setting and shows the exact command, its
// signals are still in the report; with SP_TRAIN_COMMAND set to the project's command it passes.
func TestModelGateOnAProjectWithoutFull(t *testing.T) {
	m, _ := onReshapedProject(t)

	o, err := m.modelGate(context.Background())
	require.NoError(t, err)
	byName := results(o)
	mg := byName[gate.ModelGate]
	assert.Equal(t, gate.Error, mg.Status, "the module called the project wrongly: an error, never a fail: %s", mg.Summary)
	assert.Contains(t, mg.Summary, "`python -m soccerpredict.pipeline.train --full --out /reports/metrics/candidate.json --model-out /tmp/model/model.pkl`")
	assert.Contains(t, mg.Summary, "train.py: error: unrecognized arguments: --full", "argparse's own words")
	assert.Contains(t, mg.Summary, "set SP_TRAIN_COMMAND (in --settings-file)")
	assert.Contains(t, mg.Summary, "SP_TRAIN_COMMAND=python -m soccerpredict.pipeline.train --out {metrics} --model-out {model}")
	assert.Equal(t, gate.Skipped, byName[gate.PerfRegression].Status)
	assert.Contains(t, byName[gate.PerfRegression].Summary, "not evaluated")
	assert.Equal(t, gate.Pass, byName[gate.Drift].Status, "drift is reported whatever the model gate decided: %s", byName[gate.Drift].Summary)
	err = m.ModelGate(context.Background(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model-gate ERROR")
	assert.Contains(t, err.Error(), "SP_TRAIN_COMMAND")

	// The gate report carries all three, the command in the model gate's details.
	reports, err := m.GateReport(context.Background(), []string{gate.ModelGate})
	require.NoError(t, err)
	id, err := reports.ID(context.Background())
	require.NoError(t, err)
	chain, _ := rec.Chain(string(id))
	rep, err := gate.ParseReport([]byte(chain.Files()[gate.GateReportJSON]))
	require.NoError(t, err)
	got := map[string]gate.Status{}
	for _, r := range rep.Results {
		got[r.Name] = r.Status
	}
	assert.Equal(t, map[string]gate.Status{gate.ModelGate: gate.Error, gate.PerfRegression: gate.Skipped, gate.Drift: gate.Pass}, got)
	assert.Contains(t, chain.Files()[gate.GateReportMarkdown], "command: python -m soccerpredict.pipeline.train --full --out /reports/metrics/candidate.json --model-out /tmp/model/model.pkl")

	// The project's own command: the candidate trains and matches the champion.
	m.Settings = append(m.Settings, "SP_TRAIN_COMMAND=python -m soccerpredict.pipeline.train --out {metrics} --model-out {model}")
	o, err = m.modelGate(context.Background())
	require.NoError(t, err)
	byName = results(o)
	assert.Equal(t, gate.Pass, byName[gate.ModelGate].Status, byName[gate.ModelGate].Summary)
	assert.Equal(t, gate.Pass, byName[gate.PerfRegression].Status, byName[gate.PerfRegression].Summary)
	assert.Contains(t, byName[gate.ModelGate].Details, "command: python -m soccerpredict.pipeline.train --out /reports/metrics/candidate.json --model-out /tmp/model/model.pkl")
	want := []string{"python", "-m", "soccerpredict.pipeline.train", "--out", "/reports/metrics/candidate.json", "--model-out", "/tmp/model/model.pkl"}
	ran := false
	for _, e := range rec.Execs() {
		ran = ran || assert.ObjectsAreEqual(want, e.Args)
	}
	assert.True(t, ran, "the setting's words run as they are, without a shell; execs:\n%s", execsText())
	require.NoError(t, m.ModelGate(context.Background(), false))
	assert.Contains(t, filesOf(t, o), gate.ModelGateJSON)
}

// The smoke gate reads its command from SP_SMOKE_COMMAND the same way.
func TestSmokeCommandIsASetting(t *testing.T) {
	m, dir := onReshapedProject(t)

	// The default (the sample's --smoke) fits this project too.
	o, err := m.smoke(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Pass, o.Results[0].Status, o.Results[0].Summary)

	// A script that does not exist: Python says so, and the gate names the setting.
	m.Settings = append(m.Settings, "SP_SMOKE_COMMAND=python scripts/train.py --smoke --out {metrics}")
	o, err = m.smoke(context.Background())
	require.NoError(t, err)
	res := o.Results[0]
	assert.Equal(t, gate.Error, res.Status, res.Summary)
	assert.Contains(t, res.Summary, "the script "+filepath.Join(dir, "scripts/train.py")+" does not exist")
	assert.Contains(t, res.Summary, "set SP_SMOKE_COMMAND")
	assert.Equal(t, "command: python scripts/train.py --smoke --out /reports/metrics/candidate.json", res.Details[0])
	err = m.Smoke(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "smoke ERROR")

	// A bad setting is refused before anything runs, naming it.
	m = fresh(t)
	m.Settings = append(m.Settings, "SP_SMOKE_COMMAND=python train.py --smoke | tee log")
	err = m.Smoke(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `SP_SMOKE_COMMAND="python train.py --smoke | tee log": "|" at character 25 is shell syntax`)
	assert.Empty(t, rec.Execs(), "nothing ran")
}

// A program the engine cannot start at all is an error naming the setting, not a crash of the gate.
func TestTrainingCommandThatCannotStart(t *testing.T) {
	m := fresh(t)
	happy(t)
	m.Settings = append(m.Settings, "SP_TRAIN_COMMAND=soccer-train --out {metrics}")
	argv := []string{"soccer-train", "--out", "/reports/metrics/candidate.json"}
	rec.Respond(daggertest.OnExec(argv, map[string]any{"exitCode": &daggertest.ExecError{Cmd: argv, ExitCode: 1, Stderr: `exec: "soccer-train": executable file not found in $PATH`}}))
	o, err := m.modelGate(context.Background())
	require.NoError(t, err)
	byName := results(o)
	assert.Equal(t, gate.Error, byName[gate.ModelGate].Status)
	assert.Contains(t, byName[gate.ModelGate].Summary, "could not be started")
	assert.Contains(t, byName[gate.ModelGate].Summary, "set SP_TRAIN_COMMAND")
	assert.Equal(t, gate.Skipped, byName[gate.PerfRegression].Status)
	assert.Contains(t, byName, gate.Drift)
}
