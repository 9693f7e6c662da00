package requirements

import (
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"FastAPI":           "fastapi",
		"typing_extensions": "typing-extensions",
		"typing.extensions": "typing-extensions",
		"A-_.b":             "a-b",
		"zope.interface":    "zope-interface",
		"pydantic":          "pydantic",
	} {
		assert.Equal(t, want, NormalizeName(in), in)
	}
}

func TestParseCanonical(t *testing.T) {
	f, err := Parse(read(t, "testdata/export-api.txt"))
	require.NoError(t, err)
	assert.Equal(t, []string{"--editable file:///${PROJECT_ROOT}/#egg=soccerpredict"}, f.Options)
	require.Len(t, f.Requirements, 11)
	assert.Equal(t, Requirement{Name: "colorama", Specifier: "==0.4.6", Marker: `sys_platform == "win32"`, Line: 6}, f.Requirements[2])
	assert.Equal(t, Requirement{Name: "uvicorn", Extras: []string{"standard"}, Specifier: "==0.30.3", Line: 14}, f.Requirements[10])

	cases := map[string]string{
		"Django >= 4.2 , <5":                "django<5,>=4.2",
		"django (>=4.2,<5)":                 "django<5,>=4.2",
		"requests[socks,Security] ==2.32.3": "requests[security,socks]==2.32.3",
		"numpy==2.0.1; python_version>='3.10' and platform_machine=='x86_64'":          `numpy==2.0.1; platform_machine == "x86_64" and python_version >= "3.10"`,
		"numpy==2.0.1 ; platform_machine == \"x86_64\" and python_version >= \"3.10\"": `numpy==2.0.1; platform_machine == "x86_64" and python_version >= "3.10"`,
		`a==1; python_version < "3.9" or sys_platform == "win32" and extra == 'x'`:     `a==1; python_version < "3.9" or sys_platform == "win32" and extra == "x"`,
		`a==1; (python_version<"3.9" or os_name=="nt") and extra=='x'`:                 `a==1; (python_version < "3.9" or os_name == "nt") and extra == "x"`,
		`a==1; extra=='x' and (python_version<"3.9" or os_name=="nt")`:                 `a==1; (python_version < "3.9" or os_name == "nt") and extra == "x"`,
		`b; "linux" in sys_platform`:                                                   `b; "linux" in sys_platform`,
		`b; sys_platform not in 'win32'`:                                               `b; sys_platform not in "win32"`,
		`pkg @ https://example.org/pkg-1.0.tar.gz ; python_version >= "3.10"`:          `pkg @ https://example.org/pkg-1.0.tar.gz ; python_version >= "3.10"`,
		"pkg@https://example.org/pkg-1.0.tar.gz":                                       "pkg @ https://example.org/pkg-1.0.tar.gz",
		"anyio==4.4.0 --hash=sha256:aa --hash sha256:bb":                               "anyio==4.4.0",
		"x==1 --config-settings=--a":                                                   "x==1 --config-settings=--a",
		"y===1.0+local":                                                                "y===1.0+local",
		"z~=1.4":                                                                       "z~=1.4",
	}
	for in, want := range cases {
		f, err := Parse([]byte(in + "\n"))
		require.NoError(t, err, in)
		require.Len(t, f.Requirements, 1, in)
		assert.Equal(t, want, f.Requirements[0].String(), in)
	}
}

func TestParseLinesAndOptions(t *testing.T) {
	in := "# header\r\n" +
		"\n" +
		"-i https://pypi.example.org/simple\n" +
		"--extra-index-url=https://mirror.example.org/simple\n" +
		"--pre\n" +
		"-ehttps://example.org/repo.git#egg=x\n" +
		"--hash=sha256:abc\n" +
		"a==1 \\\n" +
		"    --hash=sha256:aaaa \\\n" +
		"    --hash=sha256:bbbb\n" +
		"# comment with trailing backslash \\\n" +
		"b==2   # trailing comment\n" +
		"c==3 \\"
	f, err := Parse([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"--index-url https://pypi.example.org/simple",
		"--extra-index-url https://mirror.example.org/simple",
		"--pre",
		"--editable https://example.org/repo.git#egg=x",
	}, f.Options)
	var got []string
	for _, r := range f.Requirements {
		got = append(got, r.String())
	}
	assert.Equal(t, []string{"a==1", "b==2", "c==3"}, got)
	assert.Equal(t, 8, f.Requirements[0].Line)
	assert.Equal(t, 12, f.Requirements[1].Line)
	assert.Equal(t, []string{
		"--editable https://example.org/repo.git#egg=x",
		"--extra-index-url https://mirror.example.org/simple",
		"--index-url https://pypi.example.org/simple",
		"--pre",
		"a==1", "b==2", "c==3",
	}, f.Canonical())
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"==1.0":                       "no project name",
		"foo bar":                     "invalid version specifier",
		"foo==":                       "invalid version specifier",
		"foo=1.0":                     "invalid version specifier",
		"foo[bar":                     "unclosed [extras]",
		"foo[b@r]==1":                 "invalid extra",
		"foo==1; ":                    "empty environment marker",
		"foo==1; python_version < '3": "unterminated string",
		"foo==1; (a == 'b'":           "unbalanced '('",
		"foo==1; a == 'b')":           "unbalanced ')'",
		"foo==1; a == 'b' and":        "dangling 'and'",
		"foo==1; a $ 'b'":             "unexpected character",
		"foo @ ":                      "direct reference without a URL",
		"foo @ https://x y":           "after the URL",
		"foo==1 --hash=x bogus":       "unexpected \"bogus\"",
		"-x":                          "unknown option",
		"--index-url":                 "needs a value",
		"--pre=yes":                   "takes no value",
		"--index-url a b":             "one option a line",
	}
	for in, msg := range cases {
		_, err := Parse([]byte("ok==1\n" + in + "\n"))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), msg, in)
		assert.Contains(t, err.Error(), "line 2", in)
	}
}

