package gitlabci

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExprEvaluates(t *testing.T) {
	vars := map[string]string{
		"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main",
		"EMPTY": "", "TAG": "v1.2.3",
	}
	cases := []struct {
		src  string
		want bool
	}{
		{`$CI_PIPELINE_SOURCE == "push"`, true},
		{`$CI_PIPELINE_SOURCE == 'push'`, true},
		{`"push" == $CI_PIPELINE_SOURCE`, true},
		{`$CI_PIPELINE_SOURCE != "push"`, false},
		{`$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`, true},
		{`$UNSET == $ALSO_UNSET`, true},
		{`$UNSET == $CI_DEFAULT_BRANCH`, false},
		{`$UNSET != "x"`, true},
		{`$UNSET == ""`, false},
		{`$EMPTY == ""`, true},
		{`$CI_COMMIT_BRANCH`, true},
		{`$EMPTY`, false},
		{`$UNSET`, false},
		{`"x"`, true},
		{`""`, false},
		{`$TAG =~ /^v[0-9]+\.[0-9]+\.[0-9]+$/`, true},
		{`$TAG =~ /^v[0-9]+$/`, false},
		{`$UNSET =~ /.*/`, false},
		{`$TAG =~ /\/|v/`, true},
		{`$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "dev"`, false},
		{`$CI_PIPELINE_SOURCE == "web" || $CI_COMMIT_BRANCH == "main"`, true},
		// && binds tighter than ||.
		{`$CI_PIPELINE_SOURCE == "push" || $UNSET && $UNSET`, true},
		{`($CI_PIPELINE_SOURCE == "push" || $UNSET) && $UNSET`, false},
		{`$UNSET && $UNSET || $TAG`, true},
		{`  $TAG  ==  "v1.2.3"  `, true},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			e, err := ParseExpr(tc.src)
			require.NoError(t, err)
			assert.Equal(t, tc.want, e.Eval(vars))
		})
	}
}

func TestParseExprRejects(t *testing.T) {
	cases := map[string]string{
		``:                          "ends too early",
		`$A ==`:                     "ends too early",
		`$A == "b`:                  "unterminated string",
		`$A =~ /b`:                  "unterminated regular expression",
		`$A =~ /b/i`:                "flags are not supported",
		`$A =~ "b"`:                 "=~ takes a /regex/",
		`$A == /b/`:                 "=~ takes a /regex/",
		`/b/ =~ $A`:                 "only allowed on the right",
		`/b/`:                       "only allowed on the right",
		`$A !~ /b/`:                 "unsupported syntax",
		`$A == null`:                "unsupported syntax",
		`${A} == "b"`:               "must be followed by a variable name",
		`$A == "b" and $B`:          "unsupported syntax",
		`$A $B`:                     "unexpected",
		`($A == "b"`:                "missing \")\"",
		`$A == "b")`:                "unexpected",
		`$A =~ /(/`:                 "invalid regular expression",
		`$A == "x" && || $B`:        "expected a variable",
		`$A == $B == $C`:            "unexpected",
		`!$A`:                       "unsupported syntax",
		`$A == "b" & $B`:            "unsupported syntax",
		`$CI_COMMIT_TAG =~ /^v/ ||`: "ends too early",
	}
	for src, want := range cases {
		t.Run(src, func(t *testing.T) {
			_, err := ParseExpr(src)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

// randomExpr builds a random expression tree over a few variables.
func randomExpr(rng *rand.Rand, depth int) Expr {
	names := []string{"A", "B", "C", "UNSET"}
	values := []string{"", "x", "y", "main"}
	operand := func() Operand {
		if rng.Intn(2) == 0 {
			return Operand{Kind: "var", Text: names[rng.Intn(len(names))]}
		}
		q := byte('"')
		if rng.Intn(2) == 0 {
			q = '\''
		}
		return Operand{Kind: "string", Text: values[rng.Intn(len(values))], Quote: q}
	}
	if depth == 0 || rng.Intn(3) == 0 {
		switch rng.Intn(4) {
		case 0:
			return operand()
		case 1:
			src := []string{"^x$", "ma", "^$", "[xy]", `\/`}[rng.Intn(5)]
			e, err := ParseExpr("$" + names[rng.Intn(len(names))] + " =~ /" + src + "/")
			if err != nil {
				panic(err)
			}
			return e
		default:
			return Compare{Left: operand(), Op: []string{"==", "!="}[rng.Intn(2)], Right: operand()}
		}
	}
	op := "&&"
	if rng.Intn(2) == 0 {
		op = "||"
	}
	return Logic{Left: randomExpr(rng, depth-1), Op: op, Right: randomExpr(rng, depth-1)}
}

// Rendering a tree and parsing it back gives a tree that evaluates the same everywhere and
// renders the same: precedence and parentheses are handled both ways.
func TestExprRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	values := []string{"", "x", "y", "main", "/"}
	for i := 0; i < 3000; i++ {
		e := randomExpr(rng, 4)
		src := e.String()
		parsed, err := ParseExpr(src)
		require.NoErrorf(t, err, "source %q", src)
		require.Equal(t, src, parsed.String())
		for j := 0; j < 8; j++ {
			vars := map[string]string{}
			for _, n := range []string{"A", "B", "C"} {
				if rng.Intn(4) > 0 {
					vars[n] = values[rng.Intn(len(values))]
				}
			}
			require.Equalf(t, e.Eval(vars), parsed.Eval(vars), "source %q vars %v", src, vars)
		}
	}
}

// Fully parenthesized rendering is read the same way as the minimal one.
func TestExprParenthesesProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	var full func(e Expr) string
	full = func(e Expr) string {
		if l, ok := e.(Logic); ok {
			return "(" + full(l.Left) + " " + l.Op + " " + full(l.Right) + ")"
		}
		return e.String()
	}
	for i := 0; i < 2000; i++ {
		e := randomExpr(rng, 4)
		parsed, err := ParseExpr(full(e))
		require.NoError(t, err)
		assert.Equal(t, e.String(), parsed.String())
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		`$CI_PIPELINE_SOURCE == "merge_request_event"`,
		`$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`,
		`$CI_COMMIT_TAG =~ /^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/`,
		`($A || $B) && 'x' != $C`,
		`$A =~ /\//`, `((`, `$`, `"`, `/`, `&&`, `$A == "b" || `,
	} {
		f.Add(s)
	}
	vars := map[string]string{"A": "x", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1.2.3"}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			if !strings.Contains(err.Error(), "rules:if") {
				t.Fatalf("error %q does not name the expression", err)
			}
			return
		}
		again, err := ParseExpr(e.String())
		if err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", src, e.String(), err)
		}
		if again.String() != e.String() || again.Eval(vars) != e.Eval(vars) {
			t.Fatalf("%q: round trip changed the expression: %q", src, again.String())
		}
	})
}

