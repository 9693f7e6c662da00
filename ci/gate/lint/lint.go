// Package lint turns ruff's output into GitLab Code Quality issues and the lint gate's result.
//
// Inputs: which ruff runs (PlanRuff from requirements-dev.txt and SP_RUFF_VERSION, then
// Resolve from `ruff --version`), `ruff check --output-format=json` (ParseRuff, CodeQuality)
// and `ruff format --check`, as JSON from ruff 0.16 on and as text before (ParseFormat).
// Output: the gl-code-quality-report.json array (Encode) and a gate.Result naming the ruff
// that ran (Evaluate).
package lint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Position is a 1-based row and column in a file.
type Position struct {
	Row    int `json:"row"`
	Column int `json:"column"`
}

// Fix is ruff's suggested fix; only the message and applicability are kept.
type Fix struct {
	Applicability string `json:"applicability"`
	Message       string `json:"message"`
}

// Diagnostic is one entry of ruff's JSON output (`ruff check --output-format=json`, and
// `ruff format --check --output-format=json` from 0.16 on).
type Diagnostic struct {
	// Code is the rule code (e.g. "F401"); empty for syntax errors (ruff writes null).
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	Filename    string   `json:"filename"`
	Location    Position `json:"location"`
	EndLocation Position `json:"end_location"`
	Fix         *Fix     `json:"fix"`
	URL         string   `json:"url"`
	NoqaRow     *int     `json:"noqa_row"`
	// Cell is the notebook cell Location counts in; nil outside notebooks.
	Cell *int `json:"cell"`
}

