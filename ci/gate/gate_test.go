package gate

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCatalog(t *testing.T) {
	var blocking, signals []string
	for _, g := range Catalog() {
		require.NotEmpty(t, g.Description)
		switch g.Kind {
		case Blocking:
			blocking = append(blocking, g.Name)
		case Signal:
			signals = append(signals, g.Name)
		default:
			t.Fatalf("gate %q has kind %q", g.Name, g.Kind)
		}
	}
	assert.Equal(t, []string{"lint", "secret-scan", "test", "data-contracts", "dvc-dry", "smoke", "api-contract", "model-gate"}, blocking)
	assert.Equal(t, []string{"drift", "data-advisory", "perf-regression"}, signals)
	assert.Equal(t, append(blocking, signals...), Names())

	c := Catalog()
	c[0].Kind = Signal
	assert.Equal(t, Blocking, KindOf(Lint), "Catalog must return a copy")

	_, err := Lookup("lnt")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"lnt"`)
	assert.Contains(t, err.Error(), "lint, secret-scan, test, data-contracts")

	assert.Equal(t, Signal, KindOf(Drift))
	assert.Equal(t, Blocking, KindOf("made-up"), "unknown gates fail closed")
}

func TestParseKindStatus(t *testing.T) {
	for _, s := range []string{"blocking", "signal", " signal "} {
		k, err := ParseKind(s)
		require.NoError(t, err)
		assert.True(t, k.Valid())
	}
	_, err := ParseKind("Blocking")
	require.ErrorContains(t, err, "use one of blocking, signal")

	for _, s := range Statuses() {
		got, err := ParseStatus(string(s))
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	_, err = ParseStatus("passed")
	require.ErrorContains(t, err, "use one of pass, fail, error, skipped")

	assert.Equal(t, "PASS", Pass.Label())
	assert.Equal(t, "FAIL", Fail.Label())
	assert.Equal(t, "ERROR", Error.Label())
	assert.Equal(t, "SKIPPED", Skipped.Label())
	assert.Equal(t, "UNKNOWN(x)", Status("x").Label())
}

func TestNewResultAndErrored(t *testing.T) {
	r := NewResult(Drift, Fail, "share 0.4", "a", "b")
	assert.Equal(t, Result{Name: "drift", Kind: Signal, Status: Fail, Summary: "share 0.4", Details: []string{"a", "b"}}, r)
	e := Errored(Lint, errors.New("ruff crashed"))
	assert.Equal(t, Blocking, e.Kind)
	assert.Equal(t, Error, e.Status)
	assert.Equal(t, "ruff crashed", e.Summary)
	assert.Equal(t, "unknown error", Errored(Lint, nil).Summary)
}

func TestResultValidate(t *testing.T) {
	ok := NewResult(Lint, Pass, "clean")
	require.NoError(t, ok.Validate())
	cases := map[string]struct {
		mut  func(*Result)
		want string
	}{
		"no name":      {func(r *Result) { r.Name = " " }, "no name"},
		"bad kind":     {func(r *Result) { r.Kind = "hard" }, `unknown kind "hard"`},
		"bad status":   {func(r *Result) { r.Status = "ok" }, `unknown status "ok"`},
		"negative dur": {func(r *Result) { r.Duration = -time.Second }, "negative duration"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := ok
			c.mut(&r)
			require.ErrorContains(t, r.Validate(), c.want)
		})
	}
}

func TestVerdictTable(t *testing.T) {
	cases := []struct {
		name     string
		results  []Result
		pass     bool
		blocking []string
		signals  []string
	}{
		{"empty", nil, true, nil, nil},
		{"all pass", []Result{NewResult(Lint, Pass, ""), NewResult(Drift, Pass, "")}, true, nil, nil},
		{"signal fail never blocks", []Result{NewResult(Lint, Pass, ""), NewResult(Drift, Fail, ""), NewResult(PerfRegression, Error, "")}, true, nil, []string{"drift", "perf-regression"}},
		{"blocking fail", []Result{NewResult(Lint, Fail, ""), NewResult(Test, Pass, "")}, false, []string{"lint"}, nil},
		{"blocking error", []Result{NewResult(Test, Error, "")}, false, []string{"test"}, nil},
		{"blocking skipped passes", []Result{NewResult(DVCDry, Skipped, "")}, true, nil, nil},
		{"unknown kind fails closed", []Result{{Name: "x", Kind: "weird", Status: Fail}}, false, []string{"x"}, nil},
		{"unknown status fails closed", []Result{{Name: "x", Kind: Blocking, Status: "meh"}}, false, []string{"x"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Report{Results: c.results}.Verdict()
			assert.Equal(t, c.pass, v.Pass)
			assert.Equal(t, c.blocking, v.Blocking)
			assert.Equal(t, c.signals, v.Signals)
			if c.pass {
				assert.NoError(t, v.Err())
				assert.True(t, strings.HasPrefix(v.String(), "PASS"))
			} else {
				require.Error(t, v.Err())
				for _, b := range c.blocking {
					assert.Contains(t, v.Err().Error(), b)
				}
				assert.Contains(t, v.Err().Error(), "gate-report.md")
				assert.True(t, strings.HasPrefix(v.String(), "FAIL (blocking: "))
			}
		})
	}
}

var alphabet = []rune("ab|\n\r`<>&\\ *_#éü🙂-")

func randString(rng *rand.Rand, max int) string {
	n := rng.Intn(max + 1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[rng.Intn(len(alphabet))])
	}
	return b.String()
}

func randResult(rng *rand.Rand) Result {
	names := Names()
	r := Result{
		Name:     names[rng.Intn(len(names))],
		Kind:     []Kind{Blocking, Signal}[rng.Intn(2)],
		Status:   Statuses()[rng.Intn(4)],
		Duration: time.Duration(rng.Int63n(1e7)) * time.Millisecond,
		Summary:  randString(rng, 30),
	}
	if rng.Intn(3) == 0 {
		r.Name = "x" + randString(rng, 8)
	}
	for i := rng.Intn(4); i > 0; i-- {
		r.Details = append(r.Details, randString(rng, 20))
	}
	return r
}

func randReport(rng *rand.Rand) Report {
	r := Report{Commit: randString(rng, 10)}
	for i := rng.Intn(12); i > 0; i-- {
		r.Results = append(r.Results, randResult(rng))
	}
	if rng.Intn(4) > 0 {
		r.Started = time.Unix(rng.Int63n(4e9), rng.Int63n(1e9)).UTC()
		r.Finished = r.Started.Add(time.Duration(rng.Int63n(1e12)))
	}
	return r
}

// Property: the verdict fails iff some blocking result is fail or error.
func TestVerdictProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		r := randReport(rng)
		want := true
		for _, res := range r.Results {
			if res.Kind == Blocking && (res.Status == Fail || res.Status == Error) {
				want = false
			}
		}
		v := r.Verdict()
		require.Equal(t, want, v.Pass, "report %+v", r)
		require.Equal(t, want, v.Err() == nil)
		require.Equal(t, want, len(v.Blocking) == 0)
	}
}
