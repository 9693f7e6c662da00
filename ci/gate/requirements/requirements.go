// Package requirements checks that a committed requirements-<service>.txt matches what
// `pdm export` produces from pdm.lock.
//
// Both files are normalised before they are compared, so that only meaningful
// differences count: comments, blank lines, line continuations and --hash options are
// dropped; package names are normalised (PEP 503: lowercase, runs of "-", "_", "." become
// "-"); extras and version specifiers are sorted; environment markers get uniform
// spacing and quotes, and their top-level "and" clauses are sorted; finally the lines
// are sorted. A difference is reported as a unified diff with the command that fixes it.
//
// Uses the standard library and github.com/pmezard/go-difflib only.
package requirements

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Requirement is one normalised requirement line.
type Requirement struct {
	// Name is the PEP 503 normalised project name.
	Name string
	// Extras are normalised and sorted.
	Extras []string
	// Specifier is the comma-joined, sorted version specifiers ("<2,>=1.0"), or "".
	Specifier string
	// URL is the direct reference after "@", or "".
	URL string
	// Marker is the normalised environment marker, or "".
	Marker string
	// Options are per-requirement options other than --hash, sorted.
	Options []string
	// Line is the 1-based physical line the requirement starts on.
	Line int
}

// String renders the canonical form of r.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		b.WriteString("[" + strings.Join(r.Extras, ",") + "]")
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if r.Marker != "" {
			b.WriteString(" ; " + r.Marker)
		}
	} else {
		b.WriteString(r.Specifier)
		if r.Marker != "" {
			b.WriteString("; " + r.Marker)
		}
	}
	for _, o := range r.Options {
		b.WriteString(" " + o)
	}
	return b.String()
}

// File is a parsed requirements file.
type File struct {
	// Options are global option lines ("--index-url URL", "--editable PATH", ...),
	// with short options spelled long.
	Options []string
	// Requirements are the requirement lines in file order.
	Requirements []Requirement
}

// Canonical returns the normalised lines: sorted options, then sorted requirements.
func (f File) Canonical() []string {
	opts := append([]string(nil), f.Options...)
	sort.Strings(opts)
	reqs := make([]string, len(f.Requirements))
	for i, r := range f.Requirements {
		reqs[i] = r.String()
	}
	sort.Strings(reqs)
	return append(opts, reqs...)
}

var (
	nameRE        = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)
	separatorRE   = regexp.MustCompile(`[-_.]+`)
	specRE        = regexp.MustCompile(`^(===|~=|==|!=|<=|>=|<|>)\s*([A-Za-z0-9_.*+!-]+)$`)
	commentRE     = regexp.MustCompile(`(^|\s+)#.*$`)
	commentLineRE = regexp.MustCompile(`^\s*#`)
)

// NormalizeName applies PEP 503: lowercase and runs of "-", "_", "." become "-".
func NormalizeName(name string) string {
	return strings.ToLower(separatorRE.ReplaceAllString(name, "-"))
}

// shortOptions maps pip's short options to their long spelling.
var shortOptions = map[string]string{
	"-i": "--index-url", "-f": "--find-links", "-r": "--requirement",
	"-c": "--constraint", "-e": "--editable",
}

// flagOptions take no value.
var flagOptions = map[string]bool{"--pre": true, "--prefer-binary": true, "--require-hashes": true, "--no-index": true}

