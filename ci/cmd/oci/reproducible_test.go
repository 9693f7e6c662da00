package main

import (
	"archive/tar"
	"bytes"
	"io"
	"math/rand"
	"os"
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

// entry is one file or directory of a layer, as a build step leaves it.
type entry struct {
	name, body string
	dir        bool
}

// layerOf is a real tar layer of entries whose mtimes (and access times) come from mtime:
// what a build step writes at whatever time it ran.
func layerOf(t *testing.T, entries []entry, mtime func(i int) time.Time) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body)), ModTime: mtime(i), AccessTime: mtime(i).Add(time.Second), Format: tar.FormatPAX}
		if e.dir {
			h.Mode, h.Typeflag, h.Size = 0o755, tar.TypeDir, 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if !e.dir {
			_, err := io.WriteString(tw, e.body)
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	require.NoError(t, err)
	return l
}

var (
	baseFiles = []entry{{name: "etc/", dir: true}, {name: "etc/os-release", body: "PRETTY_NAME=Debian GNU/Linux 12\n"}}
	appFiles  = []entry{
		{name: "app/", dir: true},
		{name: "app/src/", dir: true},
		{name: "app/src/main.py", body: "print('hi')\n"},
		{name: "app/src/__pycache__/main.cpython-311.pyc", body: "\xa7\r\r\n\x03\x00\x00\x00hash-based"},
		{name: "etc/shadow", body: "app:!:20148::::::\n"},
	}
	baseTime = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
)

// buildAt is one cold build: the base image's layer (written long before the commit) and a
// layer of the same app files, each written at its own moment after rng's start.
func buildAt(t *testing.T, rng *rand.Rand, files []entry) string {
	t.Helper()
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int63n(int64(72 * time.Hour))))
	base := layerOf(t, baseFiles, func(int) time.Time { return baseTime })
	app := layerOf(t, files, func(int) time.Time {
		return start.Add(time.Duration(rng.Int63n(int64(10 * time.Minute))))
	})
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, base, app)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cfg := cf.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.created": "2025-03-01T08:00:00Z"}
	return engineTarball(t, mustConfig(t, img, cfg), start)
}

func mustConfig(t *testing.T, img v1.Image, cfg *v1.ConfigFile) v1.Image {
	t.Helper()
	out, err := mutate.ConfigFile(img, cfg)
	require.NoError(t, err)
	return out
}

// Two cold builds of one commit write the same files at different times (every file its own
// mtime): `oci normalize` gives one digest and byte-identical archives, for any times.
// The builds themselves differ (the control), and a changed file still changes the digest.
func TestNormalizeGivesOneDigestForTheSameFilesWrittenAtAnyTime(t *testing.T) {
	const commit = "2025-03-01T08:00:00Z"
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	var want string
	var wantArchive []byte
	for seed := int64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewSource(seed))
		a, b := buildAt(t, rng, appFiles), buildAt(t, rng, appFiles)
		require.NotEqual(t, read(a), read(b), "seed %d: the two builds differ before normalising", seed)
		na, da := normalize(t, a, commit)
		nb, db := normalize(t, b, commit)
		assert.Equal(t, da, db, "seed %d", seed)
		assert.Equal(t, read(na), read(nb), "seed %d: the archive Trivy scans and oci push pushes is the same bytes", seed)
		if want == "" {
			want, wantArchive = da, read(na)
		}
		assert.Equal(t, want, da, "seed %d: the digest depends on the commit and the files only", seed)
		assert.Equal(t, wantArchive, read(na), "seed %d", seed)
	}

	changed := append([]entry(nil), appFiles...)
	changed[2] = entry{name: "app/src/main.py", body: "print('bye')\n"}
	_, dc := normalize(t, buildAt(t, rand.New(rand.NewSource(1)), changed), commit)
	assert.NotEqual(t, want, dc, "normalising never hides a change of content")
}
