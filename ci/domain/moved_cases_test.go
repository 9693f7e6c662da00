package domain

import (
	"strings"
	"testing"

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
