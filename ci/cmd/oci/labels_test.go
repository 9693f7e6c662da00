package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pushLabelled pushes a random image whose config carries labels and returns repo@digest.
func pushLabelled(t *testing.T, repo string, labels map[string]string, auth authn.Authenticator) string {
	t.Helper()
	img, err := random.Image(128, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Config.Labels = labels
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	tag, err := name.NewTag(repo+":main-0123abcd", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img, remote.WithAuth(auth)))
	d, err := img.Digest()
	require.NoError(t, err)
	return repo + "@" + d.String()
}

func TestLabelsPrintsEachImagesConfigLabels(t *testing.T) {
	host := startRegistry(t, "ci-user", "s3cret", true)
	auth := &authn.Basic{Username: "ci-user", Password: "s3cret"}
	api := pushLabelled(t, host+"/sp/api", map[string]string{"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567", "io.soccerpredict.model.version": "7"}, auth)
	worker := pushLabelled(t, host+"/sp/worker", nil, auth)
	dir := t.TempDir()
	user, pass := write(t, dir, "user", []byte("ci-user")), write(t, dir, "pass", []byte("s3cret"))

	var out, errb bytes.Buffer
	err := runLabels(context.Background(), []string{"--image", api, "--image", worker, "--username-file", user, "--password-file", pass}, &out, &errb)
	require.NoError(t, err, errb.String())
	var got map[string]map[string]string
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	assert.Equal(t, map[string]map[string]string{
		api:    {"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567", "io.soccerpredict.model.version": "7"},
		worker: {},
	}, got)

	// Without the credentials the registry refuses, and the error says what to pass.
	out.Reset()
	err = runLabels(context.Background(), []string{"--image", api}, &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--username")
	assert.Empty(t, out.String())
}

func TestLabelsRefusesTagsAndMissingImages(t *testing.T) {
	host := startRegistry(t, "", "", true)
	var out, errb bytes.Buffer
	err := runLabels(context.Background(), nil, &out, &errb)
	assert.Equal(t, 2, exitCode(err))
	assert.ErrorContains(t, err, "--image is required")

	err = runLabels(context.Background(), []string{"--image", host + "/sp/api:main-0123abcd"}, &out, &errb)
	assert.ErrorContains(t, err, "is not an image by digest")

	err = runLabels(context.Background(), []string{"--image", host + "/sp/api@sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"}, &out, &errb)
	assert.ErrorContains(t, err, "does not exist in its registry")
	assert.Empty(t, out.String())
}
