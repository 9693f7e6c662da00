package gate

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock advances by step on every reading.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func TestValidateLimit(t *testing.T) {
	for _, l := range []int{1, 4, 16} {
		require.NoError(t, ValidateLimit(l))
	}
	for _, l := range []int{-1, 0, 17, 1000} {
		err := ValidateLimit(l)
		require.ErrorContains(t, err, fmt.Sprintf("gate concurrency %d is out of range", l))
		require.ErrorContains(t, err, "from 1 to 16")
		called := false
		res, err := Run(context.Background(), l, []Func{One(Lint, func(context.Context) (Result, error) { called = true; return NewResult(Lint, Pass, ""), nil })})
		require.Error(t, err)
		assert.Nil(t, res)
		assert.False(t, called, "nothing runs on an invalid limit")
	}
}

func TestRunRejectsBadFuncs(t *testing.T) {
	_, err := Run(context.Background(), 2, []Func{{Name: "", Run: func(context.Context) ([]Result, error) { return nil, nil }}})
	require.ErrorContains(t, err, "has no name")
	_, err = Run(context.Background(), 2, []Func{{Name: "x"}})
	require.ErrorContains(t, err, `gate "x" has no Run function`)
	res, err := Run(context.Background(), 2, nil)
	require.NoError(t, err)
	assert.Empty(t, res)
}

func TestRunClassifiesOutcomes(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0), step: time.Second}
	gates := []Func{
		One(Lint, func(context.Context) (Result, error) { return NewResult(Lint, Pass, "clean"), nil }),
		One(Test, func(context.Context) (Result, error) { return Result{}, errors.New("pytest image missing") }),
		One(Smoke, func(context.Context) (Result, error) { panic("boom") }),
		{Name: DataContracts, Run: func(context.Context) ([]Result, error) {
			return []Result{NewResult(DataContracts, Pass, "ok"), {Name: DataAdvisory, Status: Fail, Summary: "1 advisory"}}, nil
		}},
		{Name: DVCDry, Run: func(context.Context) ([]Result, error) { return nil, nil }},
		One(APIContract, func(context.Context) (Result, error) { return Result{Status: "green", Duration: 5 * time.Second}, nil }),
		One(ModelGate, func(context.Context) (Result, error) {
			return Result{Name: ModelGate, Kind: "hard", Status: Pass}, nil
		}),
	}
	res, err := Runner{Limit: 1, Now: clock.Now}.Run(context.Background(), gates)
	require.NoError(t, err)
	require.Len(t, res, 8)
	names := []string{}
	for _, r := range res {
		names = append(names, r.Name)
		require.NoError(t, r.Validate(), "runner output is always valid")
	}
	assert.Equal(t, []string{"lint", "test", "smoke", "data-contracts", "data-advisory", "dvc-dry", "api-contract", "model-gate"}, names)

	assert.Equal(t, Pass, res[0].Status)
	assert.Equal(t, time.Second, res[0].Duration, "duration comes from the injected clock")

	assert.Equal(t, Error, res[1].Status)
	assert.Equal(t, "pytest image missing", res[1].Summary)
	assert.Equal(t, Blocking, res[1].Kind)

	assert.Equal(t, Error, res[2].Status)
	assert.Equal(t, "panic: boom", res[2].Summary)
	require.Len(t, res[2].Details, 1)
	assert.Contains(t, res[2].Details[0], "goroutine")
	assert.Equal(t, time.Second, res[2].Duration)

	assert.Equal(t, Signal, res[4].Kind, "kind filled from the catalog")
	assert.Equal(t, Fail, res[4].Status)

	assert.Equal(t, Error, res[5].Status)
	assert.Contains(t, res[5].Summary, "returned no result")

	assert.Equal(t, Error, res[6].Status)
	assert.Equal(t, APIContract, res[6].Name, "name filled from the Func")
	assert.Contains(t, res[6].Summary, `unknown status "green"`)
	assert.Equal(t, 5*time.Second, res[6].Duration, "a reported duration is kept")

	assert.Equal(t, Blocking, res[7].Kind, "unknown kind fails closed")

	rep := Report{Results: res}
	assert.Equal(t, []string{"test", "smoke", "dvc-dry", "api-contract"}, rep.Verdict().Blocking)
	_, err = rep.JSON()
	require.NoError(t, err)
}

