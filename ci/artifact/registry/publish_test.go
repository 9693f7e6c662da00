package registry

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
)

var commitTime = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// engineImage is what Dagger v0.21.8 exports: the layers plus a config whose `created` and
// history times are the engine's snapshot times (built stands for "when it was built").
func engineImage(t *testing.T, base v1.Image, label string, built time.Time) v1.Image {
	t.Helper()
	cf, err := base.ConfigFile()
	require.NoError(t, err)
	cfg := cf.DeepCopy()
	cfg.Created = v1.Time{Time: built}
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.revision": label}
	cfg.History = nil
	layers, err := base.Layers()
	require.NoError(t, err)
	for i := range layers {
		cfg.History = append(cfg.History, v1.History{Created: v1.Time{Time: built.Add(time.Duration(i) * time.Minute)}, CreatedBy: "created by buildkit"})
	}
	img, err := mutate.ConfigFile(base, cfg)
	require.NoError(t, err)
	return img
}

func digestStr(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

func TestNormalizeMakesTheDigestIndependentOfWhenTheImageWasBuilt(t *testing.T) {
	layers := randomImage(t, 3)
	monday := engineImage(t, layers, "abc", time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	friday := engineImage(t, layers, "abc", time.Date(2026, 12, 4, 17, 33, 12, 0, time.UTC))
	require.NotEqual(t, digestStr(t, monday), digestStr(t, friday), "the engine's clock leaks into the digest")

	a, err := Normalize(monday, commitTime, t.TempDir())
	require.NoError(t, err)
	b, err := Normalize(friday, commitTime, t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, digestStr(t, a), digestStr(t, b), "same layers and labels, same commit time: same digest")

	cf, err := a.ConfigFile()
	require.NoError(t, err)
	assert.True(t, cf.Created.Time.Equal(commitTime))
	require.Len(t, cf.History, 3)
	for _, h := range cf.History {
		assert.True(t, h.Created.Time.Equal(commitTime), "every history entry carries the commit time")
	}
	wantLayers, _ := blobDigests(t, monday)
	gotLayers, _ := blobDigests(t, a)
	assert.Equal(t, wantLayers, gotLayers, "layers are kept byte for byte")

	other, err := Normalize(engineImage(t, layers, "def", commitTime), commitTime, t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, digestStr(t, a), digestStr(t, other), "another commit's labels give another image")
	later, err := Normalize(monday, commitTime.Add(time.Second), t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, digestStr(t, a), digestStr(t, later))

	_, err = Normalize(monday, time.Time{}, t.TempDir())
	assert.ErrorContains(t, err, "--commit-time=$CI_COMMIT_TIMESTAMP")
}

func TestImageTarballRoundTripIsDeterministic(t *testing.T) {
	img, err := Normalize(engineImage(t, randomImage(t, 2), "abc", time.Now()), commitTime, t.TempDir())
	require.NoError(t, err)
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.tar"), filepath.Join(dir, "two.tar")
	require.NoError(t, WriteImageTarball(img, one, filepath.Join(dir, "s1"), commitTime))
	require.NoError(t, WriteImageTarball(img, two, filepath.Join(dir, "s2"), commitTime))
	b1, err := os.ReadFile(one)
	require.NoError(t, err)
	b2, err := os.ReadFile(two)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(b1), sha256.Sum256(b2), "the archive itself is reproducible")

	back, err := ReadImageTarball(one, filepath.Join(dir, "r"))
	require.NoError(t, err)
	assert.Equal(t, digestStr(t, img), digestStr(t, back), "reading the archive gives the very image written")
	raw1, _ := img.RawManifest()
	raw2, _ := back.RawManifest()
	assert.Equal(t, raw1, raw2)
}

func writeTar(t *testing.T, entries map[string]string, typ byte) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, body := range entries {
		h := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: typ}
		if typ == tar.TypeSymlink {
			h.Size, h.Linkname = 0, "/etc/passwd"
		}
		require.NoError(t, tw.WriteHeader(h))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	p := filepath.Join(t.TempDir(), "bad.tar")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

func TestReadImageTarballRefusesWhatIsNotOneImage(t *testing.T) {
	dir := t.TempDir()
	// A layout with two images is not one artifact.
	lp, err := layoutWithTwo(t, randomImage(t, 1), randomImage(t, 1))
	require.NoError(t, err)

	for name, path := range map[string]string{
		"escaping entry": writeTar(t, map[string]string{"../evil": "x"}, tar.TypeReg),
		"absolute entry": writeTar(t, map[string]string{"/etc/evil": "x"}, tar.TypeReg),
		"symlink":        writeTar(t, map[string]string{"index.json": ""}, tar.TypeSymlink),
		"no index":       writeTar(t, map[string]string{"manifest.json": "[]"}, tar.TypeReg),
		"two images":     lp,
		"missing file":   filepath.Join(dir, "nope.tar"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadImageTarball(path, t.TempDir())
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrBadTarball), "%v", err)
		})
	}
}

