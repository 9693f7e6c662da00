package artifact

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000001"

func TestParseReference(t *testing.T) {
	cases := []struct {
		in                string
		repo, tag, digest string
		domain, path      string
	}{
		{"registry.gitlab.com/sp/pipeline/api:main-01234567", "registry.gitlab.com/sp/pipeline/api", "main-01234567", "", "registry.gitlab.com", "sp/pipeline/api"},
		{"registry.gitlab.com/sp/api@" + testDigest, "registry.gitlab.com/sp/api", "", testDigest, "registry.gitlab.com", "sp/api"},
		{"localhost:5000/api:v1.0.0@" + testDigest, "localhost:5000/api", "v1.0.0", testDigest, "localhost:5000", "api"},
		{"127.0.0.1:35123/a/b_c/d--e:latest", "127.0.0.1:35123/a/b_c/d--e", "latest", "", "127.0.0.1:35123", "a/b_c/d--e"},
		{"group/api:x", "group/api", "x", "", "", "group/api"},
		{"api:x", "api", "x", "", "", "api"},
		{"[::1]:5000/api:x", "[::1]:5000/api", "x", "", "[::1]:5000", "api"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			r, err := ParseReference(c.in)
			require.NoError(t, err)
			assert.Equal(t, Reference{Repository: c.repo, Tag: c.tag, Digest: c.digest}, r)
			assert.Equal(t, c.in, r.String())
			assert.Equal(t, c.domain, r.Domain())
			assert.Equal(t, c.path, r.Path())
		})
	}
}

func TestParseReferenceErrors(t *testing.T) {
	cases := map[string]string{
		"":                                    "empty",
		"registry.example.com/api":            "neither tag nor digest",
		"registry.example.com/API:x":          `use "api"`,
		"registry.example.com/a//b:x":         "empty path component",
		"registry.example.com/:x":             "no path",
		"registry.example.com/api:":           "tag is empty",
		"registry.example.com/api:.x":         "not a valid OCI tag",
		"registry.example.com/api@sha256:abc": "64 lowercase hex",
		"registry.example.com/api@sha512:" + strings.Repeat("a", 128): "only sha256",
		"registry.example.com/api@" + strings.ToUpper(testDigest):     "only sha256",
		"registry.example.com/api@sha256:" + strings.Repeat("A", 64):  "64 lowercase hex",
		" registry.example.com/api:x":                                 "whitespace",
		"bad_host-.com/api:x":                                         "invalid registry host",
		"-bad.example.com/api:x":                                      "invalid registry host",
		"registry.example.com/a-/b:x":                                 "invalid path component",
	}
	for in, msg := range cases {
		_, err := ParseReference(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), msg, "%q", in)
	}
}

func TestParseDigestAndTagReference(t *testing.T) {
	_, err := ParseDigestReference("registry.example.com/api:v1.0.0")
	require.ErrorContains(t, err, "not pinned by digest")
	r, err := ParseDigestReference("registry.example.com/api@" + testDigest)
	require.NoError(t, err)
	assert.Equal(t, "registry.example.com/api@"+testDigest, r.ByDigest())

	_, err = ParseTagReference("registry.example.com/api@" + testDigest)
	require.ErrorContains(t, err, "has a digest")
	_, err = ParseTagReference("registry.example.com/api:v1@" + testDigest)
	require.ErrorContains(t, err, "has a digest")
	r, err = ParseTagReference("registry.example.com/api:v1")
	require.NoError(t, err)
	assert.Equal(t, "v1", r.Tag)
	assert.Empty(t, r.ByDigest())
}

func TestServiceImages(t *testing.T) {
	got, err := ServiceImages("registry.gitlab.com/soccerpredictai/pipeline/", "main-01234567", []string{"api", "worker", "airflow"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"api":     "registry.gitlab.com/soccerpredictai/pipeline/api:main-01234567",
		"worker":  "registry.gitlab.com/soccerpredictai/pipeline/worker:main-01234567",
		"airflow": "registry.gitlab.com/soccerpredictai/pipeline/airflow:main-01234567",
	}, got)
	assert.Equal(t, []string{"airflow", "api", "worker"}, SortedServices(got))

	_, err = ServiceImages("", "x", []string{"api"})
	require.ErrorContains(t, err, "CI_REGISTRY_IMAGE")
	_, err = ServiceImages("r.io/p", "x", nil)
	require.ErrorContains(t, err, "no services")
	_, err = ServiceImages("r.io/p", "x", []string{"api", "api"})
	require.ErrorContains(t, err, "listed twice")
	_, err = ServiceImages("r.io/p", "x", []string{"Api"})
	require.ErrorContains(t, err, "service name")
	_, err = ServiceImages("r.io/p", "x", []string{"a/b"})
	require.ErrorContains(t, err, "service name")
	_, err = ServiceImages("r.io/P", "x", []string{"api"})
	require.ErrorContains(t, err, "uppercase")
	_, err = ServiceImages("r.io/p", "-x", []string{"api"})
	require.ErrorContains(t, err, "not a valid OCI tag")

	ref, err := DigestReference("r.io/p/api", testDigest)
	require.NoError(t, err)
	assert.Equal(t, "r.io/p/api@"+testDigest, ref)
	_, err = DigestReference("r.io/p/api", "sha256:1")
	require.Error(t, err)
	_, err = DigestReference("r.io/p/API", testDigest)
	require.Error(t, err)
}

func TestReferenceRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	comps := []string{"api", "a.b", "a_b", "a__b", "a---b", "x9", "0"}
	hosts := []string{"", "registry.gitlab.com", "localhost", "localhost:5000", "10.0.0.1:443", "Reg.Example.COM"}
	for i := 0; i < 2000; i++ {
		var parts []string
		if h := hosts[r.Intn(len(hosts))]; h != "" {
			parts = append(parts, h)
		}
		for n := 1 + r.Intn(4); n > 0; n-- {
			parts = append(parts, comps[r.Intn(len(comps))])
		}
		repo := strings.Join(parts, "/")
		tag, err := BranchTag(randomASCII(r, 1+r.Intn(80))+"x", "0123456789abcdef")
		require.NoError(t, err)
		want := Reference{Repository: repo}
		switch r.Intn(3) {
		case 0:
			want.Tag = tag
		case 1:
			want.Digest = testDigest
		default:
			want.Tag, want.Digest = tag, testDigest
		}
		got, err := ParseReference(want.String())
		require.NoError(t, err, want.String())
		require.Equal(t, want, got)
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"registry.gitlab.com/sp/api:main-01234567",
		"registry.gitlab.com/sp/api@" + testDigest,
		"localhost:5000/api:v1@" + testDigest,
		"api",
		"a:b:c",
		"a@b@c",
		"[::1]:5000/x:y",
		"UPPER/case:tag",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.Equal(t, s, r.String(), "a parsed reference renders back to its input")
		require.NoError(t, ValidateRepository(r.Repository))
		require.True(t, r.Tag != "" || r.Digest != "")
		if r.Tag != "" {
			require.Regexp(t, ociTag, r.Tag)
		}
		if r.Digest != "" {
			require.Regexp(t, `^sha256:[a-f0-9]{64}$`, r.Digest)
		}
		again, err := ParseReference(r.String())
		require.NoError(t, err)
		require.Equal(t, r, again)
	})
}
