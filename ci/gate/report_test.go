package gate

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleReport() Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Report{
		Commit:   "0123abc",
		Started:  start,
		Finished: start.Add(90 * time.Second),
		Results: []Result{
			{Name: Lint, Kind: Blocking, Status: Fail, Duration: 1234 * time.Millisecond, Summary: "2 issues in 1 file", Details: []string{"src/a.py:3 F401 `os` imported but unused"}},
			{Name: Test, Kind: Blocking, Status: Pass, Duration: 61 * time.Second, Summary: "12 passed, 0 failed, 0 errors, 0 skipped"},
			{Name: Drift, Kind: Signal, Status: Fail, Duration: 0, Summary: "drift share 0.40 | dataset drift"},
		},
	}
}

func TestJSONSchema(t *testing.T) {
	js, err := sampleReport().JSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(js, &m))
	assert.EqualValues(t, 1, m["schemaVersion"])
	assert.Equal(t, "0123abc", m["commit"])
	assert.Equal(t, "2026-01-02T03:04:05Z", m["started"])
	assert.Equal(t, "2026-01-02T03:05:35Z", m["finished"])
	assert.Equal(t, "fail", m["verdict"])
	assert.Equal(t, []any{"lint"}, m["blockingFailures"])
	assert.Equal(t, []any{"drift"}, m["signalsRaised"])
	res := m["results"].([]any)
	require.Len(t, res, 3)
	first := res[0].(map[string]any)
	assert.Equal(t, map[string]any{
		"name": "lint", "kind": "blocking", "status": "fail", "durationMs": float64(1234),
		"summary": "2 issues in 1 file", "details": []any{"src/a.py:3 F401 `os` imported but unused"},
	}, first)
	assert.Equal(t, []any{}, res[1].(map[string]any)["details"], "details is always an array")
	assert.NotContains(t, string(js), `\u003c`, "no HTML escaping in the JSON")
}

func TestJSONEmptyReport(t *testing.T) {
	js, err := Report{}.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"results": []`)
	assert.Contains(t, string(js), `"started": ""`)
	assert.Contains(t, string(js), `"verdict": "pass"`)
	back, err := ParseReport(js)
	require.NoError(t, err)
	assert.Equal(t, Report{}, back)
}

func TestJSONRejectsInvalid(t *testing.T) {
	r := sampleReport()
	r.Results[1].Status = "ok"
	_, err := r.JSON()
	require.ErrorContains(t, err, `unknown status "ok"`)

	r = sampleReport()
	r.Finished = r.Started.Add(-time.Second)
	_, err = r.JSON()
	require.ErrorContains(t, err, "before it started")
}

func TestJSONNonUTCAndRounding(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	r := Report{Started: time.Date(2026, 1, 2, 4, 4, 5, 0, loc), Results: []Result{{Name: "x", Kind: Blocking, Status: Pass, Duration: 1500 * time.Microsecond}}}
	js, err := r.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"started": "2026-01-02T03:04:05Z"`)
	assert.Contains(t, string(js), `"durationMs": 2`)
}

func normalize(r Report) Report {
	out := r
	out.Results = nil
	for _, res := range r.Results {
		res.Duration = res.Duration.Round(time.Millisecond)
		if len(res.Details) == 0 {
			res.Details = nil
		}
		out.Results = append(out.Results, res)
	}
	return out
}

// Property: ParseReport(JSON(r)) == r (durations at millisecond precision).
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 2000; i++ {
		r := randReport(rng)
		if rng.Intn(2) == 0 {
			for j := range r.Results {
				r.Results[j].Duration += time.Duration(rng.Int63n(int64(time.Millisecond)))
			}
		}
		js, err := r.JSON()
		require.NoError(t, err)
		back, err := ParseReport(js)
		require.NoError(t, err, "%s", js)
		want := normalize(r)
		require.True(t, want.Started.Equal(back.Started) && want.Finished.Equal(back.Finished))
		back.Started, back.Finished, want.Started, want.Finished = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		require.Equal(t, want, back)
	}
}

