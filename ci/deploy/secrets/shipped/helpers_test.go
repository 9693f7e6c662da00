package secrets_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", ".."))
}

// key is a fresh age key pair made for one test.
type key struct {
	id        *age.X25519Identity
	recipient string
	ids       *secrets.Identities
}

func newKey(t testing.TB) key {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	ids, err := secrets.ParseIdentities(strings.NewReader("# test key\n" + id.String() + "\n"))
	require.NoError(t, err)
	return key{id: id, recipient: id.Recipient().String(), ids: ids}
}

// writeKey stores the identity in a file and returns its path.
func (k key) writeFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "age.key")
	require.NoError(t, os.WriteFile(p, []byte("# created by a test\n"+k.id.String()+"\n"), 0o600))
	return p
}

// The plaintext of the round-trip tests; the values are fake and chosen to
// be easy to spot if they ever leak into an error.
const plaintext = `secrets:
    databaseUrl: postgresql://u:LEAKCHECK-db@db:5432/x
    celeryBrokerUrl: redis://:LEAKCHECK-redis@redis:6379/0
    mlflowTrackingToken: LEAKCHECK-token
    port: 5432
    enabled: true
    hosts:
        - a.example
        - b.example
note_unencrypted: stays readable
`

const leakMarker = "LEAKCHECK"

func encrypt(t testing.TB, plain string, recipients ...string) []byte {
	t.Helper()
	enc, err := secrets.Encrypt([]byte(plain), recipients...)
	require.NoError(t, err)
	return enc
}

// sameYAML asserts two YAML documents hold the same data.
func sameYAML(t testing.TB, want, got string) {
	t.Helper()
	var w, g any
	require.NoError(t, yaml.Unmarshal([]byte(want), &w))
	require.NoError(t, yaml.Unmarshal([]byte(got), &g))
	require.Equal(t, w, g)
}
