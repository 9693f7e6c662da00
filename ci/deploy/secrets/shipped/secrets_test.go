package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

var sentinels = []error{secrets.ErrMalformed, secrets.ErrWrongKey, secrets.ErrTampered, secrets.ErrMissingFile, secrets.ErrBadIdentity}

// requireKind asserts err wraps want and none of the other sentinels, and
// that it leaks no plaintext.
func requireKind(t *testing.T, err, want error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	for _, s := range sentinels {
		if s != want {
			assert.NotErrorIs(t, err, s)
		}
	}
	assert.NotContains(t, err.Error(), leakMarker, "errors must not carry plaintext")
}

func TestRoundTripWithFreshKeys(t *testing.T) {
	a, b := newKey(t), newKey(t)
	enc := encrypt(t, plaintext, a.recipient, b.recipient)

	assert.NotContains(t, string(enc), leakMarker, "every value is encrypted")
	assert.Contains(t, string(enc), "note_unencrypted: stays readable", "the _unencrypted suffix is honoured")
	assert.Contains(t, string(enc), "recipient: "+a.recipient)
	assert.Contains(t, string(enc), "recipient: "+b.recipient)

	for _, k := range []key{a, b} {
		plain, err := secrets.Decrypt(enc, k.ids)
		require.NoError(t, err)
		sameYAML(t, plaintext, string(plain))
	}

	// Through a file, as sops-decrypt reads it.
	path := filepath.Join(t.TempDir(), "dev.enc.yaml")
	require.NoError(t, os.WriteFile(path, enc, 0o600))
	ids, err := secrets.LoadIdentityFile(b.writeFile(t))
	require.NoError(t, err)
	assert.Equal(t, []string{b.recipient}, ids.Recipients())
	plain, err := secrets.DecryptFile(path, ids)
	require.NoError(t, err)
	sameYAML(t, plaintext, string(plain))

	// Encryption is randomised: same input, different ciphertext.
	assert.NotEqual(t, string(enc), string(encrypt(t, plaintext, a.recipient, b.recipient)))
}

func TestMalformedFiles(t *testing.T) {
	k := newKey(t)
	valid := string(encrypt(t, plaintext, k.recipient))
	cases := map[string]string{
		"not yaml":              "secrets: [unclosed\n  - x: : :",
		"plain yaml, no sops":   plaintext,
		"empty":                 "",
		"sops is not a mapping": "a: b\nsops: nope\n",
		"bad lastmodified":      regexp.MustCompile(`lastmodified: "[^"]+"`).ReplaceAllString(valid, `lastmodified: "yesterday"`),
		"binary":                "\x00\x01\x02\xff\xfe",
		"plaintext, broken":     "secrets:\n  token: LEAKCHECK-1\n  bad: [\n",
		"plaintext, tab indent": "secrets:\n\ttoken: LEAKCHECK-2\n",
		"plaintext, bad sops":   "token: LEAKCHECK-3\nsops:\n  lastmodified: LEAKCHECK-4\n  mac: LEAKCHECK-5\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := secrets.Decrypt([]byte(in), k.ids)
			requireKind(t, err, secrets.ErrMalformed)
		})
	}
	_, err := secrets.Decrypt([]byte(plaintext), k.ids)
	assert.Contains(t, err.Error(), "not encrypted", "the message says what is wrong")
}

func TestWrongKey(t *testing.T) {
	owner, stranger := newKey(t), newKey(t)
	enc := encrypt(t, plaintext, owner.recipient)
	_, err := secrets.Decrypt(enc, stranger.ids)
	requireKind(t, err, secrets.ErrWrongKey)
	assert.Contains(t, err.Error(), owner.recipient, "names the file's recipients")
	assert.Contains(t, err.Error(), stranger.recipient, "names the identity's public key")
	assert.Contains(t, err.Error(), ".sops.yaml", "names the fix")
}

func TestIdentityNeverComesFromTheEnvironment(t *testing.T) {
	owner, stranger := newKey(t), newKey(t)
	enc := encrypt(t, plaintext, owner.recipient)
	// The right key sits where the sops CLI would look for it...
	t.Setenv("SOPS_AGE_KEY", owner.id.String())
	t.Setenv("SOPS_AGE_KEY_FILE", owner.writeFile(t))
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	// ...but only the explicit identity counts.
	_, err := secrets.Decrypt(enc, stranger.ids)
	requireKind(t, err, secrets.ErrWrongKey)
	_, err = secrets.Decrypt(enc, nil)
	requireKind(t, err, secrets.ErrBadIdentity)
	_, err = secrets.Decrypt(enc, &secrets.Identities{})
	requireKind(t, err, secrets.ErrBadIdentity)
}

