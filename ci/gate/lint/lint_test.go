package lint

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ruff.json")
	require.NoError(t, err)
	return b
}

func TestParseRuff(t *testing.T) {
	diags, err := ParseRuff(fixture(t))
	require.NoError(t, err)
	require.Len(t, diags, 4)
	d := diags[0]
	assert.Equal(t, "F401", d.Code)
	assert.Equal(t, "`os` imported but unused", d.Message)
	assert.Equal(t, "/src/soccerpredict/api/main.py", d.Filename)
	assert.Equal(t, Position{Row: 1, Column: 8}, d.Location)
	assert.Equal(t, Position{Row: 1, Column: 10}, d.EndLocation)
	require.NotNil(t, d.Fix)
	assert.Equal(t, "safe", d.Fix.Applicability)
	assert.Equal(t, "https://docs.astral.sh/ruff/rules/unused-import", d.URL)
	require.NotNil(t, d.NoqaRow)
	assert.Equal(t, 1, *d.NoqaRow)
	assert.Equal(t, "", diags[3].Code, "null code parses as empty")
	assert.Nil(t, diags[3].NoqaRow)

	empty, err := ParseRuff([]byte(" [] \n"))
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestParseRuffErrors(t *testing.T) {
	cases := map[string]string{
		"":                          "empty",
		"src/a.py:1:1: F401 unused": "not a JSON array",
		`{"code":"F401"}`:           "not a JSON array",
		`[{"code":"F401"`:           "not valid JSON",
		`[] []`:                     "trailing data",
		`[{"code":"F401","location":{"row":1,"column":1}}]`: "no filename",
		`[{"code":"F401","filename":"/src/a.py"}]`:          "no location",
		`[{"filename":"/src/a.py","location":{"row":"x"}}]`: "not valid JSON",
	}
	for in, want := range cases {
		t.Run(want+in, func(t *testing.T) {
			_, err := ParseRuff([]byte(in))
			require.ErrorContains(t, err, want)
		})
	}
}

func TestSeverity(t *testing.T) {
	cases := []struct {
		code, msg, want string
	}{
		{"F401", "unused", SeverityMajor},
		{"E501", "too long", SeverityMajor},
		{"W291", "trailing whitespace", SeverityMinor},
		{"B006", "mutable default", SeverityMinor},
		{"I001", "unsorted imports", SeverityMinor},
		{"", "SyntaxError: Expected ')'", SeverityBlocker},
		{"", "anything without a code", SeverityBlocker},
		{"E999", "SyntaxError: invalid syntax", SeverityBlocker},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Severity(Diagnostic{Code: c.code, Message: c.msg}), "%s %s", c.code, c.msg)
	}
}

