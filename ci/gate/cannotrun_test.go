package gate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCannotRun(t *testing.T) {
	cases := []struct {
		name   string
		code   int
		output string
		cannot bool
		why    string
	}{
		{"clean run", 0, "/usr/local/bin/python: No module named ruff", false, ""},
		{"shell: command not found", 127, "sh: 1: ruff: not found", true, "exit 127"},
		{"not executable", 126, "sh: ./run.sh: Permission denied", true, "exit 126"},
		{"python -m without the module", 1, "/usr/local/bin/python: No module named ruff\n", true, "module is not installed"},
		{"python3.11 -m without the module", 1, "python3.11: No module named dvc.__main__; 'dvc' is a package", true, "module is not installed"},
		{"script missing", 2, "python: can't open file '/src/monitoring/drift.py': [Errno 2] No such file or directory", true, "script does not exist"},
		{"exec not in PATH", 1, `exec: "pdm": executable file not found in $PATH`, true, "executable is not installed"},
		{"bash command not found", 1, "bash: line 1: trivy: command not found", true, "executable is not installed"},
		{"image pull", 1, "failed to resolve source metadata for docker.io/library/python:3.11: pull access denied", true, "could not be pulled"},
		{"exec format", 1, "exec /usr/bin/ruff: exec format error", true, "another platform"},
		// The project is wrong: a Fail stays a Fail.
		{"project import error", 1, "E   ModuleNotFoundError: No module named 'soccerpredict.nope'", false, ""},
		{"project test failure", 1, "FAILED tests/test_api.py::test_x - assert 1 == 2", false, ""},
		{"training error", 1, "error: matches.csv: missing columns: home_goals", false, ""},
		{"assertion mentioning not found", 1, "AssertionError: key 'x' not found in response", false, ""},
		{"ruff findings", 1, "src/a.py:1:1: F401 `os` imported but unused", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why, cannot := CannotRun(c.code, c.output)
			assert.Equal(t, c.cannot, cannot, why)
			if c.cannot {
				assert.Contains(t, why, c.why)
			} else {
				assert.Empty(t, why)
			}
		})
	}
}

func TestClassifyRun(t *testing.T) {
	fail := NewResult(Smoke, Fail, "smoke training exited 1", "tail")
	got := ClassifyRun(fail, 1, "/usr/local/bin/python: No module named soccerpredict")
	assert.Equal(t, Error, got.Status)
	assert.True(t, got.Blocks())
	assert.Contains(t, got.Summary, "could not run")
	assert.Contains(t, got.Summary, "smoke training exited 1")
	assert.Equal(t, []string{"tail"}, got.Details)

	assert.Equal(t, fail, ClassifyRun(fail, 1, "Traceback: ValueError: bad data"))
	pass := NewResult(Smoke, Pass, "ok")
	assert.Equal(t, pass, ClassifyRun(pass, 127, ""), "a pass is never rewritten")
	sig := NewResult(PerfRegression, Fail, "slower")
	got = ClassifyRun(sig, 127, "")
	assert.Equal(t, Error, got.Status)
	assert.False(t, got.Blocks(), "a signal that could not run still never blocks")
}
