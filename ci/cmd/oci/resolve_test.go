package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolvePrintsTheDigestOfEveryTag(t *testing.T) {
	host := startRegistry(t, "", "", true)
	api := pushRandom(t, host+"/sp/api:main-0123abcd", authn.Anonymous)
	worker := pushRandom(t, host+"/sp/worker:main-0123abcd", authn.Anonymous)
	var out, errb bytes.Buffer
	err := runResolve(context.Background(), []string{"--ref", host + "/sp/api:main-0123abcd", "--ref", host + "/sp/worker:main-0123abcd"}, &out, &errb)
	require.NoError(t, err, errb.String())
	var got map[string]string
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	assert.Equal(t, map[string]string{
		host + "/sp/api:main-0123abcd":    host + "/sp/api@" + api,
		host + "/sp/worker:main-0123abcd": host + "/sp/worker@" + worker,
	}, got)
}

func TestResolveUsageAndMissingTags(t *testing.T) {
	host := startRegistry(t, "", "", true)
	var out, errb bytes.Buffer
	err := runResolve(context.Background(), nil, &out, &errb)
	assert.Equal(t, 2, exitCode(err))
	assert.ErrorContains(t, err, "--ref is required")

	err = runResolve(context.Background(), []string{"--ref", host + "/sp/api:main-0123abcd"}, &out, &errb)
	assert.Equal(t, 3, exitCode(err), "%v", err)
	assert.ErrorContains(t, err, "publish")
	assert.Empty(t, out.String(), "nothing is printed when a tag is missing")
}
