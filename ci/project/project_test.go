package project

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		explicit string
		root     bool
		want     string
	}{
		{"", true, "."},
		{"", false, SampleDir},
		{"services/ml/", false, "services/ml"},
		{".", false, "."},
		{"a/../b", true, "b"},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.explicit, tt.root)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
	for _, bad := range []string{"/abs", "..", "../x", "a/../../x"} {
		_, err := Resolve(bad, true)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "relative to --source")
	}
}

func TestCommands(t *testing.T) {
	assert.Equal(t, []string{"pip", "install", "--no-input", "--progress-bar", "off", "-r", "a.txt", "-r", "b.txt"}, PipInstall("a.txt", "b.txt"))
	assert.Equal(t, []string{"pip", "install", "--no-input", "--progress-bar", "off", "ruff==0.16.4"}, RuffInstall("0.16.4"))
	assert.Equal(t, []string{"ruff", "format", "--check", "--output-format=json", "."}, RuffFormat(true))
	assert.Equal(t, []string{"ruff", "format", "--check", "."}, RuffFormat(false))
	py := strings.Join(Pytest("/reports"), " ")
	assert.Contains(t, py, "--junitxml=/reports/junit.xml")
	assert.Contains(t, py, "--cov-report=xml:/reports/coverage.xml")
	probe := ContractProbe("/out")[2]
	assert.Contains(t, probe, "http://api:8000/healthz")
	assert.Contains(t, probe, "--data @/contracts/invalid.json http://api:8000/predict > /out/invalid.status")
}

// The defaults are the bundled sample's own command lines, exactly as the gates ran them before
// they were settings.
func TestDefaultCommandsAreTheSamplesPipeline(t *testing.T) {
	train, err := ParseCommand("SP_TRAIN_COMMAND", DefaultTrainCommand)
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "-m", "soccerpredict.pipeline.train", "--full", "--out", "/reports/metrics/candidate.json", "--model-out", "/tmp/model/model.pkl"},
		train.Argv("/reports/metrics/candidate.json", "/tmp/model/model.pkl"))
	assert.Equal(t, "SP_TRAIN_COMMAND", train.Setting)
	assert.Equal(t, "python -m soccerpredict.pipeline.train --full --out metrics/champion.json --model-out {model}", train.Rendered(ChampionMetrics))
	smoke, err := ParseCommand("SP_SMOKE_COMMAND", DefaultSmokeCommand)
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "-m", "soccerpredict.pipeline.train", "--smoke", "--out", "m.json", "--model-out", "model.pkl"}, smoke.Argv("m.json", "model.pkl"))
}

func TestParseCommand(t *testing.T) {
	c, err := ParseCommand("SP_TRAIN_COMMAND", `python scripts/train.py --metrics={metrics} --tag 'full run' --save "{model}"`)
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "scripts/train.py", "--metrics=/r/m.json", "--tag", "full run", "--save", "/m/model.pkl"}, c.Argv("/r/m.json", "/m/model.pkl"))
	assert.Equal(t, `python scripts/train.py --metrics={metrics} --tag 'full run' --save {model}`, c.String())
	back, err := ParseCommand("SP_TRAIN_COMMAND", c.String())
	require.NoError(t, err)
	assert.Equal(t, c, back, "String reads back as the same command")

	// {model} is optional: a project that keeps its model itself.
	c, err = ParseCommand("SP_TRAIN_COMMAND", "python -m pkg.train --out {metrics}")
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "-m", "pkg.train", "--out", "m"}, c.Argv("m", "x"))

	for line, want := range map[string]string{
		"":                                       "is empty",
		"   ":                                    "is empty",
		"python -m pkg.train --out metrics.json": "has no {metrics}: the module reads the metrics JSON back",
		"python -m pkg.train --out {metric}":     "unknown placeholder {metric}",
		"python -m pkg.train --out {metrics} --data {data}":  "unknown placeholder {data}",
		"PYTHONPATH=src python -m pkg.train --out {metrics}": "write `env PYTHONPATH=src python -m pkg.train --out {metrics}`",
		"{metrics} --out x":                             "starts with the placeholder {metrics}",
		"python -m pkg.train --out {metrics} | tee log": "runs without a shell",
	} {
		_, err := ParseCommand("SP_TRAIN_COMMAND", line)
		require.Error(t, err, line)
		assert.Contains(t, err.Error(), want, line)
	}
}
