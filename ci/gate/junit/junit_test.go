package junit

import (
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

func TestParsePytestFailure(t *testing.T) {
	r, err := Parse(read(t, "junit-fail.xml"))
	require.NoError(t, err)
	assert.Equal(t, Totals{Tests: 5, Failures: 1, Errors: 1, Skipped: 1, Seconds: 2.345}, r.Totals)
	assert.Equal(t, 2, r.Passed())
	assert.Equal(t, "2 passed, 1 failed, 1 errors, 1 skipped", r.Summary())
	require.Len(t, r.Failed, 2)
	assert.Equal(t, Failed{Name: "tests.test_features.test_rolling_form[home]", Kind: "failure",
		Message: "AssertionError: assert 3 == 4\n +  where 3 = len([...])"}, r.Failed[0])
	assert.Equal(t, "tests.test_api.test_predict", r.Failed[1].Name)
	assert.Equal(t, "error", r.Failed[1].Kind)
	assert.Contains(t, r.Failed[1].Message, "Connection refused")

	res := r.Result()
	assert.Equal(t, gate.Test, res.Name)
	assert.Equal(t, gate.Blocking, res.Kind)
	assert.Equal(t, gate.Fail, res.Status)
	assert.Equal(t, "2 passed, 1 failed, 1 errors, 1 skipped", res.Summary)
	require.Len(t, res.Details, 2)
	assert.True(t, strings.HasPrefix(res.Details[0], "tests.test_features.test_rolling_form[home] (failure): AssertionError"))
}

func TestParseBareSuitePass(t *testing.T) {
	x := `<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="2" time="0.5">
<testcase classname="t" name="a"/><testcase classname="" name="b"/></testsuite>`
	r, err := Parse([]byte(x))
	require.NoError(t, err)
	assert.Equal(t, Totals{Tests: 2, Seconds: 0.5}, r.Totals)
	assert.Empty(t, r.Failed)
	res := r.Result()
	assert.Equal(t, gate.Pass, res.Status)
	assert.Equal(t, "2 passed, 0 failed, 0 errors, 0 skipped", res.Summary)
}

func TestNoTestsFails(t *testing.T) {
	r, err := Parse([]byte(`<testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="0" time="0.01"/></testsuites>`))
	require.NoError(t, err)
	res := r.Result()
	assert.Equal(t, gate.Fail, res.Status)
	assert.Contains(t, res.Summary, "no tests ran")
}

// A run where every test was skipped tested nothing: `pytest -m nothing` or a blanket
// skip marker must not pass the gate. One test that passed is enough (the positive twin).
func TestAllSkippedFails(t *testing.T) {
	r, err := Parse([]byte(`<testsuites><testsuite name="pytest" errors="0" failures="0" skipped="2" tests="2" time="0.01">
<testcase classname="t" name="a"><skipped message="blanket skip"/></testcase><testcase classname="t" name="b"><skipped/></testcase></testsuite></testsuites>`))
	require.NoError(t, err)
	res := r.Result()
	assert.Equal(t, gate.Fail, res.Status)
	assert.Equal(t, "no test passed: every test was skipped: 0 passed, 0 failed, 0 errors, 2 skipped", res.Summary)
	assert.Equal(t, []string{"a run where every test is skipped tests nothing: remove the skip marks (or the -m/-k filter) so the project's tests run"}, res.Details)

	r, err = Parse([]byte(`<testsuite errors="0" failures="0" skipped="1" tests="2"><testcase name="a"><skipped/></testcase><testcase name="b"/></testsuite>`))
	require.NoError(t, err)
	assert.Equal(t, gate.Pass, r.Result().Status, "one passed test and a skipped one pass")
}

func TestAttributesUnderCountFailClosed(t *testing.T) {
	x := `<testsuite tests="1" failures="0" errors="0" skipped="0">
<testcase classname="t" name="a"><failure>boom
second line</failure></testcase><testcase classname="t" name="b"/></testsuite>`
	r, err := Parse([]byte(x))
	require.NoError(t, err)
	assert.Equal(t, 2, r.Tests)
	assert.Equal(t, 1, r.Failures)
	assert.Equal(t, "boom", r.Failed[0].Message, "first line of the text when there is no message attribute")
	assert.Equal(t, gate.Fail, r.Result().Status)
}

func TestMissingAttributesCounted(t *testing.T) {
	x := `<testsuites><testsuite><testcase name="a"><skipped/></testcase><testcase name="b"><error message="e"/></testcase><testcase name="c"/></testsuite>
<testsuite tests="1"><testcase name="d"/></testsuite></testsuites>`
	r, err := Parse([]byte(x))
	require.NoError(t, err)
	assert.Equal(t, Totals{Tests: 4, Errors: 1, Skipped: 1}, r.Totals)
	assert.Equal(t, "2 passed, 0 failed, 1 errors, 1 skipped", r.Summary())
}

func TestFailureAndTeardownError(t *testing.T) {
	x := `<testsuite tests="1" failures="1" errors="1"><testcase classname="t" name="a"><failure message="f"/><error message="teardown"/></testcase></testsuite>`
	r, err := Parse([]byte(x))
	require.NoError(t, err)
	assert.Equal(t, 1, r.Failures)
	assert.Equal(t, 1, r.Errors)
	require.Len(t, r.Failed, 2)
	assert.Equal(t, 2, r.Tests, "never fewer tests than outcomes")
}

func TestNestedSuites(t *testing.T) {
	x := `<testsuites><testsuite name="outer"><testsuite name="inner" tests="2" failures="1"><testcase name="x"><failure message="m"/></testcase><testcase name="y"/></testsuite></testsuite></testsuites>`
	r, err := Parse([]byte(x))
	require.NoError(t, err)
	assert.Equal(t, 2, r.Tests)
	assert.Equal(t, 1, r.Failures)
	require.Len(t, r.Failed, 1)
}

func TestLongMessageTruncated(t *testing.T) {
	long := strings.Repeat("é", MaxMessage+10)
	r, err := Parse([]byte(`<testsuite><testcase name="a"><failure message="` + long + `"/></testcase></testsuite>`))
	require.NoError(t, err)
	assert.Equal(t, MaxMessage+1, len([]rune(r.Failed[0].Message)))
	assert.True(t, strings.HasSuffix(r.Failed[0].Message, "…"))
}

func TestManyFailuresDetailsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("<testsuite>")
	for i := 0; i < 70; i++ {
		fmt.Fprintf(&b, `<testcase name="t%d"><failure message="m"/></testcase>`, i)
	}
	b.WriteString("</testsuite>")
	r, err := Parse([]byte(b.String()))
	require.NoError(t, err)
	res := r.Result()
	require.Len(t, res.Details, MaxDetails+1)
	assert.Equal(t, "… and 20 more (see junit.xml)", res.Details[MaxDetails])
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                           "empty",
		"not xml":                    "not valid XML",
		"<testsuite>":                "not valid XML",
		"<html><body/></html>":       "root element is <html>",
		`<testsuite tests="many"/>`:  "tests=\"many\" is not a non-negative integer",
		`<testsuite failures="-1"/>`: "failures=\"-1\"",
		`<testsuite time="NaN"/>`:    "time=\"NaN\"",
		`<testsuite time="-2"/>`:     "time=\"-2\"",
		`<testsuite/><testsuite/>`:   "more than one root element",
		`<testsuite/>trailing`:       "text after the root element",
		`<testsuites><testcase name="a"/></testsuites>`:                "directly under <testsuites>",
		`<testsuite><testcase name="a">&bogus;</testcase></testsuite>`: "not valid XML",
	}
	for in, want := range cases {
		t.Run(want, func(t *testing.T) {
			_, err := Parse([]byte(in))
			require.ErrorContains(t, err, want)
		})
	}
}

