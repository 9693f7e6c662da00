package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON produced by Report.JSON. ParseReport
// accepts only this version.
const SchemaVersion = 1

// Report is the outcome of a run of gates.
type Report struct {
	// Results holds one entry a gate, in the order the gates were given.
	Results []Result
	// Started and Finished bracket the run; zero when unknown.
	Started, Finished time.Time
	// Commit is the commit the gates ran on; empty when unknown.
	Commit string
}

// Verdict is the pipeline decision drawn from a report.
type Verdict struct {
	// Pass is false exactly when some blocking gate failed or errored.
	Pass bool
	// Blocking names the blocking gates that failed or errored, in report order.
	Blocking []string
	// Signals names the signal gates that failed or errored, in report order.
	// They are reported, never enforced.
	Signals []string
}

// String is "PASS" or "FAIL (gate, gate)"; raised signals are appended for information.
func (v Verdict) String() string {
	var b strings.Builder
	if v.Pass {
		b.WriteString("PASS")
	} else {
		fmt.Fprintf(&b, "FAIL (blocking: %s)", strings.Join(v.Blocking, ", "))
	}
	if len(v.Signals) > 0 {
		fmt.Fprintf(&b, "; signals raised: %s", strings.Join(v.Signals, ", "))
	}
	return b.String()
}

// Err is nil when the verdict passes, else an error naming the blocking gates.
func (v Verdict) Err() error {
	if v.Pass {
		return nil
	}
	return fmt.Errorf("quality gates failed: %s: see %s for details", strings.Join(v.Blocking, ", "), GateReportMarkdown)
}

// Verdict fails only when a blocking gate failed or errored; signals never block.
// Results with an unknown kind count as blocking and unknown statuses count as
// failed (fail closed).
func (r Report) Verdict() Verdict {
	v := Verdict{Pass: true}
	for _, res := range r.Results {
		switch {
		case res.Blocks():
			v.Pass = false
			v.Blocking = append(v.Blocking, res.Name)
		case res.Kind == Signal && res.Status != Pass && res.Status != Skipped:
			v.Signals = append(v.Signals, res.Name)
		}
	}
	return v
}

// Validate checks every result (see Result.Validate) and that Finished is not before Started.
func (r Report) Validate() error {
	var errs []error
	for i, res := range r.Results {
		if err := res.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("result %d: %w", i, err))
		}
	}
	if !r.Started.IsZero() && !r.Finished.IsZero() && r.Finished.Before(r.Started) {
		errs = append(errs, fmt.Errorf("report finished (%s) before it started (%s): pass the times in order",
			r.Finished.Format(time.RFC3339Nano), r.Started.Format(time.RFC3339Nano)))
	}
	return errors.Join(errs...)
}

// wire formats (stable; bump SchemaVersion on any incompatible change).
type wireReport struct {
	SchemaVersion    int          `json:"schemaVersion"`
	Commit           string       `json:"commit"`
	Started          string       `json:"started"`
	Finished         string       `json:"finished"`
	Verdict          string       `json:"verdict"`
	BlockingFailures []string     `json:"blockingFailures"`
	SignalsRaised    []string     `json:"signalsRaised"`
	Results          []wireResult `json:"results"`
}

