package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	u := writeFile(t, dir, "user", "ci-bot\n")
	p := writeFile(t, dir, "pass", "tok:en with spaces\r\n")
	c, err := LoadCredentials(u, p)
	require.NoError(t, err)
	assert.Equal(t, Credentials{Username: "ci-bot", Password: "tok:en with spaces"}, c)

	cfg, err := c.Authenticator().Authorization()
	require.NoError(t, err)
	assert.Equal(t, &authn.AuthConfig{Username: "ci-bot", Password: "tok:en with spaces"}, cfg)

	for _, s := range []string{c.String(), c.GoString(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		assert.NotContains(t, s, "tok:en")
		assert.Contains(t, s, "ci-bot")
	}

	empty := writeFile(t, dir, "empty", "\n")
	multi := writeFile(t, dir, "multi", "a\nb\n")
	colon := writeFile(t, dir, "colon", "a:b")
	cases := []struct{ user, pass, msg string }{
		{"", p, "both --username-file and --password-file"},
		{u, "", "both --username-file and --password-file"},
		{filepath.Join(dir, "missing"), p, "cannot read --username-file"},
		{u, filepath.Join(dir, "missing"), "cannot read --password-file"},
		{empty, p, "username from file " + empty + " is empty"},
		{u, empty, "password from file " + empty + " is empty"},
		{u, multi, "spans several lines"},
		{colon, p, "contains a newline or ':'"},
	}
	for _, tc := range cases {
		_, err := LoadCredentials(tc.user, tc.pass)
		require.Error(t, err, tc.msg)
		assert.Contains(t, err.Error(), tc.msg)
		assert.NotContains(t, err.Error(), "tok:en")
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{"REGISTRY_USER": "bot", "REGISTRY_PASSWORD": "pw", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := CredentialsFromEnv(lookup, "REGISTRY_USER", "REGISTRY_PASSWORD")
	require.NoError(t, err)
	assert.Equal(t, Credentials{Username: "bot", Password: "pw"}, c)

	_, err = CredentialsFromEnv(nil, "A", "B")
	require.ErrorContains(t, err, "os.LookupEnv")
	_, err = CredentialsFromEnv(lookup, "", "REGISTRY_PASSWORD")
	require.ErrorContains(t, err, "variable names")
	_, err = CredentialsFromEnv(lookup, "NOPE", "REGISTRY_PASSWORD")
	require.ErrorContains(t, err, "variable NOPE is not set")
	_, err = CredentialsFromEnv(lookup, "REGISTRY_USER", "NOPE")
	require.ErrorContains(t, err, "variable NOPE is not set")
	_, err = CredentialsFromEnv(lookup, "REGISTRY_USER", "EMPTY")
	require.ErrorContains(t, err, "password from variable EMPTY is empty")
}

func TestEmptyCredentialsAreAnonymous(t *testing.T) {
	c := Credentials{}
	assert.True(t, c.Empty())
	assert.Equal(t, authn.Anonymous, c.Authenticator())
	assert.Equal(t, "anonymous", c.String())
	assert.False(t, Options{Auth: c.Authenticator()}.haveCreds())
	assert.True(t, Options{Auth: Credentials{Username: "u", Password: "p"}.Authenticator()}.haveCreds())
}

func TestExitCodeOfEachErrorKind(t *testing.T) {
	for err, want := range map[error]int{
		nil: 0, ErrInvalidReference: 2, ErrNotByDigest: 2, ErrNotFound: 3, ErrUnauthorized: 4,
		ErrTagCollision: 5, ErrDigestMismatch: 6, ErrInsecure: 7, ErrRegistry: 1, ErrUnsupported: 1,
		newError(ErrNotFound, nil, "wrapped"): 3,
	} {
		assert.Equal(t, want, ExitCode(err), "%v", err)
	}
}