func TestParseDaggerCall(t *testing.T) {
	d, err := ParseDaggerCall("dagger call --commit=$CI_COMMIT_SHA --tag=$CI_COMMIT_TAG release --version=$CI_COMMIT_TAG --password=env:PW export --path=release")
	require.NoError(t, err)
	assert.Equal(t, []Arg{{"commit", "$CI_COMMIT_SHA"}, {"tag", "$CI_COMMIT_TAG"}}, d.Ctor)
	assert.Equal(t, "release", d.Function())
	require.Len(t, d.Chain, 2)
	p, ok := d.ExportPath()
	assert.True(t, ok)
	assert.Equal(t, "release", p)
	v, _ := d.Chain[0].Arg("password")
	assert.Equal(t, "env:PW", v)
	assert.Len(t, d.AllArgs(), 5)

	d, err = ParseDaggerCall("dagger call check")
	require.NoError(t, err)
	_, ok = d.ExportPath()
	assert.False(t, ok)
	d, err = ParseDaggerCall("dagger call export --path=x")
	require.NoError(t, err)
	_, ok = d.ExportPath()
	assert.False(t, ok, "a lone export is the module's function, not a chained export")

	bad := map[string]string{
		"dagger version":                        "not a `dagger call",
		"docker run x":                          "not a `dagger call",
		"dagger call":                           "not a `dagger call",
		"dagger call --commit=$X":               "calls no function",
		"dagger call check --flag":              "--name=value",
		"dagger call check --flag=":             "--name=value",
		"dagger call Check":                     "neither",
		"dagger call check && rm -rf /":         "shell syntax",
		"dagger call check; echo":               "shell syntax",
		"dagger call check > out":               "shell syntax",
		"dagger call check --x=$(cat f)":        "shell syntax",
		"dagger call check --x=${Y}":            "shell syntax",
		`dagger call check --x="a b"`:           "shell syntax",
		"dagger call check --x=`id`":            "shell syntax",
		"dagger call check --x=*":               "shell syntax",
		"dagger call check | jq .":              "shell syntax",
		"dagger call check # comment":           "shell syntax",
		"dagger call check\ndagger call check":  "shell syntax",
		"curl -fsSL https://x | sh":             "shell syntax",
		"if true; then dagger call check; fi":   "shell syntax",
		"dagger call check --password=$SECRET ": "",
	}
	for line, want := range bad {
		_, err := ParseDaggerCall(line)
		if want == "" {
			assert.NoError(t, err, "the parser accepts it; CheckSecrets refuses it")
			continue
		}
		if assert.Errorf(t, err, "%q", line) {
			assert.Contains(t, err.Error(), want, line)
		}
	}
}

