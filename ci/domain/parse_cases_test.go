package domain

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cases that the parsers of ci/artifact (reference.go, tags.go) and ci/release (version.go)
// tested before they were replaced by this package's parsers.

func TestParseImageRefMovedCases(t *testing.T) {
	d := "sha256:" + strings.Repeat("0", 63) + "1"
	for _, c := range []struct{ in, repo, tag, digest, host, path string }{
		{"127.0.0.1:35123/a/b_c/d--e:latest", "127.0.0.1:35123/a/b_c/d--e", "latest", "", "127.0.0.1:35123", "a/b_c/d--e"},
		{"group/api:x", "group/api", "x", "", "", "group/api"},
		{"api:x", "api", "x", "", "", "api"},
		{"[::1]:5000/api:x", "[::1]:5000/api", "x", "", "[::1]:5000", "api"},
		{"localhost:5000/api:v1.0.0@" + d, "localhost:5000/api", "v1.0.0", d, "localhost:5000", "api"},
	} {
		r, err := ParseImageRef(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, ImageRef{Repository: Repository(c.repo), Tag: Tag(c.tag), Digest: Digest(c.digest)}, r)
		assert.Equal(t, c.host, r.Repository.Host())
		assert.Equal(t, c.path, r.Repository.Path())
	}
	for in, want := range map[string]string{
		"registry.example.com/a//b:x":                                 "empty path component",
		"registry.example.com/:x":                                     "no path",
		"registry.example.com/api:":                                   "tag is empty",
		"registry.example.com/api:.x":                                 "not a valid OCI tag",
		"registry.example.com/api@sha512:" + strings.Repeat("a", 128): "only sha256",
		"registry.example.com/api@" + strings.ToUpper(d):              "only sha256",
		"registry.example.com/api@sha256:" + strings.Repeat("A", 64):  "uppercase",
		" registry.example.com/api:x":                                 "whitespace",
		"bad_host-.com/api:x":                                         "invalid registry host",
		"-bad.example.com/api:x":                                      "invalid registry host",
		"registry.example.com/a-/b:x":                                 "invalid path component",
		"registry.example.com/API:x":                                  `use "api"`,
		"registry.example.com/api:v1@" + d + "x":                      "not sha256",
	} {
		_, err := ParseImageRef(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}
	_, err := ParseTaggedRef("registry.example.com/api:v1@" + d)
	assert.ErrorContains(t, err, "has a digest")
}

func TestParseTagMovedCases(t *testing.T) {
	for _, ok := range []string{"a", "_", "0", "v1.2.3-rc.1", "A_b.c-D"} {
		_, err := ParseTag(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"a:b", "é"} {
		_, err := ParseTag(bad)
		require.Error(t, err, bad)
	}
}

func TestParseVersionMovedCases(t *testing.T) {
	for _, ok := range []string{"v0.0.0", "v10.20.30", "v1.2.0-alpha.beta-2.7"} {
		v, err := ParseVersion(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, ok, v.String())
	}
	for _, bad := range []string{"v1.2.3.4", "vv1.2.3", "v-1.2.3", "v1.2.3-rc..1", "v1.2.3-rc.01", "v1.2.3-rc_1", "v1.2.3-\u00e91", "v1..3", "release-1.2.3", "v1.2.3\n"} {
		_, err := ParseVersion(bad)
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "--version=vX.Y.Z", "%q: the error names the flag", bad)
	}
}

func TestTextEncoding(t *testing.T) {
	type rec struct {
		Image   ImageRef `json:"image"`
		Version Version  `json:"version"`
	}
	d := Digest("sha256:" + strings.Repeat("ab", 32))
	v, err := ParseVersion("v1.4.0-rc.1")
	require.NoError(t, err)
	in := rec{Image: Pinned("registry.example.com/sp/api", d), Version: v}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"image":"registry.example.com/sp/api@`+string(d)+`","version":"v1.4.0-rc.1"}`, string(b))
	var out rec
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"image":"registry.example.com/sp/api"}`), &out), "neither tag nor digest")
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"version":"1.4.0"}`), &out), `no "v" prefix`)
}

func randomVersion(rng *rand.Rand) string {
	idents := []string{"alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "A"}
	s := fmt.Sprintf("v%d.%d.%d", rng.Intn(3), rng.Intn(3), rng.Intn(3))
	if rng.Intn(2) == 0 {
		parts := make([]string, 1+rng.Intn(3))
		for i := range parts {
			parts[i] = idents[rng.Intn(len(idents))]
		}
		s += "-" + strings.Join(parts, ".")
	}
	if rng.Intn(6) == 0 {
		s += "+b" + fmt.Sprint(rng.Intn(3))
	}
	return s
}

// Property (moved from ci/release): Compare agrees with Masterminds/semver as an oracle, is
// antisymmetric and transitive, and Less is a strict total order.
func TestVersionOrderingOracle(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	must := func(s string) Version {
		v, ok := ParseVersionTag(s)
		require.True(t, ok, s)
		return v
	}
	for range 20000 {
		sa, sb, sc := randomVersion(rng), randomVersion(rng), randomVersion(rng)
		a, b, c := must(sa), must(sb), must(sc)
		oa := semver.MustParse(strings.TrimPrefix(sa, "v"))
		ob := semver.MustParse(strings.TrimPrefix(sb, "v"))
		if got, want := a.Compare(b), oa.Compare(ob); got != want {
			t.Fatalf("Compare(%s, %s) = %d, semver says %d", sa, sb, got, want)
		}
		if a.Compare(b) != -b.Compare(a) {
			t.Fatalf("not antisymmetric: %s %s", sa, sb)
		}
		if a.Compare(b) <= 0 && b.Compare(c) <= 0 && a.Compare(c) > 0 {
			t.Fatalf("not transitive: %s %s %s", sa, sb, sc)
		}
		lt, gt := Less(a, b), Less(b, a)
		if lt && gt || (!lt && !gt && sa != sb) {
			t.Fatalf("Less is not total on %s %s", sa, sb)
		}
		if Less(a, b) && Less(b, c) && !Less(a, c) {
			t.Fatalf("Less not transitive: %s %s %s", sa, sb, sc)
		}
	}
}

var versionish = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?$`)

