package lint

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshot reads one of ruff's own snapshots (testdata/ruff, see its README) as a Run. The
// insta placeholder [TMP] (the test's temporary directory) becomes /src, the root the gate
// runs ruff in.
func snapshot(t testing.TB, name string) Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ruff", name))
	require.NoError(t, err)
	text := string(b)
	if strings.HasPrefix(text, "---\n") { // a .snap file's metadata header
		end := strings.Index(text[4:], "\n---\n")
		require.GreaterOrEqual(t, end, 0, name)
		text = text[4+end+5:]
	}
	m := regexp.MustCompile(`(?s)^success: (?:true|false)\nexit_code: (-?\d+)\n----- stdout -----\n(.*)----- stderr -----\n?(.*)$`).FindStringSubmatch(text)
	require.NotNil(t, m, "%s is not an insta command snapshot", name)
	code, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return Run{ExitCode: code, Stdout: strings.ReplaceAll(m[2], "[TMP]", "/src"), Stderr: m[3]}
}

func paths(issues []Issue) []string {
	out := []string{}
	for _, is := range issues {
		out = append(out, is.Location.Path+":"+strconv.Itoa(is.Location.Lines.Begin))
	}
	return out
}

func TestParseFormatReadsEveryRuffRelease(t *testing.T) {
	notebook := "CRATE_ROOT/resources/test/fixtures/unformatted.ipynb:1" // rows count within a cell
	cases := []struct {
		file   string
		asJSON bool
		want   []string // path:line of each file to reformat, as the snapshot shows them
	}{
		// Before 0.16: "Would reformat: path" lines; no line numbers.
		{"0.6.9/format-check-unformatted.txt", false, []string{"bar.py:1", "foo.py:1"}},
		{"0.12.3/format-check-unformatted.txt", false, []string{"bar.py:1", "foo.py:1"}},
		{"0.12.3/format-check-exclude.txt", false, []string{"main.py:1", "test.py:1"}},
		{"0.12.3/format-diff-clean.txt", false, []string{}},
		// 0.16 on: diagnostics, "full" by default, with the first line that changes.
		{"0.16.4/format-check-unformatted.txt", false, []string{"bar.py:1", "foo.py:1"}},
		{"0.16.4/format-check-exclude.txt", false, []string{"main.py:1", "test.py:1"}},
		{"0.16.4/format-check-quiet.txt", false, []string{"main.py:1"}},
		{"0.16.4/format-check-notebook.txt", false, []string{notebook}},
		{"0.16.4/cli__format__output_format_full.snap", false, []string{"input.py:1"}},
		{"0.16.4/cli__format__output_format_concise.snap", false, []string{"input.py:1"}},
		{"0.16.4/cli__format__output_format_json.snap", true, []string{"input.py:1"}},
		{"0.16.4/format-diff-clean.txt", false, []string{}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			run := snapshot(t, c.file)
			issues, err := ParseFormat(c.asJSON, run, "/src")
			require.NoError(t, err)
			assert.Equal(t, c.want, paths(issues))
			for _, is := range issues {
				assert.Equal(t, FormatCheck, is.CheckName)
				assert.Equal(t, SeverityMinor, is.Severity)
				assert.Equal(t, Fingerprint(FormatCheck, is.Location.Path, 1, FormatDescription), is.Fingerprint, "one identity a file, whatever line ruff names")
			}
		})
	}
}

func TestParseFormatTakesTheFirstChangedLine(t *testing.T) {
	// 0.16.4 `extend_exclude_cli`: ` --> main.py:1:3`; here the same header on line 7.
	run := Run{ExitCode: 1, Stdout: "unformatted: File would be reformatted\n --> pkg/mod.py:7:3\n  |\n  - x    = 1\n7 + x = 1\n  |\n\n1 file would be reformatted\n"}
	issues, err := ParseFormat(false, run, "/src")
	require.NoError(t, err)
	assert.Equal(t, []string{"pkg/mod.py:7"}, paths(issues))
	again, err := ParseFormat(false, Run{ExitCode: 1, Stdout: "Would reformat: pkg/mod.py\n1 file would be reformatted\n"}, "/src")
	require.NoError(t, err)
	assert.Equal(t, issues[0].Fingerprint, again[0].Fingerprint, "the same file keeps its fingerprint across ruff releases")
}