func layoutWithTwo(t *testing.T, a, b v1.Image) (string, error) {
	t.Helper()
	idx := mutate.AppendManifests(mutate.IndexMediaType(emptyIndex(), "application/vnd.oci.image.index.v1+json"),
		mutate.IndexAddendum{Add: a}, mutate.IndexAddendum{Add: b})
	dir := t.TempDir()
	out := filepath.Join(dir, "two.tar")
	return out, writeIndexTarball(idx, out, filepath.Join(dir, "s"))
}

func TestPublishImagePushesOnceReusesAndNeverMoves(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	tag := reg.host + "/sp/api:main-01234567"
	a := randomImage(t, 2)
	b := randomImage(t, 2)

	res, err := publishS(ctx(t), a, tag, insecure)
	require.NoError(t, err)
	assert.Equal(t, artifact.TagPush, res.Action)
	assert.Equal(t, digestStr(t, a), string(res.Digest))
	assert.Equal(t, reg.host+"/sp/api@"+digestStr(t, a), res.Reference.String())
	assert.Equal(t, digestStr(t, a), resolve(t, tag, nil))

	reg.c.reset()
	res, err = publishS(ctx(t), a, tag, insecure)
	require.NoError(t, err, "a retry of the same build succeeds")
	assert.Equal(t, artifact.TagReuse, res.Action)
	uploads, _, _, puts, _ := reg.c.snapshot()
	assert.Zero(t, uploads+puts, "a reuse writes nothing")

	reg.c.reset()
	_, err = publishS(ctx(t), b, tag, insecure)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTagCollision), "%v", err)
	assert.True(t, errors.Is(err, artifact.ErrTagImmutable))
	assert.Contains(t, err.Error(), "a published tag never moves")
	assert.Equal(t, 5, exitCodeHint(err))
	uploads, _, _, puts, _ = reg.c.snapshot()
	assert.Zero(t, uploads+puts, "a refused publish writes nothing")
	assert.Equal(t, digestStr(t, a), resolve(t, tag, nil), "the tag did not move")
}

// exitCodeHint mirrors ci/cmd/oci's mapping for the collision case.
func exitCodeHint(err error) int {
	if errors.Is(err, ErrTagCollision) {
		return 5
	}
	return 1
}

func TestPublishImageRefusesBadDestinationsBeforeTouchingTheRegistry(t *testing.T) {
	reg := newRegistry(t, regOpts{})
	img := randomImage(t, 1)
	for _, tc := range []struct{ dst, want string }{
		{reg.host + "/sp/api:latest", `publish never writes "latest"`},
		{reg.host + "/sp/api", "--dst: image reference"},
		{reg.host + "/sp/api@sha256:" + strings.Repeat("a", 64), "a destination is a tag"},
		{"sp/api:main-01234567", "has no registry host"},
	} {
		_, err := publishS(ctx(t), img, tc.dst, insecure)
		require.Error(t, err, tc.dst)
		assert.Contains(t, err.Error(), tc.want)
	}
	// The plain-HTTP rule: the same registry under a non-loopback name needs the opt-in.
	host := aliased(reg, "reg.test")
	_, err := publishS(ctx(t), img, host+"/sp/api:main-01234567", Options{Transport: aliasTransport("reg.test")})
	assert.True(t, errors.Is(err, ErrInsecure), "%v", err)
	assert.Contains(t, err.Error(), "--insecure-registry="+host)
	_, _, _, puts, _ := reg.c.snapshot()
	assert.Zero(t, puts)
	_, err = publishS(ctx(t), img, host+"/sp/api:main-01234567", Options{Transport: aliasTransport("reg.test"), PlainHTTP: mustPlainHTTP(t, host)})
	require.NoError(t, err)
}

