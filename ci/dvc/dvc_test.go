package dvc

import (
	"fmt"
	"math/rand"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPointerPathspecs(t *testing.T) {
	cases := []struct {
		project string
		want    []string
	}{
		{".", []string{"dvc.lock", ":(glob)**/*.dvc"}},
		{"", []string{"dvc.lock", ":(glob)**/*.dvc"}},
		{"tests/testdata/soccerpredict", []string{"tests/testdata/soccerpredict/dvc.lock", ":(glob)tests/testdata/soccerpredict/**/*.dvc"}},
		{"ml/", []string{"ml/dvc.lock", ":(glob)ml/**/*.dvc"}},
		{"./ml", []string{"ml/dvc.lock", ":(glob)ml/**/*.dvc"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, PointerPathspecs(c.project), c.project)
	}
}

func TestParseNameStatus(t *testing.T) {
	cases := []struct {
		name            string
		in              string
		restore, remove []string
	}{
		{"nothing changed", "", nil, nil},
		{"blank lines", "\n\n", nil, nil},
		{"modified, deleted and added, in git's order",
			"M\tp/dvc.lock\nD\tp/data/raw/matches.csv.dvc\nA\tp/data/raw/odds.csv.dvc\n",
			[]string{"p/dvc.lock", "p/data/raw/matches.csv.dvc"}, []string{"p/data/raw/odds.csv.dvc"}},
		{"order kept within each list",
			"A\tz.dvc\nM\tb.dvc\nA\ta.dvc\nT\tlink.dvc\nD\ta/dvc.lock",
			[]string{"b.dvc", "link.dvc", "a/dvc.lock"}, []string{"z.dvc", "a.dvc"}},
		{"only additions", "A\tnew.dvc", nil, []string{"new.dvc"}},
		{"spaces belong to the path", "M\tdata/my file.dvc\nM\t lead.dvc", []string{"data/my file.dvc", " lead.dvc"}, nil},
		{"a C-quoted non-ASCII path is unquoted", `M	"data/donn\303\251es.csv.dvc"`, []string{"data/données.csv.dvc"}, nil},
		{"a C-quoted path with a quote", `D	"data/a\"b.dvc"`, []string{`data/a"b.dvc`}, nil},
		{"dots inside names are fine", "M\tx..y.dvc\nA\t..hidden/.x.dvc", []string{"x..y.dvc"}, []string{"..hidden/.x.dvc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			restore, remove, err := ParseNameStatus(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.restore, restore)
			assert.Equal(t, c.remove, remove)
		})
	}
}

func TestParseNameStatusRefuses(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"a rename", "M\ta.dvc\nR100\told.dvc\tnew.dvc", []string{"line 2", "R100", "--no-renames"}},
		{"a copy", "C075\ta.dvc\tb.dvc", []string{"line 1", "C075", "--no-renames"}},
		{"a bare R", "R\ta.dvc", []string{"line 1", "rename or copy"}},
		{"an unmerged file", "U\tdvc.lock", []string{"line 1", `unknown status "U"`, "A, M, D or T"}},
		{"unknown status", "X\ta.dvc", []string{`unknown status "X"`}},
		{"a status with a score", "M100\ta.dvc", []string{`unknown status "M100"`}},
		{"lowercase status", "m\ta.dvc", []string{`unknown status "m"`}},
		{"empty status", "\ta.dvc", []string{`unknown status ""`}},
		{"a status with a space", "M \ta.dvc", []string{`unknown status "M "`}},
		{"no tab", "M a.dvc", []string{"line 1", "no tab"}},
		{"--stat output", " p/dvc.lock | 4 ++--", []string{"no tab"}},
		{"no path", "M\t", []string{"no path"}},
		{"absolute path", "M\t/etc/passwd", []string{`"/etc/passwd"`, "absolute"}},
		{"parent component first", "D\t../outside.dvc", []string{"..", "leave the repository"}},
		{"parent component inside", "A\tp/../../x.dvc", []string{"leave the repository"}},
		{"parent component last", "M\tp/..", []string{"leave the repository"}},
		{"just ..", "M\t..", []string{"leave the repository"}},
		{"quoted parent component", `M	"../x\303\251.dvc"`, []string{"leave the repository"}},
		{"quoted absolute path", `M	"/x\303\251.dvc"`, []string{"absolute"}},
		{"NUL byte (-z output)", "M\x00a.dvc\x00", []string{"NUL", "without -z"}},
		{"NUL byte in the path", "M\ta\x00b.dvc", []string{"NUL"}},
		{"quoted NUL byte", `M	"a\000b.dvc"`, []string{"NUL"}},
		{"not clean: ./", "M\t./a.dvc", []string{"not a clean"}},
		{"not clean: //", "M\tp//a.dvc", []string{"not a clean"}},
		{"not clean: trailing /", "M\tp/", []string{"not a clean"}},
		{"not clean: /./", "M\tp/./a.dvc", []string{"not a clean"}},
		{"the root", "M\t.", []string{"not a clean"}},
		{"pathspec magic", "M\t:(top)a.dvc", []string{"pathspec pattern"}},
		{"glob", "A\tdata/*.dvc", []string{"pathspec pattern"}},
		{"quoted backslash", `M	"a\\b.dvc"`, []string{"pathspec pattern"}},
		{"control character", `M	"a\tb.dvc"`, []string{"control character"}},
		{"carriage return", "M\ta.dvc\r", []string{"control character"}},
		{"bad quoting", `M	"a.dvc`, []string{"C-quoted"}},
		{"listed twice", "M\ta.dvc\nA\ta.dvc", []string{"line 2", "listed twice"}},
		{"an error after good lines", "M\ta.dvc\nA\tb.dvc\n\nQ\tc.dvc", []string{"line 4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			restore, remove, err := ParseNameStatus(c.in)
			require.Error(t, err)
			assert.Nil(t, restore, "nothing is returned on an error")
			assert.Nil(t, remove, "nothing is returned on an error")
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "git diff", "the error names the command whose output it read")
		})
	}
}

