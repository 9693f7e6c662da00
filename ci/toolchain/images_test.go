package toolchain

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func ref(t testing.TB, s string) domain.ImageRef {
	t.Helper()
	r, err := domain.ParseImageRef(s)
	require.NoError(t, err, s)
	return r
}

func TestDefaultsArePinnedByTag(t *testing.T) {
	for _, tool := range Images() {
		r, err := domain.ParseImageRef(Default(tool))
		require.NoError(t, err, tool)
		assert.NotEmpty(t, r.Tag, "%s must be pinned by tag", tool)
		assert.NotEqual(t, domain.LatestTag, string(r.Tag), "%s must not float on latest", tool)
		assert.Equal(t, Default(tool), Set{}.Ref(tool), "the zero Set is the defaults")
	}
}

func TestMirror(t *testing.T) {
	hub := ref(t, "python:3.11-slim")
	m, err := Mirror(hub, "gitlab.example.com:443/group/dependency_proxy/containers")
	require.NoError(t, err)
	assert.Equal(t, "gitlab.example.com:443/group/dependency_proxy/containers/python:3.11-slim", m.String())
	m, err = Mirror(ref(t, "ghcr.io/org/tool:1@"+digest), "mirror.internal")
	require.NoError(t, err)
	assert.Equal(t, "mirror.internal/ghcr.io/org/tool:1@"+digest, m.String())
	m, err = Mirror(ref(t, "Reg.Example.COM:5000/org/tool:1"), "mirror.internal")
	require.NoError(t, err)
	assert.Equal(t, "mirror.internal/reg.example.com-5000/org/tool:1", m.String(), "host lowercased, port joined with '-'")
	_, err = Mirror(ref(t, "[::1]:5000/org/tool:1"), "mirror.internal")
	assert.ErrorContains(t, err, "cannot be pulled through the mirror")
}

func TestSet(t *testing.T) {
	s, err := NewSet(map[Image]string{Python: "python:3.12-slim@" + digest, Helm: ""}, "mirror.internal/proxy/")
	require.NoError(t, err)
	assert.Equal(t, "mirror.internal/proxy/python:3.12-slim@"+digest, s.Ref(Python))
	assert.Equal(t, "mirror.internal/proxy/alpine/helm:4.3.2", s.Ref(Helm))

	s, err = NewSet(map[Image]string{Golang: "golang:1.26@" + digest}, "")
	require.NoError(t, err)
	assert.Equal(t, "golang:1.26@"+digest, s.Ref(Golang))
	assert.Equal(t, Default(Trivy), s.Ref(Trivy))

	for ov, want := range map[string]string{
		"trivy":                             "neither tag nor digest",
		"Trivy:1":                           "uppercase",
		"trivy:1@sha256:abc":                "not sha256",
		"trivy:" + strings.Repeat("a", 129): "shorten it",
	} {
		_, err = NewSet(map[Image]string{Trivy: ov}, "")
		require.Error(t, err, ov)
		assert.Contains(t, err.Error(), "--trivy-image", ov)
		assert.Contains(t, err.Error(), want, ov)
	}
	_, err = NewSet(map[Image]string{"node": "node:20"}, "")
	assert.ErrorContains(t, err, `unknown tool "node"`)
	for _, bad := range []string{"https://mirror", "mirror.internal//x", "Mirror.internal/Proxy"} {
		_, err = NewSet(nil, bad)
		assert.ErrorContains(t, err, "is not a registry prefix", bad)
	}
}

// Property: mirroring keeps tag and digest, and the result parses as a reference again.
func TestMirrorProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	hosts := []string{"", "ghcr.io/", "quay.io/", "localhost:5000/"}
	for i := 0; i < 500; i++ {
		s := hosts[rng.Intn(len(hosts))] + randPath(rng) + ":t" + randWord(rng)
		if rng.Intn(2) == 0 {
			s += "@" + digest
		}
		r := ref(t, s)
		m, err := Mirror(r, domain.Repository("mirror.example.com/"+randWord(rng)))
		require.NoError(t, err, s)
		back := ref(t, m.String())
		assert.Equal(t, r.Tag, back.Tag)
		assert.Equal(t, r.Digest, back.Digest)
		assert.True(t, strings.HasSuffix(back.Repository.Path(), r.Repository.Path()))
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
