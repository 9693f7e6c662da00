package registry

import (
	"archive/tar"
	"bytes"
	"io"
	"sort"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fileLayer is a gzip layer holding files, every entry with mtime (and atime when set).
func fileLayer(t *testing.T, files map[string]string, mtime, atime time.Time) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: mtime, AccessTime: atime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}))
		_, err := tw.Write([]byte(files[n]))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
	require.NoError(t, err)
	return l
}

// builtAt is an image as an engine gives it when it builds at when: a base layer from long
// ago, then a layer of files written (or copied from a fresh checkout) at build time.
func builtAt(t *testing.T, base v1.Layer, when time.Time) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	app := fileLayer(t, map[string]string{"app/main.py": "print('hi')\n", "app/requirements.txt": "fastapi==0.115.6\n"}, when, when)
	img, err := mutate.AppendLayers(img, base, app)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cfg := cf.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: when}
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.created": commitTime.Format(time.RFC3339)}
	cfg.History = []v1.History{{Created: v1.Time{Time: when}}, {Created: v1.Time{Time: when}}}
	img, err = mutate.ConfigFile(img, cfg)
	require.NoError(t, err)
	return img
}

func entries(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	require.NoError(t, eachEntry(l, func(h *tar.Header, _ io.Reader) error {
		out[h.Name] = h
		return nil
	}))
	return out
}

func TestNormalizeClampsFileTimesOfLayersBuiltAfterTheCommit(t *testing.T) {
	base := fileLayer(t, map[string]string{"usr/lib/libc.so": "elf"}, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	coldMonday := builtAt(t, base, time.Date(2026, 11, 30, 9, 0, 0, 123, time.UTC))
	coldFriday := builtAt(t, base, time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC))
	require.NotEqual(t, digestStr(t, coldMonday), digestStr(t, coldFriday), "the build clock is in the layer")

	a, err := Normalize(coldMonday, commitTime, t.TempDir())
	require.NoError(t, err)
	b, err := Normalize(coldFriday, commitTime, t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, digestStr(t, a), digestStr(t, b), "two builds of one commit at different times: one digest")

	again, err := Normalize(coldMonday, commitTime, t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, digestStr(t, a), digestStr(t, again), "normalising is deterministic")

	layers, err := a.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 2)
	baseDigest, _ := base.Digest()
	gotBase, _ := layers[0].Digest()
	assert.Equal(t, baseDigest, gotBase, "a layer older than the commit keeps its blob (shared with the base image)")
	for name, h := range entries(t, layers[1]) {
		assert.True(t, h.ModTime.Equal(commitTime), "%s: mtime %s, want the commit time", name, h.ModTime)
		assert.True(t, h.AccessTime.IsZero(), "%s: access time dropped", name)
	}
	cf, err := a.ConfigFile()
	require.NoError(t, err)
	d0, _ := layers[0].DiffID()
	d1, _ := layers[1].DiffID()
	assert.Equal(t, []v1.Hash{d0, d1}, cf.RootFS.DiffIDs, "the config names the rewritten layer")
	m, err := a.Manifest()
	require.NoError(t, err)
	assert.Equal(t, types.OCIManifestSchema1, m.MediaType)
	assert.Equal(t, types.OCILayer, m.Layers[1].MediaType)

	// Content survives: the app files are unchanged.
	rc, err := layers[1].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	seen := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		seen[h.Name] = string(body)
	}
	assert.Equal(t, map[string]string{"app/main.py": "print('hi')\n", "app/requirements.txt": "fastapi==0.115.6\n"}, seen)
}

func TestNormalizeKeepsAnImageBuiltBeforeTheCommitLayerForLayer(t *testing.T) {
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	img := builtAt(t, fileLayer(t, map[string]string{"etc/os-release": "debian"}, old, time.Time{}), old)
	norm, err := Normalize(img, commitTime, t.TempDir())
	require.NoError(t, err)
	want, _ := blobDigests(t, img)
	got, _ := blobDigests(t, norm)
	assert.Equal(t, want, got, "nothing newer than the commit: every layer blob is kept")
}

// Trivy opens `--input` as a docker archive first (go-containerregistry's tarball.Image on
// manifest.json): the archive publish scans must open that way, as the very same image.
func TestImageTarballOpensAsADockerArchiveToo(t *testing.T) {
	base := fileLayer(t, map[string]string{"etc/os-release": "debian"}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	img, err := Normalize(builtAt(t, base, time.Now()), commitTime, t.TempDir())
	require.NoError(t, err)
	dir := t.TempDir()
	p := dir + "/image.tar"
	require.NoError(t, WriteImageTarball(img, p, dir+"/s", commitTime))
	docker, err := tarball.ImageFromPath(p, nil)
	require.NoError(t, err)
	want, err := img.ConfigName()
	require.NoError(t, err)
	got, err := docker.ConfigName()
	require.NoError(t, err)
	assert.Equal(t, want, got, "Trivy's ImageID (the config digest) is the pushed image's")
	wl, _ := blobDigests(t, img)
	gl, _ := blobDigests(t, docker)
	assert.Equal(t, wl, gl)
}
