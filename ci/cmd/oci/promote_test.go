package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// startRegistry runs an in-process registry; with user set it demands basic auth.
func pushRandom(t *testing.T, ref string, auth authn.Authenticator) string {
	t.Helper()
	img, err := random.Image(256, 2)
	require.NoError(t, err)
	tag, err := name.NewTag(ref, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img, remote.WithAuth(auth)))
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

func digestOf(t *testing.T, ref string, auth authn.Authenticator) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	d, err := remote.Head(r, remote.WithAuth(auth))
	require.NoError(t, err)
	return d.Digest.String()
}

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err := dispatch(ctx, append([]string{"promote"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

func TestRunPromotesAndPrintsJSON(t *testing.T) {
	host := startRegistry(t, "", "", true)
	digest := pushRandom(t, host+"/team/api:build", authn.Anonymous)
	src := host + "/team/api@" + digest
	out, _, err := runCmd(t, "--src", src, "--dst", host+"/team/api:v1.0.0", "--dst", host+"/release/api:v1.0.0")
	require.NoError(t, err)

	var got struct {
		Source       string   `json:"source"`
		Digest       string   `json:"digest"`
		Destinations []string `json:"destinations"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, src, got.Source)
	assert.Equal(t, digest, got.Digest)
	assert.Equal(t, []string{host + "/team/api:v1.0.0", host + "/release/api:v1.0.0"}, got.Destinations)
	assert.Equal(t, 1, strings.Count(out, "\n"), "one JSON line")
	for _, d := range got.Destinations {
		assert.Equal(t, digest, digestOf(t, d, authn.Anonymous))
	}
}

func TestRunCredentialsFromFilesAndEnv(t *testing.T) {
	host := startRegistry(t, "bot", "pa55", true)
	auth := &authn.Basic{Username: "bot", Password: "pa55"}
	digest := pushRandom(t, host+"/team/api:build", auth)
	src := host + "/team/api@" + digest
	dir := t.TempDir()
	uf, pf, bad := filepath.Join(dir, "u"), filepath.Join(dir, "p"), filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(uf, []byte("bot\n"), 0o600))
	require.NoError(t, os.WriteFile(pf, []byte("pa55\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("nope\n"), 0o600))

	_, _, err := runCmd(t, "--src", src, "--dst", host+"/team/api:v1", "--username-file", uf, "--password-file", pf)
	require.NoError(t, err)
	assert.Equal(t, digest, digestOf(t, host+"/team/api:v1", auth))

	_, _, err = runCmd(t, "--src", src, "--dst", host+"/team/api:v2", "--username-file", uf, "--password-file", bad)
	require.Error(t, err)
	assert.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), "check REGISTRY_USER/REGISTRY_PASSWORD")
	assert.NotContains(t, err.Error(), "nope")
	assert.Equal(t, 4, exitCode(err))

	old := lookupEnv
	t.Cleanup(func() { lookupEnv = old })
	lookupEnv = func(k string) (string, bool) {
		v, ok := map[string]string{"REGISTRY_USER": "bot", "REGISTRY_PASSWORD": "pa55"}[k]
		return v, ok
	}
	_, _, err = runCmd(t, "--src", src, "--dst", host+"/team/api:v3", "--username-env", "REGISTRY_USER", "--password-env", "REGISTRY_PASSWORD")
	require.NoError(t, err)

	_, _, err = runCmd(t, "--src", src, "--dst", host+"/team/api:v4")
	assert.ErrorIs(t, err, registry.ErrUnauthorized)
	assert.Contains(t, err.Error(), "requires credentials")
}

func TestRunRefusals(t *testing.T) {
	host := startRegistry(t, "", "", true)
	a := pushRandom(t, host+"/team/api:a", authn.Anonymous)
	b := pushRandom(t, host+"/team/api:b", authn.Anonymous)
	_, _, err := runCmd(t, "--src", host+"/team/api@"+a, "--dst", host+"/team/api:v1")
	require.NoError(t, err)

	out, _, err := runCmd(t, "--src", host+"/team/api@"+b, "--dst", host+"/team/api:v1")
	assert.ErrorIs(t, err, registry.ErrTagCollision)
	assert.Equal(t, 5, exitCode(err))
	assert.Empty(t, out)
	assert.Equal(t, a, digestOf(t, host+"/team/api:v1", authn.Anonymous))

	_, _, err = runCmd(t, "--src", host+"/team/api@"+b, "--dst", host+"/team/api:v1", "--allow-overwrite")
	require.NoError(t, err)
	assert.Equal(t, b, digestOf(t, host+"/team/api:v1", authn.Anonymous))

	_, _, err = runCmd(t, "--src", host+"/team/api@sha256:"+strings.Repeat("0", 64), "--dst", host+"/team/api:v2")
	assert.ErrorIs(t, err, registry.ErrNotFound)
	assert.Equal(t, 3, exitCode(err))

	// The test registry is plain http on 127.0.0.1: loopback needs no opt-in, and an opt-in
	// for it is refused as not needed.
	_, _, err = runCmd(t, "--src", host+"/team/api@"+a, "--dst", host+"/team/api:v2", "--insecure-registry", host)
	assert.ErrorContains(t, err, "is not needed")
	assert.Equal(t, 2, exitCode(err))

	_, _, err = runCmd(t, "--src", host+"/team/api:a", "--dst", host+"/team/api:v2")
	assert.ErrorIs(t, err, registry.ErrNotByDigest)
	assert.Equal(t, 2, exitCode(err))
}

func TestRunUsage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("a", 64)
	cases := []struct {
		args []string
		msg  string
	}{
		{nil, "--src is required"},
		{[]string{"--src", "r.io/a@" + digest}, "--dst is required"},
		{[]string{"--src", "r.io/a@" + digest, "--dst", "r.io/a:x", "extra"}, "unexpected argument"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--src", "r.io/a@" + digest, "--dst", "r.io/a:x", "--username-file", "f"}, "give both --username-file and --password-file"},
		{[]string{"--src", "r.io/a@" + digest, "--dst", "r.io/a:x", "--username-env", "U"}, "give both --username-env and --password-env"},
		{[]string{"--src", "r.io/a@" + digest, "--dst", "r.io/a:x", "--username-file", "f", "--password-env", "P"}, "not both"},
		{[]string{"--src", "r.io/a@" + digest, "--dst", "r.io/a:x", "--username-file", "/nonexistent/u", "--password-file", "/nonexistent/p"}, "cannot read --username-file"},
		{[]string{"--src", "r.io/a@" + digest, "--dst", "r.io/a:x", "--timeout", "0s"}, "--timeout must be positive"},
	}
	for _, c := range cases {
		out, _, err := runCmd(t, c.args...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.msg)
		assert.Equal(t, 2, exitCode(err), c.args)
		assert.Empty(t, out)
	}

	_, stderr, err := runCmd(t, "-h")
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Equal(t, 0, exitCode(err))
	assert.Contains(t, stderr, "usage: oci promote")
	assert.Equal(t, 1, exitCode(errors.New("other")))
}

// TestRunInsecureRegistry reaches the in-process registry (plain http on 127.0.0.1) under the
// non-loopback name reg.test:PORT through a dialer that maps it to 127.0.0.1.
func TestRunInsecureRegistry(t *testing.T) {
	host := startRegistry(t, "", "", true)
	_, port, err := net.SplitHostPort(host)
	require.NoError(t, err)
	digest := pushRandom(t, host+"/sp/api:build", authn.Anonymous)
	alias := "reg.test:" + port

	base := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == alias {
			addr = host
		}
		return dialer.DialContext(ctx, network, addr)
	}
	transport = base
	t.Cleanup(func() { transport = nil })

	src, dst := alias+"/sp/api@"+digest, alias+"/sp/api:v1.0.0"
	out, _, err := runCmd(t, "--src", src, "--dst", dst)
	require.Error(t, err)
	assert.ErrorIs(t, err, registry.ErrInsecure)
	assert.Equal(t, 7, exitCode(err))
	assert.Contains(t, err.Error(), "--insecure-registry="+alias)
	assert.Empty(t, out)

	out, _, err = runCmd(t, "--src", src, "--dst", dst, "--insecure-registry", alias)
	require.NoError(t, err)
	assert.Contains(t, out, `"digest":"`+digest+`"`)
	assert.Equal(t, digest, digestOf(t, host+"/sp/api:v1.0.0", authn.Anonymous))

	for _, c := range []struct{ flag, msg string }{
		{"reg.other:5000", "is not needed: no source or destination is on that registry"},
		{"http://" + alias, "has a scheme"},
		{alias + "/sp", "has a path"},
	} {
		_, _, err = runCmd(t, "--src", src, "--dst", dst, "--insecure-registry", c.flag)
		require.Error(t, err, c.flag)
		assert.Contains(t, err.Error(), c.msg)
		assert.Equal(t, 2, exitCode(err), c.flag)
	}
}

func TestDispatchNamesTheSubcommands(t *testing.T) {
	var out, errb bytes.Buffer
	err := dispatch(context.Background(), nil, &out, &errb)
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	assert.Contains(t, err.Error(), "normalize, push, promote, resolve, labels, attach, check-key or verify")
	err = dispatch(context.Background(), []string{"--src", "x"}, &out, &errb)
	assert.Equal(t, 2, exitCode(err))
	assert.Contains(t, err.Error(), `unknown subcommand "--src"`)
	err = dispatch(context.Background(), []string{"--help"}, &out, &errb)
	assert.Equal(t, 0, exitCode(err))
	assert.Contains(t, errb.String(), "usage: oci <normalize|push|promote|resolve|labels|attach|check-key|verify>")
}