func TestParseFormatJSONOfAFormattedProject(t *testing.T) {
	// No snapshot at the mirrored tags shows it; ruff renders the empty list of diagnostics as [].
	issues, err := ParseFormat(true, Run{ExitCode: 0, Stdout: "[]\n"}, "/src")
	require.NoError(t, err)
	assert.Empty(t, issues)
	// A release before 0.16 in preview mode with output-format = "json" in pyproject.toml prints
	// the same JSON, without a summary, though the gate asked for text.
	issues, err = ParseFormat(false, Run{ExitCode: 0, Stdout: "[]\n"}, "/src")
	require.NoError(t, err)
	assert.Empty(t, issues)
	issues, err = ParseFormat(false, snapshot(t, "0.16.4/cli__format__output_format_json.snap"), "/src")
	require.NoError(t, err)
	assert.Equal(t, []string{"input.py:1"}, paths(issues))
}

func TestParseFormatRuffCouldNotCheck(t *testing.T) {
	cases := []struct {
		file, detail string
	}{
		{"0.6.9/format-check-syntax-error.txt", "Failed to parse main.py:2:20: Expected an import name"},
		{"0.12.3/format-check-syntax-error.txt", "Failed to parse main.py:2:20: Expected an import name"},
		{"0.16.4/format-check-syntax-error.txt", "main.py:2: invalid-syntax: Expected an import name"},
		{"0.16.4/format-check-notebook-syntax-error.txt", "main.ipy:1: invalid-syntax: Expected an expression"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := ParseFormat(false, snapshot(t, c.file), "/src")
			var ferr *formatError
			require.True(t, errors.As(err, &ferr), "%v", err)
			assert.Contains(t, ferr.msg, "could not check every file (1 problems)")
			assert.Equal(t, []string{c.detail}, ferr.details)
		})
	}
	// The same syntax error as JSON (0.16 on): ruff's code and message, with the file's row.
	js := `[{"cell":null,"code":"invalid-syntax","end_location":{"column":21,"row":2},"filename":"/src/main.py","fix":null,"location":{"column":20,"row":2},"message":"Expected an import name","name":"invalid-syntax","noqa_row":null,"severity":"error","url":null}]`
	_, err := ParseFormat(true, Run{ExitCode: 2, Stdout: js}, "/src")
	var ferr *formatError
	require.True(t, errors.As(err, &ferr), "%v", err)
	assert.Equal(t, []string{"main.py:2: invalid-syntax: Expected an import name"}, ferr.details)
	// ruff failing before any file (a bad configuration) leaves its own words as details.
	_, err = ParseFormat(true, Run{ExitCode: 2, Stderr: "ruff failed\n  Cause: Failed to parse /src/pyproject.toml\n"}, "/src")
	require.True(t, errors.As(err, &ferr), "%v", err)
	assert.Contains(t, ferr.msg, "ruff format --check exited 2")
	assert.Contains(t, ferr.details, "  Cause: Failed to parse /src/pyproject.toml")
}

