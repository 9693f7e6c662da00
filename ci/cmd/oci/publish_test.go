package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// engineTarball writes what Dagger's asTarball gives: layers, labels and the engine's clock
// in the config's created/history.
func engineTarball(t *testing.T, layers v1.Image, built time.Time) string {
	t.Helper()
	cf, err := layers.ConfigFile()
	require.NoError(t, err)
	cfg := cf.DeepCopy()
	cfg.Created = v1.Time{Time: built}
	cfg.History = []v1.History{{Created: v1.Time{Time: built}}, {Created: v1.Time{Time: built.Add(time.Minute)}}}
	img, err := mutate.ConfigFile(layers, cfg)
	require.NoError(t, err)
	dir := t.TempDir()
	p := filepath.Join(dir, "image.tar")
	require.NoError(t, registry.WriteImageTarball(img, p, filepath.Join(dir, "s"), built))
	return p
}

func normalize(t *testing.T, in, created string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "norm.tar")
	stdout, _, err := runSub(t, "normalize", "--in", in, "--out", out, "--created", created)
	require.NoError(t, err)
	var got struct{ Digest string }
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	return out, got.Digest
}

func TestNormalizeThenPushPublishesOnceAndNeverMovesTheTag(t *testing.T) {
	host := startRegistry(t, "bot", "pa55", true)
	layers, err := random.Image(256, 2)
	require.NoError(t, err)
	const commit = "2025-03-01T09:00:00+01:00"
	first, d1 := normalize(t, engineTarball(t, layers, time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)), commit)
	_, d2 := normalize(t, engineTarball(t, layers, time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)), commit)
	assert.Equal(t, d1, d2, "two builds of one commit with equal layers give one digest")

	dir := t.TempDir()
	uf, pf := filepath.Join(dir, "u"), filepath.Join(dir, "p")
	require.NoError(t, os.WriteFile(uf, []byte("bot\n"), 0o600))
	require.NoError(t, os.WriteFile(pf, []byte("pa55\n"), 0o600))
	tag := host + "/sp/api:main-01234567"
	push := func(tarball string) (registry.Published, error) {
		out, _, err := runSub(t, "push", "--tarball", tarball, "--dst", tag, "--username-file", uf, "--password-file", pf)
		var res registry.Published
		if err == nil {
			require.NoError(t, json.Unmarshal([]byte(out), &res))
		}
		return res, err
	}
	res, err := push(first)
	require.NoError(t, err)
	assert.Equal(t, "push", string(res.Action))
	assert.Equal(t, d1, string(res.Digest))
	assert.Equal(t, host+"/sp/api@"+d1, res.Reference.String())
	auth := &authn.Basic{Username: "bot", Password: "pa55"}
	assert.Equal(t, d1, digestOf(t, tag, auth))

	res, err = push(first)
	require.NoError(t, err)
	assert.Equal(t, "reuse", string(res.Action))

	other, d3 := normalize(t, engineTarball(t, layers, time.Now()), "2025-03-02T09:00:00Z")
	require.NotEqual(t, d1, d3)
	_, err = push(other)
	require.Error(t, err)
	assert.Equal(t, 5, exitCode(err), "a moved tag is the collision exit status")
	assert.Contains(t, err.Error(), "a published tag never moves")
	assert.Equal(t, d1, digestOf(t, tag, auth))
}

func TestPublishSubcommandsRefuseBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"normalize", "--in", "a.tar"},
		{"normalize", "--in", "a.tar", "--out", "b.tar", "--created", "yesterday"},
		{"push", "--tarball", "a.tar"},
		{"push", "--dst", "registry.example.com/sp/api:main-01234567"},
		{"push", "--tarball", "a.tar", "--dst", "registry.example.com/sp/api:x", "--username-file", "u"},
		{"push", "stray"},
	} {
		_, _, err := runSub(t, args...)
		require.Error(t, err, args)
		assert.Equal(t, 2, exitCode(err), "%v: %v", args, err)
	}
	_, _, err := runSub(t, "normalize", "--in", filepath.Join(t.TempDir(), "missing.tar"), "--out", filepath.Join(t.TempDir(), "o.tar"), "--created", "2025-03-01T08:00:00Z")
	assert.ErrorIs(t, err, registry.ErrBadTarball)
}

// runSub runs the command line as main does (subcommands included).
func runSub(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err := dispatch(ctx, args, &out, &errb)
	return out.String(), errb.String(), err
}