type wireResult struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Status     string   `json:"status"`
	DurationMs int64    `json:"durationMs"`
	Summary    string   `json:"summary"`
	Details    []string `json:"details"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("gate report: %s %q is not an RFC 3339 time: write it like 2006-01-02T15:04:05Z", field, s)
	}
	return t.UTC(), nil
}

func verdictWord(v Verdict) string {
	if v.Pass {
		return "pass"
	}
	return "fail"
}

// JSON renders the report with a stable schema:
//
//	{"schemaVersion":1,"commit":"…","started":"RFC 3339","finished":"RFC 3339",
//	 "verdict":"pass|fail","blockingFailures":[…],"signalsRaised":[…],
//	 "results":[{"name","kind","status","durationMs","summary","details":[…]}]}
//
// Durations are whole milliseconds (rounded), times are UTC. It fails only when the report is
// invalid (see Validate), so that every file written parses back.
func (r Report) JSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	v := r.Verdict()
	w := wireReport{
		SchemaVersion:    SchemaVersion,
		Commit:           r.Commit,
		Started:          formatTime(r.Started),
		Finished:         formatTime(r.Finished),
		Verdict:          verdictWord(v),
		BlockingFailures: nonNil(v.Blocking),
		SignalsRaised:    nonNil(v.Signals),
		Results:          make([]wireResult, 0, len(r.Results)),
	}
	for _, res := range r.Results {
		w.Results = append(w.Results, wireResult{
			Name:       res.Name,
			Kind:       string(res.Kind),
			Status:     string(res.Status),
			DurationMs: res.Duration.Round(time.Millisecond).Milliseconds(),
			Summary:    res.Summary,
			Details:    nonNil(res.Details),
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("gate report: encode JSON: %w", err)
	}
	return buf.Bytes(), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ParseReport reads what Report.JSON wrote. It rejects other schema versions, unknown
// fields, unknown kinds and statuses, negative durations, and a stored verdict that
// disagrees with the results. Empty detail lists come back as nil.
func ParseReport(data []byte) (Report, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireReport
	if err := dec.Decode(&w); err != nil {
		return Report{}, fmt.Errorf("gate report: not valid JSON of schema %d: %w", SchemaVersion, err)
	}
	if dec.More() {
		return Report{}, fmt.Errorf("gate report: trailing data after the JSON object: write one object per file")
	}
	if w.SchemaVersion != SchemaVersion {
		return Report{}, fmt.Errorf("gate report: schemaVersion %d is not supported: regenerate the report (this code reads version %d)", w.SchemaVersion, SchemaVersion)
	}
	var r Report
	var err error
	r.Commit = w.Commit
	if r.Started, err = parseTime("started", w.Started); err != nil {
		return Report{}, err
	}
	if r.Finished, err = parseTime("finished", w.Finished); err != nil {
		return Report{}, err
	}
	for i, wr := range w.Results {
		k, err := ParseKind(wr.Kind)
		if err != nil || string(k) != wr.Kind {
			return Report{}, fmt.Errorf("gate report: result %d (%q): unknown kind %q: use one of %s, %s", i, wr.Name, wr.Kind, Blocking, Signal)
		}
		s, err := ParseStatus(wr.Status)
		if err != nil || string(s) != wr.Status {
			return Report{}, fmt.Errorf("gate report: result %d (%q): unknown status %q: use one of pass, fail, error, skipped", i, wr.Name, wr.Status)
		}
		const maxMs = int64(time.Duration(1<<63-1) / time.Millisecond)
		if wr.DurationMs < 0 || wr.DurationMs > maxMs {
			return Report{}, fmt.Errorf("gate report: result %d (%q): durationMs %d out of range 0..%d", i, wr.Name, wr.DurationMs, maxMs)
		}
		var details []string
		if len(wr.Details) > 0 {
			details = wr.Details
		}
		r.Results = append(r.Results, Result{
			Name: wr.Name, Kind: k, Status: s,
			Duration: time.Duration(wr.DurationMs) * time.Millisecond,
			Summary:  wr.Summary, Details: details,
		})
	}
	if err := r.Validate(); err != nil {
		return Report{}, fmt.Errorf("gate report: %w", err)
	}
	if got := verdictWord(r.Verdict()); w.Verdict != got {
		return Report{}, fmt.Errorf("gate report: stored verdict %q disagrees with the results (%q): the file was edited or corrupted; regenerate it", w.Verdict, got)
	}
	return r, nil
}

// escapeCell makes s safe inside one Markdown table cell: HTML-escapes it, escapes
// "|" and turns line breaks into <br>.
func escapeCell(s string) string {
	s = html.EscapeString(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", "<br>")
	return s
}

// fence returns a backtick fence longer than any backtick run in lines.
func fence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l {
			if c == '`' {
				run++
				if run > longest {
					longest = run
				}
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

// Markdown renders the report: a table (gate, blocking/signal, status as
// PASS/FAIL/ERROR/SKIPPED, duration, summary), a details section for every gate that
// failed or errored, and a final verdict line. It never fails, even on an invalid report.
func (r Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# Quality gates\n\n")
	if r.Commit != "" {
		fmt.Fprintf(&b, "Commit: `%s`\n\n", strings.ReplaceAll(escapeCell(r.Commit), "`", "'"))
	}
	b.WriteString("| Gate | Type | Status | Duration | Summary |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, res := range r.Results {
		kind := string(res.Kind)
		if !res.Kind.Valid() {
			kind = fmt.Sprintf("unknown(%s), counted as blocking", res.Kind)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
			escapeCell(res.Name), escapeCell(kind), escapeCell(res.Status.Label()),
			formatDuration(res.Duration), escapeCell(res.Summary))
	}
	var failed []Result
	for _, res := range r.Results {
		if res.Status != Pass && res.Status != Skipped {
			failed = append(failed, res)
		}
	}
	if len(failed) > 0 {
		b.WriteString("\n## Details\n")
		for _, res := range failed {
			note := "blocking"
			if res.Kind == Signal {
				note = "signal, does not block"
			}
			name := strings.NewReplacer("\r", " ", "\n", " ").Replace(html.EscapeString(res.Name))
			fmt.Fprintf(&b, "\n### %s: %s (%s)\n\n", name, res.Status.Label(), note)
			if res.Summary != "" {
				fmt.Fprintf(&b, "%s\n\n", escapeCell(res.Summary))
			}
			if len(res.Details) > 0 {
				var lines []string
				for _, d := range res.Details {
					lines = append(lines, strings.Split(strings.ReplaceAll(d, "\r\n", "\n"), "\n")...)
				}
				f := fence(lines)
				b.WriteString(f + "text\n")
				for _, l := range lines {
					b.WriteString(l + "\n")
				}
				b.WriteString(f + "\n")
			}
		}
	}
	v := r.Verdict()
	b.WriteString("\n")
	if v.Pass {
		b.WriteString("**Verdict: PASS** (no blocking gate failed)")
	} else {
		fmt.Fprintf(&b, "**Verdict: FAIL** (blocking gates failed: %s)", escapeCell(strings.Join(v.Blocking, ", ")))
	}
	if len(v.Signals) > 0 {
		fmt.Fprintf(&b, "; signals raised, not enforced: %s", escapeCell(strings.Join(v.Signals, ", ")))
	}
	b.WriteString("\n")
	return b.String()
}
