package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// FormatDescription is the description of a file `ruff format --check` would reformat.
const FormatDescription = "File is not formatted: run `ruff format` on it"

// unformattedID is the id ruff (0.16 on, and earlier releases in preview mode) gives a file
// `ruff format --check` would reformat, in its text and JSON output.
const unformattedID = "unformatted"

var (
	// ruff before 0.16: one line a file.
	wouldReformat = regexp.MustCompile(`^Would reformat: (.+)$`)
	// The summary, in every release (left out by --quiet and by the JSON output).
	reformatCount = regexp.MustCompile(`^(\d+) files? would be reformatted\b`)
	alreadyOK     = regexp.MustCompile(`^(\d+) files? (?:already formatted|left unchanged)\b`)
	// Diagnostics. "full": a header "<id>: <message>" at the start of a line, then
	// " --> <path>:<row>:<column>" (notebooks: "<path>:cell <n>:<row>:<column>") and a diff.
	// "concise": "<path>:<row>:<column>: <id>: <message>" on one line.
	diagHeader   = regexp.MustCompile(`^([a-z][a-z0-9]*(?:-[a-z0-9]+)*): (.+)$`)
	diagLocation = regexp.MustCompile(`^\s*--> (.+?):(cell \d+:)?(\d+):(\d+)$`)
	diagConcise  = regexp.MustCompile(`^(.+?):(cell \d+:)?(\d+):(\d+): ([a-z][a-z0-9]*(?:-[a-z0-9]+)*): (.+)$`)
	ansiEscape   = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
)

// subDiagnostic ids are notes attached to a diagnostic, not diagnostics of their own.
var subDiagnostic = map[string]bool{"info": true, "help": true, "note": true, "warning": true}

const noPythonFiles = "No Python files found"

// formatFindings is what ruff's output says, before it is checked against the exit code.
type formatFindings struct {
	files    map[string]int // project-relative path → first line to reformat
	problems []string       // what ruff could not check ("path:line: id: message")
	count    int            // "N files would be reformatted", -1 when absent
	summary  bool           // a summary line was read
	noPython bool           // ruff warned that it found no Python files
}

func newFindings() *formatFindings { return &formatFindings{files: map[string]int{}, count: -1} }

func (f *formatFindings) file(root, p string, line int) error {
	rel, err := RelPath(root, strings.TrimSpace(p))
	if err != nil {
		return err
	}
	if old, ok := f.files[rel]; !ok || line < old {
		f.files[rel] = max(line, 1)
	}
	return nil
}

// ParseFormat turns a run of `ruff format --check` into one issue a file it would reformat,
// with paths relative to root (see RelPath). With asJSON the run is project.RuffFormat(true)
// (ruff 0.16 on): stdout is a JSON array of diagnostics whose code "unformatted" marks a file.
// Otherwise stdout and stderr are read as text, in every style ruff has printed: "Would
// reformat: path" lines (before 0.16) and "full" or "concise" diagnostics (0.16 on, or an
// earlier release in preview mode). The result is checked against ruff's own account: the
// exit code (0: nothing to reformat, 1: something to reformat, 2: ruff could not check) and
// the "N files would be reformatted" summary; output that disagrees with it is an error, never
// a pass or an empty finding.
func ParseFormat(asJSON bool, run Run, root string) ([]Issue, error) {
	var (
		f   *formatFindings
		err error
	)
	// A project's output-format = "json" in preview mode makes earlier releases print JSON too.
	asJSON = asJSON || strings.HasPrefix(strings.TrimSpace(run.Stdout), "[")
	if asJSON {
		f, err = readFormatJSON(run, root)
	} else {
		f, err = readFormatText(run.output(), root)
	}
	if err != nil {
		if run.ExitCode < 2 && run.ExitCode >= 0 {
			return nil, err
		}
		f = newFindings() // ruff failed: its own words say more than the unreadable output
	}
	if strings.Contains(run.Stderr, noPythonFiles) {
		f.noPython = true
	}
	return f.check(run, asJSON)
}

