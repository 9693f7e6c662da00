package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// insecure: the test registries listen on 127.0.0.1, reached over plain http without opt-in.
var insecure = Options{}

func TestPromoteSameRepositoryRetagUploadsNothing(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	img := randomImage(t, 3)
	digest := reg.push(t, reg.host+"/team/api:build", img, nil)

	got, err := promoteS(ctx(t), reg.host+"/team/api@"+digest, reg.host+"/team/api:v1.0.0", insecure)
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	assert.Equal(t, digest, resolve(t, reg.host+"/team/api:v1.0.0", nil))

	uploads, committed, mounted, manifestPuts, _ := reg.c.snapshot()
	assert.Zero(t, uploads, "a same-repository retag must not upload any blob")
	assert.Empty(t, committed)
	assert.Empty(t, mounted, "a same-repository retag must not even mount")
	assert.Equal(t, 1, manifestPuts, "only the manifest is PUT under the new tag")
}

func TestPromoteCrossRepositoryMountsLayers(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	img := randomImage(t, 3)
	layers, config := blobDigests(t, img)
	digest := reg.push(t, reg.host+"/team/build/api:main-01234567", img, nil)

	got, err := promoteS(ctx(t), reg.host+"/team/build/api@"+digest, reg.host+"/team/release/api:v1.0.0", insecure)
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	assert.Equal(t, digest, resolve(t, reg.host+"/team/release/api:v1.0.0", nil))

	uploads, committed, mounted, _, _ := reg.c.snapshot()
	assert.ElementsMatch(t, append(layers, config), mounted, "every blob (layers and config) is cross-repository mounted")
	assert.Zero(t, uploads, "no blob is re-uploaded")
	assert.Empty(t, committed)
}

func TestPromoteCrossRepositorySkipsExistingBlobs(t *testing.T) {
	// The default in-process registry shares blobs across repositories (like a
	// registry with global deduplication): every blob is found by HEAD and skipped.
	reg := newRegistry(t, regOpts{})
	img := randomImage(t, 2)
	digest := reg.push(t, reg.host+"/team/build/api:x", img, nil)

	got, err := promoteS(ctx(t), reg.host+"/team/build/api@"+digest, reg.host+"/team/release/api:v2.0.0", insecure)
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	uploads, committed, mounted, manifestPuts, _ := reg.c.snapshot()
	assert.Zero(t, uploads)
	assert.Empty(t, committed)
	assert.Empty(t, mounted)
	assert.Equal(t, 1, manifestPuts)
}

func TestPromoteAcrossRegistriesCopiesEachBlobOnce(t *testing.T) {
	src := newRegistry(t, regOpts{scoped: true})
	dst := newRegistry(t, regOpts{scoped: true})
	img := randomImage(t, 3)
	layers, config := blobDigests(t, img)
	digest := src.push(t, src.host+"/team/api:build", img, nil)

	got, err := promoteS(ctx(t), src.host+"/team/api@"+digest, dst.host+"/prod/api:v1.0.0", insecure)
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	assert.Equal(t, digest, resolve(t, dst.host+"/prod/api:v1.0.0", nil))
	_, committed, mounted, _, _ := dst.c.snapshot()
	assert.ElementsMatch(t, append(layers, config), committed, "each missing blob is copied exactly once")
	assert.Empty(t, mounted)
	srcUploads, _, _, srcPuts, _ := src.c.snapshot()
	assert.Zero(t, srcUploads, "the source registry is only read")
	assert.Zero(t, srcPuts)

	// A second tag in the same destination repository needs no blob at all.
	dst.c.reset()
	_, err = promoteS(ctx(t), src.host+"/team/api@"+digest, dst.host+"/prod/api:latest", insecure)
	require.NoError(t, err)
	uploads, committed, _, manifestPuts, _ := dst.c.snapshot()
	assert.Zero(t, uploads)
	assert.Empty(t, committed)
	assert.Equal(t, 1, manifestPuts)
}

