// Package gate holds the quality-gate catalog, the result of one gate, the report of
// a whole run with its verdict, and a bounded-concurrency runner.
//
// Only blocking gates decide the verdict: a signal is reported, never enforced.
package gate

import (
	"fmt"
	"strings"
	"time"
)

// Kind says whether a gate's failure blocks the pipeline.
type Kind string

const (
	// Blocking gates fail the verdict when they fail or error.
	Blocking Kind = "blocking"
	// Signal gates are reported only; they never fail the verdict.
	Signal Kind = "signal"
)

// Valid reports whether k is Blocking or Signal.
func (k Kind) Valid() bool { return k == Blocking || k == Signal }

// ParseKind turns "blocking" or "signal" into a Kind.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.TrimSpace(s))
	if !k.Valid() {
		return "", fmt.Errorf("unknown gate kind %q: use one of %s, %s", s, Blocking, Signal)
	}
	return k, nil
}

// Status is the outcome of one gate.
type Status string

const (
	// Pass means the gate ran and its condition holds.
	Pass Status = "pass"
	// Fail means the gate ran and its condition does not hold.
	Fail Status = "fail"
	// Error means the gate could not decide (tool crash, bad input, cancellation).
	Error Status = "error"
	// Skipped means the gate was deliberately not run.
	Skipped Status = "skipped"
)

// Statuses lists every valid Status.
func Statuses() []Status { return []Status{Pass, Fail, Error, Skipped} }

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	switch s {
	case Pass, Fail, Error, Skipped:
		return true
	}
	return false
}

// Label is the upper-case text used in reports: PASS, FAIL, ERROR or SKIPPED.
// An invalid status renders as "UNKNOWN(<value>)".
func (s Status) Label() string {
	if !s.Valid() {
		return fmt.Sprintf("UNKNOWN(%s)", string(s))
	}
	return strings.ToUpper(string(s))
}

// ParseStatus turns "pass", "fail", "error" or "skipped" into a Status.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.TrimSpace(s))
	if !st.Valid() {
		return "", fmt.Errorf("unknown gate status %q: use one of pass, fail, error, skipped", s)
	}
	return st, nil
}

// Gate names: blocking gates.
const (
	Lint          = "lint"
	SecretScan    = "secret-scan"
	Test          = "test"
	DataContracts = "data-contracts"
	DVCDry        = "dvc-dry"
	Smoke         = "smoke"
	APIContract   = "api-contract"
	ModelGate     = "model-gate"
)

// Gate names: signals.
const (
	Drift          = "drift"
	DataAdvisory   = "data-advisory"
	PerfRegression = "perf-regression"
)

// Gate describes one entry of the catalog.
type Gate struct {
	// Name is the gate's CLI-style name, e.g. "data-contracts".
	Name string
	// Kind says whether the gate blocks.
	Kind Kind
	// Description is one line for humans.
	Description string
}

var catalog = []Gate{
	{Lint, Blocking, "ruff check and ruff format --check"},
	{SecretScan, Blocking, "Trivy's secret scanner on the project's files (trivy fs --scanners secret)"},
	{Test, Blocking, "pytest with JUnit and coverage reports"},
	{DataContracts, Blocking, "Great Expectations suites; critical expectations block"},
	{DVCDry, Blocking, "dvc pipeline dry run (dvc repro --dry / dvc status)"},
	{Smoke, Blocking, "train on the sample data and produce candidate metrics"},
	{APIContract, Blocking, "the API's /predict answers per its OpenAPI document"},
	{ModelGate, Blocking, "candidate quality metrics against the champion's"},
	{Drift, Signal, "data drift between reference and current data"},
	{DataAdvisory, Signal, "advisory (non-critical) data expectations"},
	{PerfRegression, Signal, "candidate latency against the champion's"},
}

// Catalog returns every known gate: the blocking gates first, then the signals, in a fixed order.
func Catalog() []Gate {
	out := make([]Gate, len(catalog))
	copy(out, catalog)
	return out
}

// Names returns the names of the catalog's gates in catalog order.
func Names() []string {
	out := make([]string, len(catalog))
	for i, g := range catalog {
		out[i] = g.Name
	}
	return out
}

// Lookup finds a gate by name; the error lists the known names.
func Lookup(name string) (Gate, error) {
	for _, g := range catalog {
		if g.Name == name {
			return g, nil
		}
	}
	return Gate{}, fmt.Errorf("unknown gate %q: use one of %s", name, strings.Join(Names(), ", "))
}

// KindOf returns the catalog kind of a gate. Unknown names are Blocking (fail closed).
func KindOf(name string) Kind {
	if g, err := Lookup(name); err == nil {
		return g.Kind
	}
	return Blocking
}

// Result is the outcome of one gate.
type Result struct {
	// Name is the gate's name (see the catalog constants).
	Name string
	// Kind says whether this result can fail the verdict.
	Kind Kind
	// Status is the outcome.
	Status Status
	// Duration is how long the gate ran.
	Duration time.Duration
	// Summary is one line for humans, e.g. "12 passed, 1 failed".
	Summary string
	// Details lists what failed, one item a line.
	Details []string
}

// NewResult builds a Result whose Kind comes from the catalog (unknown names are Blocking).
func NewResult(name string, status Status, summary string, details ...string) Result {
	return Result{Name: name, Kind: KindOf(name), Status: status, Summary: summary, Details: details}
}

// Errored builds an Error result for a gate that could not decide; the summary is err's text.
func Errored(name string, err error) Result {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	return NewResult(name, Error, msg)
}

// Blocks reports whether this result fails the verdict: a gate that is not a Signal
// (unknown kinds count as blocking) and whose status is not Pass or Skipped
// (unknown statuses count as failed).
func (r Result) Blocks() bool {
	if r.Kind == Signal {
		return false
	}
	return r.Status != Pass && r.Status != Skipped
}

// Validate checks that the result has a name, a known kind and a known status and
// a non-negative duration.
func (r Result) Validate() error {
	if strings.TrimSpace(r.Name) == "" {
		return fmt.Errorf("gate result has no name: set Name to one of %s", strings.Join(Names(), ", "))
	}
	if !r.Kind.Valid() {
		return fmt.Errorf("gate %q: unknown kind %q: use one of %s, %s", r.Name, r.Kind, Blocking, Signal)
	}
	if !r.Status.Valid() {
		return fmt.Errorf("gate %q: unknown status %q: use one of pass, fail, error, skipped", r.Name, r.Status)
	}
	if r.Duration < 0 {
		return fmt.Errorf("gate %q: negative duration %s: durations must be >= 0", r.Name, r.Duration)
	}
	return nil
}
