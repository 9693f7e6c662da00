// Package junit reads pytest's JUnit XML report (--junitxml) and Cobertura coverage.xml,
// and draws the test gate's result from them.
package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Totals are the counts of a test run.
type Totals struct {
	// Tests is every test case, whatever its outcome.
	Tests int
	// Failures counts assertion failures.
	Failures int
	// Errors counts tests that errored (e.g. in setup or teardown).
	Errors int
	// Skipped counts skipped and xfailed tests.
	Skipped int
	// Seconds is the run time the report states.
	Seconds float64
}

// Passed is Tests minus failures, errors and skipped tests (never negative).
func (t Totals) Passed() int {
	return max(0, t.Tests-t.Failures-t.Errors-t.Skipped)
}

// Failed is one test that failed or errored.
type Failed struct {
	// Name is "classname.name", e.g. "tests.test_api.test_predict[home]".
	Name string
	// Kind is "failure" or "error".
	Kind string
	// Message is the failure's message (its first line when no message attribute), at most MaxMessage runes.
	Message string
}

// MaxMessage is the longest failure message kept, in runes.
const MaxMessage = 300

// Report is a parsed JUnit XML file.
type Report struct {
	Totals
	// Failed lists the failed and errored test cases in file order.
	Failed []Failed
}

type xmlOutcome struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type xmlCase struct {
	ClassName string       `xml:"classname,attr"`
	Name      string       `xml:"name,attr"`
	Failures  []xmlOutcome `xml:"failure"`
	Errors    []xmlOutcome `xml:"error"`
	Skipped   []xmlOutcome `xml:"skipped"`
}

type xmlSuite struct {
	Tests    string     `xml:"tests,attr"`
	Failures string     `xml:"failures,attr"`
	Errors   string     `xml:"errors,attr"`
	Skipped  string     `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Cases    []xmlCase  `xml:"testcase"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlRoot struct {
	XMLName xml.Name
	xmlSuite
}

func attrInt(name, v string) (int, bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("junit: testsuite attribute %s=%q is not a non-negative integer: pass pytest's --junitxml output unchanged", name, v)
	}
	return n, true, nil
}

func truncate(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= MaxMessage {
		return s
	}
	r := []rune(s)
	return string(r[:MaxMessage]) + "…"
}

func message(o xmlOutcome) string {
	if m := strings.TrimSpace(o.Message); m != "" {
		return truncate(m)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(o.Text), "\n")
	return truncate(first)
}

func caseName(c xmlCase) string {
	if c.ClassName == "" {
		return c.Name
	}
	return c.ClassName + "." + c.Name
}

// collect adds one suite (and its nested suites) to r. Counts come from the suite's
// attributes, but never less than what its test cases show (fail closed).
func collect(s xmlSuite, r *Report, depth int) error {
	if depth > 32 {
		return errors.New("junit: test suites nested deeper than 32 levels: pass pytest's --junitxml output")
	}
	var counted Totals
	counted.Tests = len(s.Cases)
	for _, c := range s.Cases {
		switch {
		case len(c.Failures) > 0:
			counted.Failures++
			r.Failed = append(r.Failed, Failed{Name: caseName(c), Kind: "failure", Message: message(c.Failures[0])})
		case len(c.Errors) > 0:
			counted.Errors++
			r.Failed = append(r.Failed, Failed{Name: caseName(c), Kind: "error", Message: message(c.Errors[0])})
		case len(c.Skipped) > 0:
			counted.Skipped++
		}
		// pytest reports a test that failed and then errored in teardown with both elements.
		if len(c.Failures) > 0 && len(c.Errors) > 0 {
			counted.Errors++
			r.Failed = append(r.Failed, Failed{Name: caseName(c), Kind: "error", Message: message(c.Errors[0])})
		}
	}
	for _, sub := range s.Suites {
		var child Report
		if err := collect(sub, &child, depth+1); err != nil {
			return err
		}
		counted.Tests += child.Tests
		counted.Failures += child.Failures
		counted.Errors += child.Errors
		counted.Skipped += child.Skipped
		counted.Seconds += child.Seconds
		r.Failed = append(r.Failed, child.Failed...)
	}
	tests, _, err := attrInt("tests", s.Tests)
	if err != nil {
		return err
	}
	failures, _, err := attrInt("failures", s.Failures)
	if err != nil {
		return err
	}
	errs, _, err := attrInt("errors", s.Errors)
	if err != nil {
		return err
	}
	skipped, _, err := attrInt("skipped", s.Skipped)
	if err != nil {
		return err
	}
	secs := counted.Seconds
	if t := strings.TrimSpace(s.Time); t != "" {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("junit: testsuite attribute time=%q is not a non-negative number of seconds: pass pytest's --junitxml output unchanged", t)
		}
		secs = v
	}
	r.Tests += max(tests, counted.Tests)
	r.Failures += max(failures, counted.Failures)
	r.Errors += max(errs, counted.Errors)
	r.Skipped += max(skipped, counted.Skipped)
	r.Seconds += secs
	if r.Failures+r.Errors+r.Skipped > r.Tests {
		r.Tests = r.Failures + r.Errors + r.Skipped
	}
	return nil
}