// quote writes a path as git does with core.quotePath: in double quotes with C escapes when it
// holds a quote, a backslash, a control character or a non-ASCII byte.
func quote(p string) string {
	needs := false
	for _, c := range []byte(p) {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			needs = true
		}
	}
	if !needs {
		return p
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(p) {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Property: every well-formed name-status listing of clean relative paths (quoted as git quotes
// them) parses back to the same files, split by status, in order.
func TestParseNameStatusRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	parts := []string{"data", "raw", "dvc.lock", "odds.csv.dvc", "données", "a b", `q"t`, "x..y", ".dvc", "models", "é.dvc", "-n"}
	statuses := []string{"A", "M", "D", "T"}
	for range 3000 {
		var lines, wantRestore, wantRemove []string
		seen := map[string]bool{}
		for range rng.Intn(8) {
			comps := make([]string, 1+rng.Intn(4))
			for i := range comps {
				comps[i] = parts[rng.Intn(len(parts))]
			}
			p := strings.Join(comps, "/")
			if seen[p] {
				continue
			}
			seen[p] = true
			st := statuses[rng.Intn(len(statuses))]
			lines = append(lines, st+"\t"+quote(p))
			if st == "A" {
				wantRemove = append(wantRemove, p)
			} else {
				wantRestore = append(wantRestore, p)
			}
		}
		in := strings.Join(lines, "\n")
		if rng.Intn(2) == 0 {
			in += "\n"
		}
		restore, remove, err := ParseNameStatus(in)
		require.NoError(t, err, "%q", in)
		require.Equal(t, wantRestore, restore, "%q", in)
		require.Equal(t, wantRemove, remove, "%q", in)
	}
}

// Property: inserting one bad line anywhere in a good listing makes the whole listing an error
// that names that line.
func TestParseNameStatusOneBadLineProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	bad := []string{"R100\ta.dvc\tb.dvc", "U\tx.dvc", "M\t/abs.dvc", "A\t../up.dvc", "M\tp/../../up.dvc", "M\tno\x00nul", "M no tab", "M\t./x.dvc", "D\t:(glob)*.dvc"}
	for range 1000 {
		n := rng.Intn(5)
		lines := make([]string, 0, n+1)
		for i := range n {
			lines = append(lines, "M\tok"+strconv.Itoa(i)+".dvc")
		}
		at := rng.Intn(n + 1)
		lines = append(lines[:at], append([]string{bad[rng.Intn(len(bad))]}, lines[at:]...)...)
		restore, remove, err := ParseNameStatus(strings.Join(lines, "\n"))
		require.Error(t, err, "%q", lines)
		require.Contains(t, err.Error(), fmt.Sprintf("line %d ", at+1))
		require.Nil(t, restore)
		require.Nil(t, remove)
	}
}

func FuzzParseNameStatus(f *testing.F) {
	for _, s := range []string{
		"M\tp/dvc.lock\nD\tp/data/raw/matches.csv.dvc\nA\tp/data/raw/odds.csv.dvc\n",
		"", "\n", "R100\ta\tb", "C50\ta\tb", "M\t/etc/passwd", "A\t../x", "M\tp/../../x", "M\ta\x00b",
		"M\x00a\x00", `M	"donn\303\251es.dvc"`, `M	"a\000b"`, `M	"../x"`, "M\t.", "M\t./a", "M\ta//b",
		"T\tlink.dvc", "M\t:(top)x", "M\ta\r", "M\ta\nM\ta", "U\tx", "\tx", "M",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		restore, remove, err := ParseNameStatus(in)
		if err != nil {
			if restore != nil || remove != nil {
				t.Fatalf("files returned with an error: %v %v", restore, remove)
			}
			if !strings.Contains(err.Error(), "git diff --name-status line ") {
				t.Fatalf("the error does not name the line: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range append(append([]string(nil), restore...), remove...) {
			if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../") {
				t.Fatalf("path %q is not a clean relative path (input %q)", p, in)
			}
			if strings.ContainsRune(p, 0) {
				t.Fatalf("path %q holds a NUL byte", p)
			}
			if seen[p] {
				t.Fatalf("path %q returned twice", p)
			}
			seen[p] = true
		}
		if len(seen) > strings.Count(in, "\t") {
			t.Fatalf("%d paths from %d lines with a tab", len(seen), strings.Count(in, "\t"))
		}
	})
}
