package secrets_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

// relabel rewrites every sops.age[].recipient label of an encrypted file to label, leaving the
// encrypted data keys as they are: what an attacker edits to pass a check that reads labels.
func relabel(t *testing.T, enc []byte, label string) []byte {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(enc, &doc))
	n := 0
	var walk func(*yaml.Node)
	walk = func(x *yaml.Node) {
		for i := 0; i+1 < len(x.Content); i++ {
			if x.Kind == yaml.MappingNode && i%2 == 0 && x.Content[i].Value == "recipient" {
				x.Content[i+1].Value = label
				n++
			}
		}
		for _, c := range x.Content {
			walk(c)
		}
	}
	walk(&doc)
	require.Positive(t, n, "the file has age recipient labels")
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	return out
}

func TestCheckNotOpenableByReadsTheKeyNotTheLabel(t *testing.T) {
	test, testPub := newIdentities(t)
	prod, prodPub := newIdentities(t)
	plain := []byte("db_password: s3cret\n")

	t.Run("encrypted to the test key, relabelled as production's", func(t *testing.T) {
		enc, err := secrets.Encrypt(plain, testPub)
		require.NoError(t, err)
		forged := relabel(t, enc, prodPub)
		require.NotContains(t, string(forged), testPub, "the forged file no longer names the test key")
		// Independent oracle: the test key really decrypts the forged file.
		out, err := secrets.Decrypt(forged, test)
		require.NoError(t, err)
		assert.Equal(t, plain, out)

		err = secrets.CheckNotOpenableBy(forged, test)
		require.ErrorIs(t, err, secrets.ErrForbiddenKey)
		assert.Contains(t, err.Error(), testPub, "names the key that opens it")
	})
	t.Run("encrypted to both keys", func(t *testing.T) {
		enc, err := secrets.Encrypt(plain, prodPub, testPub)
		require.NoError(t, err)
		require.ErrorIs(t, secrets.CheckNotOpenableBy(relabel(t, enc, prodPub), test), secrets.ErrForbiddenKey)
		require.ErrorIs(t, secrets.CheckNotOpenableBy(enc, test), secrets.ErrForbiddenKey)
	})
	t.Run("positive twin: production's key only, even labelled as the test key", func(t *testing.T) {
		enc, err := secrets.Encrypt(plain, prodPub)
		require.NoError(t, err)
		require.NoError(t, secrets.CheckNotOpenableBy(enc, test))
		require.NoError(t, secrets.CheckNotOpenableBy(relabel(t, enc, testPub), test))
		out, err := secrets.Decrypt(enc, prod)
		require.NoError(t, err)
		assert.Equal(t, plain, out)
	})
	t.Run("not a SOPS file", func(t *testing.T) {
		require.ErrorIs(t, secrets.CheckNotOpenableBy(plain, test), secrets.ErrMalformed)
		require.ErrorIs(t, secrets.CheckNotOpenableBy([]byte("::: not yaml"), test), secrets.ErrMalformed)
	})
	t.Run("no identity", func(t *testing.T) {
		enc, err := secrets.Encrypt(plain, prodPub)
		require.NoError(t, err)
		err = secrets.CheckNotOpenableBy(enc, &secrets.Identities{})
		require.ErrorIs(t, err, secrets.ErrBadIdentity)
		assert.True(t, strings.Contains(err.Error(), "age key"))
	})
}