func TestDeepNestingRejected(t *testing.T) {
	x := strings.Repeat("<testsuite>", 40) + strings.Repeat("</testsuite>", 40)
	_, err := Parse([]byte("<testsuites>" + x + "</testsuites>"))
	require.ErrorContains(t, err, "nested deeper")
}

// Property: totals are consistent with the generated cases and the verdict is fail iff
// some case failed or errored (or nothing ran).
func TestParseProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for i := 0; i < 500; i++ {
		var fails, errs, skips, passes int
		var b strings.Builder
		b.WriteString("<testsuites>")
		for s := rng.Intn(3); s >= 0; s-- {
			var cases strings.Builder
			n := map[string]int{}
			for c := rng.Intn(6); c > 0; c-- {
				switch rng.Intn(4) {
				case 0:
					cases.WriteString(`<testcase name="f"><failure message="x"/></testcase>`)
					n["f"]++
				case 1:
					cases.WriteString(`<testcase name="e"><error message="x"/></testcase>`)
					n["e"]++
				case 2:
					cases.WriteString(`<testcase name="s"><skipped/></testcase>`)
					n["s"]++
				default:
					cases.WriteString(`<testcase name="p"/>`)
					n["p"]++
				}
			}
			total := n["f"] + n["e"] + n["s"] + n["p"]
			fmt.Fprintf(&b, `<testsuite tests="%d" failures="%d" errors="%d" skipped="%d" time="0.1">%s</testsuite>`, total, n["f"], n["e"], n["s"], cases.String())
			fails, errs, skips, passes = fails+n["f"], errs+n["e"], skips+n["s"], passes+n["p"]
		}
		b.WriteString("</testsuites>")
		r, err := Parse([]byte(b.String()))
		require.NoError(t, err)
		require.Equal(t, fails, r.Failures)
		require.Equal(t, errs, r.Errors)
		require.Equal(t, skips, r.Skipped)
		require.Equal(t, passes, r.Passed())
		require.Len(t, r.Failed, fails+errs)
		wantPass := fails+errs == 0 && passes > 0
		require.Equal(t, wantPass, r.Result().Status == gate.Pass, b.String())
	}
}