func TestParseReportErrors(t *testing.T) {
	good, err := sampleReport().JSON()
	require.NoError(t, err)
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	result0 := func(m map[string]any) map[string]any { return m["results"].([]any)[0].(map[string]any) }
	cases := map[string]struct {
		data []byte
		want string
	}{
		"not json":        {[]byte("nope"), "not valid JSON"},
		"empty":           {nil, "not valid JSON"},
		"trailing":        {append(append([]byte{}, good...), []byte("{}")...), "trailing data"},
		"version":         {mutate(func(m map[string]any) { m["schemaVersion"] = 2 }), "schemaVersion 2 is not supported"},
		"missing version": {mutate(func(m map[string]any) { delete(m, "schemaVersion") }), "schemaVersion 0 is not supported"},
		"unknown field":   {mutate(func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		"bad kind":        {mutate(func(m map[string]any) { result0(m)["kind"] = "Blocking" }), `unknown kind "Blocking"`},
		"bad status":      {mutate(func(m map[string]any) { result0(m)["status"] = " fail" }), `unknown status " fail"`},
		"neg duration":    {mutate(func(m map[string]any) { result0(m)["durationMs"] = -1 }), "out of range"},
		"huge duration":   {mutate(func(m map[string]any) { result0(m)["durationMs"] = int64(1) << 62 }), "out of range"},
		"no name":         {mutate(func(m map[string]any) { result0(m)["name"] = "" }), "no name"},
		"bad time":        {mutate(func(m map[string]any) { m["started"] = "yesterday" }), "not an RFC 3339 time"},
		"verdict lies":    {mutate(func(m map[string]any) { m["verdict"] = "pass" }), `stored verdict "pass" disagrees`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseReport(c.data)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestMarkdown(t *testing.T) {
	md := sampleReport().Markdown()
	want := "| Gate | Type | Status | Duration | Summary |\n" +
		"|---|---|---|---|---|\n" +
		"| lint | blocking | FAIL | 1.2s | 2 issues in 1 file |\n" +
		"| test | blocking | PASS | 1m1s | 12 passed, 0 failed, 0 errors, 0 skipped |\n" +
		"| drift | signal | FAIL | 0s | drift share 0.40 \\| dataset drift |\n"
	assert.Contains(t, md, want)
	assert.Contains(t, md, "Commit: `0123abc`")
	assert.Contains(t, md, "### lint: FAIL (blocking)")
	assert.Contains(t, md, "### drift: FAIL (signal, does not block)")
	assert.NotContains(t, md, "### test")
	assert.Contains(t, md, "```text\nsrc/a.py:3 F401 `os` imported but unused\n```\n")
	assert.True(t, strings.HasSuffix(md, "**Verdict: FAIL** (blocking gates failed: lint); signals raised, not enforced: drift\n"), md)

	pass := Report{Results: []Result{NewResult(Lint, Pass, "clean")}}.Markdown()
	assert.True(t, strings.HasSuffix(pass, "**Verdict: PASS** (no blocking gate failed)\n"))
	assert.NotContains(t, pass, "## Details")
	for _, emoji := range []string{"✅", "❌", "⚠"} {
		assert.NotContains(t, md, emoji)
	}
}

func TestMarkdownFenceLongerThanContent(t *testing.T) {
	md := Report{Results: []Result{NewResult(Test, Fail, "x", "```\n# injected heading\n````")}}.Markdown()
	assert.Contains(t, md, "`````text\n```\n# injected heading\n````\n`````\n")
}

// countCells counts unescaped pipes in a table row.
func countPipes(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		if row[i] == '|' && (i == 0 || row[i-1] != '\\') {
			n++
		}
	}
	return n
}

// Property: rendering never panics (even on invalid reports), every table row has exactly
// five cells, and summaries never break out of their row.
func TestMarkdownProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 3000; i++ {
		r := randReport(rng)
		if rng.Intn(5) == 0 && len(r.Results) > 0 {
			r.Results[0].Kind = Kind(randString(rng, 5))
			r.Results[0].Status = Status(randString(rng, 5))
			r.Results[0].Duration = -time.Duration(rng.Int63())
		}
		var md string
		require.NotPanics(t, func() { md = r.Markdown() })
		lines := strings.Split(md, "\n")
		var rows []string
		for j, l := range lines {
			if strings.HasPrefix(l, "| Gate |") {
				rows = lines[j+2 : j+2+len(r.Results)]
				break
			}
		}
		require.Len(t, rows, len(r.Results))
		for _, row := range rows {
			require.True(t, strings.HasPrefix(row, "| ") && strings.HasSuffix(row, " |"), "row %q", row)
			require.Equal(t, 6, countPipes(row), "row %q", row)
			require.NotContains(t, row, "\r")
			require.NotContains(t, row, "<script")
		}
		require.Contains(t, md, "**Verdict: ")
	}
}

func FuzzParseReport(f *testing.F) {
	good, _ := sampleReport().JSON()
	empty, _ := Report{}.JSON()
	f.Add(good)
	f.Add(empty)
	f.Add([]byte(`{"schemaVersion":1,"verdict":"pass","results":[{"name":"a","kind":"signal","status":"fail","durationMs":1}]}`))
	f.Add([]byte(`{"schemaVersion":1,"verdict":"fail","results":[{"name":"a","kind":"blocking","status":"error"}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"schemaVersion":1,"results":null,"verdict":"pass","started":"2026-01-02T03:04:05.5+02:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReport(data)
		if err != nil {
			return
		}
		// Whatever parses is valid, renders, and round-trips.
		require.NoError(t, r.Validate())
		_ = r.Markdown()
		js, err := r.JSON()
		require.NoError(t, err)
		back, err := ParseReport(js)
		require.NoError(t, err)
		require.Equal(t, r.Verdict(), back.Verdict())
		require.Equal(t, len(r.Results), len(back.Results))
		js2, err := back.JSON()
		require.NoError(t, err)
		require.Equal(t, string(js), string(js2))
	})
}
