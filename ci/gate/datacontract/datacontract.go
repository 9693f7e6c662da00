// Package datacontract reads a Great Expectations validation result and splits its
// expectations into the blocking data-contracts gate (critical) and the data-advisory
// signal (advisory).
//
// Severity comes from each expectation's meta.severity: "critical" (also the default
// when missing, so contracts fail closed) or "advisory". Both GX 1.x
// (expectation_config.type) and 0.18 (expectation_config.expectation_type) are read.
package datacontract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Severity says whether a failed expectation blocks.
type Severity string

const (
	// Critical expectations block the pipeline when they fail. Missing severity means Critical.
	Critical Severity = "critical"
	// Advisory expectations are reported as the data-advisory signal only.
	Advisory Severity = "advisory"
)

// ParseSeverity reads a meta.severity value: "" means Critical; otherwise "critical" or
// "advisory" (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", string(Critical):
		return Critical, nil
	case string(Advisory):
		return Advisory, nil
	}
	return "", fmt.Errorf("unknown severity %q: set meta.severity to one of critical, advisory (missing means critical)", s)
}

// Finding is one evaluated expectation.
type Finding struct {
	// Suite is the expectation suite's name, when the result names it.
	Suite string
	// Expectation is the expectation type, e.g. "expect_column_values_to_not_be_null".
	Expectation string
	// Kwargs are the expectation's arguments (column, value_set, …).
	Kwargs map[string]any
	// Severity is Critical or Advisory.
	Severity Severity
	// Success is the expectation's outcome. An expectation that raised an exception is not a success.
	Success bool
	// UnexpectedCount is result.unexpected_count, when present.
	UnexpectedCount *int64
	// Observed is result.observed_value as compact JSON, when present (at most 80 runes).
	Observed string
	// Exception is the exception message when the expectation raised one.
	Exception string
}

// Target is the column part of the finding: "home_team", "a, b", or "".
func (f Finding) Target() string {
	if c, ok := f.Kwargs["column"].(string); ok {
		return c
	}
	a, okA := f.Kwargs["column_A"].(string)
	b, okB := f.Kwargs["column_B"].(string)
	if okA && okB {
		return a + ", " + b
	}
	if list, ok := f.Kwargs["column_list"].([]any); ok {
		var cols []string
		for _, c := range list {
			if s, ok := c.(string); ok {
				cols = append(cols, s)
			}
		}
		return strings.Join(cols, ", ")
	}
	return ""
}

// String is e.g. "expect_column_values_to_not_be_null(home_team): 3 unexpected",
// "expect_table_row_count_to_be_between: observed 0" or "…: raised ValueError: …".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Expectation)
	if t := f.Target(); t != "" {
		b.WriteString("(" + t + ")")
	}
	switch {
	case f.Exception != "":
		b.WriteString(": raised " + f.Exception)
	case f.UnexpectedCount != nil:
		fmt.Fprintf(&b, ": %d unexpected", *f.UnexpectedCount)
	case f.Observed != "":
		b.WriteString(": observed " + f.Observed)
	case f.Success:
		b.WriteString(": passed")
	default:
		b.WriteString(": failed")
	}
	return b.String()
}

type wireConfig struct {
	Type            string         `json:"type"`
	ExpectationType string         `json:"expectation_type"`
	Kwargs          map[string]any `json:"kwargs"`
	Meta            map[string]any `json:"meta"`
}

type wireResult struct {
	Success           *bool           `json:"success"`
	ExpectationConfig *wireConfig     `json:"expectation_config"`
	Result            map[string]any  `json:"result"`
	ExceptionInfo     json.RawMessage `json:"exception_info"`
}

type wireValidation struct {
	Success   *bool           `json:"success"`
	Results   *[]wireResult   `json:"results"`
	SuiteName string          `json:"suite_name"`
	Meta      map[string]any  `json:"meta"`
	Run       json.RawMessage `json:"run_results"`
}