// Property: output order is input order and concurrency never exceeds the limit,
// whatever the limit and the gates' timings.
func TestRunOrderAndLimitProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for iter := 0; iter < 30; iter++ {
		limit := 1 + rng.Intn(MaxLimit)
		n := rng.Intn(40)
		var running, peak atomic.Int32
		gates := make([]Func, n)
		for i := range gates {
			sleep := time.Duration(rng.Intn(300)) * time.Microsecond
			name := fmt.Sprintf("g%02d", i)
			gates[i] = One(name, func(context.Context) (Result, error) {
				cur := running.Add(1)
				for {
					p := peak.Load()
					if cur <= p || peak.CompareAndSwap(p, cur) {
						break
					}
				}
				time.Sleep(sleep)
				running.Add(-1)
				return Result{Name: name, Status: Pass}, nil
			})
		}
		res, err := Run(context.Background(), limit, gates)
		require.NoError(t, err)
		require.Len(t, res, n)
		for i, r := range res {
			require.Equal(t, fmt.Sprintf("g%02d", i), r.Name)
			require.Greater(t, r.Duration, time.Duration(0))
		}
		require.LessOrEqual(t, int(peak.Load()), limit)
	}
}

func TestRunActuallyConcurrent(t *testing.T) {
	// With limit 3 the three gates must meet at the barrier; with limit 1 they would deadlock.
	var wg sync.WaitGroup
	wg.Add(3)
	gate := func(name string) Func {
		return One(name, func(ctx context.Context) (Result, error) {
			wg.Done()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
				return NewResult(name, Pass, ""), nil
			case <-time.After(5 * time.Second):
				return Result{}, errors.New("gates did not run concurrently")
			}
		})
	}
	res, err := Run(context.Background(), 3, []Func{gate("a"), gate("b"), gate("c")})
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, Pass, r.Status, r.Summary)
	}
}

func TestRunCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	lintDone := make(chan struct{})
	var laterRan atomic.Bool
	gates := []Func{
		One(Lint, func(context.Context) (Result, error) { defer close(lintDone); return NewResult(Lint, Pass, ""), nil }),
		// ignores ctx: Run must still return without waiting for it
		One(Test, func(context.Context) (Result, error) {
			<-lintDone
			time.Sleep(20 * time.Millisecond) // let lint's result land in its slot
			close(started)
			<-release
			return NewResult(Test, Pass, ""), nil
		}),
		One(Smoke, func(context.Context) (Result, error) { laterRan.Store(true); return NewResult(Smoke, Pass, ""), nil }),
		One(Drift, func(context.Context) (Result, error) { laterRan.Store(true); return NewResult(Drift, Pass, ""), nil }),
	}
	go func() { <-started; cancel() }()
	done := make(chan []Result)
	go func() {
		res, err := Run(ctx, 2, gates)
		assert.NoError(t, err)
		done <- res
	}()
	var res []Result
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
	require.Len(t, res, 4)
	assert.Equal(t, Pass, res[0].Status)
	assert.Equal(t, Error, res[1].Status)
	assert.Contains(t, res[1].Summary, "cancelled while running: context canceled")
	// smoke may have started before cancellation (limit 2); drift cannot have passed the verdict silently
	for _, r := range res[2:] {
		if r.Status != Pass {
			assert.Equal(t, Error, r.Status)
			assert.Contains(t, r.Summary, "context canceled")
		}
	}
	assert.False(t, Report{Results: res}.Verdict().Pass, "a cancelled run never passes")
}

func TestRunAlreadyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int32
	gates := []Func{}
	for _, n := range []string{Lint, Test, Drift} {
		gates = append(gates, One(n, func(context.Context) (Result, error) { ran.Add(1); return NewResult(n, Pass, ""), nil }))
	}
	res, err := Run(ctx, 4, gates)
	require.NoError(t, err)
	require.Len(t, res, 3)
	assert.Zero(t, ran.Load(), "no gate starts after cancellation")
	for i, r := range res {
		assert.Equal(t, gates[i].Name, r.Name)
		assert.Equal(t, Error, r.Status)
		assert.Contains(t, r.Summary, "not started: context canceled")
	}
	assert.Equal(t, Signal, res[2].Kind)
}

func TestRunGateSeesCancellation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, 1, []Func{One(Test, func(ctx context.Context) (Result, error) {
		<-ctx.Done()
		return Result{}, fmt.Errorf("pytest interrupted: %w", ctx.Err())
	})})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, Error, res[0].Status)
	assert.Contains(t, res[0].Summary, "deadline exceeded")
}
