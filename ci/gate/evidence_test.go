package gate

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const evCommit = "0123456789abcdef0123456789abcdef01234567"

// greenReport is what `gate-report` writes for a commit whose gates all passed, signals raised.
func greenReport(commit string) Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := Report{Commit: commit, Started: start, Finished: start.Add(time.Minute)}
	for _, g := range Catalog() {
		st := Pass
		if g.Kind == Signal {
			st = Fail // signals never decide
		}
		r.Results = append(r.Results, NewResult(g.Name, st, "ok"))
	}
	return r
}

func mustJSON(t *testing.T, r Report) []byte {
	t.Helper()
	b, err := r.JSON()
	require.NoError(t, err)
	return b
}

// edit rewrites the JSON file by hand, the way a forger would (bypassing Report.JSON).
func edit(t *testing.T, data []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	f(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestVerifyReportAcceptsTheGreenReportOfTheCommit(t *testing.T) {
	rep, err := VerifyReport(mustJSON(t, greenReport(evCommit)), evCommit)
	require.NoError(t, err)
	assert.True(t, rep.Verdict().Pass)
	assert.Equal(t, evCommit, rep.Commit)
}

func TestVerifyReportRefusesForgeries(t *testing.T) {
	green := mustJSON(t, greenReport(evCommit))
	results := func(m map[string]any) []any { return m["results"].([]any) }
	find := func(m map[string]any, name string) map[string]any {
		for _, r := range results(m) {
			if r.(map[string]any)["name"] == name {
				return r.(map[string]any)
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	cases := map[string]struct {
		data   []byte
		commit string
		want   []string
	}{
		"empty results": {edit(t, green, func(m map[string]any) {
			m["results"] = []any{}
			m["blockingFailures"] = []any{}
			m["signalsRaised"] = []any{}
		}), evCommit, []string{"blocking gates missing: lint, secret-scan, test, data-contracts, dvc-dry, smoke, api-contract, model-gate"}},
		"failing api-contract relabelled signal": {edit(t, green, func(m map[string]any) {
			r := find(m, APIContract)
			r["kind"], r["status"] = "signal", "fail"
			m["signalsRaised"] = append(m["signalsRaised"].([]any), APIContract)
		}), evCommit, []string{`gate api-contract is labelled "signal" but the catalog says "blocking"`, "blocking gates not passed: api-contract (fail)"}},
		"passing gate relabelled signal": {edit(t, green, func(m map[string]any) {
			find(m, Lint)["kind"] = "signal"
		}), evCommit, []string{`gate lint is labelled "signal"`}},
		"missing blocking gate": {edit(t, green, func(m map[string]any) {
			var keep []any
			for _, r := range results(m) {
				if r.(map[string]any)["name"] != ModelGate {
					keep = append(keep, r)
				}
			}
			m["results"] = keep
		}), evCommit, []string{"blocking gates missing: model-gate"}},
		"another commit's report":   {mustJSON(t, greenReport(strings.Repeat("f", 40))), evCommit, []string{"report of " + strings.Repeat("f", 40) + ", not of " + evCommit}},
		"a report naming no commit": {mustJSON(t, greenReport("")), evCommit, []string{"report of no commit"}},
		"unknown commit asked":      {green, "", []string{"pass --commit"}},
		"skipped blocking gate":     {edit(t, green, func(m map[string]any) { find(m, Smoke)["status"] = "skipped" }), evCommit, []string{"smoke (skipped)"}},
		"red report": {edit(t, green, func(m map[string]any) {
			find(m, Test)["status"] = "fail"
			m["verdict"], m["blockingFailures"] = "fail", []any{Test}
		}), evCommit, []string{"blocking gates not passed: test (fail)"}},
		"unknown gate padding": {edit(t, green, func(m map[string]any) {
			m["results"] = append(results(m), map[string]any{"name": "vibes", "kind": "blocking", "status": "pass", "durationMs": 1, "summary": "", "details": []any{}})
		}), evCommit, []string{`unknown gate "vibes"`}},
		"a gate listed twice": {edit(t, green, func(m map[string]any) {
			m["results"] = append(results(m), find(m, Lint))
		}), evCommit, []string{"gate lint is listed twice"}},
		"{}":       {[]byte(`{}`), evCommit, []string{"schemaVersion 0"}},
		"not JSON": {[]byte(`nope`), evCommit, []string{"not valid JSON"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyReport(tc.data, domain.Commit(tc.commit))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotEvidence)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			if tc.commit != "" {
				assert.Contains(t, err.Error(), "dagger call --commit="+tc.commit+" gate-report", "the error names the command that produces a report that counts")
			}
		})
	}
}

// Property: any change to the status, kind or presence of a blocking gate of a green report
// makes it stop counting; changes to signals never matter.
func TestVerifyReportPropertyBlockingGatesDecide(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	statuses := Statuses()
	for i := 0; i < 500; i++ {
		rep := greenReport(evCommit)
		wantOK := true
		var kept []Result
		for _, res := range rep.Results {
			switch rng.Intn(6) {
			case 0: // drop it
				if res.Kind == Blocking {
					wantOK = false
				}
				continue
			case 1: // new status
				res.Status = statuses[rng.Intn(len(statuses))]
				if res.Kind == Blocking && res.Status != Pass {
					wantOK = false
				}
			case 2: // relabel (the file lies about the kind)
				if res.Kind == Blocking {
					res.Kind = Signal
				} else {
					res.Kind = Blocking
				}
				wantOK = false
			}
			kept = append(kept, res)
		}
		rep.Results = kept
		_, err := VerifyReport(mustJSON(t, rep), evCommit)
		if wantOK {
			require.NoError(t, err, "case %d: %+v", i, rep.Results)
		} else {
			require.Error(t, err, "case %d: %+v", i, rep.Results)
		}
	}
}

func FuzzVerifyReport(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schemaVersion":1,"commit":"` + evCommit + `","started":"","finished":"","verdict":"pass","blockingFailures":[],"signalsRaised":[],"results":[]}`))
	if b, err := greenReport(evCommit).JSON(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := VerifyReport(data, evCommit)
		if err != nil {
			return
		}
		// Whatever was accepted is the commit's report with every blocking gate passed.
		require.Equal(t, evCommit, rep.Commit)
		passed := map[string]bool{}
		for _, r := range rep.Results {
			require.Equal(t, KindOf(r.Name), r.Kind)
			if r.Status == Pass {
				passed[r.Name] = true
			}
		}
		for _, g := range Catalog() {
			if g.Kind == Blocking {
				require.True(t, passed[g.Name], g.Name)
			}
		}
	})
}
