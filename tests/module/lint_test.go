//go:build daggerharness

package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// A requirements-dev.txt the module did not write: the sample's tooling without ruff.
const devRequirementsWithoutRuff = "# test tooling only; ruff comes from the image\npytest==7.2.1\nhypothesis==6.67.1\n"

// ruffSnapshotStdout is the stdout of one of ruff's own snapshot tests kept as a fixture
// (ci/gate/lint/testdata/ruff, see its README), with insta's [TMP] placeholder as the module's
// working directory.
func ruffSnapshotStdout(t *testing.T, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(fixture(t, "../ci/gate/lint/testdata/ruff/"+name), "----- stdout -----\n")
	require.True(t, ok, name)
	stdout, _, ok := strings.Cut(rest, "----- stderr -----")
	require.True(t, ok, name)
	return strings.ReplaceAll(stdout, "[TMP]", "/src")
}

// withoutRuff makes the project's requirements-dev.txt list no ruff, and the python image's ruff
// report version ("" for no ruff on PATH).
func withoutRuff(version string) {
	rec.Respond(daggertest.OnFile("requirements-dev.txt", devRequirementsWithoutRuff))
	probe := map[string]any{"stdout": "", "stderr": "", "exitCode": 127}
	if version != "" {
		probe = map[string]any{"stdout": "ruff " + version + "\n", "stderr": "", "exitCode": 0}
	}
	rec.Respond(daggertest.OnExec([]string{"ruff --version"}, probe))
}

// formatSays answers `ruff format --check` with stdout and exit code.
func formatSays(stdout string, code int) {
	rec.Respond(daggertest.OnExec([]string{"ruff format --check"}, map[string]any{"stdout": stdout, "stderr": "", "exitCode": code}))
}

func lintResult(t *testing.T, m *SoccerPredict) gate.Result {
	t.Helper()
	o, err := m.lint(context.Background())
	require.NoError(t, err)
	require.Len(t, o.Results, 1)
	return o.Results[0]
}

// The newest ruff (0.16) on a project that does not list ruff: the image's ruff runs, its JSON
// is read, and each unformatted file is named.
func TestLintReadsCurrentRuffJSONWithTheImagesRuff(t *testing.T) {
	m := fresh(t)
	happy(t)
	withoutRuff("0.16.4")
	formatSays(ruffSnapshotStdout(t, "0.16.4/cli__format__output_format_json.snap"), 1)

	res := lintResult(t, m)
	assert.Equal(t, gate.Fail, res.Status)
	assert.Equal(t, []string{"input.py:1 [minor] File is not formatted: run `ruff format` on it"}, res.Details)
	assert.Equal(t, "1 issue in 1 file; ruff 0.16.4 (the python image's: requirements-dev.txt does not list ruff and SP_RUFF_VERSION is not set)", res.Summary)

	format := mustExec(t, "ruff", "format", "--check")
	assert.Equal(t, []string{"ruff", "format", "--check", "--output-format=json", "."}, format.Args)
	_, installed := rec.ExecWith("pip", "install", "ruff==")
	assert.False(t, installed, "nothing pins a ruff: the image's is used, not fetched")
}

// Current ruff on a formatted project: a pass, and the report still says which ruff.
func TestLintPassesOnACleanProjectWithCurrentRuff(t *testing.T) {
	m := fresh(t)
	happy(t)
	withoutRuff("0.16.4")
	// ruff renders no diagnostics as [] (no snapshot of ruff's shows it; see the fixtures' README).
	formatSays("[]", 0)

	res := lintResult(t, m)
	assert.Equal(t, gate.Pass, res.Status, res.Summary)
	assert.True(t, strings.HasPrefix(res.Summary, "clean; ruff 0.16.4 (the python image's"), res.Summary)
	require.NoError(t, m.Lint(context.Background()))
}

