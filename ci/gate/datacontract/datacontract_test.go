package datacontract

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func TestParseGX1(t *testing.T) {
	fs, err := Parse(read(t, "gx1.json"))
	require.NoError(t, err)
	require.Len(t, fs, 4)
	assert.Equal(t, "matches", fs[0].Suite)
	assert.Equal(t, "expect_column_values_to_not_be_null", fs[0].Expectation)
	assert.Equal(t, Critical, fs[0].Severity)
	assert.False(t, fs[0].Success)
	assert.Equal(t, "expect_column_values_to_not_be_null(home_team): 3 unexpected", fs[0].String())
	assert.Equal(t, Critical, fs[1].Severity, "missing severity fails closed to critical")
	assert.True(t, fs[1].Success)
	assert.Equal(t, Advisory, fs[2].Severity)
	assert.Equal(t, "expect_column_values_to_be_in_set(referee): 41 unexpected", fs[2].String())
	assert.Equal(t, "expect_table_row_count_to_be_between: observed 380", fs[3].String())

	c, a := Results(fs)
	assert.Equal(t, gate.DataContracts, c.Name)
	assert.Equal(t, gate.Blocking, c.Kind)
	assert.Equal(t, gate.Fail, c.Status)
	assert.Equal(t, "1 of 3 critical expectations failed: expect_column_values_to_not_be_null(home_team): 3 unexpected", c.Summary)
	assert.Equal(t, []string{"matches: expect_column_values_to_not_be_null(home_team): 3 unexpected"}, c.Details)
	assert.Equal(t, gate.DataAdvisory, a.Name)
	assert.Equal(t, gate.Signal, a.Kind)
	assert.Equal(t, gate.Fail, a.Status)
	assert.Equal(t, "1 of 1 advisory expectations failed: expect_column_values_to_be_in_set(referee): 41 unexpected", a.Summary)

	rep := gate.Report{Results: []gate.Result{c, a}}
	assert.Equal(t, []string{"data-contracts"}, rep.Verdict().Blocking)
	assert.Equal(t, []string{"data-advisory"}, rep.Verdict().Signals)
}

func TestParseGX018(t *testing.T) {
	fs, err := Parse(read(t, "gx018.json"))
	require.NoError(t, err)
	require.Len(t, fs, 3)
	assert.Equal(t, "matches", fs[0].Suite, "0.18 keeps the suite name in meta")
	assert.Equal(t, "expect_column_pair_values_A_to_be_greater_than_B(kickoff_utc, published_utc): 2 unexpected", fs[0].String())
	assert.Equal(t, Advisory, fs[1].Severity, "severity is case-insensitive")
	assert.Equal(t, "expect_column_mean_to_be_between(home_goals): observed 2.41", fs[1].String())
	assert.Equal(t, "expect_compound_columns_to_be_unique(season, home_team, away_team): raised KeyError: 'season'", fs[2].String())
	assert.False(t, fs[2].Success)

	res := Evaluate(read(t, "gx018.json"))
	require.Len(t, res, 2)
	assert.Equal(t, gate.Fail, res[0].Status)
	assert.True(t, strings.HasPrefix(res[0].Summary, "2 of 2 critical expectations failed: "), res[0].Summary)
	assert.Equal(t, gate.Fail, res[1].Status)
}

func TestAllPassAndAdvisoryOnly(t *testing.T) {
	doc := `{"results":[
	 {"success":true,"expectation_config":{"type":"expect_column_to_exist","kwargs":{"column":"x"},"meta":{"severity":"critical"}}},
	 {"success":false,"expectation_config":{"type":"expect_column_values_to_be_unique","kwargs":{"column":"id"},"meta":{"severity":"advisory"}},"result":{"unexpected_count":1}}]}`
	res := Evaluate([]byte(doc))
	assert.Equal(t, gate.Pass, res[0].Status)
	assert.Equal(t, "all 1 critical expectations passed", res[0].Summary)
	assert.Equal(t, gate.Fail, res[1].Status)
	assert.True(t, gate.Report{Results: res}.Verdict().Pass, "advisory failures never block")

	onlyAdvisory := `{"results":[{"success":true,"expectation_config":{"type":"e","meta":{"severity":"advisory"}}}]}`
	res = Evaluate([]byte(onlyAdvisory))
	assert.Equal(t, gate.Fail, res[0].Status)
	assert.Equal(t, "no critical expectations were evaluated", res[0].Summary)
	assert.Equal(t, gate.Pass, res[1].Status)
	assert.Equal(t, "all 1 advisory expectations passed", res[1].Summary)

	empty := Evaluate([]byte(`{"results":[]}`))
	assert.Equal(t, gate.Fail, empty[0].Status)
	assert.Equal(t, "no advisory expectations", empty[1].Summary)
}

