package project

import (
	"os/exec"
	"strings"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"helm":                   "helm",
		"--set-string":           "--set-string",
		"a=b,c":                  "a=b,c",
		"":                       "''",
		"two words":              "'two words'",
		"it's":                   `'it'\''s'`,
		"$(rm -rf /)":            "'$(rm -rf /)'",
		"x;y|z&`w`":              "'x;y|z&`w`'",
		"trace.gitCommit=0123ab": "trace.gitCommit=0123ab",
	} {
		assert.Equal(t, want, Quote(in), in)
	}
}

// echoBack runs printf in a real shell and returns the arguments it received.
func echoBack(t *testing.T, argv []string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "printf '%s\\0' "+Join(argv)).Output()
	require.NoError(t, err)
	parts := strings.Split(string(out), "\x00")
	return parts[:len(parts)-1]
}

func TestJoinRoundTripsThroughARealShell(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	argv := []string{"a b", "it's", "$HOME", "`id`", "*", "\\n", "--x=y z", "ünïcode"}
	assert.Equal(t, argv, echoBack(t, argv))
	prop := func(args []string) bool {
		var clean []string
		for _, a := range args {
			if !strings.ContainsRune(a, 0) { // a shell argument cannot hold NUL
				clean = append(clean, a)
			}
		}
		if len(clean) == 0 {
			return true
		}
		got := echoBack(t, clean)
		return assert.ObjectsAreEqual(clean, got)
	}
	require.NoError(t, quick.Check(prop, &quick.Config{MaxCount: 200}))
}

func FuzzQuote(f *testing.F) {
	f.Add("it's")
	f.Add("")
	f.Add("a\nb")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return
		}
		got := echoBack(t, []string{s})
		if len(got) != 1 || got[0] != s {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}

// shellWords runs line through a real shell as the arguments of printf and returns the words it
// received: the oracle for Split.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "printf '%s\\0' "+line).Output()
	require.NoError(t, err, line)
	parts := strings.Split(string(out), "\x00")
	return parts[:len(parts)-1]
}

func TestSplitAgreesWithARealShell(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	for _, line := range []string{
		"python -m soccerpredict.pipeline.train --out {metrics} --model-out {model}",
		"  python\ttrain.py   --out={metrics}  ",
		`python train.py --name 'two words' --note "it's \"quoted\"" --path a\ b`,
		`python train.py --json '{"a": [1, 2]}' --empty '' --also ""`,
		`python train.py --x a#b --y a~b --z=~`,
		"python train.py --lit '$HOME *.csv | ; & > ( ) #' --esc \"\\$HOME \\` \\\\\"",
		"python train.py \\\n  --out {metrics}",
		`python tra"in".py 'a'"b"c`,
	} {
		got, err := Split(line)
		require.NoError(t, err, line)
		assert.Equal(t, shellWords(t, line), got, line)
	}
}

func TestSplitRefusesWhatOnlyAShellWouldDo(t *testing.T) {
	for line, want := range map[string]string{
		"python train.py | tee log":      `"|" at character 17 is shell syntax`,
		"python train.py; rm -rf x":      `";" at character 16 is shell syntax`,
		"python train.py && echo ok":     `"&" at character 17`,
		"python train.py > out.log":      `">" at character 17`,
		"python train.py --data $DATA":   `"$" at character 24 is a shell expansion`,
		`python train.py --d "$DATA"`:    `"$" inside double quotes at character 22 is a shell expansion`,
		"python train.py `date`":         "is a shell expansion",
		"python train.py data/*.csv":     "is a shell glob",
		"python train.py ~/data":         "is a shell home-directory expansion",
		"python train.py # comment":      "is a shell comment",
		"python train.py\necho second":   "is shell syntax",
		"python train.py --name 'open":   "unterminated single quote at character 24",
		`python train.py --name "open`:   "unterminated double quote at character 24",
		`python train.py \`:              "ends with a backslash",
		"python train.py $(id)":          "is a shell expansion",
		"python train.py --x=(1)":        `"(" at character 21 is shell syntax`,
		"python train.py <in.csv":        `"<"`,
		"python train.py --mode=[a]":     "is a shell glob",
		"python train.py --q=what?":      "is a shell glob",
		"python train.py &":              `"&"`,
		"python train.py --env=${STAGE}": "is a shell expansion",
	} {
		_, err := Split(line)
		require.Error(t, err, line)
		assert.Contains(t, err.Error(), want, line)
	}
}

func TestSplitInvertsJoin(t *testing.T) {
	prop := func(args []string) bool {
		got, err := Split(Join(args))
		if len(args) == 0 {
			return err == nil && len(got) == 0
		}
		return err == nil && assert.ObjectsAreEqual(args, got)
	}
	require.NoError(t, quick.Check(prop, &quick.Config{MaxCount: 500}))
}

func FuzzSplit(f *testing.F) {
	f.Add("python -m x --out {metrics}")
	f.Add(`a 'b c' "d\"e" f\ g`)
	f.Add(`"$x"`)
	f.Fuzz(func(t *testing.T, line string) {
		words, err := Split(line)
		if err != nil || strings.ContainsRune(line, 0) {
			return
		}
		// Whatever Split accepts, a real shell reads the same way.
		if _, lerr := exec.LookPath("sh"); lerr == nil {
			if got := shellWords(t, line); !assert.ObjectsAreEqual(words, got) && !(len(words) == 0 && len(got) == 1 && got[0] == "") {
				t.Fatalf("%q: Split %q, sh %q", line, words, got)
			}
		}
		if len(words) == 0 {
			return
		}
		back, err := Split(Join(words))
		if err != nil || !assert.ObjectsAreEqual(words, back) {
			t.Fatalf("%q: Join/Split does not round-trip %q: %q %v", line, words, back, err)
		}
	})
}