// ruff 0.16's default text (what a run without --output-format printed) read as if it were
// the JSON asked for: the gate refuses rather than passing or finding nothing.
func TestLintErrorsOnOutputItCannotRead(t *testing.T) {
	m := fresh(t)
	happy(t)
	withoutRuff("0.16.4")
	formatSays(ruffSnapshotStdout(t, "0.16.4/format-check-unformatted.txt"), 1)

	res := lintResult(t, m)
	assert.Equal(t, gate.Error, res.Status)
	assert.Contains(t, res.Summary, "ruff format --check: ruff output is not a JSON array")
	assert.Contains(t, res.Details, "ran ruff 0.16.4 (the python image's: requirements-dev.txt does not list ruff and SP_RUFF_VERSION is not set)")
}

func TestLintErrorsWhenThereIsNoRuff(t *testing.T) {
	m := fresh(t)
	happy(t)
	withoutRuff("")

	err := m.Lint(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint ERROR")
	assert.Contains(t, err.Error(), "no ruff to run: requirements-dev.txt does not list ruff and the python image has none: add ruff==X.Y.Z to requirements-dev.txt (or set SP_RUFF_VERSION=X.Y.Z)")
	_, ran := rec.ExecWith("ruff check")
	assert.False(t, ran, "nothing runs without a ruff")
}

// A pinned ruff that is not the one on PATH would lint with rules the project did not choose.
func TestLintErrorsWhenThePinnedRuffIsNotTheOneThatRuns(t *testing.T) {
	m := fresh(t)
	happy(t) // the sample pins ruff==0.12.3
	rec.Respond(daggertest.OnExec([]string{"ruff --version"}, map[string]any{"stdout": "ruff 0.16.4\n", "exitCode": 0}))

	res := lintResult(t, m)
	assert.Equal(t, gate.Error, res.Status)
	assert.Contains(t, res.Summary, "requirements-dev.txt pins ruff==0.12.3 but `ruff --version` says 0.16.4")
	_, ran := rec.ExecWith("ruff check")
	assert.False(t, ran)
}

// SP_RUFF_VERSION pins a ruff for a project that lists none: installed when the image's is
// another release, and named in the report.
func TestLintInstallsTheSettingsRuff(t *testing.T) {
	m := fresh(t, func(a *newArgs) { a.config = dag.File("ci.env", "SP_RUFF_VERSION=0.16.4\n") })
	happy(t)
	rec.Respond(daggertest.OnFile("requirements-dev.txt", devRequirementsWithoutRuff))
	// The image has 0.15.0; after `pip install ruff==0.16.4` the probe sees 0.16.4.
	rec.Respond(func(c daggertest.Call) (any, bool) {
		args, ok := c.ExecArgs()
		if !ok || !strings.Contains(strings.Join(args, " "), "ruff --version") {
			return nil, false
		}
		installed := slices.ContainsFunc(c.Chain, func(s daggertest.Step) bool {
			return s.Field == "withExec" && slices.Contains(s.Strings("args"), "ruff==0.16.4")
		})
		switch c.Leaf {
		case "stdout":
			if installed {
				return "ruff 0.16.4\n", true
			}
			return "ruff 0.15.0\n", true
		case "exitCode":
			return 0, true
		}
		return nil, false
	})
	formatSays("[]", 0)

	res := lintResult(t, m)
	assert.Equal(t, gate.Pass, res.Status, res.Summary)
	assert.Equal(t, "clean; ruff 0.16.4 (pinned by SP_RUFF_VERSION; requirements-dev.txt does not list ruff)", res.Summary)
	install := mustExec(t, "pip", "install", "ruff==0.16.4")
	assert.Equal(t, []string{"pip", "install", "--no-input", "--progress-bar", "off", "ruff==0.16.4"}, install.Args)
	check := mustExec(t, "ruff", "check", "--output-format=json")
	assert.True(t, slices.ContainsFunc(check.Container, func(s daggertest.Step) bool {
		return s.Field == "withExec" && slices.Contains(s.Strings("args"), "ruff==0.16.4")
	}), "ruff check runs in the container the pinned ruff was installed in")
}