// Parse reads a pip requirements file as written by `pdm export`.
func Parse(data []byte) (File, error) {
	var f File
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var logical strings.Builder
	start, n := 0, 0
	flush := func() error {
		text := logical.String()
		logical.Reset()
		return f.addLine(text, start)
	}
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if logical.Len() == 0 {
			start = n
		}
		// pip's rule: a line ending in "\" continues on the next one, unless the line
		// is a comment line; comments are stripped after joining.
		if strings.HasSuffix(line, `\`) && !commentLineRE.MatchString(line) {
			logical.WriteString(strings.TrimSuffix(line, `\`))
			logical.WriteString(" ")
			continue
		}
		logical.WriteString(line)
		if err := flush(); err != nil {
			return File{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return File{}, fmt.Errorf("line %d: %v: keep lines under 1 MiB", n+1, err)
	}
	if logical.Len() > 0 {
		if err := flush(); err != nil {
			return File{}, err
		}
	}
	return f, nil
}

func (f *File) addLine(text string, line int) error {
	text = strings.TrimSpace(commentRE.ReplaceAllString(text, ""))
	if text == "" {
		return nil
	}
	if strings.HasSuffix(text, `\`) {
		return fmt.Errorf("line %d: stray '\\' followed by spaces at the end of the line: remove the spaces to continue the line, or the '\\'", line)
	}
	if strings.HasPrefix(text, "-") {
		opt, err := parseOption(text, line)
		if err != nil {
			return err
		}
		if opt != "" {
			f.Options = append(f.Options, opt)
		}
		return nil
	}
	r, err := parseRequirement(text, line)
	if err != nil {
		return err
	}
	f.Requirements = append(f.Requirements, r)
	return nil
}

// parseOption normalises a global option line; --hash alone is dropped.
func parseOption(text string, line int) (string, error) {
	fields := strings.Fields(text)
	var name, value string
	var hasEq bool
	if long, ok := shortOptions[fields[0]]; ok {
		name = long
	} else if long, ok := shortOptions[fields[0][:min(2, len(fields[0]))]]; ok && !strings.HasPrefix(fields[0], "--") {
		// "-ehttps://..." style: short option glued to its value.
		name, value, hasEq = long, fields[0][2:], true
	} else {
		name, value, hasEq = strings.Cut(fields[0], "=")
	}
	rest := fields[1:]
	if !hasEq && len(rest) > 0 && !flagOptions[name] {
		value, rest = rest[0], rest[1:]
	}
	if name == "--hash" {
		return "", nil
	}
	if !strings.HasPrefix(name, "--") || len(name) < 3 {
		return "", fmt.Errorf("line %d: unknown option %q: remove it or write it as --name value", line, fields[0])
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("line %d: unexpected %q after %s: put one option a line", line, strings.Join(rest, " "), name)
	}
	if flagOptions[name] {
		if value != "" {
			return "", fmt.Errorf("line %d: %s takes no value: remove %q", line, name, value)
		}
		return name, nil
	}
	if value == "" {
		return "", fmt.Errorf("line %d: %s needs a value", line, name)
	}
	if strings.HasPrefix(value, "#") {
		return "", fmt.Errorf("line %d: the value of %s starts with '#', which reads as a comment: quote-free paths and URLs only", line, name)
	}
	return name + " " + value, nil
}

// splitOptions separates trailing per-requirement options ("--hash=...") from the
// requirement text; quoted strings are respected.
func splitOptions(text string) (string, []string) {
	quote := byte(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(text) && text[i+1] == '-' && i > 0 && (text[i-1] == ' ' || text[i-1] == '\t'):
			return strings.TrimSpace(text[:i]), strings.Fields(text[i:])
		}
	}
	return text, nil
}

func parseRequirement(text string, line int) (Requirement, error) {
	fail := func(format string, args ...any) (Requirement, error) {
		return Requirement{}, fmt.Errorf("line %d: %q: %s: write requirements as name[extras]==version; marker (PEP 508)", line, text, fmt.Sprintf(format, args...))
	}
	body, rawOpts := splitOptions(text)
	r := Requirement{Line: line}
	for i := 0; i < len(rawOpts); i++ {
		o := rawOpts[i]
		if strings.HasPrefix(o, "--hash") {
			if o == "--hash" {
				i++ // "--hash sha256:..." form
			}
			continue
		}
		if !strings.HasPrefix(o, "--") || len(o) < 3 {
			return fail("unexpected %q among the options", o)
		}
		r.Options = append(r.Options, o)
	}
	sort.Strings(r.Options)

	name := nameRE.FindString(body)
	if name == "" {
		return fail("no project name")
	}
	r.Name = NormalizeName(name)
	rest := strings.TrimLeft(body[len(name):], " \t")

	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fail("unclosed [extras]")
		}
		for _, e := range strings.Split(rest[1:end], ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if nameRE.FindString(e) != e {
				return fail("invalid extra %q", e)
			}
			r.Extras = append(r.Extras, NormalizeName(e))
		}
		sort.Strings(r.Extras)
		r.Extras = dedupe(r.Extras)
		rest = strings.TrimLeft(rest[end+1:], " \t")
	}

	var marker string
	hasMarker := false
	if strings.HasPrefix(rest, "@") {
		rest = strings.TrimLeft(rest[1:], " \t")
		url := rest
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			url, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
			if rest != "" && !strings.HasPrefix(rest, ";") {
				return fail("unexpected %q after the URL", rest)
			}
			if rest != "" {
				marker, hasMarker = rest[1:], true
			}
		}
		if url == "" || !strings.Contains(url, ":") {
			return fail("direct reference without a URL")
		}
		r.URL = url
	} else {
		spec := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			spec, marker, hasMarker = rest[:i], rest[i+1:], true
		}
		spec = strings.TrimSpace(spec)
		if strings.HasPrefix(spec, "(") && strings.HasSuffix(spec, ")") {
			spec = spec[1 : len(spec)-1]
		}
		if strings.TrimSpace(spec) != "" {
			var items []string
			for _, it := range strings.Split(spec, ",") {
				it = strings.TrimSpace(it)
				m := specRE.FindStringSubmatch(it)
				if m == nil {
					return fail("invalid version specifier %q", it)
				}
				items = append(items, m[1]+m[2])
			}
			sort.Strings(items)
			r.Specifier = strings.Join(dedupe(items), ",")
		}
	}
	if hasMarker {
		m, err := normalizeMarker(marker)
		if err != nil {
			return fail("%v", err)
		}
		r.Marker = m
	}
	return r, nil
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// ExportCommand is the command that regenerates the requirements file of a service.
func ExportCommand(svc domain.Service) string {
	return fmt.Sprintf("pdm export --prod -G %s --without-hashes -o %s", svc, svc.Requirements())
}

// Compare normalises the committed file (pinned) and the `pdm export` output
// (exported) of svc and returns a unified diff of the normalised lines ("" when they
// match). When they differ, the error names the command that fixes it.
func Compare(svc domain.Service, pinned, exported []byte) (string, error) {
	pf, err := Parse(pinned)
	if err != nil {
		return "", fmt.Errorf("%s: %w (or regenerate it: run `%s` and commit)", svc.Requirements(), err, ExportCommand(svc))
	}
	ef, err := Parse(exported)
	if err != nil {
		return "", fmt.Errorf("output of `pdm export --prod -G %s`: %w", svc, err)
	}
	a, b := pf.Canonical(), ef.Canonical()
	if equal(a, b) {
		return "", nil
	}
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        withNewlines(a),
		B:        withNewlines(b),
		FromFile: svc.Requirements() + " (committed)",
		ToFile:   "pdm export --prod -G " + string(svc) + " (from pdm.lock)",
		Context:  2,
	})
	if err != nil {
		return "", fmt.Errorf("computing the diff: %w", err)
	}
	return diff, fmt.Errorf("%s does not match pdm.lock (%s): run `%s` and commit",
		svc.Requirements(), summary(a, b), ExportCommand(svc))
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func withNewlines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\n"
	}
	return out
}

// summary counts lines only in a and only in b.
func summary(a, b []string) string {
	count := map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		count[l]--
	}
	removed, added := 0, 0
	for _, c := range count {
		if c > 0 {
			removed += c
		} else {
			added -= c
		}
	}
	return fmt.Sprintf("%d line(s) only in the committed file, %d only in the export", removed, added)
}
