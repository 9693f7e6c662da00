package artifact

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// ociTag is the OCI distribution tag grammar, written out independently of the package.
var ociTag = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// gitlabSlugASCII is GitLab's Gitlab::Utils.slugify transcribed with regular expressions:
//
//	str.downcase.gsub(/[^a-z0-9]/, '-')[0..62].gsub(/(\A-+|-+\z)/, '')
//
// It is exact for ASCII input and is the oracle for the property tests.
func gitlabSlugASCII(s string) string {
	s = strings.ToLower(s)
	s = regexp.MustCompile(`[^a-z0-9]`).ReplaceAllString(s, "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return regexp.MustCompile(`(\A-+|-+\z)`).ReplaceAllString(s, "")
}

func TestSlug(t *testing.T) {
	long := strings.Repeat("a", 62) + "/bcd"
	cases := []struct{ in, want string }{
		{"main", "main"},
		{"Feature/Add_Login-Page", "feature-add-login-page"},
		{"feature/JIRA-123_fix.thing", "feature-jira-123-fix-thing"},
		{"--leading-and-trailing--", "leading-and-trailing"},
		{"v1.2.3", "v1-2-3"},
		{"a//b", "a--b"},
		{"---", ""},
		{"", ""},
		{strings.Repeat("x", 100), strings.Repeat("x", 63)},
		{long, strings.Repeat("a", 62)}, // the 63rd char is "-" and is trimmed after truncation
		{"Ünïcödé", "n-c-d"},
		{"İstanbul", "i-stanbul"}, // Ruby's full case mapping: İ -> i + U+0307
		{"\u212Aelvin", "kelvin"}, // KELVIN SIGN lowercases to ASCII k
		{"caf\xffe", "caf-e"},     // an invalid byte becomes one "-"
		{"renovate/golang-1.x", "renovate-golang-1-x"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			assert.Equal(t, c.want, Slug(c.in))
		})
	}
}

func randomASCII(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Intn(0x7f-0x20) + 0x20)
	}
	return string(b)
}

func TestSlugMatchesGitLabOnASCII(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	for i := 0; i < 5000; i++ {
		in := randomASCII(r, r.Intn(120))
		require.Equal(t, gitlabSlugASCII(in), Slug(in), "input %q", in)
	}
}

func checkSlugProperties(t *testing.T, in, s string) {
	t.Helper()
	require.LessOrEqual(t, len(s), MaxSlugLength, "input %q", in)
	require.Regexp(t, `^([a-z0-9]([a-z0-9-]*[a-z0-9])?)?$`, s, "input %q", in)
	require.Equal(t, s, Slug(s), "slug must be idempotent for %q", in)
}

func TestSlugProperties(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	alphabet := []rune("abcXYZ019-_./ İ\u212Aé日本\u0000")
	for i := 0; i < 3000; i++ {
		n := r.Intn(90)
		rs := make([]rune, n)
		for j := range rs {
			rs[j] = alphabet[r.Intn(len(alphabet))]
		}
		in := string(rs)
		checkSlugProperties(t, in, Slug(in))
	}
}

func commit(t testing.TB, s string) domain.Commit {
	c, err := domain.ParseCommit(s)
	require.NoError(t, err, s)
	return c
}

func TestBranchTag(t *testing.T) {
	sha := commit(t, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")
	got, err := BranchTag("feature/Add-Login", sha)
	require.NoError(t, err)
	assert.Equal(t, domain.Tag("feature-add-login-9f86d081"), got)

	got, err = BranchTag(strings.Repeat("b", 200), sha)
	require.NoError(t, err)
	assert.Equal(t, domain.Tag(strings.Repeat("b", 63)+"-9f86d081"), got)

	got, err = BranchTag("main", commit(t, strings.Repeat("ab", 32)))
	require.NoError(t, err)
	assert.Equal(t, domain.Tag("main-abababab"), got, "a SHA-256 commit is shortened the same way")

	_, err = BranchTag("", sha)
	require.ErrorContains(t, err, "CI_COMMIT_REF_NAME")
	_, err = BranchTag("///", sha)
	require.ErrorContains(t, err, "empty slug")
	_, err = BranchTag("main", "")
	require.ErrorContains(t, err, "CI_COMMIT_SHA")
}

func TestBranchTagProperty(t *testing.T) {
	r := rand.New(rand.NewSource(99))
	hex := "0123456789abcdef"
	for i := 0; i < 3000; i++ {
		branch := randomASCII(r, 1+r.Intn(150))
		sb := make([]byte, []int{40, 64}[r.Intn(2)])
		for j := range sb {
			sb[j] = hex[r.Intn(len(hex))]
		}
		c := commit(t, string(sb))
		tag, err := BranchTag(branch, c)
		if Slug(branch) == "" {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err, "branch %q", branch)
		require.Regexp(t, ociTag, string(tag))
		_, perr := domain.ParseTag(string(tag))
		require.NoError(t, perr)
		require.Equal(t, Slug(branch)+"-"+string(sb[:8]), string(tag))
	}
}

func TestReleaseTag(t *testing.T) {
	for _, in := range []string{"v1.2.3", "v0.0.0", "v10.20.30"} {
		v, err := domain.ParseVersion(in)
		require.NoError(t, err)
		got, err := ReleaseTag(v)
		require.NoError(t, err, in)
		assert.Equal(t, domain.Tag(in), got)
	}
	rc, err := domain.ParseVersion("v1.2.0-rc.1")
	require.NoError(t, err)
	_, err = ReleaseTag(rc)
	require.ErrorContains(t, err, "pre-releases go to staging only")
	assert.ErrorContains(t, err, "v1.2.0", "names the final version to tag")
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"", "main", "Feature/X_Y", "---", "İ", "\u212A", "\xff\xfe", strings.Repeat("ab/", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := Slug(in)
		checkSlugProperties(t, in, s)
		ascii := true
		for i := 0; i < len(in); i++ {
			if in[i] >= 0x80 {
				ascii = false
				break
			}
		}
		if ascii {
			require.Equal(t, gitlabSlugASCII(in), s)
		}
	})
}

func FuzzBranchTag(f *testing.F) {
	f.Add("main", "0123456789abcdef0123456789abcdef01234567")
	f.Add("feature/X", strings.Repeat("ab", 32))
	f.Add("", strings.Repeat("0", 40))
	f.Add("---", strings.Repeat("1", 40))
	f.Fuzz(func(t *testing.T, branch, sha string) {
		c, err := domain.ParseCommit(sha)
		if err != nil {
			return
		}
		tag, err := BranchTag(branch, c)
		if err != nil {
			require.NotEmpty(t, err.Error())
			require.Empty(t, tag)
			return
		}
		require.Regexp(t, ociTag, string(tag))
		require.Equal(t, Slug(branch)+"-"+c.Short(), string(tag))
		ref, perr := domain.ParseImageRef("registry.example.com/group/api:" + string(tag))
		require.NoError(t, perr)
		require.Equal(t, tag, ref.Tag)
	})
}