func TestCompareEquivalent(t *testing.T) {
	diff, err := Compare(domain.API, read(t, "testdata/pinned-api.txt"), read(t, "testdata/export-api.txt"))
	require.NoError(t, err)
	assert.Empty(t, diff)
}

func TestCompareDifferent(t *testing.T) {
	pinned := strings.Replace(string(read(t, "testdata/pinned-api.txt")), "FastAPI==0.111.1", "FastAPI==0.110.0", 1)
	pinned = strings.Replace(pinned, "sniffio==1.3.1\n", "", 1)
	pinned += "httpx==0.27.0\n"
	diff, err := Compare(domain.API, []byte(pinned), read(t, "testdata/export-api.txt"))
	require.Error(t, err)
	assert.Equal(t, "requirements-api.txt does not match pdm.lock (2 line(s) only in the committed file, 2 only in the export): "+
		"run `pdm export --prod -G api --without-hashes -o requirements-api.txt` and commit", err.Error())
	assert.Contains(t, diff, "--- requirements-api.txt (committed)\n+++ pdm export --prod -G api (from pdm.lock)\n")
	assert.Contains(t, diff, "\n-fastapi==0.110.0\n")
	assert.Contains(t, diff, "\n+fastapi==0.111.1\n")
	assert.Contains(t, diff, "\n-httpx==0.27.0\n")
	assert.Contains(t, diff, "\n+sniffio==1.3.1\n")
	assert.Contains(t, diff, "@@ ")
}

func TestCompareErrors(t *testing.T) {
	good := read(t, "testdata/export-api.txt")
	_, err := Compare(domain.Worker, []byte("foo bar\n"), good)
	require.ErrorContains(t, err, "requirements-worker.txt: line 1")
	require.ErrorContains(t, err, "pdm export --prod -G worker --without-hashes -o requirements-worker.txt")
	_, err = Compare(domain.Worker, good, []byte("foo bar\n"))
	require.ErrorContains(t, err, "output of `pdm export --prod -G worker`: line 1")

	diff, err := Compare(domain.Worker, nil, nil)
	require.NoError(t, err)
	assert.Empty(t, diff)
	diff, err = Compare(domain.Worker, nil, []byte("a==1\n"))
	require.Error(t, err)
	assert.Contains(t, diff, "+a==1")
}

func TestFileNameAndCommand(t *testing.T) {
	assert.Equal(t, "pdm export --prod -G airflow --without-hashes -o requirements-airflow.txt", ExportCommand(domain.Airflow))
}

// TestCompareIgnoresOrderProperty shuffles lines, re-spells names and adds comments and
// hashes: the comparison still passes; changing one version always fails it.
func TestCompareIgnoresOrderProperty(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	base := []string{"alpha-one==1.0", "beta_two==2.1", "gamma.three[x,y]==3.2; python_version >= \"3.10\"", "delta==4", "eps==5; sys_platform == 'linux' and extra == \"e\""}
	respell := func(s string) string {
		name := nameRE.FindString(s)
		var b strings.Builder
		for _, c := range name {
			switch {
			case c == '-' || c == '_' || c == '.':
				b.WriteByte("-_."[r.Intn(3)])
			case r.Intn(2) == 0:
				b.WriteString(strings.ToUpper(string(c)))
			default:
				b.WriteRune(c)
			}
		}
		return b.String() + s[len(name):]
	}
	export := []byte(strings.Join(base, "\n") + "\n")
	for i := 0; i < 300; i++ {
		lines := append([]string(nil), base...)
		r.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
		var b strings.Builder
		for _, l := range lines {
			if r.Intn(3) == 0 {
				b.WriteString("# note\n")
			}
			b.WriteString(respell(l))
			if r.Intn(2) == 0 {
				b.WriteString(" \\\n    --hash=sha256:abcdef")
			}
			if r.Intn(2) == 0 {
				b.WriteString("   # why")
			}
			b.WriteString("\n")
		}
		_, err := Compare(domain.API, []byte(b.String()), export)
		require.NoError(t, err, b.String())

		k := r.Intn(len(base))
		changed := append([]string(nil), base...)
		changed[k] = strings.Replace(changed[k], "==", "==9", 1)
		diff, err := Compare(domain.API, []byte(b.String()), []byte(strings.Join(changed, "\n")))
		require.Error(t, err)
		require.NotEmpty(t, diff)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(read(f, "testdata/export-api.txt"))
	f.Add(read(f, "testdata/pinned-api.txt"))
	f.Add([]byte("a==1; (x == 'y' or z != \"w\") and q in 'r'\n"))
	f.Add([]byte("p @ file:///x ; a=='b'\n-e .\n--pre\n"))
	f.Add([]byte("x==1 \\\n --hash=sha256:1\n#\\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			require.Contains(t, err.Error(), "line ")
			return
		}
		canon := p.Canonical()
		again, err := Parse([]byte(strings.Join(canon, "\n") + "\n"))
		require.NoError(t, err, "canonical form must parse: %q", canon)
		require.Equal(t, canon, again.Canonical(), "normalisation is idempotent")
		for _, r := range p.Requirements {
			require.Equal(t, NormalizeName(r.Name), r.Name)
		}
	})
}
