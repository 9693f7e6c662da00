package secrets_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

func newIdentities(t testing.TB) (*secrets.Identities, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	ids, err := secrets.ParseIdentities(strings.NewReader(id.String()))
	require.NoError(t, err)
	return ids, id.Recipient().String()
}

func TestSOPSVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*github\.com/getsops/sops/v3 v(\S+)`).FindSubmatch(data)
	require.NotNil(t, m, "go.mod requires github.com/getsops/sops/v3")
	assert.Equal(t, string(m[1]), secrets.SOPSVersion, "update SOPSVersion to the sops version in go.mod")
}

// randomTree builds a random YAML-able mapping from r.
func randomTree(r *rand.Rand, depth int) map[string]any {
	n := 1 + r.Intn(4)
	out := map[string]any{}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("k%d_%d", depth, r.Intn(1000))
		switch c := r.Intn(6); {
		case c == 0 && depth < 3:
			out[key] = randomTree(r, depth+1)
		case c == 1:
			out[key] = r.Intn(100000) - 50000
		case c == 2:
			out[key] = r.Intn(2) == 0
		case c == 3 && depth < 3:
			out[key] = []any{fmt.Sprint(r.Int63()), r.Intn(10)}
		default:
			b := make([]byte, 1+r.Intn(40))
			for j := range b {
				b[j] = byte(' ' + r.Intn(95))
			}
			out[key] = string(b)
		}
	}
	return out
}

func TestRoundTripProperty(t *testing.T) {
	ids, recipient := newIdentities(t)
	r := rand.New(rand.NewSource(42))
	for i := 0; i < 25; i++ {
		tree := randomTree(r, 0)
		plain, err := yaml.Marshal(tree)
		require.NoError(t, err)
		enc, err := secrets.Encrypt(plain, recipient)
		require.NoError(t, err, "%s", plain)
		out, err := secrets.Decrypt(enc, ids)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, yaml.Unmarshal(out, &got))
		require.Equal(t, tree, got, "round trip %d", i)
	}
}

var kinds = []error{secrets.ErrMalformed, secrets.ErrWrongKey, secrets.ErrTampered}

func FuzzDecrypt(f *testing.F) {
	ids, recipient := newIdentities(f)
	enc, err := secrets.Encrypt([]byte("a: b\nn:\n    - 1\n    - x\n"), recipient)
	require.NoError(f, err)
	f.Add(enc)
	f.Add(bytes.Replace(enc, []byte("data:"), []byte("data:A"), 1))
	f.Add([]byte("a: b\n"))
	f.Add([]byte("sops: {}\n"))
	f.Add([]byte("sops:\n  mac: x\n  lastmodified: x\n"))
	f.Add([]byte("{"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := secrets.Decrypt(data, ids)
		if err == nil {
			// Only a file authenticated with our key decrypts.
			require.NotNil(t, out)
			return
		}
		n := 0
		for _, k := range kinds {
			if errors.Is(err, k) {
				n++
			}
		}
		require.Equal(t, 1, n, "error must be exactly one kind: %v", err)
	})
}

func FuzzKeyNames(f *testing.F) {
	f.Add([]byte("a: 1\nb:\n  c: [1, 2]\n  d: {}\n"))
	f.Add([]byte("- x\n- y: z\n"))
	f.Add([]byte("a: &x {b: 1}\nc: *x\n"))
	f.Add([]byte("---\na: 1\n---\nb: 2\n"))
	f.Add([]byte(":"))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, err := secrets.KeyNames(data)
		if err != nil {
			require.ErrorIs(t, err, secrets.ErrMalformed)
			return
		}
		for i := 1; i < len(names); i++ {
			require.Less(t, names[i-1], names[i], "sorted and unique")
		}
	})
}

func FuzzParseIdentities(f *testing.F) {
	id, err := age.GenerateX25519Identity()
	require.NoError(f, err)
	f.Add([]byte(id.String()))
	f.Add([]byte("# c\n\n" + id.String() + "\n"))
	f.Add([]byte("AGE-SECRET-KEY-1"))
	f.Add([]byte("age1abc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := secrets.ParseIdentities(bytes.NewReader(data))
		if err != nil {
			require.ErrorIs(t, err, secrets.ErrBadIdentity)
			// Never echo key material back.
			for _, line := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(line, "AGE-SECRET-KEY-") && len(line) > 20 {
					require.NotContains(t, err.Error(), line)
				}
			}
			return
		}
		require.NotEmpty(t, ids.Recipients())
	})
}

func TestKeyNamesTable(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"a: 1\n", []string{"a"}},
		{"a:\n  b: 1\n  c: x\n", []string{"a.b", "a.c"}},
		{"a: []\nb: {}\n", []string{"a", "b"}},
		{"l:\n  - x\n  - k: v\n", []string{"l[0]", "l[1].k"}},
		{"", []string{}},
		{"---\na: 1\n---\na: 2\nb: 3\n", []string{"a", "b"}},
	}
	for _, c := range cases {
		got, err := secrets.KeyNames([]byte(c.in))
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	_, err := secrets.KeyNames([]byte("a: [\n"))
	require.ErrorIs(t, err, secrets.ErrMalformed)
}

func TestEnvFile(t *testing.T) {
	assert.Equal(t, filepath.Join("charts", "soccer-predict", "secrets", "staging.enc.yaml"),
		secrets.EnvFile(filepath.Join("charts", "soccer-predict", "secrets"), "staging"))
}
