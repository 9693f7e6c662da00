package domain

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env                                   Environment
		approvals                             int
		trace, latest, prerelease, production bool
	}{
		{Dev, 0, false, false, false, false},
		{Staging, 1, true, true, true, false},
		{Production, 2, true, true, false, true},
	} {
		t.Run(string(tc.env), func(t *testing.T) {
			got, err := ParseEnvironment(string(tc.env))
			require.NoError(t, err)
			assert.Equal(t, tc.env, got)
			assert.Equal(t, tc.approvals, got.Approvals())
			assert.Equal(t, tc.trace, got.RequiresTrace())
			assert.Equal(t, tc.latest, got.GetsLatest())
			assert.Equal(t, tc.production, got.IsProduction())
			assert.Equal(t, "soccerpredict-"+string(tc.env), got.Namespace("soccerpredict"))
		})
	}
	assert.Equal(t, []Environment{Dev, Staging, Production}, Environments(), "promotion order")
}

func TestParseEnvironmentRefuses(t *testing.T) {
	for _, in := range []string{"", "prod", "Production", " staging", "staging\n", "dev,staging", "STAGING"} {
		_, err := ParseEnvironment(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), "--env", "the error names the flag that fixes it")
		assert.Contains(t, err.Error(), "dev, staging, production")
	}
}

func TestMovesLatest(t *testing.T) {
	final, err := ParseVersion("v1.4.0")
	require.NoError(t, err)
	rc, err := ParseVersion("v1.4.0-rc.1")
	require.NoError(t, err)
	assert.False(t, Dev.MovesLatest(final), "dev never gets latest")
	assert.True(t, Staging.MovesLatest(final))
	assert.True(t, Production.MovesLatest(final))
	for _, e := range Environments() {
		assert.False(t, e.MovesLatest(rc), "a pre-release never moves latest (%s)", e)
	}
}

func TestService(t *testing.T) {
	for _, s := range Services() {
		got, err := ParseService(string(s))
		require.NoError(t, err)
		assert.Equal(t, s, got)
		assert.Equal(t, "docker/"+string(s)+".Dockerfile", got.Dockerfile())
		assert.Equal(t, "requirements-"+string(s)+".txt", got.Requirements())
		assert.Equal(t, string(s), got.ChartKey())
	}
	assert.Equal(t, "API_IMAGE", API.ImageVar())
	assert.Equal(t, "AIRFLOW_IMAGE", Airflow.ImageVar())
	for _, in := range []string{"", "API", "web", "api ", "worker/"} {
		_, err := ParseService(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), "api, worker, airflow")
	}
}