func TestParseCoverage(t *testing.T) {
	pct, err := ParseCoverage(read(t, "coverage.xml"))
	require.NoError(t, err)
	assert.InDelta(t, 82.04, pct, 1e-9)

	for in, want := range map[string]float64{
		`<coverage line-rate="1"/>`:     100,
		`<coverage line-rate="0"/>`:     0,
		`<coverage line-rate=" 0.5 "/>`: 50,
	} {
		got, err := ParseCoverage([]byte(in))
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-9)
	}
	bad := map[string]string{
		"":                             "empty",
		"<coverage":                    "not a Cobertura",
		`<report line-rate="0.5"/>`:    "not a Cobertura",
		`<coverage lines-valid="3"/>`:  "no line-rate",
		`<coverage line-rate="1.5"/>`:  "not a number from 0 to 1",
		`<coverage line-rate="-0.1"/>`: "not a number from 0 to 1",
		`<coverage line-rate="NaN"/>`:  "not a number from 0 to 1",
		`<coverage line-rate="82%"/>`:  "not a number from 0 to 1",
	}
	for in, want := range bad {
		_, err := ParseCoverage([]byte(in))
		require.ErrorContains(t, err, want, in)
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/junit-fail.xml")
	f.Add(b)
	f.Add([]byte(`<testsuite tests="1"><testcase name="a"/></testsuite>`))
	f.Add([]byte(`<testsuites><testsuite><testsuite tests="2" failures="3"/></testsuite></testsuites>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		require.GreaterOrEqual(t, r.Tests, r.Failures+r.Errors+r.Skipped)
		require.GreaterOrEqual(t, r.Passed(), 0)
		require.GreaterOrEqual(t, r.Failures+r.Errors, 0)
		res := r.Result()
		require.NoError(t, res.Validate())
		if r.Failures+r.Errors > 0 {
			require.Equal(t, gate.Fail, res.Status)
		}
	})
}

func FuzzParseCoverage(f *testing.F) {
	b, _ := os.ReadFile("testdata/coverage.xml")
	f.Add(b)
	f.Add([]byte(`<coverage line-rate="0.1"/>`))
	f.Add([]byte(`<coverage line-rate="1e-3"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pct, err := ParseCoverage(data)
		if err != nil {
			return
		}
		require.GreaterOrEqual(t, pct, 0.0)
		require.LessOrEqual(t, pct, 100.0)
	})
}

func TestEvaluate(t *testing.T) {
	pass := []byte(`<testsuite tests="2"><testcase name="a"/><testcase name="b"/></testsuite>`)
	r := Evaluate(pass, read(t, "coverage.xml"))
	assert.Equal(t, gate.Pass, r.Status)
	assert.Equal(t, "2 passed, 0 failed, 0 errors, 0 skipped; coverage 82.0%", r.Summary)

	r = Evaluate(pass, nil)
	assert.Equal(t, "2 passed, 0 failed, 0 errors, 0 skipped", r.Summary)

	r = Evaluate(pass, []byte("<coverage/>"))
	assert.Equal(t, gate.Pass, r.Status, "coverage is reported, not enforced")
	assert.Contains(t, r.Details[0], "no line-rate")

	r = Evaluate(read(t, "junit-fail.xml"), read(t, "coverage.xml"))
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, "2 passed, 1 failed, 1 errors, 1 skipped; coverage 82.0%", r.Summary)

	r = Evaluate(nil, nil)
	assert.Equal(t, gate.Error, r.Status)
	assert.Contains(t, r.Summary, "--junitxml")
}