// The real run that prompted this: ruff 0.16 said "10 files would be reformatted", a parser
// of "Would reformat:" lines read none, and a pass (or an empty finding) must never follow.
func TestParseFormatRefusesOutputItCannotRead(t *testing.T) {
	full := snapshot(t, "0.16.4/format-check-unformatted.txt") // 2 files, exit 1
	cases := map[string]struct {
		asJSON bool
		run    Run
		want   string
	}{
		"summary counts more than were read": {false, Run{ExitCode: 1, Stdout: strings.Replace(full.Stdout, "unformatted: File would be reformatted\n --> bar.py:1:7\n", "", 1)}, "says 2 files would be reformatted but the gate read 1"},
		"a diagnostic that is no finding":    {false, Run{ExitCode: 1, Stdout: strings.Replace(full.Stdout, "unformatted: File would be reformatted\n --> bar.py", "io: Permission denied\n --> bar.py", 1)}, "could not check every file (1 problems)"},
		"summary without any file":           {false, Run{ExitCode: 1, Stdout: "10 files would be reformatted\n"}, "says 10 files would be reformatted but the gate read 0"},
		"a style the gate does not read":     {false, Run{ExitCode: 1, Stdout: "input.py:1: [unformatted] File would be reformatted\n"}, "exited 1 (a file would be reformatted) but the gate read no file"},
		"JSON listing nothing, exit 1":       {true, Run{ExitCode: 1, Stdout: "[]"}, "exited 1 (a file would be reformatted) but the gate read no file"},
		"text handed to the JSON reader":     {true, full, "not a JSON array"},
		"files with exit 0":                  {false, Run{ExitCode: 0, Stdout: "Would reformat: a.py\n1 file would be reformatted\n"}, "exited 0 (nothing to reformat) but its output lists 1 files"},
		"no summary on a pass":               {false, Run{ExitCode: 0}, "no summary line"},
		"no Python files":                    {false, Run{ExitCode: 0, Stderr: "warning: No Python files found under the given path(s)\n"}, "found no Python files"},
		"no Python files, JSON":              {true, Run{ExitCode: 0, Stderr: "warning: No Python files found under the given path(s)\n"}, "found no Python files"},
		"path outside the root":              {false, Run{ExitCode: 1, Stdout: "Would reformat: /etc/passwd\n1 file would be reformatted\n"}, "outside the project root"},
		"trailing data after JSON":           {true, Run{ExitCode: 0, Stdout: "[] []"}, "trailing data after the JSON array"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			issues, err := ParseFormat(c.asJSON, c.run, "/src")
			require.ErrorContains(t, err, c.want)
			assert.Nil(t, issues)
		})
	}
}

func TestParseFormatTextDetails(t *testing.T) {
	ok := map[string]Run{
		"CRLF":            {ExitCode: 1, Stdout: "Would reformat: a.py\r\n1 file would be reformatted\r\n"},
		"colour":          {ExitCode: 1, Stdout: "\x1b[1mWould reformat: a.py\x1b[0m\n1 file would be reformatted\n"},
		"summary on both": {ExitCode: 1, Stdout: "Would reformat: a.py\n", Stderr: "1 file would be reformatted, 2 files already formatted\n"},
		"warnings around": {ExitCode: 1, Stdout: "a.py:1:1: unformatted: File would be reformatted\n1 file would be reformatted\n", Stderr: "warning: The following rules may cause conflicts when used with the formatter: `COM812`.\n"},
		"cut summary":     {ExitCode: 1, Stdout: "unformatted: File would be reformatted\n --> a.py:1:1\n"},
		// A source line that reads like ruff's output stays inside the diff, which is indented or
		// behind a line-number gutter.
		"diff lines": {ExitCode: 1, Stdout: "unformatted: File would be reformatted\n --> a.py:1:1\n  |\n  - Would reformat: b.py\n1 | unformatted: File would be reformatted\n  |\n\n1 file would be reformatted\n"},
	}
	for name, run := range ok {
		issues, err := ParseFormat(false, run, "/src/")
		require.NoError(t, err, name)
		assert.Equal(t, []string{"a.py:1"}, paths(issues), name)
	}
}

func FuzzParseFormat(f *testing.F) {
	for _, name := range []string{"0.12.3/format-check-unformatted.txt", "0.16.4/format-check-notebook.txt", "0.16.4/cli__format__output_format_concise.snap"} {
		run := snapshot(f, name)
		f.Add(run.Stdout, run.Stderr, run.ExitCode, false, "/src")
	}
	run := snapshot(f, "0.16.4/cli__format__output_format_json.snap")
	f.Add(run.Stdout, run.Stderr, run.ExitCode, true, "/src")
	f.Fuzz(func(t *testing.T, stdout, stderr string, code int, asJSON bool, root string) {
		issues, err := ParseFormat(asJSON, Run{ExitCode: code, Stdout: stdout, Stderr: stderr}, root)
		if err != nil {
			return
		}
		require.Equal(t, code == 1, len(issues) > 0, "a finding exactly when ruff exits 1")
		seen := map[string]bool{}
		for _, is := range issues {
			require.Equal(t, FormatCheck, is.CheckName)
			require.NotEmpty(t, is.Location.Path)
			require.NotEqual(t, '/', rune(is.Location.Path[0]))
			require.GreaterOrEqual(t, is.Location.Lines.Begin, 1)
			require.False(t, seen[is.Location.Path], "one issue a file")
			seen[is.Location.Path] = true
		}
	})
}
