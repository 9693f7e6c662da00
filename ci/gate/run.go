package gate

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// MaxLimit is the largest concurrency Run accepts.
const MaxLimit = 16

// Func is one unit of work for Run: a gate, or a step that yields several results
// (data-contracts also yields data-advisory; model-gate also yields drift and perf-regression).
type Func struct {
	// Name names the gate; it is used for the error result when Run fails, panics or is cancelled.
	Name string
	// Run does the work. A non-nil error replaces the returned results with one Error result named Name.
	Run func(ctx context.Context) ([]Result, error)
}

// One adapts a single-result gate function to a Func.
func One(name string, run func(ctx context.Context) (Result, error)) Func {
	return Func{Name: name, Run: func(ctx context.Context) ([]Result, error) {
		r, err := run(ctx)
		if err != nil {
			return nil, err
		}
		return []Result{r}, nil
	}}
}

// Runner runs gates with bounded concurrency.
type Runner struct {
	// Limit is how many gates run at once: 1..MaxLimit.
	Limit int
	// Now is the clock used to measure durations; nil means time.Now.
	Now func() time.Time
}

// ValidateLimit checks that limit is within 1..MaxLimit.
func ValidateLimit(limit int) error {
	if limit < 1 || limit > MaxLimit {
		return fmt.Errorf("gate concurrency %d is out of range: set it to a number from 1 to %d", limit, MaxLimit)
	}
	return nil
}

// Run runs gates with at most limit at once using the wall clock; see Runner.Run.
func Run(ctx context.Context, limit int, gates []Func) ([]Result, error) {
	return Runner{Limit: limit}.Run(ctx, gates)
}

// Run runs the gates with at most r.Limit at once and returns their results flattened
// in input order (gate i's results come before gate i+1's).
//
//   - a gate's error becomes one Error result named after the gate, its message as summary;
//   - a panic becomes an Error result carrying the panic value and the stack in Details;
//   - a gate returning no result, or a result with an unknown status, becomes an Error result;
//   - an empty Name or Kind in a returned result is filled from the Func's name and the catalog;
//     an unknown Kind becomes Blocking (fail closed);
//   - a result without a Duration gets the gate's measured duration;
//   - once ctx is cancelled no further gate starts; gates not started, and gates still
//     running, get an Error result naming the cancellation, and Run returns without waiting.
//
// The only error is an invalid limit (see ValidateLimit) or a Func with no name or no Run;
// nothing runs then.
func (r Runner) Run(ctx context.Context, gates []Func) ([]Result, error) {
	if err := ValidateLimit(r.Limit); err != nil {
		return nil, err
	}
	for i, g := range gates {
		if g.Name == "" {
			return nil, fmt.Errorf("gate %d has no name: set Func.Name", i)
		}
		if g.Run == nil {
			return nil, fmt.Errorf("gate %q has no Run function: set Func.Run", g.Name)
		}
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	// slots[i] receives gate i's results; decided[i] is closed once the dispatcher has
	// either started gate i or filled slots[i] with a "not started" result.
	slots := make([]chan []Result, len(gates))
	decided := make([]chan struct{}, len(gates))
	for i := range slots {
		slots[i] = make(chan []Result, 1)
		decided[i] = make(chan struct{})
	}
	sem := make(chan struct{}, r.Limit)
	go func() {
		for i, g := range gates {
			if ctx.Err() == nil {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
				}
			}
			if err := ctx.Err(); err != nil {
				slots[i] <- []Result{Errored(g.Name, fmt.Errorf("not started: %w", err))}
				close(decided[i])
				continue
			}
			go func() {
				defer func() { <-sem }()
				slots[i] <- runOne(ctx, now, g)
			}()
			close(decided[i])
		}
	}()
	var out []Result
	for i, g := range gates {
		<-decided[i]
		select {
		case res := <-slots[i]:
			out = append(out, res...)
			continue
		default:
		}
		select {
		case res := <-slots[i]:
			out = append(out, res...)
		case <-ctx.Done():
			select {
			case res := <-slots[i]:
				out = append(out, res...)
			default:
				out = append(out, Errored(g.Name, fmt.Errorf("cancelled while running: %w", ctx.Err())))
			}
		}
	}
	return out, nil
}

func runOne(ctx context.Context, now func() time.Time, g Func) (results []Result) {
	start := now()
	defer func() {
		d := now().Sub(start)
		if d < 0 {
			d = 0
		}
		if p := recover(); p != nil {
			res := Errored(g.Name, fmt.Errorf("panic: %v", p))
			res.Details = []string{string(debug.Stack())}
			results = []Result{res}
		}
		for i := range results {
			if results[i].Duration <= 0 {
				results[i].Duration = d
			}
		}
	}()
	res, err := g.Run(ctx)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", err, ctxErr)
		}
		return []Result{Errored(g.Name, err)}
	}
	if len(res) == 0 {
		return []Result{Errored(g.Name, errors.New("the gate returned no result: return at least one Result or an error"))}
	}
	out := make([]Result, len(res))
	for i, x := range res {
		if x.Name == "" {
			x.Name = g.Name
		}
		switch {
		case x.Kind == "":
			x.Kind = KindOf(x.Name)
		case !x.Kind.Valid():
			x.Kind = Blocking // fail closed
		}
		if x.Duration < 0 {
			x.Duration = 0
		}
		if !x.Status.Valid() {
			x = Result{Name: x.Name, Kind: x.Kind, Duration: x.Duration, Status: Error,
				Summary: fmt.Sprintf("the gate returned unknown status %q (summary: %s): use one of pass, fail, error, skipped", x.Status, x.Summary),
				Details: x.Details}
		}
		out[i] = x
	}
	return out
}