// Parse reads a JUnit XML report: a <testsuites> root holding <testsuite> elements, or a
// bare <testsuite> root. Totals come from the testsuite attributes (tests, failures,
// errors, skipped, time), raised to what the test cases show when the attributes
// under-count.
func Parse(data []byte) (Report, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Report{}, errors.New("junit: the report is empty: run pytest with --junitxml=junit.xml and pass that file")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root xmlRoot
	if err := dec.Decode(&root); err != nil {
		return Report{}, fmt.Errorf("junit: not valid XML: %w: pass pytest's --junitxml output", err)
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Report{}, fmt.Errorf("junit: not valid XML after the root element: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return Report{}, errors.New("junit: text after the root element: pass a single JUnit XML document")
			}
		case xml.StartElement:
			return Report{}, errors.New("junit: more than one root element: pass a single JUnit XML document")
		}
	}
	var r Report
	switch root.XMLName.Local {
	case "testsuites":
		// The root's own counts, when present, are the suites' sum; use the suites.
		for _, s := range root.Suites {
			if err := collect(s, &r, 1); err != nil {
				return Report{}, err
			}
		}
		if len(root.Cases) > 0 {
			return Report{}, errors.New("junit: <testcase> directly under <testsuites>: pass pytest's --junitxml output")
		}
	case "testsuite":
		if err := collect(root.xmlSuite, &r, 0); err != nil {
			return Report{}, err
		}
	default:
		return Report{}, fmt.Errorf("junit: root element is <%s>, want <testsuites> or <testsuite>: pass pytest's --junitxml output", root.XMLName.Local)
	}
	return r, nil
}

// Summary is "N passed, N failed, N errors, N skipped".
func (r Report) Summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d errors, %d skipped", r.Passed(), r.Failures, r.Errors, r.Skipped)
}

// MaxDetails is how many failed tests Result lists before summarising the rest.
const MaxDetails = 50

// Result is the test gate's result: Fail when any test failed or errored, when no test ran
// at all, or when every test was skipped (nothing was tested); else Pass. Details name each failed test with its message.
func (r Report) Result() gate.Result {
	switch {
	case r.Failures+r.Errors > 0:
		var details []string
		for i, f := range r.Failed {
			if i == MaxDetails {
				details = append(details, fmt.Sprintf("… and %d more (see junit.xml)", len(r.Failed)-MaxDetails))
				break
			}
			d := f.Name + " (" + f.Kind + ")"
			if f.Message != "" {
				d += ": " + f.Message
			}
			details = append(details, d)
		}
		return gate.NewResult(gate.Test, gate.Fail, r.Summary(), details...)
	case r.Tests == 0:
		return gate.NewResult(gate.Test, gate.Fail, "no tests ran: "+r.Summary(), "pytest collected no test: check the test paths in pyproject.toml")
	case r.Passed() == 0:
		return gate.NewResult(gate.Test, gate.Fail, "no test passed: every test was skipped: "+r.Summary(),
			"a run where every test is skipped tests nothing: remove the skip marks (or the -m/-k filter) so the project's tests run")
	default:
		return gate.NewResult(gate.Test, gate.Pass, r.Summary())
	}
}

type xmlCoverage struct {
	XMLName  xml.Name `xml:"coverage"`
	LineRate *string  `xml:"line-rate,attr"`
}

// ParseCoverage reads a Cobertura coverage.xml (coverage.py's `coverage xml`) and returns
// its line-rate as a percentage from 0 to 100.
func ParseCoverage(data []byte) (float64, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return 0, errors.New("coverage: the report is empty: run pytest with --cov-report=xml:coverage.xml and pass that file")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var c xmlCoverage
	if err := dec.Decode(&c); err != nil {
		return 0, fmt.Errorf("coverage: not a Cobertura <coverage> document: %w: pass coverage.py's `coverage xml` output", err)
	}
	if c.LineRate == nil {
		return 0, errors.New("coverage: <coverage> has no line-rate attribute: pass coverage.py's `coverage xml` output")
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(*c.LineRate), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0, fmt.Errorf("coverage: line-rate %q is not a number from 0 to 1: pass coverage.py's `coverage xml` output unchanged", *c.LineRate)
	}
	return v * 100, nil
}

// Evaluate is the test gate's decision from junit.xml and (optionally, may be empty)
// coverage.xml: Report.Result with "; coverage 82.0%" appended to the summary. A junit
// file that does not parse yields an Error result; an unreadable coverage file only adds
// a detail line (coverage is reported, not enforced).
func Evaluate(junitXML, coverageXML []byte) gate.Result {
	r, err := Parse(junitXML)
	if err != nil {
		return gate.Errored(gate.Test, err)
	}
	res := r.Result()
	if len(bytes.TrimSpace(coverageXML)) == 0 {
		return res
	}
	pct, err := ParseCoverage(coverageXML)
	if err != nil {
		res.Details = append(res.Details, err.Error())
		return res
	}
	res.Summary += fmt.Sprintf("; coverage %.1f%%", pct)
	return res
}
