package helm_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestEncryptedSecretsFile(t *testing.T) {
	assert.Equal(t, "/src/charts/soccer-predict/secrets/production.enc.yaml", helm.EncryptedSecretsFile("/src/charts/soccer-predict", domain.Production))
}

func TestWithDecryptedSecrets(t *testing.T) {
	r := testRelease()
	r.SecretsFile = helm.SecretsPlaceholder
	up, err := helm.UpgradeArgs(r)
	require.NoError(t, err)
	argv, err := helm.WithDecryptedSecrets("/usr/local/bin/sops-decrypt", "/run/secrets/age.key", "",
		helm.EncryptedSecretsFile(r.Chart, r.Env), "", up)
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/local/bin/sops-decrypt", "exec-file", "--identity", "/run/secrets/age.key",
		"--file", "/src/charts/soccer-predict/secrets/staging.enc.yaml", "--"}, argv[:7])
	assert.Equal(t, up, argv[7:])

	argv, err = helm.WithDecryptedSecrets("sops-decrypt", "k", "", "f", "/dev/shm", []string{"helm", "template", "-f", "{}"})
	require.NoError(t, err)
	assert.Equal(t, []string{"sops-decrypt", "exec-file", "--identity", "k", "--file", "f", "--tmpdir", "/dev/shm", "--", "helm", "template", "-f", "{}"}, argv)

	argv, err = helm.WithDecryptedSecrets("sops-decrypt", "k", "/run/refused/test-age.key", "f", "", []string{"helm", "template", "-f", "{}"})
	require.NoError(t, err)
	assert.Equal(t, []string{"sops-decrypt", "exec-file", "--identity", "k", "--refuse-identity", "/run/refused/test-age.key", "--file", "f", "--", "helm", "template", "-f", "{}"}, argv)

	for _, c := range []struct {
		bin, id, file string
		argv          []string
		want          string
	}{
		{"", "k", "f", []string{"helm", "{}"}, "sops-decrypt binary"},
		{"s", "", "f", []string{"helm", "{}"}, "age identity"},
		{"s", "k", "", []string{"helm", "{}"}, "encrypted secrets file"},
		{"s", "k", "f", nil, "no command"},
		{"s", "k", "f", []string{"helm", "-f", "/tmp/plain.yaml"}, "SecretsPlaceholder"},
	} {
		_, err := helm.WithDecryptedSecrets(c.bin, c.id, "", c.file, "", c.argv)
		assert.ErrorContains(t, err, c.want)
	}
}

func TestRepositoryTestRecipientIsTheCommittedTestKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", filepath.FromSlash(helm.RepositoryTestKeyPath)))
	require.NoError(t, err)
	// The age library (ci/deploy/secrets/shipped) checks that this comment is the key's public key.
	assert.Contains(t, string(data), "# public key: "+helm.RepositoryTestRecipient+"\n")
}

func TestCheckSecretsRecipientsOnTheShippedFiles(t *testing.T) {
	for _, env := range []domain.Environment{domain.Dev, domain.Staging, domain.Production} {
		file := helm.EncryptedSecretsFile(filepath.Join("..", "..", "..", "charts", "soccer-predict"), env)
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		require.NoError(t, helm.CheckSecretsRecipients(env, file, raw), "the shipped %s file is accepted", env)
		rs, err := helm.SopsRecipients(raw)
		require.NoError(t, err)
		require.NotEmpty(t, rs)
		if env == domain.Production {
			assert.NotContains(t, rs, helm.RepositoryTestRecipient)
		} else {
			assert.Equal(t, []string{helm.RepositoryTestRecipient}, rs, "dev and staging keep the test-key fixtures")
			// The same file as production's is refused.
			err := helm.CheckSecretsRecipients(domain.Production, "secrets/production.enc.yaml", raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "repository's TEST key")
			assert.Contains(t, err.Error(), "sops updatekeys secrets/production.enc.yaml")
		}
	}
}

func TestCheckSecretsRecipientsRefusals(t *testing.T) {
	other := "age1lhvshcqelzmnesmztg3vweuz5camjqx9evax0us4th72ltrd6pdq4z300k"
	file := func(recipients ...string) []byte {
		s := "secrets:\n    databaseUrl: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    age:\n"
		for _, r := range recipients {
			s += "        - recipient: " + r + "\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n"
		}
		return []byte(s + "    version: 3.9.0\n")
	}
	cases := map[string]struct {
		env  domain.Environment
		raw  []byte
		want string
	}{
		"test key among production's recipients": {domain.Production, file(other, helm.RepositoryTestRecipient), "repository's TEST key"},
		"test key alone for production":          {domain.Production, file(helm.RepositoryTestRecipient), "remove the test key from the production rule"},
		"no recipient":                           {domain.Staging, file(), "encrypted to no age recipient"},
		"plaintext":                              {domain.Dev, []byte("secrets:\n  databaseUrl: postgres://\n"), "not encrypted"},
		"not YAML":                               {domain.Production, []byte("a: [b"), "not YAML"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := helm.CheckSecretsRecipients(c.env, "f.enc.yaml", c.raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "nothing was changed")
		})
	}
	require.NoError(t, helm.CheckSecretsRecipients(domain.Production, "f", file(other)))
	require.NoError(t, helm.CheckSecretsRecipients(domain.Staging, "f", file(other, helm.RepositoryTestRecipient)))
}

func FuzzCheckSecretsRecipients(f *testing.F) {
	f.Add([]byte("sops:\n    age:\n        - recipient: " + helm.RepositoryTestRecipient + "\n"))
	f.Add([]byte("secrets: {a: b}\n"))
	f.Add([]byte("sops: [1, 2]\n"))
	f.Add([]byte("sops:\n    age: {recipient: x}\n"))
	f.Add([]byte("a: [b"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := helm.CheckSecretsRecipients(domain.Production, "f", raw)
		rs, perr := helm.SopsRecipients(raw)
		if perr == nil && slices.Contains(rs, helm.RepositoryTestRecipient) && err == nil {
			t.Fatalf("a production file encrypted to the test key was accepted: %q", raw)
		}
		if err != nil && !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("the refusal does not say nothing changed: %v", err)
		}
	})
}