func TestParseCommit(t *testing.T) {
	sha1 := strings.Repeat("0123456789", 4)
	sha256 := strings.Repeat("ab", 32)
	for _, ok := range []string{sha1, sha256, strings.Repeat("f", 40)} {
		c, err := ParseCommit(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, ok, c.String())
		assert.Equal(t, ok[:8], c.Short())
	}
	for in, want := range map[string]string{
		"":                              "commit is empty",
		"0123456":                       "abbreviation",
		strings.Repeat("ABCDEF0123", 4): "uppercase",
		sha1 + "0":                      "not a full git commit id",
		strings.Repeat("g", 40):         "not a full git commit id",
		" " + sha1[1:]:                  "not a full git commit id",
		sha1[:39] + "\n":                "not a full git commit id",
	} {
		_, err := ParseCommit(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}
	_, err := ParseCommit("abc")
	assert.Contains(t, err.Error(), "git rev-parse HEAD", "the error says how to get a commit id")
}

func TestParseDigest(t *testing.T) {
	ok := "sha256:" + strings.Repeat("a1", 32)
	d, err := ParseDigest(ok)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a1", 32), d.Hex())
	for in, want := range map[string]string{
		"":                                        "empty",
		"sha512:" + strings.Repeat("a", 128):      `uses "sha512"`,
		"sha256:" + strings.Repeat("A1", 32):      "uppercase",
		"sha256:" + strings.Repeat("a", 63):       "not sha256:<64 lowercase hex>",
		strings.Repeat("a", 64):                   "not sha256:<64 lowercase hex>",
		"sha256:" + strings.Repeat("a", 64) + " ": "not sha256:<64 lowercase hex>",
	} {
		_, err := ParseDigest(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
		assert.Contains(t, err.Error(), "images.env", "the error says where a digest comes from")
	}
}

func TestParseRepository(t *testing.T) {
	for _, ok := range []string{
		"registry.gitlab.com/soccerpredictai/pipeline/api", "localhost:5000/sp/api", "127.0.0.1:5000/a",
		"group/api", "[::1]:5000/sp/api", "a/b__c/d-e.f",
	} {
		r, err := ParseRepository(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, ok, r.String())
	}
	r, _ := ParseRepository("localhost:5000/sp/api")
	assert.Equal(t, "localhost:5000", r.Host())
	assert.Equal(t, "sp/api", r.Path())
	assert.Equal(t, Repository("localhost:5000/sp/api/worker"), r.Service(Worker))
	r, _ = ParseRepository("group/api")
	assert.Equal(t, "", r.Host())
	for in, want := range map[string]string{
		"":                                          "empty",
		"registry.example.com/":                     "no path",
		"registry.example.com//a":                   "empty path component",
		"registry.example.com/Group/api":            "uppercase",
		"registry.example.com/a/-b":                 "invalid path component",
		"bad_host.example.com:5000/a":               "invalid registry host",
		"r.example.com/" + strings.Repeat("a", 250): "shorten it",
	} {
		_, err := ParseRepository(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}
}

func TestParseTag(t *testing.T) {
	for _, ok := range []string{"v1.2.3", "main-0123abcd", "_x", strings.Repeat("a", 128), LatestTag} {
		_, err := ParseTag(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"", ".x", "-x", "a+b", "a/b", strings.Repeat("a", 129), "a b"} {
		_, err := ParseTag(bad)
		require.Error(t, err, "%q", bad)
	}
}

func TestParseImageRef(t *testing.T) {
	d := Digest("sha256:" + strings.Repeat("0f", 32))
	for in, want := range map[string]ImageRef{
		"localhost:5000/sp/api:v1":                  {Repository: "localhost:5000/sp/api", Tag: "v1"},
		"localhost:5000/sp/api@" + string(d):        {Repository: "localhost:5000/sp/api", Digest: d},
		"localhost:5000/sp/api:v1@" + string(d):     {Repository: "localhost:5000/sp/api", Tag: "v1", Digest: d},
		"registry.gitlab.com/g/p/api:main-0123abcd": {Repository: "registry.gitlab.com/g/p/api", Tag: "main-0123abcd"},
	} {
		got, err := ParseImageRef(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, in, got.String(), "String round-trips")
	}
	for in, want := range map[string]string{
		"":                                 "empty",
		"localhost:5000/sp/api":            "neither tag nor digest",
		"localhost:5000/sp/api@sha256:abc": "not sha256",
		"localhost:5000/sp/api:+x":         "not a valid OCI tag",
		"LOCALHOST:5000/Sp/api:v1":         "uppercase",
		"localhost:5000/sp/api:v1 ":        "whitespace",
	} {
		_, err := ParseImageRef(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}
	_, err := ParsePinnedRef("localhost:5000/sp/api:v1")
	assert.ErrorContains(t, err, "not pinned by digest")
	p, err := ParsePinnedRef("localhost:5000/sp/api:v1@" + string(d))
	require.NoError(t, err)
	assert.Equal(t, "localhost:5000/sp/api@"+string(d), p.ByDigest())
	_, err = ParseTaggedRef("localhost:5000/sp/api@" + string(d))
	assert.ErrorContains(t, err, "a destination is a tag")
	assert.Equal(t, "r.io/a@"+string(d), Pinned("r.io/a", d).String())
	assert.Equal(t, "r.io/a:t", Tagged("r.io/a", "t").String())
	assert.Equal(t, "", Tagged("r.io/a", "t").ByDigest())
}

// Property: every reference built from valid parts parses back to the same parts.
func TestImageRefRoundTrip(t *testing.T) {
	hosts := []string{"", "localhost:5000/", "registry.gitlab.com/", "10.0.0.1:443/", "[::1]:5000/"}
	cfg := &quick.Config{MaxCount: 5000, Rand: rand.New(rand.NewSource(9))}
	require.NoError(t, quick.Check(func(hi, parts uint8, tagSeed, digSeed uint32, withTag, withDigest bool) bool {
		if !withTag && !withDigest {
			withTag = true
		}
		r := rand.New(rand.NewSource(int64(tagSeed)<<32 | int64(digSeed)))
		comps := make([]string, int(parts)%4+1)
		for i := range comps {
			comps[i] = fmt.Sprintf("c%d-x%d", r.Intn(100), i)
		}
		repo := Repository(hosts[int(hi)%len(hosts)] + strings.Join(comps, "/"))
		want := ImageRef{Repository: repo}
		if withTag {
			want.Tag = Tag(fmt.Sprintf("t%d.%d_x-%d", r.Intn(9), r.Intn(9), r.Intn(1000)))
		}
		if withDigest {
			want.Digest = Digest(fmt.Sprintf("sha256:%064x", r.Uint64()))
		}
		got, err := ParseImageRef(want.String())
		return err == nil && got == want
	}, cfg))
}

func TestParseVersion(t *testing.T) {
	for _, ok := range []string{"v0.0.1", "v1.4.0", "v1.4.0-rc.1", "v10.20.30-alpha.beta.1", "v1.0.0-0A.is.legal"} {
		v, err := ParseVersion(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, ok, v.String())
		assert.Equal(t, Tag(ok), v.Tag())
	}
	for in, want := range map[string]string{
		"":              "empty",
		"1.4.0":         `no "v" prefix`,
		"v1.4.0+build1": "build metadata",
		"v1.4":          "not a strict semantic version",
		"v01.4.0":       "not a strict semantic version",
		"v1.4.0-01":     "not a strict semantic version",
		"v1.4.0-":       "not a strict semantic version",
		"V1.4.0":        `no "v" prefix`,
		"v1.4.0 ":       "not a strict semantic version",
	} {
		_, err := ParseVersion(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}
	rc, _ := ParseVersion("v1.4.0-rc.1")
	assert.True(t, rc.Prerelease())
	assert.Equal(t, "v1.4.0", rc.NextPatch().String())
	assert.Equal(t, "v1.4.0", rc.Final().String())
	final, _ := ParseVersion("v1.4.0")
	assert.False(t, final.Prerelease())
	assert.Equal(t, "v1.4.1", final.NextPatch().String())
}

func TestVersionTag(t *testing.T) {
	v, ok := ParseVersionTag("1.2.3+meta")
	require.True(t, ok)
	assert.Equal(t, "1.2.3+meta", v.Raw())
	assert.Equal(t, "v1.2.3+meta", v.String())
	for _, no := range []string{"latest", "deploy-2024", "v1.2", "v01.2.3", ""} {
		_, ok := ParseVersionTag(no)
		assert.False(t, ok, no)
	}
}

// SemVer §11's own example order.
func TestVersionPrecedence(t *testing.T) {
	order := []string{"v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta", "v1.0.0-beta.2",
		"v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.0.1", "v1.1.0", "v2.0.0", "v10.0.0"}
	vs := make([]Version, len(order))
	for i, s := range order {
		var err error
		vs[i], err = ParseVersion(s)
		require.NoError(t, err)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, vs[i].Compare(vs[j]), "%s vs %s", order[i], order[j])
			assert.Equal(t, i < j, Less(vs[i], vs[j]))
		}
	}
	big1, _ := ParseVersion("v1.0.0-rc.18446744073709551616")
	big2, _ := ParseVersion("v1.0.0-rc.18446744073709551617")
	assert.Equal(t, -1, big1.Compare(big2), "numeric identifiers of any size")
	meta, _ := ParseVersionTag("v1.0.0+a")
	plain, _ := ParseVersion("v1.0.0")
	assert.Equal(t, 0, meta.Compare(plain), "build metadata is ignored for precedence")
}

func FuzzParseImageRef(f *testing.F) {
	for _, s := range []string{"localhost:5000/sp/api:v1", "r.io/a@sha256:" + strings.Repeat("0", 64), "a", ":", "@", "[::1]:5/a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseImageRef(s)
		if err != nil {
			return
		}
		// A parsed reference renders back to its input and re-parses to itself.
		if r.String() != s {
			t.Fatalf("String(%q) = %q", s, r.String())
		}
		if _, err := ParseRepository(string(r.Repository)); err != nil {
			t.Fatalf("repository of %q does not parse: %v", s, err)
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"v1.2.3", "v1.2.3-rc.1", "v0.0.0", "1.2.3", "v1.2.3+x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Fatalf("canonical form: %q parsed to %q", s, v.String())
		}
		if _, err := ParseTag(string(v.Tag())); err != nil {
			t.Fatalf("version %q is not a valid image tag: %v", s, err)
		}
	})
}

func FuzzParseCommit(f *testing.F) {
	f.Add(strings.Repeat("a", 40))
	f.Add("abc")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCommit(s)
		if err != nil {
			return
		}
		if len(c) != 40 && len(c) != 64 || strings.ToLower(s) != s {
			t.Fatalf("accepted %q", s)
		}
	})
}

// The references and digests the former helm and trace parsers refused stay refused here.
func TestParsePinnedRefRefuses(t *testing.T) {
	d := "sha256:" + strings.Repeat("0f", 32)
	for _, bad := range []string{
		"", "registry.gitlab.com/sp/app/api:1.2", "r.io/x@sha256:abc", "@" + d, ":tag@" + d, "a b@" + d,
		"r.io/x@" + d + "@" + d, "r.io/x@" + strings.ToUpper(d), "r.io/x@" + d + "\n", "r.io/x@ " + d,
		"Registry.io/x@" + d + "x", "r.io/x/@" + d, "r.io//x@" + d,
	} {
		_, err := ParsePinnedRef(bad)
		assert.Error(t, err, "%q", bad)
	}
	for _, bad := range []string{" " + d, d + "\n", "latest", d[:70]} {
		_, err := ParseDigest(bad)
		assert.Error(t, err, "%q", bad)
	}
}