func readFormatJSON(run Run, root string) (*formatFindings, error) {
	f := newFindings()
	if strings.TrimSpace(run.Stdout) == "" {
		// ruff prints nothing when it found no file, and nothing but its error when it fails.
		return f, nil
	}
	diags, err := ParseRuff([]byte(run.Stdout))
	if err != nil {
		return nil, fmt.Errorf("ruff format --check: %w", err)
	}
	for _, d := range diags {
		line := d.Location.Row
		if d.Cell != nil { // a notebook's row counts within its cell
			line = 1
		}
		if d.Code != unformattedID {
			where, err := RelPath(root, d.Filename)
			if err != nil {
				where = d.Filename
			}
			f.problems = append(f.problems, problem(where, line, d.Code, d.Message))
			continue
		}
		if err := f.file(root, d.Filename, line); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func problem(path string, line int, id, message string) string {
	where := path
	if where != "" {
		where += ":" + strconv.Itoa(max(line, 1)) + ": "
	}
	if id == "" {
		return where + message
	}
	return where + id + ": " + message
}

func readFormatText(output, root string) (*formatFindings, error) {
	f := newFindings()
	header := "" // the last "<id>: <message>" header, waiting for its " --> " location
	for _, raw := range strings.Split(ansiEscape.ReplaceAllString(output, ""), "\n") {
		line := strings.TrimRight(raw, " \t\r")
		if line == "" {
			continue
		}
		if m := diagLocation.FindStringSubmatch(line); m != nil {
			if header == "" {
				continue // a sub-diagnostic's location, or no header
			}
			id, msg, _ := strings.Cut(header, ": ")
			header = ""
			n := lineOf(m[2], m[3])
			if id == unformattedID {
				if err := f.file(root, m[1], n); err != nil {
					return nil, err
				}
			} else {
				f.problems = append(f.problems, problem(m[1], n, id, msg))
			}
			continue
		}
		// Everything else starts at the first column; indented lines are snippets and diffs.
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		header = ""
		if m := wouldReformat.FindStringSubmatch(line); m != nil {
			if err := f.file(root, m[1], 1); err != nil {
				return nil, err
			}
			continue
		}
		if m := reformatCount.FindStringSubmatch(line); m != nil {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return nil, fmt.Errorf("ruff format: bad count in %q", line)
			}
			f.count, f.summary = n, true
			continue
		}
		if alreadyOK.MatchString(line) {
			f.summary = true
			continue
		}
		if rest, ok := strings.CutPrefix(line, "error: "); ok { // before 0.16: ruff could not check a file
			f.problems = append(f.problems, rest)
			continue
		}
		if strings.HasPrefix(line, "warning: ") {
			continue
		}
		if m := diagConcise.FindStringSubmatch(line); m != nil {
			n := lineOf(m[2], m[3])
			if m[5] == unformattedID {
				if err := f.file(root, m[1], n); err != nil {
					return nil, err
				}
			} else if !subDiagnostic[m[5]] {
				f.problems = append(f.problems, problem(m[1], n, m[5], m[6]))
			}
			continue
		}
		if m := diagHeader.FindStringSubmatch(line); m != nil && !subDiagnostic[m[1]] {
			header = line
		}
	}
	return f, nil
}

// lineOf is the line a diagnostic names: its row, or 1 in a notebook (whose rows count within
// a cell).
func lineOf(cell, row string) int {
	n, err := strconv.Atoi(row)
	if cell != "" || err != nil {
		return 1
	}
	return n
}

const formatReadFix = "the gate reads ruff's JSON (0.16 on) and its text output (\"Would reformat:\" lines, or \"full\"/\"concise\" diagnostics): remove any other output-format from [tool.ruff] in pyproject.toml, or report this with ruff's output"

// formatError is a refusal to decide, with ruff's own last words as details.
type formatError struct {
	msg     string
	details []string
}

func (e *formatError) Error() string { return e.msg }

func (f *formatFindings) check(run Run, asJSON bool) ([]Issue, error) {
	n := len(f.files)
	switch {
	case run.ExitCode >= 2 || run.ExitCode < 0:
		if len(f.problems) > 0 {
			return nil, f.problemsError()
		}
		return nil, &formatError{
			msg:     fmt.Sprintf("ruff format --check exited %d: fix what ruff says below (often the ruff configuration in pyproject.toml)", run.ExitCode),
			details: gate.Tail(strings.TrimSpace(run.Stderr+"\n"+tailIfText(run.Stdout, asJSON)), 10),
		}
	case len(f.problems) > 0:
		return nil, f.problemsError()
	case f.noPython && n == 0:
		return nil, fmt.Errorf("ruff format found no Python files in the project: check --project and the include/exclude settings of [tool.ruff] in pyproject.toml")
	case f.count >= 0 && f.count != n:
		return nil, fmt.Errorf("ruff format says %d files would be reformatted but the gate read %d from its output: %s", f.count, n, formatReadFix)
	case run.ExitCode == 1 && n == 0:
		return nil, fmt.Errorf("ruff format --check exited 1 (a file would be reformatted) but the gate read no file from its output: %s", formatReadFix)
	case run.ExitCode == 0 && n > 0:
		return nil, fmt.Errorf("ruff format --check exited 0 (nothing to reformat) but its output lists %d files: pass the output and exit code of the same run", n)
	case run.ExitCode == 0 && !asJSON && !f.summary:
		return nil, fmt.Errorf("ruff format output has no summary line (\"N files already formatted\"): run `ruff format --check` without --quiet and pass its complete output (stdout and stderr)")
	}
	paths := make([]string, 0, n)
	for p := range f.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	issues := make([]Issue, 0, n)
	for _, p := range paths {
		issues = append(issues, Issue{
			Description: FormatDescription,
			CheckName:   FormatCheck,
			// One issue a file: its identity does not move with the line ruff points at, nor
			// between ruff releases (those before 0.16 name no line).
			Fingerprint: Fingerprint(FormatCheck, p, 1, FormatDescription),
			Severity:    SeverityMinor,
			Location:    Location{Path: p, Lines: Lines{Begin: f.files[p]}},
		})
	}
	Sort(issues)
	return issues, nil
}

func tailIfText(stdout string, asJSON bool) string {
	if asJSON {
		return ""
	}
	return stdout
}

func (f *formatFindings) problemsError() error {
	return &formatError{
		msg:     fmt.Sprintf("ruff format could not check every file (%d problems): fix them; `ruff check` reports syntax errors too", len(f.problems)),
		details: f.problems[:min(len(f.problems), MaxDetails)],
	}
}
