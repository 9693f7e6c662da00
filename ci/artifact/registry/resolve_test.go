package registry

import (
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveReturnsTheDigestPublishedUnderTheTag(t *testing.T) {
	reg := newRegistry(t, regOpts{})
	imgDigest := reg.push(t, reg.host+"/team/api:main-0123abcd", randomImage(t, 2), nil)
	idx, err := random.Index(64, 1, 2)
	require.NoError(t, err)
	idxDigest := reg.push(t, reg.host+"/team/worker:main-0123abcd", idx, nil)
	// Another commit's tag must not be picked up.
	reg.push(t, reg.host+"/team/api:main-ffffffff", randomImage(t, 1), nil)

	got, err := resolveS(ctx(t), reg.host+"/team/api:main-0123abcd", insecure)
	require.NoError(t, err)
	assert.Equal(t, reg.host+"/team/api@"+imgDigest, got)

	got, err = resolveS(ctx(t), reg.host+"/team/worker:main-0123abcd", insecure)
	require.NoError(t, err)
	assert.Equal(t, reg.host+"/team/worker@"+idxDigest, got, "an index resolves to the index digest publish pushed, not to a platform child")
}

func TestResolveErrorsSayWhatToDo(t *testing.T) {
	reg := newRegistry(t, regOpts{user: "u", password: "p"})
	digest := reg.push(t, reg.host+"/team/api:main-0123abcd", randomImage(t, 1), authn.FromConfig(authn.AuthConfig{Username: "u", Password: "p"}))

	_, err := resolveS(ctx(t), reg.host+"/team/api:main-0123abcd", insecure)
	assert.True(t, errors.Is(err, ErrUnauthorized), "%v", err)

	withCreds := Options{Auth: Credentials{Username: "u", Password: "p"}.Authenticator()}
	got, err := resolveS(ctx(t), reg.host+"/team/api:main-0123abcd", withCreds)
	require.NoError(t, err)
	assert.Equal(t, reg.host+"/team/api@"+digest, got)

	_, err = resolveS(ctx(t), reg.host+"/team/api:main-99999999", withCreds)
	assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
	assert.ErrorContains(t, err, "publish")

	// The plain-HTTP rule: the same registry under a non-loopback name needs the opt-in.
	_, err = resolveS(ctx(t), aliased(reg, "reg.test")+"/team/api:main-0123abcd", Options{Transport: aliasTransport("reg.test")})
	assert.True(t, errors.Is(err, ErrInsecure), "%v", err)

	for _, bad := range []string{"team/api:main-0123abcd", reg.host + "/team/api@" + digest, "", reg.host + "/team/api"} {
		_, err = resolveS(ctx(t), bad, withCreds)
		assert.True(t, errors.Is(err, ErrInvalidReference), "%q: %v", bad, err)
	}
}
