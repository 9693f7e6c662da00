package artifact

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestShortSHA(t *testing.T) {
	full := "0123456789abcdef0123456789abcdef01234567"
	got, err := ShortSHA(full)
	require.NoError(t, err)
	assert.Equal(t, "01234567", got)

	got, err = ShortSHA(strings.ToUpper(full))
	require.NoError(t, err)
	assert.Equal(t, "01234567", got, "uppercase hex is lowercased")

	got, err = ShortSHA("abcdef0")
	require.NoError(t, err)
	assert.Equal(t, "abcdef0", got, "a 7-character abbreviation is kept whole")

	errs := []struct{ in, msg string }{
		{"", "CI_COMMIT_SHA"},
		{"xyz1234567", "not hexadecimal"},
		{"abc-def0123", "not hexadecimal"},
		{"abcdef", "at least 7"},
		{strings.Repeat("a", 65), "longer than any commit id"},
	}
	for _, e := range errs {
		_, err := ShortSHA(e.in)
		require.Error(t, err, e.in)
		assert.Contains(t, err.Error(), e.msg)
	}
}

func TestBranchTag(t *testing.T) {
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
	got, err := BranchTag("feature/Add-Login", sha)
	require.NoError(t, err)
	assert.Equal(t, "feature-add-login-9f86d081", got)

	got, err = BranchTag(strings.Repeat("b", 200), sha)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("b", 63)+"-9f86d081", got)

	_, err = BranchTag("", sha)
	require.ErrorContains(t, err, "CI_COMMIT_REF_NAME")
	_, err = BranchTag("///", sha)
	require.ErrorContains(t, err, "empty slug")
	_, err = BranchTag("main", "")
	require.ErrorContains(t, err, "commit sha is empty")
	_, err = BranchTag("main", "12345")
	require.ErrorContains(t, err, "at least 7")
}

func TestBranchTagProperty(t *testing.T) {
	r := rand.New(rand.NewSource(99))
	hex := "0123456789abcdefABCDEF"
	for i := 0; i < 3000; i++ {
		branch := randomASCII(r, 1+r.Intn(150))
		n := MinSHALength + r.Intn(MaxSHALength-MinSHALength+1)
		sb := make([]byte, n)
		for j := range sb {
			sb[j] = hex[r.Intn(len(hex))]
		}
		tag, err := BranchTag(branch, string(sb))
		if Slug(branch) == "" {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err, "branch %q", branch)
		require.Regexp(t, ociTag, tag)
		require.True(t, strings.HasPrefix(tag, Slug(branch)+"-"))
		require.Equal(t, strings.ToLower(string(sb[:min(n, 8)])), tag[len(Slug(branch))+1:])
	}
}

func TestReleaseTags(t *testing.T) {
	ok := map[string]string{"v1.2.3": "v1.2.3", "v0.0.0": "v0.0.0", "v10.20.30": "v10.20.30"}
	for in, want := range ok {
		got, err := ReleaseTag(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
		for _, env := range Environments() {
			got, err := ReleaseTagFor(env, in)
			require.NoError(t, err, env)
			assert.Equal(t, want, got)
		}
	}
	bad := map[string]string{
		"":               "empty",
		"1.2.3":          `no "v" prefix`,
		"V1.2.3":         `no "v" prefix`,
		"v1.2":           "strict semantic versioning",
		"v01.2.3":        "strict semantic versioning",
		"v1.2.3.4":       "strict semantic versioning",
		"v1.2.3+build.5": "build metadata",
		"v1.2.3-rc..1":   "v<major>.<minor>.<patch>",
		"v1.2.3-rc.01":   "v<major>.<minor>.<patch>",
		"v1.2.3-":        "v<major>.<minor>.<patch>",
		"v1.2.3-rc.1":    "pre-release",
		"vv1.2.3":        "strict semantic versioning",
		"v1.2.3 ":        "strict semantic versioning",
		"v-1.2.3":        "strict semantic versioning",
		"v1.2.3-rc_1":    "v<major>.<minor>.<patch>",
		"v1.2.3-\u00e91": "v<major>.<minor>.<patch>",
	}
	for in, msg := range bad {
		_, err := ReleaseTag(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), msg, "%q", in)
	}
}

func TestReleaseTagForPrerelease(t *testing.T) {
	got, err := ReleaseTagFor(EnvStaging, "v1.2.0-rc.1")
	require.NoError(t, err)
	assert.Equal(t, "v1.2.0-rc.1", got)
	for _, env := range []string{EnvDev, EnvProduction} {
		_, err := ReleaseTagFor(env, "v1.2.0-rc.1")
		require.ErrorContains(t, err, "pre-releases go to staging only", env)
	}
	_, err = ReleaseTagFor("prod", "v1.2.0")
	require.ErrorContains(t, err, "use one of dev, staging, production")

	r, err := ParseRelease("v1.2.0-alpha.beta-2.7")
	require.NoError(t, err)
	assert.Equal(t, Release{Major: 1, Minor: 2, Patch: 0, Prerelease: "alpha.beta-2.7"}, r)
	assert.True(t, r.IsPrerelease())
	assert.Equal(t, "v1.2.0-alpha.beta-2.7", r.String())
}

func TestLatestTag(t *testing.T) {
	for _, env := range []string{EnvStaging, EnvProduction} {
		got, err := LatestTag(env)
		require.NoError(t, err)
		assert.Equal(t, "latest", got)
	}
	_, err := LatestTag(EnvDev)
	require.ErrorContains(t, err, "branch tag")
	_, err = LatestTag("")
	require.ErrorContains(t, err, "use one of")
}

func TestValidateTag(t *testing.T) {
	good := []string{"a", "_", "0", "latest", "v1.2.3-rc.1", "A_b.c-D", strings.Repeat("x", 128)}
	for _, g := range good {
		require.NoError(t, ValidateTag(g), g)
		require.Regexp(t, ociTag, g)
	}
	bad := []string{"", ".a", "-a", "a+b", "a b", "a:b", "a/b", "é", strings.Repeat("x", 129)}
	for _, b := range bad {
		require.Error(t, ValidateTag(b), b)
		require.NotRegexp(t, ociTag, b)
	}
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
	f.Add("feature/X", "ABCDEF0")
	f.Add("", "abc")
	f.Add("---", "0123456789")
	f.Add("renovate/go", "zzzzzzzz")
	f.Fuzz(func(t *testing.T, branch, sha string) {
		tag, err := BranchTag(branch, sha)
		if err != nil {
			require.NotEmpty(t, err.Error())
			require.Empty(t, tag)
			return
		}
		require.Regexp(t, ociTag, tag)
		short, serr := ShortSHA(sha)
		require.NoError(t, serr)
		require.Equal(t, Slug(branch)+"-"+short, tag)
		ref, perr := ParseReference("registry.example.com/group/api:" + tag)
		require.NoError(t, perr)
		require.Equal(t, tag, ref.Tag)
	})
}

func FuzzReleaseTag(f *testing.F) {
	for _, s := range []string{"v1.2.3", "v1.2.3-rc.1", "1.2.3", "v1.2", "v1.2.3+b", "v0.0.0-0", "v1.2.3-rc.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, err := ParseRelease(v)
		if err != nil {
			return
		}
		require.Equal(t, v, r.Tag(), "a parsed release renders back to its input")
		require.Regexp(t, ociTag, r.Tag())
		tag, err := ReleaseTagFor(EnvStaging, v)
		require.NoError(t, err)
		require.Equal(t, v, tag)
		_, err = ReleaseTag(v)
		require.Equal(t, r.IsPrerelease(), err != nil)
	})
}