// Fuzz (moved from ci/release): an accepted release version is strict SemVer with "v", and a
// refusal names the flag that fixes it.
func FuzzParseVersionStrict(f *testing.F) {
	for _, s := range []string{"v1.2.3", "v1.0.0-rc.1", "v01.2.3", "v1.2.3+meta", "1.2.3", "", "v1.2.3-", "v1.2.3-a..b", "v99999999999999999999.0.0", "v1.2.3-00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--version") && !strings.Contains(err.Error(), "+...") {
				t.Fatalf("error does not name the fix: %v", err)
			}
			return
		}
		if !versionish.MatchString(s) {
			t.Fatalf("accepted %q, which is not a strict semver release version", s)
		}
		if v.Compare(v) != 0 {
			t.Fatal("not reflexive")
		}
	})
}

// Tool images (moved from ci/toolchain's own parser): Docker Hub short names are repositories
// without a registry host; nothing else is implied ("library/" stays implicit, as the engine and
// registry mirrors take it).
func TestParseImageRefToolImages(t *testing.T) {
	d := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for _, c := range []struct{ in, host, path, tag, digest string }{
		{"python:3.11-slim", "", "python", "3.11-slim", ""},
		{"aquasec/trivy:0.58.1", "", "aquasec/trivy", "0.58.1", ""},
		{"ghcr.io/org/tool:1@" + d, "ghcr.io", "org/tool", "1", d},
		{"localhost:5000/x@" + d, "localhost:5000", "x", "", d},
		{"localhost/x:1", "localhost", "x", "1", ""},
	} {
		r, err := ParseImageRef(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.host, r.Repository.Host(), c.in)
		assert.Equal(t, c.path, r.Repository.Path(), c.in)
		assert.Equal(t, Tag(c.tag), r.Tag, c.in)
		assert.Equal(t, Digest(c.digest), r.Digest, c.in)
		assert.Equal(t, c.in, r.String())
	}
	for _, bad := range []string{"python", "Python:3", "python:3@sha256:abc", "python:" + strings.Repeat("a", 129), ""} {
		_, err := ParseImageRef(bad)
		assert.Error(t, err, bad)
	}
}