func TestCodeQuality(t *testing.T) {
	diags, err := ParseRuff(fixture(t))
	require.NoError(t, err)
	issues, err := CodeQuality(diags, "/src/")
	require.NoError(t, err)
	require.Len(t, issues, 4)
	// sorted by path, then line
	assert.Equal(t, []string{"soccerpredict/api/main.py", "soccerpredict/features/build.py", "soccerpredict/features/build.py", "soccerpredict/train.py"},
		[]string{issues[0].Location.Path, issues[1].Location.Path, issues[2].Location.Path, issues[3].Location.Path})
	assert.Equal(t, Issue{
		Description: "F401 `os` imported but unused",
		CheckName:   "F401",
		Fingerprint: Fingerprint("F401", "soccerpredict/api/main.py", 1, "`os` imported but unused"),
		Severity:    "major",
		Location:    Location{Path: "soccerpredict/api/main.py", Lines: Lines{Begin: 1}},
	}, issues[0])
	assert.Equal(t, 7, issues[1].Location.Lines.Begin)
	assert.Equal(t, "minor", issues[1].Severity)
	assert.Equal(t, 21, issues[2].Location.Lines.Begin)
	assert.Equal(t, SyntaxErrorCheck, issues[3].CheckName)
	assert.Equal(t, "blocker", issues[3].Severity)
	assert.Equal(t, "SyntaxError: Expected ')', found newline", issues[3].Description)

	// The root may be given with or without the trailing slash; fingerprints do not depend on it.
	again, err := CodeQuality(diags, "/src")
	require.NoError(t, err)
	assert.Equal(t, issues, again)

	js, err := Encode(issues)
	require.NoError(t, err)
	var generic []map[string]any
	require.NoError(t, json.Unmarshal(js, &generic))
	require.Len(t, generic, 4)
	assert.ElementsMatch(t, []string{"description", "check_name", "fingerprint", "severity", "location"}, keys(generic[0]))
	assert.Equal(t, map[string]any{"path": "soccerpredict/api/main.py", "lines": map[string]any{"begin": float64(1)}}, generic[0]["location"])
	assert.Len(t, generic[0]["fingerprint"], 64)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestFingerprintStableAndDistinct(t *testing.T) {
	a := Fingerprint("F401", "a.py", 1, "m")
	assert.Equal(t, a, Fingerprint("F401", "a.py", 1, "m"))
	assert.Equal(t, "8bc10a593bdcb3d25c569606e6e5e6fe8515c375a0ae2050929e3c90b29ecfc7", a, "sha256 of check NUL path NUL line NUL message")
	for _, other := range []string{
		Fingerprint("F402", "a.py", 1, "m"),
		Fingerprint("F401", "b.py", 1, "m"),
		Fingerprint("F401", "a.py", 2, "m"),
		Fingerprint("F401", "a.py", 1, "n"),
		Fingerprint("F401", "a.py1", 1, "m"),
		Fingerprint("F401a", ".py", 1, "m"),
	} {
		assert.NotEqual(t, a, other)
	}
}

func TestRelPath(t *testing.T) {
	ok := []struct{ root, in, want string }{
		{"/src/", "/src/a/b.py", "a/b.py"},
		{"/src", "/src/a/b.py", "a/b.py"},
		{"src", "/src/a/b.py", "a/b.py"},
		{"/src/", "a/b.py", "a/b.py"},
		{"", "./a//b.py", "a/b.py"},
		{"/", "/a.py", "a.py"},
		{"/work/project/", "/work/project/x.py", "x.py"},
	}
	for _, c := range ok {
		got, err := RelPath(c.root, c.in)
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, c.want, got, "%+v", c)
	}
	bad := []struct{ root, in string }{
		{"/src/", "/srcother/a.py"},
		{"/src/", "/etc/passwd"},
		{"", "/src/a.py"},
		{"/src/", "../a.py"},
		{"/src/", "/src/../etc/passwd"},
		{"/src/", ""},
	}
	for _, c := range bad {
		_, err := RelPath(c.root, c.in)
		require.Error(t, err, "%+v", c)
	}
	_, err := CodeQuality([]Diagnostic{{Code: "F401", Filename: "/elsewhere/a.py", Location: Position{1, 1}}}, "/src/")
	require.ErrorContains(t, err, `file "/elsewhere/a.py" is outside the project root "/src/"`)
}

func TestZeroRowClampedToOne(t *testing.T) {
	issues, err := CodeQuality([]Diagnostic{{Code: "INP001", Message: "implicit namespace", Filename: "/src/a.py"}}, "/src")
	require.NoError(t, err)
	assert.Equal(t, 1, issues[0].Location.Lines.Begin)
}

func TestSummaryAndResult(t *testing.T) {
	assert.Equal(t, "clean", Summary(nil))
	r := Result(nil)
	assert.Equal(t, gate.Pass, r.Status)
	assert.Equal(t, gate.Lint, r.Name)
	assert.Equal(t, gate.Blocking, r.Kind)

	one := []Issue{{Description: "F401 x", Severity: "major", Location: Location{Path: "a.py", Lines: Lines{Begin: 3}}}}
	assert.Equal(t, "1 issue in 1 file", Summary(one))
	r = Result(one)
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, []string{"a.py:3 [major] F401 x"}, r.Details)

	var many []Issue
	for i := 0; i < 60; i++ {
		many = append(many, Issue{Description: "d", Location: Location{Path: fmt.Sprintf("f%d.py", i%3), Lines: Lines{Begin: i + 1}}})
	}
	assert.Equal(t, "60 issues in 3 files", Summary(many))
	r = Result(many)
	require.Len(t, r.Details, MaxDetails+1)
	assert.Equal(t, "… and 10 more (see gl-code-quality-report.json)", r.Details[MaxDetails])
}

func TestEncodeEmpty(t *testing.T) {
	js, err := Encode(nil)
	require.NoError(t, err)
	assert.Equal(t, "[]", strings.TrimSpace(string(js)))
}

func FuzzParseRuff(f *testing.F) {
	b, _ := os.ReadFile("testdata/ruff.json")
	f.Add(b, "/src/")
	f.Add([]byte(`[]`), "")
	f.Add([]byte(`[{"code":null,"filename":"/src/x.py","location":{"row":0,"column":0},"message":null}]`), "/src")
	f.Add([]byte(`[{"filename":"a/../../b.py","location":{"row":-5,"column":1}}]`), "/")
	f.Fuzz(func(t *testing.T, data []byte, root string) {
		diags, err := ParseRuff(data)
		if err != nil {
			return
		}
		issues, err := CodeQuality(diags, root)
		if err != nil {
			return
		}
		require.Len(t, issues, len(diags))
		for _, is := range issues {
			require.GreaterOrEqual(t, is.Location.Lines.Begin, 1)
			require.False(t, strings.HasPrefix(is.Location.Path, "/"), "path %q must be relative", is.Location.Path)
			require.False(t, is.Location.Path == ".." || strings.HasPrefix(is.Location.Path, "../"), "path %q escapes the root", is.Location.Path)
			require.Contains(t, []string{SeverityMajor, SeverityMinor, SeverityBlocker}, is.Severity)
			require.Len(t, is.Fingerprint, 64)
		}
		_, err = Encode(issues)
		require.NoError(t, err)
		_ = Result(issues)
	})
}