func TestArrayAndCheckpoint(t *testing.T) {
	one := `{"suite_name":"s%d","results":[{"success":%t,"expectation_config":{"type":"e%d","kwargs":{}}}]}`
	arr := "[" + fmt.Sprintf(one, 1, true, 1) + "," + fmt.Sprintf(one, 2, false, 2) + "]"
	fs, err := Parse([]byte(arr))
	require.NoError(t, err)
	require.Len(t, fs, 2)
	assert.Equal(t, "s2", fs[1].Suite)

	cp1 := `{"success":false,"run_results":{"b":` + fmt.Sprintf(one, 2, false, 2) + `,"a":` + fmt.Sprintf(one, 1, true, 1) + `}}`
	fs, err = Parse([]byte(cp1))
	require.NoError(t, err)
	require.Len(t, fs, 2)
	assert.Equal(t, "s1", fs[0].Suite, "runs in key order")

	cp018 := `{"run_results":{"x":{"validation_result":` + fmt.Sprintf(one, 3, false, 3) + `,"actions_results":{}}}}`
	fs, err = Parse([]byte(cp018))
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, "e3", fs[0].Expectation)
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                               "is empty",
		"nope":                           "not valid JSON",
		`"str"`:                          "not a validation result object",
		`{} {}`:                          "trailing data",
		`{"expectations":[]}`:            `no "results" array`,
		`{"results":[{"success":true}]}`: "no expectation_config",
		`{"results":[{"success":true,"expectation_config":{"kwargs":{}}}]}`:                              "neither type",
		`{"results":[{"expectation_config":{"type":"e"}}]}`:                                              "no success field",
		`{"results":[{"success":true,"expectation_config":{"type":"e","meta":{"severity":"warning"}}}]}`: `e: unknown severity "warning": set meta.severity to one of critical, advisory`,
		`{"results":[{"success":true,"expectation_config":{"type":"e","meta":{"severity":3}}}]}`:         "not a string",
		`[{"results":[]},{"x":1}]`:      "validation 1",
		`{"run_results":{"a":{"x":1}}}`: "run a",
		`{"run_results":[1]}`:           "run_results is not an object",
		`{"results":{"a":1}}`:           "not a validation result",
	}
	for in, want := range cases {
		t.Run(want, func(t *testing.T) {
			_, err := Parse([]byte(in))
			require.ErrorContains(t, err, want)
			res := Evaluate([]byte(in))
			require.Len(t, res, 2)
			assert.Equal(t, gate.Error, res[0].Status)
			assert.Equal(t, gate.Error, res[1].Status)
			assert.Equal(t, gate.Signal, res[1].Kind)
		})
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"": Critical, "critical": Critical, " CRITICAL ": Critical, "advisory": Advisory} {
		got, err := ParseSeverity(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseSeverity("info")
	require.ErrorContains(t, err, "one of critical, advisory")
}

func TestSummaryCapsNames(t *testing.T) {
	var fs []Finding
	for i := 0; i < 8; i++ {
		fs = append(fs, Finding{Expectation: fmt.Sprintf("e%d", i), Severity: Critical})
	}
	c, _ := Results(fs)
	assert.True(t, strings.HasSuffix(c.Summary, "; and 3 more"), c.Summary)
	assert.Len(t, c.Details, 8)
}

func TestLongObservedClipped(t *testing.T) {
	doc := `{"results":[{"success":false,"expectation_config":{"type":"e"},"result":{"observed_value":"` + strings.Repeat("é", 200) + `"}}]}`
	fs, err := Parse([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, 80, len([]rune(fs[0].Observed)))
	assert.True(t, strings.HasSuffix(fs[0].Observed, "..."))
}

// Property: data-contracts fails iff some critical expectation failed (or none exists);
// data-advisory never affects the verdict.
func TestResultsProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for i := 0; i < 2000; i++ {
		results := []map[string]any{}
		critFail, critAny := false, false
		for n := rng.Intn(8); n > 0; n-- {
			sev := []string{"", "critical", "advisory"}[rng.Intn(3)]
			ok := rng.Intn(2) == 0
			meta := map[string]any{}
			if sev != "" {
				meta["severity"] = sev
			}
			if sev != "advisory" {
				critAny = true
				critFail = critFail || !ok
			}
			results = append(results, map[string]any{"success": ok, "expectation_config": map[string]any{"type": "e", "kwargs": map[string]any{"column": "c"}, "meta": meta}})
		}
		doc, err := json.Marshal(map[string]any{"results": results})
		require.NoError(t, err)
		res := Evaluate(doc)
		wantFail := critFail || !critAny
		require.Equal(t, wantFail, res[0].Status == gate.Fail, string(doc))
		require.Equal(t, !wantFail, gate.Report{Results: res}.Verdict().Pass)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"gx1.json", "gx018.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[{"results":[]}]`))
	f.Add([]byte(`{"results":[{"success":false,"expectation_config":{"type":"e","kwargs":{"column":"c"},"meta":{"severity":"advisory"}},"result":{"unexpected_count":3}}]}`))
	f.Add([]byte(`{"results":[{"success":true,"expectation_config":{"expectation_type":"e","kwargs":{"column_list":["a",1]}},"result":{"observed_value":[1,2]},"exception_info":{"k":{"raised_exception":true,"exception_message":"boom"}}}]}`))
	f.Add([]byte(`{"run_results":{"a":{"validation_result":{"results":[]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := Parse(data)
		res := Evaluate(data)
		require.Len(t, res, 2)
		if err != nil {
			require.Equal(t, gate.Error, res[0].Status)
			return
		}
		for _, f := range fs {
			require.Contains(t, []Severity{Critical, Advisory}, f.Severity)
			require.NotEmpty(t, f.Expectation)
			_ = f.String()
		}
		for _, r := range res {
			require.NoError(t, r.Validate())
		}
	})
}