// Parse reads ge-results.json: one validation result ({"results": [...]}), a JSON array
// of them, or a checkpoint result whose run_results map to validation results (directly or
// under "validation_result"). Every expectation needs a type and a known severity.
func Parse(data []byte) ([]Finding, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("data contracts: ge-results.json is empty: write the validation result with result.to_json_dict()")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("data contracts: ge-results.json is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("data contracts: ge-results.json has trailing data after the JSON value: write one document")
	}
	var validations []json.RawMessage
	switch trimmed[0] {
	case '[':
		if err := json.Unmarshal(trimmed, &validations); err != nil {
			return nil, fmt.Errorf("data contracts: ge-results.json: %w", err)
		}
	case '{':
		validations = []json.RawMessage{trimmed}
	default:
		return nil, errors.New("data contracts: ge-results.json is not a validation result object: write result.to_json_dict()")
	}
	var out []Finding
	for i, raw := range validations {
		fs, err := parseValidation(raw, 0)
		if err != nil {
			if len(validations) > 1 {
				return nil, fmt.Errorf("data contracts: validation %d: %w", i, err)
			}
			return nil, fmt.Errorf("data contracts: %w", err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

func suiteName(w wireValidation) string {
	if w.SuiteName != "" {
		return w.SuiteName
	}
	if s, ok := w.Meta["expectation_suite_name"].(string); ok {
		return s
	}
	return ""
}

func parseValidation(raw json.RawMessage, depth int) ([]Finding, error) {
	if depth > 2 {
		return nil, errors.New("checkpoint results nested too deeply: write a validation result")
	}
	var w wireValidation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("not a validation result: %w", err)
	}
	if w.Results == nil {
		if len(w.Run) > 0 && string(w.Run) != "null" {
			return parseCheckpoint(w.Run, depth)
		}
		return nil, errors.New(`no "results" array: write the validation result (result.to_json_dict()), not the suite`)
	}
	suite := suiteName(w)
	var out []Finding
	for i, r := range *w.Results {
		f, err := parseResult(r)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i, err)
		}
		f.Suite = suite
		out = append(out, f)
	}
	return out, nil
}

func parseCheckpoint(run json.RawMessage, depth int) ([]Finding, error) {
	var runs map[string]json.RawMessage
	if err := json.Unmarshal(run, &runs); err != nil {
		return nil, fmt.Errorf("run_results is not an object: %w", err)
	}
	keys := make([]string, 0, len(runs))
	for k := range runs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Finding
	for _, k := range keys {
		raw := runs[k]
		var wrapped struct {
			ValidationResult json.RawMessage `json:"validation_result"`
		}
		if err := json.Unmarshal(raw, &wrapped); err == nil && len(wrapped.ValidationResult) > 0 && string(wrapped.ValidationResult) != "null" {
			raw = wrapped.ValidationResult
		}
		fs, err := parseValidation(raw, depth+1)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", k, err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

func parseResult(r wireResult) (Finding, error) {
	if r.ExpectationConfig == nil {
		return Finding{}, errors.New("no expectation_config: write the validation result with result_format BASIC or richer")
	}
	c := r.ExpectationConfig
	typ := c.Type
	if typ == "" {
		typ = c.ExpectationType
	}
	if typ == "" {
		return Finding{}, errors.New("expectation_config has neither type (GX 1.x) nor expectation_type (0.18)")
	}
	var sevRaw string
	if s, ok := c.Meta["severity"]; ok && s != nil {
		str, ok := s.(string)
		if !ok {
			return Finding{}, fmt.Errorf("%s: meta.severity is %v, not a string: set it to one of critical, advisory", typ, s)
		}
		sevRaw = str
	}
	sev, err := ParseSeverity(sevRaw)
	if err != nil {
		return Finding{}, fmt.Errorf("%s: %w", typ, err)
	}
	f := Finding{Expectation: typ, Kwargs: c.Kwargs, Severity: sev}
	if f.Kwargs == nil {
		f.Kwargs = map[string]any{}
	}
	if r.Success == nil {
		return Finding{}, fmt.Errorf("%s: no success field: write the validation result unchanged", typ)
	}
	f.Success = *r.Success
	if n, ok := r.Result["unexpected_count"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			f.UnexpectedCount = &v
		}
	}
	if ov, ok := r.Result["observed_value"]; ok && ov != nil {
		b, _ := json.Marshal(ov)
		f.Observed = clip(string(b), 80)
	}
	if msg, raised := exception(r.ExceptionInfo); raised {
		f.Exception = msg
		f.Success = false
	}
	return f, nil
}

type wireException struct {
	Raised  bool   `json:"raised_exception"`
	Message string `json:"exception_message"`
}

// exception reads exception_info: either {"raised_exception":…} or (GX 1.x, several
// metrics) an object of such objects keyed by metric.
func exception(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var flat map[string]json.RawMessage
	if err := json.Unmarshal(raw, &flat); err != nil {
		return "", false
	}
	if _, ok := flat["raised_exception"]; ok {
		var e wireException
		if err := json.Unmarshal(raw, &e); err == nil && e.Raised {
			return firstLine(e.Message), true
		}
		return "", false
	}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var e wireException
		if err := json.Unmarshal(flat[k], &e); err == nil && e.Raised {
			return firstLine(e.Message), true
		}
	}
	return "", false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if s == "" {
		return "an exception"
	}
	return clip(s, 200)
}

// clip shortens s to at most n runes, ending in "..." when cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// MaxInSummary is how many failed expectations a summary names before "and N more".
const MaxInSummary = 5

func summarize(failed []Finding, total int, sev Severity) string {
	if total == 0 {
		return fmt.Sprintf("no %s expectations", sev)
	}
	if len(failed) == 0 {
		return fmt.Sprintf("all %d %s expectations passed", total, sev)
	}
	var names []string
	for i, f := range failed {
		if i == MaxInSummary {
			names = append(names, fmt.Sprintf("and %d more", len(failed)-MaxInSummary))
			break
		}
		names = append(names, f.String())
	}
	return fmt.Sprintf("%d of %d %s expectations failed: %s", len(failed), total, sev, strings.Join(names, "; "))
}

func details(failed []Finding) []string {
	var out []string
	for _, f := range failed {
		d := f.String()
		if f.Suite != "" {
			d = f.Suite + ": " + d
		}
		out = append(out, d)
	}
	return out
}

// Results turns findings into the blocking data-contracts result and the data-advisory
// signal. data-contracts fails when a critical expectation failed, and also when no
// critical expectation was evaluated at all (an empty contract proves nothing).
func Results(findings []Finding) (contracts, advisory gate.Result) {
	var crit, adv, critFailed, advFailed []Finding
	for _, f := range findings {
		if f.Severity == Advisory {
			adv = append(adv, f)
			if !f.Success {
				advFailed = append(advFailed, f)
			}
			continue
		}
		crit = append(crit, f)
		if !f.Success {
			critFailed = append(critFailed, f)
		}
	}
	switch {
	case len(crit) == 0:
		contracts = gate.NewResult(gate.DataContracts, gate.Fail, "no critical expectations were evaluated",
			"the validation result holds no critical expectation: check the suite and that severity is set in meta.severity")
	case len(critFailed) > 0:
		contracts = gate.NewResult(gate.DataContracts, gate.Fail, summarize(critFailed, len(crit), Critical), details(critFailed)...)
	default:
		contracts = gate.NewResult(gate.DataContracts, gate.Pass, summarize(nil, len(crit), Critical))
	}
	if len(advFailed) > 0 {
		advisory = gate.NewResult(gate.DataAdvisory, gate.Fail, summarize(advFailed, len(adv), Advisory), details(advFailed)...)
	} else {
		advisory = gate.NewResult(gate.DataAdvisory, gate.Pass, summarize(nil, len(adv), Advisory))
	}
	return contracts, advisory
}

// Evaluate parses ge-results.json and returns [data-contracts, data-advisory]. A file
// that does not parse yields Error results for both, naming the problem.
func Evaluate(data []byte) []gate.Result {
	findings, err := Parse(data)
	if err != nil {
		return []gate.Result{gate.Errored(gate.DataContracts, err), gate.Errored(gate.DataAdvisory, err)}
	}
	c, a := Results(findings)
	return []gate.Result{c, a}
}
