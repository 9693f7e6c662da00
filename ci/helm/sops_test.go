package helm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/helm"
)

func TestEncryptedSecretsFile(t *testing.T) {
	assert.Equal(t, "/src/charts/soccer-predict/secrets/production.enc.yaml", helm.EncryptedSecretsFile("/src/charts/soccer-predict", helm.Production))
}

func TestWithDecryptedSecrets(t *testing.T) {
	r := testRelease()
	r.SecretsFile = helm.SecretsPlaceholder
	up, err := helm.UpgradeArgs(r)
	require.NoError(t, err)
	argv, err := helm.WithDecryptedSecrets("/usr/local/bin/sops-decrypt", "/run/secrets/age.key",
		helm.EncryptedSecretsFile(r.Chart, r.Env), "", up)
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/local/bin/sops-decrypt", "exec-file", "--identity", "/run/secrets/age.key",
		"--file", "/src/charts/soccer-predict/secrets/staging.enc.yaml", "--"}, argv[:7])
	assert.Equal(t, up, argv[7:])

	argv, err = helm.WithDecryptedSecrets("sops-decrypt", "k", "f", "/dev/shm", []string{"helm", "template", "-f", "{}"})
	require.NoError(t, err)
	assert.Equal(t, []string{"sops-decrypt", "exec-file", "--identity", "k", "--file", "f", "--tmpdir", "/dev/shm", "--", "helm", "template", "-f", "{}"}, argv)

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
		_, err := helm.WithDecryptedSecrets(c.bin, c.id, c.file, "", c.argv)
		assert.ErrorContains(t, err, c.want)
	}
}