func TestPromoteIndex(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	idx, err := random.Index(256, 2, 3)
	require.NoError(t, err)
	digest := reg.push(t, reg.host+"/team/build/worker:multiarch", idx, nil)
	children, err := partial.Manifests(idx)
	require.NoError(t, err)
	require.Len(t, children, 3)

	res, err := promoteAllS(ctx(t), reg.host+"/team/build/worker@"+digest,
		[]string{reg.host + "/team/release/worker:v1.0.0", reg.host + "/team/build/worker:v1.0.0"}, insecure)
	require.NoError(t, err)
	assert.Equal(t, Result{
		Source:       mustRef(reg.host + "/team/build/worker@" + digest),
		Digest:       domain.Digest(digest),
		Destinations: mustRefs(reg.host+"/team/release/worker:v1.0.0", reg.host+"/team/build/worker:v1.0.0"),
	}, res)
	for _, d := range res.Destinations {
		assert.Equal(t, digest, resolve(t, d.String(), nil))
	}
	for _, c := range children {
		cd, err := c.Digest()
		require.NoError(t, err)
		assert.Equal(t, cd.String(), resolve(t, reg.host+"/team/release/worker@"+cd.String(), nil),
			"child manifest %s is present in the destination repository", cd)
	}
	uploads, committed, mounted, _, _ := reg.c.snapshot()
	assert.Len(t, mounted, 3*(2+1), "every layer and config blob of every child is mounted")
	assert.Zero(t, uploads)
	assert.Empty(t, committed)
}

func TestPromoteIsIdempotent(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	digest := reg.push(t, reg.host+"/team/api:build", randomImage(t, 1), nil)
	src, dst := reg.host+"/team/api@"+digest, reg.host+"/team/api:v1.0.0"
	_, err := promoteS(ctx(t), src, dst, insecure)
	require.NoError(t, err)
	reg.c.reset()
	got, err := promoteS(ctx(t), src, dst, insecure)
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	_, _, _, manifestPuts, _ := reg.c.snapshot()
	assert.Zero(t, manifestPuts, "a destination already at the digest is not rewritten")
}

func TestPromoteMissingSource(t *testing.T) {
	reg := newRegistry(t, regOpts{})
	digest := reg.push(t, reg.host+"/team/api:build", randomImage(t, 1), nil)
	missing := "sha256:" + strings.Repeat("0", 64)
	for _, src := range []string{
		reg.host + "/team/api@" + missing,    // unknown digest
		reg.host + "/team/nothere@" + digest, // unknown repository
	} {
		_, err := promoteS(ctx(t), src, reg.host+"/team/api:v1.0.0", insecure)
		require.Error(t, err, src)
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Contains(t, err.Error(), "image "+src+" not found: check the digest and that it was published")
	}
	assert.Empty(t, resolve(t, reg.host+"/team/api:v1.0.0", nil), "nothing was written")
}

func TestPromoteCredentials(t *testing.T) {
	const user, pass = "ci-bot", "s3cret-token-value"
	reg := newRegistry(t, regOpts{user: user, password: pass})
	good := Credentials{Username: user, Password: pass}.Authenticator()
	digest := reg.push(t, reg.host+"/team/api:build", randomImage(t, 1), good)
	src, dst := reg.host+"/team/api@"+digest, reg.host+"/team/release/api:v1.0.0"

	_, err := promoteS(ctx(t), src, dst, Options{Auth: Credentials{Username: user, Password: "wrong-password"}.Authenticator()})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "registry rejected the credentials for "+reg.host)
	assert.Contains(t, err.Error(), "check REGISTRY_USER/REGISTRY_PASSWORD")
	assert.NotContains(t, err.Error(), "wrong-password")
	assert.NotContains(t, err.Error(), pass)

	_, err = promoteS(ctx(t), src, dst, insecure)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "requires credentials")
	assert.Contains(t, err.Error(), "--username-file/--password-file")

	assert.Empty(t, resolve(t, dst, good), "refused promotions write nothing")

	got, err := promoteS(ctx(t), src, dst, Options{Auth: good})
	require.NoError(t, err)
	assert.Equal(t, digest, got)
}