func TestTamperedFiles(t *testing.T) {
	k := newKey(t)
	enc := string(encrypt(t, plaintext, k.recipient))
	valueRE := regexp.MustCompile(`(mlflowTrackingToken: ENC\[AES256_GCM,data:)([A-Za-z0-9+/]{4})`)
	require.Regexp(t, valueRE, enc)

	// Edits go through yaml.Node so key order (part of the MAC) is kept.
	edit := func(f func(root *yaml.Node)) string {
		var n yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(enc), &n))
		f(n.Content[0])
		return encodeNode(t, &n)
	}
	dropKey := func() string {
		return edit(func(root *yaml.Node) {
			s := lookup(t, root, "secrets")
			s.Content = s.Content[2:] // drop the first key and its value
		})
	}
	swapValues := func() string {
		return edit(func(root *yaml.Node) {
			s := lookup(t, root, "secrets")
			s.Content[1], s.Content[3] = s.Content[3], s.Content[1]
		})
	}
	reorderKeys := func() string {
		return edit(func(root *yaml.Node) {
			s := lookup(t, root, "secrets")
			s.Content[0], s.Content[1], s.Content[2], s.Content[3] = s.Content[2], s.Content[3], s.Content[0], s.Content[1]
		})
	}
	editUnencrypted := func() string {
		return edit(func(root *yaml.Node) { lookup(t, root, "note_unencrypted").Value = "changed by hand" })
	}
	editMAC := func() string {
		return edit(func(root *yaml.Node) {
			m := lookup(t, lookup(t, root, "sops"), "mac")
			m.Value = strings.Replace(m.Value, "data:", "data:AAAA", 1)
		})
	}
	editLastModified := func() string {
		return edit(func(root *yaml.Node) {
			lookup(t, lookup(t, root, "sops"), "lastmodified").Value = "2001-01-01T00:00:00Z"
		})
	}

	cases := map[string]struct {
		in      string
		message string
	}{
		"ciphertext bytes changed": {valueRE.ReplaceAllString(enc, "${1}AAAA"), "failed authentication"},
		"value removed":            {dropKey(), "MAC mismatch"},
		"values swapped":           {swapValues(), "failed authentication"},
		"keys reordered":           {reorderKeys(), "MAC mismatch"},
		"unencrypted value edited": {editUnencrypted(), "MAC mismatch"},
		"mac edited":               {editMAC(), "MAC mismatch"},
		"lastmodified edited":      {editLastModified(), "MAC mismatch"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, enc, c.in)
			_, err := secrets.Decrypt([]byte(c.in), k.ids)
			requireKind(t, err, secrets.ErrTampered)
			assert.Contains(t, err.Error(), c.message)
		})
	}
	// The untouched file still decrypts: the failures above come from the edits.
	_, err := secrets.Decrypt([]byte(edit(func(*yaml.Node) {})), k.ids)
	require.NoError(t, err)
}

func lookup(t *testing.T, m *yaml.Node, key string) *yaml.Node {
	t.Helper()
	require.Equal(t, yaml.MappingNode, m.Kind)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	t.Fatalf("no key %q", key)
	return nil
}

func encodeNode(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(4)
	require.NoError(t, enc.Encode(n))
	require.NoError(t, enc.Close())
	return b.String()
}

func TestMissingEnvironmentFileListsTheOthers(t *testing.T) {
	k := newKey(t)
	dir := t.TempDir()
	for _, env := range []string{"dev", "staging"} {
		require.NoError(t, os.WriteFile(secrets.EnvFile(dir, env), encrypt(t, plaintext, k.recipient), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a secret file"), 0o600))

	_, err := secrets.DecryptFile(secrets.EnvFile(dir, "production"), k.ids)
	requireKind(t, err, secrets.ErrMissingFile)
	assert.Contains(t, err.Error(), "production.enc.yaml")
	assert.Contains(t, err.Error(), "dev.enc.yaml, staging.enc.yaml")
	assert.NotContains(t, err.Error(), "README.md")

	_, err = secrets.DecryptFile(secrets.EnvFile(t.TempDir(), "dev"), k.ids)
	requireKind(t, err, secrets.ErrMissingFile)
	assert.Contains(t, err.Error(), "holds no *.enc.yaml file")

	_, err = secrets.DecryptFile(filepath.Join(dir, "nope", "dev.enc.yaml"), k.ids)
	requireKind(t, err, secrets.ErrMissingFile)
}

func TestBadIdentityFiles(t *testing.T) {
	_, err := secrets.LoadIdentityFile(filepath.Join(t.TempDir(), "missing.key"))
	requireKind(t, err, secrets.ErrBadIdentity)
	assert.Contains(t, err.Error(), "does not exist")

	_, err = secrets.LoadIdentityFile("")
	requireKind(t, err, secrets.ErrBadIdentity)

	for name, content := range map[string]string{
		"empty":         "",
		"comments only": "# nothing here\n",
		"public key":    "age1yugsrl9yfgduykd6xwgn6lw90dtd0qzhl9p8t5e7d4zagdxvzdfqwh03h5\n",
		"truncated":     "AGE-SECRET-KEY-1LEAKCHECKQQQQ\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := secrets.ParseIdentities(strings.NewReader(content))
			requireKind(t, err, secrets.ErrBadIdentity)
		})
	}
}

func TestEncryptRejectsBadInput(t *testing.T) {
	k := newKey(t)
	for name, c := range map[string]struct {
		plain      string
		recipients []string
	}{
		"no recipient":      {plaintext, nil},
		"bad recipient":     {plaintext, []string{"age1notakey"}},
		"not yaml":          {"a: [", []string{k.recipient}},
		"already encrypted": {string(encrypt(t, plaintext, k.recipient)), []string{k.recipient}},
		"no keys":           {"", []string{k.recipient}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := secrets.Encrypt([]byte(c.plain), c.recipients...)
			require.Error(t, err)
		})
	}
}

func TestErrorKindsAreDistinct(t *testing.T) {
	for i, a := range sentinels {
		for j, b := range sentinels {
			if i != j {
				assert.False(t, errors.Is(a, b), "%v vs %v", a, b)
				assert.NotEqual(t, a.Error(), b.Error())
			}
		}
	}
}

func TestKeyNamesNeverValues(t *testing.T) {
	names, err := secrets.KeyNames([]byte(plaintext))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"note_unencrypted",
		"secrets.celeryBrokerUrl", "secrets.databaseUrl", "secrets.enabled",
		"secrets.hosts[0]", "secrets.hosts[1]", "secrets.mlflowTrackingToken", "secrets.port",
	}, names)
	assert.NotContains(t, strings.Join(names, "\n"), leakMarker)
}
