package lint

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanRuff(t *testing.T) {
	sample, err := os.ReadFile("../../../tests/testdata/soccerpredict/requirements-dev.txt")
	require.NoError(t, err)
	p, err := PlanRuff(sample, "0.16.4")
	require.NoError(t, err)
	assert.Equal(t, RuffPlan{Listed: "ruff==0.12.3", Pin: "0.12.3"}, p, "the project's pin wins over the setting")

	cases := []struct {
		reqs, setting string
		want          RuffPlan
	}{
		{"pytest==7.2.1\n", "", RuffPlan{}},
		{"pytest==7.2.1\n", "0.16.4", RuffPlan{Pin: "0.16.4", FromSetting: true}},
		{"Ruff === 0.15.2 ; python_version >= '3.9'\n", "", RuffPlan{Listed: `ruff===0.15.2; python_version >= "3.9"`, Pin: "0.15.2"}},
		{"ruff>=0.5,<1\n", "0.16.4", RuffPlan{Listed: "ruff<1,>=0.5"}},
		{"ruff\n", "", RuffPlan{Listed: "ruff"}},
		{"ruff==0.12.*\n", "", RuffPlan{Listed: "ruff==0.12.*"}},
		{"ruff==0.12.3 --hash=sha256:00\n", "", RuffPlan{Listed: "ruff==0.12.3", Pin: "0.12.3"}},
		{"ruff==0.12.3; python_version < '3.12'\nruff==0.16.4; python_version >= '3.12'\n", "", RuffPlan{Listed: `ruff==0.12.3; python_version < "3.12" / ruff==0.16.4; python_version >= "3.12"`}},
	}
	for _, c := range cases {
		p, err := PlanRuff([]byte(c.reqs), c.setting)
		require.NoError(t, err, c.reqs)
		assert.Equal(t, c.want, p, c.reqs)
	}

	_, err = PlanRuff([]byte("pytest\n"), "v0.16.4")
	require.ErrorContains(t, err, `SP_RUFF_VERSION="v0.16.4": want a ruff release X.Y.Z`)
	_, err = PlanRuff([]byte("ruff==0.12.3 \\  \n"), "")
	require.ErrorContains(t, err, "requirements-dev.txt: line 1")
}

func TestParseRuffVersion(t *testing.T) {
	// The forms of ruff's VersionInfo (crates/ruff/src/version.rs), behind "ruff ".
	for out, want := range map[string]string{
		"ruff 0.16.4\n":                         "0.16.4",
		"ruff 0.12.3 (53b0f5d92 2023-10-19)\n":  "0.12.3",
		"ruff 0.16.4+24 (53b0f5d92 2023-10-19)": "0.16.4+24",
	} {
		v, err := ParseRuffVersion(out)
		require.NoError(t, err, out)
		assert.Equal(t, want, v.Raw())
	}
	for _, bad := range []string{"", "0.16.4", "ruff version unknown", "black, 24.1.0"} {
		_, err := ParseRuffVersion(bad)
		require.ErrorContains(t, err, "not \"ruff X.Y.Z\"", bad)
	}
}

func TestFormatJSONFromRuff016(t *testing.T) {
	for v, want := range map[string]bool{"0.6.9": false, "0.12.3": false, "0.15.22": false, "0.16.0": true, "0.16.4": true, "1.0.0": true} {
		assert.Equal(t, want, ruffAt(t, v).FormatJSON(), v)
	}
}

func TestResolve(t *testing.T) {
	version := func(v string) Run { return Run{Stdout: "ruff " + v + "\n"} }
	none := Run{ExitCode: NoRuffExit}
	pinned := RuffPlan{Listed: "ruff==0.12.3", Pin: "0.12.3"}
	setting := RuffPlan{Pin: "0.16.4", FromSetting: true}
	ranged := RuffPlan{Listed: "ruff>=0.5"}

	r, install, err := pinned.Resolve(version("0.12.3"), false)
	require.NoError(t, err)
	assert.Empty(t, install)
	assert.Equal(t, "ruff 0.12.3 (pinned by requirements-dev.txt)", r.String())

	r, _, err = RuffPlan{}.Resolve(version("0.16.4"), false)
	require.NoError(t, err)
	assert.Equal(t, "ruff 0.16.4 (the python image's: requirements-dev.txt does not list ruff and SP_RUFF_VERSION is not set)", r.String())

	r, _, err = ranged.Resolve(version("0.16.4"), false)
	require.NoError(t, err)
	assert.Equal(t, "ruff 0.16.4 (requirements-dev.txt lists ruff>=0.5, not one version: pin ruff==0.16.4 there)", r.String())

	// SP_RUFF_VERSION: the image's ruff when it is that version, else installed once.
	r, install, err = setting.Resolve(version("0.16.4"), false)
	require.NoError(t, err)
	assert.Empty(t, install)
	assert.Equal(t, "ruff 0.16.4 (pinned by SP_RUFF_VERSION; requirements-dev.txt does not list ruff)", r.String())
	for _, probe := range []Run{version("0.15.0"), none} {
		_, install, err = setting.Resolve(probe, false)
		require.NoError(t, err)
		assert.Equal(t, "0.16.4", install)
	}
	_, _, err = setting.Resolve(version("0.15.0"), true)
	require.ErrorContains(t, err, "pip installed ruff==0.16.4 but `ruff --version` says 0.15.0")
	_, _, err = setting.Resolve(none, true)
	require.ErrorContains(t, err, "pip installed ruff==0.16.4 but no ruff is on PATH")

	_, install, err = pinned.Resolve(version("0.16.4"), false)
	require.ErrorContains(t, err, "requirements-dev.txt pins ruff==0.12.3 but `ruff --version` says 0.16.4: another ruff comes first on PATH")
	assert.Empty(t, install, "the project's own pin is never replaced")
	_, _, err = pinned.Resolve(none, false)
	require.ErrorContains(t, err, "requirements-dev.txt lists ruff==0.12.3 but no ruff is on PATH")
	_, _, err = RuffPlan{}.Resolve(none, false)
	require.ErrorContains(t, err, "no ruff to run: requirements-dev.txt does not list ruff and the python image has none: add ruff==X.Y.Z to requirements-dev.txt (or set SP_RUFF_VERSION=X.Y.Z)")
	_, _, err = RuffPlan{}.Resolve(Run{ExitCode: 1, Stderr: "Illegal instruction\n"}, false)
	require.ErrorContains(t, err, "`ruff --version` exited 1: Illegal instruction")
}
