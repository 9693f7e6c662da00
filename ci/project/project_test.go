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