// rawDiagnostic accepts null for the string fields ruff may leave empty.
type rawDiagnostic struct {
	Code        *string   `json:"code"`
	Message     *string   `json:"message"`
	Filename    *string   `json:"filename"`
	Location    *Position `json:"location"`
	EndLocation *Position `json:"end_location"`
	Fix         *Fix      `json:"fix"`
	URL         *string   `json:"url"`
	NoqaRow     *int      `json:"noqa_row"`
	Cell        *int      `json:"cell"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ParseRuff parses ruff's --output-format=json output: a JSON array of diagnostics.
// Every diagnostic needs a filename and a location; unknown fields are ignored so newer
// ruff versions still parse.
func ParseRuff(data []byte) ([]Diagnostic, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("ruff output is empty: run ruff with --output-format=json and pass its stdout")
	}
	if trimmed[0] != '[' {
		return nil, errors.New("ruff output is not a JSON array: run ruff with --output-format=json and pass its stdout alone (not its text, nor stderr)")
	}
	var raw []rawDiagnostic
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("ruff output is not valid JSON: %w: run ruff with --output-format=json and pass its stdout", err)
	}
	if dec.More() {
		return nil, errors.New("ruff output has trailing data after the JSON array: pass only ruff's stdout")
	}
	out := make([]Diagnostic, 0, len(raw))
	for i, r := range raw {
		if deref(r.Filename) == "" {
			return nil, fmt.Errorf("ruff diagnostic %d has no filename: the output is not ruff's --output-format=json", i)
		}
		if r.Location == nil {
			return nil, fmt.Errorf("ruff diagnostic %d (%s) has no location: the output is not ruff's --output-format=json", i, deref(r.Filename))
		}
		d := Diagnostic{
			Code: deref(r.Code), Message: deref(r.Message), Filename: deref(r.Filename),
			Location: *r.Location, Fix: r.Fix, URL: deref(r.URL), NoqaRow: r.NoqaRow, Cell: r.Cell,
		}
		if r.EndLocation != nil {
			d.EndLocation = *r.EndLocation
		}
		out = append(out, d)
	}
	return out, nil
}

// Severities of the GitLab Code Quality report.
const (
	SeverityInfo     = "info"
	SeverityMinor    = "minor"
	SeverityMajor    = "major"
	SeverityCritical = "critical"
	SeverityBlocker  = "blocker"
)

// Lines is the line range of an issue.
type Lines struct {
	Begin int `json:"begin"`
}

// Location is where an issue is, relative to the project root.
type Location struct {
	Path  string `json:"path"`
	Lines Lines  `json:"lines"`
}

// Issue is one entry of the GitLab Code Quality report.
type Issue struct {
	Description string   `json:"description"`
	CheckName   string   `json:"check_name"`
	Fingerprint string   `json:"fingerprint"`
	Severity    string   `json:"severity"`
	Location    Location `json:"location"`
}

// SyntaxErrorCheck is the check name used for syntax errors (ruff reports them without a
// code, or with the code "invalid-syntax" from 0.16 on).
const SyntaxErrorCheck = "syntax-error"

// invalidSyntax is ruff's code for a syntax error from 0.16 on.
const invalidSyntax = "invalid-syntax"

// FormatCheck is the check name used for files `ruff format --check` would reformat.
const FormatCheck = "ruff-format"

// Severity maps a ruff diagnostic to a Code Quality severity: syntax errors (no code,
// E999, "invalid-syntax", or a "SyntaxError" message) are blocker, pycodestyle/pyflakes (E*, F*) major,
// everything else minor.
func Severity(d Diagnostic) string {
	switch {
	case isSyntaxError(d):
		return SeverityBlocker
	case strings.HasPrefix(d.Code, "E"), strings.HasPrefix(d.Code, "F"):
		return SeverityMajor
	default:
		return SeverityMinor
	}
}

func isSyntaxError(d Diagnostic) bool {
	return d.Code == "" || d.Code == "E999" || d.Code == invalidSyntax || strings.HasPrefix(d.Message, "SyntaxError")
}

// Fingerprint is the stable identity of an issue: the hex sha256 of check, path, line
// and message. It does not depend on where the project was mounted.
func Fingerprint(check, relPath string, line int, message string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s", check, relPath, line, message)
	return hex.EncodeToString(h.Sum(nil))
}

// RelPath makes a path reported by a tool relative to the project root. root is the
// directory the tool ran in, e.g. "/src" or "/src/" (empty: paths must already be
// relative). A path outside root is an error.
func RelPath(root, p string) (string, error) {
	if p == "" {
		return "", errors.New("empty file path in the lint output")
	}
	cleaned := path.Clean(p)
	if path.IsAbs(cleaned) {
		r := path.Clean("/" + strings.TrimPrefix(root, "/"))
		if root == "" || (cleaned != r && !strings.HasPrefix(cleaned, strings.TrimSuffix(r, "/")+"/")) {
			return "", fmt.Errorf("file %q is outside the project root %q: run ruff in the project root and pass that directory as the root", p, root)
		}
		cleaned = strings.TrimPrefix(strings.TrimPrefix(cleaned, r), "/")
		if cleaned == "" {
			cleaned = "."
		}
	}
	if cleaned == ".." || strings.HasPrefix(cleaned, "../") {
		return "", fmt.Errorf("file %q is outside the project root %q: run ruff in the project root", p, root)
	}
	return cleaned, nil
}

// CodeQuality converts ruff diagnostics to Code Quality issues with paths relative to
// root (see RelPath). Issues come back sorted by path, line, check and description.
func CodeQuality(diags []Diagnostic, root string) ([]Issue, error) {
	issues := make([]Issue, 0, len(diags))
	for _, d := range diags {
		rel, err := RelPath(root, d.Filename)
		if err != nil {
			return nil, err
		}
		check := d.Code
		if isSyntaxError(d) && (check == "" || check == invalidSyntax) {
			check = SyntaxErrorCheck
		}
		line := max(d.Location.Row, 1)
		desc := d.Message
		if desc == "" {
			desc = check
		}
		if d.Code != "" {
			desc = d.Code + " " + desc
		}
		issues = append(issues, Issue{
			Description: desc,
			CheckName:   check,
			Fingerprint: Fingerprint(check, rel, line, d.Message),
			Severity:    Severity(d),
			Location:    Location{Path: rel, Lines: Lines{Begin: line}},
		})
	}
	Sort(issues)
	return issues, nil
}

// Sort orders issues by path, line, check name and description.
func Sort(issues []Issue) {
	sort.SliceStable(issues, func(i, j int) bool {
		a, b := issues[i], issues[j]
		if a.Location.Path != b.Location.Path {
			return a.Location.Path < b.Location.Path
		}
		if a.Location.Lines.Begin != b.Location.Lines.Begin {
			return a.Location.Lines.Begin < b.Location.Lines.Begin
		}
		if a.CheckName != b.CheckName {
			return a.CheckName < b.CheckName
		}
		return a.Description < b.Description
	})
}

// Encode renders issues as the gl-code-quality-report.json array ("[]" when there are none).
func Encode(issues []Issue) ([]byte, error) {
	if issues == nil {
		issues = []Issue{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(issues); err != nil {
		return nil, fmt.Errorf("encode code quality report: %w", err)
	}
	return buf.Bytes(), nil
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Summary is "clean" when there are no issues, else "N issues in M files".
func Summary(issues []Issue) string {
	if len(issues) == 0 {
		return "clean"
	}
	files := map[string]bool{}
	for _, i := range issues {
		files[i.Location.Path] = true
	}
	return fmt.Sprintf("%s in %s", plural(len(issues), "issue"), plural(len(files), "file"))
}

// MaxDetails is how many issues Result lists before summarising the rest.
const MaxDetails = 50

// Result is the lint gate's result: Pass when there are no issues, else Fail with one
// detail line per issue ("path:line [severity] description"), at most MaxDetails.
func Result(issues []Issue) gate.Result {
	if len(issues) == 0 {
		return gate.NewResult(gate.Lint, gate.Pass, Summary(issues))
	}
	var details []string
	for i, is := range issues {
		if i == MaxDetails {
			details = append(details, fmt.Sprintf("… and %d more (see gl-code-quality-report.json)", len(issues)-MaxDetails))
			break
		}
		details = append(details, fmt.Sprintf("%s:%d [%s] %s", is.Location.Path, is.Location.Lines.Begin, is.Severity, is.Description))
	}
	return gate.NewResult(gate.Lint, gate.Fail, Summary(issues), details...)
}

// Evaluate runs the whole lint decision from what ruff printed: check is `ruff check
// --output-format=json` (project.RuffCheck), format is `ruff format --check` as
// project.RuffFormat(ruff.FormatJSON()) asks it; paths are made relative to root. It returns
// the lint result, which names the ruff that ran, and the gl-code-quality-report.json document.
// Output that does not parse, or disagrees with ruff's exit code, yields an Error result naming
// the problem and a nil document.
func Evaluate(ruff Ruff, check, format Run, root string) (gate.Result, []byte) {
	res, doc := evaluate(ruff, check, format, root)
	if res.Status == gate.Error {
		res.Details = append(res.Details, "ran "+ruff.String())
	} else {
		res.Summary += "; " + ruff.String()
	}
	return res, doc
}

func evaluate(ruff Ruff, check, format Run, root string) (gate.Result, []byte) {
	if check.ExitCode > 1 || check.ExitCode < 0 { // 0: clean, 1: findings, 2: ruff itself failed (bad config, crash)
		return gate.NewResult(gate.Lint, gate.Error, fmt.Sprintf("ruff check exited %d: fix the ruff configuration in pyproject.toml", check.ExitCode), gate.Tail(check.Stderr, 10)...), nil
	}
	diags, err := ParseRuff([]byte(check.Stdout))
	if err != nil {
		return gate.Errored(gate.Lint, err), nil
	}
	if (len(diags) > 0) != (check.ExitCode == 1) {
		return gate.Errored(gate.Lint, fmt.Errorf("ruff check exited %d but its JSON lists %d diagnostics: pass the output and exit code of the same run, without --exit-zero", check.ExitCode, len(diags))), nil
	}
	issues, err := CodeQuality(diags, root)
	if err != nil {
		return gate.Errored(gate.Lint, err), nil
	}
	fmtIssues, err := ParseFormat(ruff.FormatJSON(), format, root)
	var ferr *formatError
	if errors.As(err, &ferr) {
		return gate.NewResult(gate.Lint, gate.Error, ferr.msg, ferr.details...), nil
	}
	if err != nil {
		return gate.Errored(gate.Lint, err), nil
	}
	issues = append(issues, fmtIssues...)
	Sort(issues)
	doc, err := Encode(issues)
	if err != nil {
		return gate.Errored(gate.Lint, err), nil
	}
	return Result(issues), doc
}
