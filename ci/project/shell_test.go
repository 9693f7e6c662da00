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