func ruffAt(t *testing.T, version string) Ruff {
	t.Helper()
	v, err := ParseRuffVersion("ruff " + version + "\n")
	require.NoError(t, err)
	return Ruff{Version: v, Origin: "pinned by requirements-dev.txt"}
}

func TestEvaluate(t *testing.T) {
	legacy := Run{ExitCode: 1, Stdout: "Would reformat: soccerpredict/api/main.py\n1 file would be reformatted, 3 files already formatted\n"}
	res, doc := Evaluate(ruffAt(t, "0.12.3"), Run{ExitCode: 1, Stdout: string(fixture(t))}, legacy, "/src")
	assert.Equal(t, gate.Fail, res.Status)
	assert.Equal(t, "5 issues in 3 files; ruff 0.12.3 (pinned by requirements-dev.txt)", res.Summary)
	var issues []Issue
	require.NoError(t, json.Unmarshal(doc, &issues))
	require.Len(t, issues, 5)
	assert.Equal(t, "soccerpredict/api/main.py", issues[0].Location.Path)
	assert.Equal(t, []string{"F401", FormatCheck}, []string{issues[0].CheckName, issues[1].CheckName})

	res, doc = Evaluate(ruffAt(t, "0.16.4"), Run{Stdout: "[]"}, Run{Stdout: "[]\n"}, "/src")
	assert.Equal(t, gate.Pass, res.Status)
	assert.Equal(t, "clean; ruff 0.16.4 (pinned by requirements-dev.txt)", res.Summary)
	assert.Equal(t, "[]", strings.TrimSpace(string(doc)))

	clean := Run{Stdout: "3 files already formatted\n"}
	for _, c := range []struct {
		check, format Run
		want          string
	}{
		{Run{Stdout: "not json"}, clean, "not a JSON array"},
		{Run{ExitCode: 1, Stdout: `[{"code":"F401","filename":"/etc/x.py","location":{"row":1,"column":1}}]`}, clean, "outside the project root"},
		{Run{ExitCode: 1, Stdout: "[]"}, clean, "ruff check exited 1 but its JSON lists 0 diagnostics"},
		{Run{ExitCode: 2, Stderr: "ruff failed: unknown rule selector `XX`"}, clean, "ruff check exited 2"},
		{Run{Stdout: "[]"}, Run{ExitCode: 2, Stderr: "error: Failed to parse a.py:1:1: x"}, "could not check every file"},
		{Run{Stdout: "[]"}, Run{ExitCode: 1, Stdout: "10 files would be reformatted\n"}, "says 10 files would be reformatted but the gate read 0"},
	} {
		res, doc = Evaluate(ruffAt(t, "0.12.3"), c.check, c.format, "/src")
		assert.Equal(t, gate.Error, res.Status, c)
		assert.Contains(t, res.Summary, c.want)
		assert.Equal(t, "ran ruff 0.12.3 (pinned by requirements-dev.txt)", res.Details[len(res.Details)-1], "an error names the ruff that ran")
		assert.Nil(t, doc)
	}
}

// ruff 0.16's own JSON for `ruff check`: syntax errors carry the code "invalid-syntax".
func TestEvaluateCurrentRuffCheckJSON(t *testing.T) {
	run := snapshot(t, "0.16.4/cli__lint__output_format_json.snap")
	res, doc := Evaluate(ruffAt(t, "0.16.4"), run, snapshot(t, "0.16.4/cli__format__output_format_json.snap"), "/src")
	require.Equal(t, gate.Fail, res.Status, res.Summary)
	var issues []Issue
	require.NoError(t, json.Unmarshal(doc, &issues))
	got := map[string]string{}
	for _, is := range issues {
		got[is.CheckName] = is.Severity + " " + is.Location.Path + ":" + fmt.Sprint(is.Location.Lines.Begin)
	}
	assert.Equal(t, map[string]string{
		"F401":           "major input.py:1",
		"F821":           "major input.py:2",
		SyntaxErrorCheck: "blocker input.py:3",
		FormatCheck:      "minor input.py:1",
	}, got)
}
