package toolchain

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestDefaultsArePinnedByTag(t *testing.T) {
	for _, tool := range Images() {
		r, err := Parse(Default(tool))
		require.NoError(t, err, tool)
		assert.NotEmpty(t, r.Tag, "%s must be pinned by tag", tool)
		assert.NotEqual(t, "latest", r.Tag, "%s must not float on latest", tool)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
	}{
		{"python:3.11-slim", Ref{Path: "python", Tag: "3.11-slim"}},
		{"aquasec/trivy:0.58.1", Ref{Path: "aquasec/trivy", Tag: "0.58.1"}},
		{"ghcr.io/org/tool:1@" + digest, Ref{Host: "ghcr.io", Path: "org/tool", Tag: "1", Digest: digest}},
		{"localhost:5000/x@" + digest, Ref{Host: "localhost:5000", Path: "x", Digest: digest}},
		{"localhost/x:1", Ref{Host: "localhost", Path: "x", Tag: "1"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.in, got.String())
	}
}

func TestParseRejects(t *testing.T) {
	for in, want := range map[string]string{
		"python":                             "has no tag or digest: pin it",
		"Python:3":                           "not a valid reference",
		"python:3@sha256:abc":                "not a valid reference",
		"python:" + strings.Repeat("a", 129): "not a valid reference",
		"":                                   "not a valid reference",
	} {
		_, err := Parse(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}

func TestMirror(t *testing.T) {
	hub, _ := Parse("python:3.11-slim")
	assert.Equal(t, "gitlab.example.com:443/group/dependency_proxy/containers/python:3.11-slim",
		hub.Mirror("gitlab.example.com:443/group/dependency_proxy/containers/").String())
	ghcr, _ := Parse("ghcr.io/org/tool:1@" + digest)
	assert.Equal(t, "mirror.internal/ghcr.io/org/tool:1@"+digest, ghcr.Mirror("mirror.internal").String())
	assert.Equal(t, hub, hub.Mirror(""))
}

func TestSet(t *testing.T) {
	s, err := NewSet(map[Image]string{Python: "python:3.12-slim@" + digest, Helm: ""}, "mirror.internal/proxy")
	require.NoError(t, err)
	assert.Equal(t, "mirror.internal/proxy/python:3.12-slim@"+digest, s.Ref(Python))
	assert.Equal(t, "mirror.internal/proxy/alpine/helm:3.16.3", s.Ref(Helm))

	_, err = NewSet(map[Image]string{Trivy: "trivy"}, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--trivy-image")
	_, err = NewSet(map[Image]string{"node": "node:20"}, "")
	assert.ErrorContains(t, err, `unknown tool "node"`)
	_, err = NewSet(nil, "https://mirror")
	assert.ErrorContains(t, err, "is not a registry prefix")
}

// Property: mirroring keeps tag and digest, and the result parses as a reference again.
func TestMirrorProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	hosts := []string{"", "ghcr.io", "quay.io", "localhost:5000"}
	for i := 0; i < 500; i++ {
		r := Ref{Host: hosts[rng.Intn(len(hosts))], Path: randPath(rng), Tag: "t" + randWord(rng)}
		if rng.Intn(2) == 0 {
			r.Digest = digest
		}
		m := r.Mirror("mirror.example.com/" + randWord(rng))
		back, err := Parse(m.String())
		require.NoError(t, err, m.String())
		assert.Equal(t, r.Tag, back.Tag)
		assert.Equal(t, r.Digest, back.Digest)
		assert.True(t, strings.HasSuffix(back.Path, r.Path))
	}
}

func randWord(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 1+rng.Intn(8))
	for i := range b {
		b[i] = letters[rng.Intn(len(letters))]
	}
	return string(b)
}

func randPath(rng *rand.Rand) string {
	parts := make([]string, 1+rng.Intn(3))
	for i := range parts {
		parts[i] = randWord(rng)
	}
	return strings.Join(parts, "/")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"python:3", "ghcr.io/a/b:1@" + digest, "a", "localhost:5000/x:y", "a//b:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if r.Tag == "" && r.Digest == "" {
			t.Fatalf("%q parsed without tag or digest", s)
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Fatalf("%q does not round-trip: %v %+v %+v", s, err, r, again)
		}
	})
}