func TestPromoteTagCollision(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	a := reg.push(t, reg.host+"/team/api:a", randomImage(t, 1), nil)
	b := reg.push(t, reg.host+"/team/api:b", randomImage(t, 1), nil)
	require.NotEqual(t, a, b)
	_, err := promoteS(ctx(t), reg.host+"/team/api@"+a, reg.host+"/team/api:v1.0.0", insecure)
	require.NoError(t, err)
	_, err = promoteS(ctx(t), reg.host+"/team/api@"+a, reg.host+"/team/api:latest", insecure)
	require.NoError(t, err)
	reg.c.reset()

	// v1.0.0 points at a: moving it to b is refused and changes nothing, including the
	// other destination listed before it.
	_, err = promoteAllS(ctx(t), reg.host+"/team/api@"+b,
		[]string{reg.host + "/team/api:v1.0.1", reg.host + "/team/api:v1.0.0"}, insecure)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTagCollision)
	assert.Contains(t, err.Error(), reg.host+"/team/api:v1.0.0 points at "+a)
	assert.Contains(t, err.Error(), "--allow-overwrite")
	assert.Equal(t, a, resolve(t, reg.host+"/team/api:v1.0.0", nil))
	assert.Empty(t, resolve(t, reg.host+"/team/api:v1.0.1", nil))
	_, _, _, manifestPuts, _ := reg.c.snapshot()
	assert.Zero(t, manifestPuts)

	// latest always moves.
	got, err := promoteS(ctx(t), reg.host+"/team/api@"+b, reg.host+"/team/api:latest", insecure)
	require.NoError(t, err)
	assert.Equal(t, b, got)
	assert.Equal(t, b, resolve(t, reg.host+"/team/api:latest", nil))

	// AllowOverwrite moves any tag.
	got, err = promoteS(ctx(t), reg.host+"/team/api@"+b, reg.host+"/team/api:v1.0.0", Options{AllowOverwrite: true})
	require.NoError(t, err)
	assert.Equal(t, b, got)
	assert.Equal(t, b, resolve(t, reg.host+"/team/api:v1.0.0", nil))
}

func TestPromoteRejectsBadInputWithoutTouchingTheRegistry(t *testing.T) {
	reg := newRegistry(t, regOpts{})
	digest := reg.push(t, reg.host+"/team/api:build", randomImage(t, 1), nil)
	src := reg.host + "/team/api@" + digest
	dst := reg.host + "/team/api:v1.0.0"
	cases := []struct {
		name     string
		src      string
		dsts     []string
		opts     Options
		kind     error
		contains string
	}{
		{"source by tag", reg.host + "/team/api:build", []string{dst}, insecure, ErrNotByDigest, "not pinned by digest"},
		{"source without registry", "team/api@" + digest, []string{dst}, insecure, ErrInvalidReference, "no registry host"},
		{"bad source", reg.host + "/team/API@" + digest, []string{dst}, insecure, ErrInvalidReference, "lowercase"},
		{"bad digest", reg.host + "/team/api@sha256:abc", []string{dst}, insecure, ErrInvalidReference, "64 lowercase hex"},
		{"no destination", src, nil, insecure, ErrInvalidReference, "no destination"},
		{"destination by digest", src, []string{reg.host + "/team/api@" + digest}, insecure, ErrInvalidReference, "a destination is a tag"},
		{"destination without tag", src, []string{reg.host + "/team/api"}, insecure, ErrInvalidReference, "neither tag nor digest"},
		{"destination without registry", src, []string{"team/api:v1"}, insecure, ErrInvalidReference, "no registry host"},
		{"duplicate destination", src, []string{dst, dst}, insecure, ErrInvalidReference, "listed twice"},
		{"unneeded plain-http opt-in", src, []string{dst}, Options{PlainHTTP: mustPlainHTTP(t, "reg.example:5000")}, ErrInvalidReference, "--insecure-registry=reg.example:5000 is not needed"},
		{"opt-in for another port", "reg.example:5001/team/api@" + digest, []string{"reg.example:5001/team/api:v1"}, Options{PlainHTTP: mustPlainHTTP(t, "reg.example:5000")}, ErrInvalidReference, "port included"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := promoteAllS(ctx(t), c.src, c.dsts, c.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.kind)
			assert.Contains(t, err.Error(), c.contains)
			_, _, _, _, requests := reg.c.snapshot()
			assert.Zero(t, requests, "bad input must not reach the registry")
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	cause := fmt.Errorf("boom")
	e := newError(ErrNotFound, cause, "msg")
	assert.True(t, errors.Is(e, ErrNotFound))
	assert.True(t, errors.Is(e, cause))
	assert.False(t, errors.Is(e, ErrUnauthorized))
	assert.Equal(t, "msg", e.Error())
	assert.True(t, errors.Is(newError(ErrInsecure, nil, "x"), ErrInsecure))
}