func TestPublishImageNeedsTheCredentials(t *testing.T) {
	reg := newRegistry(t, regOpts{user: "ci", password: "s3cret"})
	img := randomImage(t, 1)
	tag := reg.host + "/sp/api:main-01234567"
	_, err := publishS(ctx(t), img, tag, insecure)
	assert.True(t, errors.Is(err, ErrUnauthorized), "%v", err)
	opts := insecure
	opts.Auth = &authn.Basic{Username: "ci", Password: "s3cret"}
	res, err := publishS(ctx(t), img, tag, opts)
	require.NoError(t, err)
	assert.Equal(t, digestStr(t, img), resolve(t, tag, opts.Auth))
	d, err := resolveS(ctx(t), tag, opts)
	require.NoError(t, err)
	assert.Equal(t, res.Reference.String(), d)
	_, err = resolveS(ctx(t), reg.host+"/sp/api:main-89abcdef", opts)
	assert.ErrorIs(t, err, ErrNotFound, "a missing tag is not found")
}

// Property: whatever the sequence of publish attempts — retries of the same build, rebuilds
// that came out different, a late retry of an older pipeline, several identical publishes at
// once — a branch tag, once published, resolves to its first digest forever, and every
// attempt that succeeds reports exactly that digest.
func TestPropertyNoPublishSequenceMovesABranchTag(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	builds := []v1.Image{randomImage(t, 1), randomImage(t, 1), randomImage(t, 1)}
	rng := rand.New(rand.NewSource(20261201))
	for seq := 0; seq < 25; seq++ {
		tag := fmt.Sprintf("%s/sp/api:main-%08x", reg.host, seq)
		first := ""
		check := func(res Published, err error) {
			t.Helper()
			if err != nil {
				require.True(t, errors.Is(err, ErrTagCollision), "seq %d: only a collision may fail: %v", seq, err)
				return
			}
			if first == "" {
				first = string(res.Digest)
			}
			require.Equal(t, first, string(res.Digest), "seq %d: a success reported a second digest", seq)
		}
		for step := 0; step < 2+rng.Intn(6); step++ {
			switch rng.Intn(3) {
			case 0, 1: // one publish job (first run, retry, or a late retry of another build)
				check(publishS(ctx(t), builds[rng.Intn(len(builds))], tag, insecure))
			case 2: // the same build published by several jobs at once
				img := builds[rng.Intn(len(builds))]
				var wg sync.WaitGroup
				var mu sync.Mutex
				type out struct {
					res Published
					err error
				}
				var outs []out
				for i := 0; i < 3; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, e := publishS(ctx(t), img, tag, insecure)
						mu.Lock()
						outs = append(outs, out{r, e})
						mu.Unlock()
					}()
				}
				wg.Wait()
				for _, o := range outs {
					check(o.res, o.err)
				}
			}
			if first != "" {
				require.Equal(t, first, resolve(t, tag, nil), "seq %d step %d: the tag moved", seq, step)
			}
		}
	}
}

func emptyIndex() v1.ImageIndex { return empty.Index }

// writeIndexTarball writes an OCI layout archive holding every manifest of idx.
func writeIndexTarball(idx v1.ImageIndex, out, scratch string) error {
	if _, err := layout.Write(scratch, idx); err != nil {
		return err
	}
	return tarDir(scratch, out, commitTime)
}