func FuzzParseDaggerCall(f *testing.F) {
	for _, s := range []string{
		"dagger call --commit=$CI_COMMIT_SHA check",
		"dagger call gate-report export --path=reports",
		"dagger call check | jq", "dagger", "", "dagger call --a=b c --d=e f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		d, err := ParseDaggerCall(line)
		if err != nil {
			return
		}
		if len(d.Chain) == 0 || d.Function() == "" {
			t.Fatalf("%q parsed without a function", line)
		}
		for _, a := range d.AllArgs() {
			if a.Name == "" || a.Value == "" || strings.ContainsAny(a.Value, "|;&<>`'\"") {
				t.Fatalf("%q: bad flag %+v", line, a)
			}
		}
	})
}

func TestConfigExtendsAndRules(t *testing.T) {
	c, err := ParseConfig([]byte(`
workflow:
  rules:
    - if: $GO
.a:
  variables: {X: "1", Y: "1"}
  script: [dagger call a]
  tags: [one, two]
.b:
  extends: .a
  variables: {Y: "2"}
  tags: [three]
job:
  extends: [.b]
  variables: {Z: "3"}
  rules:
    - if: $SKIP
      when: never
    - if: $MANUAL
      when: manual
    - when: on_success
      allow_failure: true
loop1:
  extends: loop2
loop2:
  extends: loop1
`))
	require.NoError(t, err)
	job, err := c.Job("job")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"X": "1", "Y": "2", "Z": "3"}, job["variables"], "mappings merge, the child wins")
	assert.Equal(t, []any{"three"}, job["tags"], "sequences are replaced, not merged")
	assert.Equal(t, []any{"dagger call a"}, job["script"])
	assert.NotContains(t, job, "extends")
	_, err = c.Job("loop1")
	assert.ErrorContains(t, err, "extends loop")
	_, err = c.Job("missing")
	assert.ErrorContains(t, err, "not defined")

	// Resolving does not change the document.
	raw := c.Doc[".b"].(map[string]any)
	assert.Equal(t, map[string]any{"Y": "2"}, raw["variables"])

	delete(c.Doc, "loop1")
	delete(c.Doc, "loop2")
	created, _, err := c.Pipeline(map[string]string{})
	require.NoError(t, err)
	assert.False(t, created, "no workflow rule matched")
	for vars, want := range map[string]*PlannedJob{
		"GO":        {When: "on_success", AllowFailure: true},
		"GO,SKIP":   nil,
		"GO,MANUAL": {When: "manual", AllowFailure: false},
	} {
		v := map[string]string{}
		for _, k := range strings.Split(vars, ",") {
			v[k] = "1"
		}
		created, jobs, err := c.Pipeline(v)
		require.NoError(t, err)
		require.True(t, created)
		if want == nil {
			assert.NotContains(t, jobs, "job", vars)
		} else {
			assert.Equal(t, *want, jobs["job"], vars)
		}
	}
}

func TestConfigRefusesWhatTheEvaluatorCannotModel(t *testing.T) {
	_, err := ParseConfig([]byte("job:\n  script: !reference [.x, script]\n"))
	assert.ErrorContains(t, err, "custom tag !reference")

	c, err := ParseConfig([]byte("workflow:\n  rules:\n    - when: always\njob:\n  script: [dagger call a]\n"))
	require.NoError(t, err)
	_, _, err = c.Pipeline(map[string]string{})
	assert.ErrorContains(t, err, "job job has no rules")

	c, err = ParseConfig([]byte("workflow:\n  rules:\n    - changes: [a]\n"))
	require.NoError(t, err)
	_, _, err = c.Pipeline(map[string]string{})
	assert.ErrorContains(t, err, "changes is not supported")

	c, err = ParseConfig([]byte("job: {script: [x]}\n"))
	require.NoError(t, err)
	_, _, err = c.Pipeline(map[string]string{})
	assert.ErrorContains(t, err, "workflow:rules is missing")

	_, err = ParseConfig([]byte("- a\n- b\n"))
	assert.ErrorContains(t, err, "must be a mapping")
}
