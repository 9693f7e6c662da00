package helm

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// SecretsPlaceholder is what Release.SecretsFile should be when helm runs
// under sops-decrypt exec-file, which replaces it with the decrypted file.
const SecretsPlaceholder = "{}"

// EncryptedSecretsFile returns the SOPS file of env inside the chart
// directory: <chart>/secrets/<env>.enc.yaml.
func EncryptedSecretsFile(chart string, env domain.Environment) string {
	return path.Join(chart, "secrets", string(env)+".enc.yaml")
}

// WithDecryptedSecrets wraps a helm argv so that it runs under
//
//	<sopsDecrypt> exec-file --identity <identity> [--refuse-identity <refuse>] --file <encrypted> [--tmpdir <tmpdir>] -- <argv...>
//
// which decrypts the file to a 0600 temporary file, substitutes "{}" in argv
// with its path, runs helm and deletes the file. argv must contain "{}"
// (build it with Release.SecretsFile = SecretsPlaceholder). refuse, when not
// empty, is an age key file that must not open the file (production: the
// repository's test key): sops-decrypt tries it on every encrypted data key
// and refuses before decrypting anything. tmpdir may be empty (sops-decrypt
// then uses /dev/shm when it exists).
func WithDecryptedSecrets(sopsDecrypt, identity, refuse, encrypted, tmpdir string, argv []string) ([]string, error) {
	if sopsDecrypt == "" {
		return nil, fmt.Errorf("no sops-decrypt binary path: build ci/deploy/secrets/cmd/sops-decrypt and pass its path")
	}
	if identity == "" {
		return nil, fmt.Errorf("no age identity path: mount the age key as a secret file and pass its path")
	}
	if encrypted == "" {
		return nil, fmt.Errorf("no encrypted secrets file: pass EncryptedSecretsFile(chart, env)")
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("no command to wrap: pass the argv from UpgradeArgs or TemplateArgs")
	}
	found := false
	for _, a := range argv {
		if a == SecretsPlaceholder {
			found = true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("the command has no %q argument: set Release.SecretsFile to helm.SecretsPlaceholder", SecretsPlaceholder)
	}
	out := []string{sopsDecrypt, "exec-file", "--identity", identity}
	if refuse != "" {
		out = append(out, "--refuse-identity", refuse)
	}
	out = append(out, "--file", encrypted)
	if tmpdir != "" {
		out = append(out, "--tmpdir", tmpdir)
	}
	out = append(out, "--")
	return append(out, argv...), nil
}

// RepositoryTestKeyPath is the TEST-ONLY age key committed with the repository. Anyone with the
// repository holds it, so production's secrets must never open with it: deploy hands it to
// sops-decrypt as --refuse-identity for production, which tries it on the file's encrypted data
// keys (CheckSecretsRecipients only reads the recipient labels, which anyone can edit).
const RepositoryTestKeyPath = "tests/testdata/keys/test-age.key"

// RepositoryTestRecipient is the age recipient (public key) of the TEST-ONLY key committed at
// RepositoryTestKeyPath. Anyone with the repository holds its private key, so
// production's secrets must never be encrypted to it.
const RepositoryTestRecipient = "age1yugsrl9yfgduykd6xwgn6lw90dtd0qzhl9p8t5e7d4zagdxvzdfqwh03h5"

// SopsRecipients returns the age recipients listed in the metadata of a SOPS-encrypted YAML file
// (sops.age[].recipient). It reads metadata only; nothing is decrypted.
func SopsRecipients(encrypted []byte) ([]string, error) {
	var doc struct {
		Sops *struct {
			Age []struct {
				Recipient string `yaml:"recipient"`
			} `yaml:"age"`
		} `yaml:"sops"`
	}
	if err := yaml.Unmarshal(encrypted, &doc); err != nil {
		return nil, fmt.Errorf("the secrets file is not YAML: re-encrypt it with sops --encrypt (see .sops.yaml)")
	}
	if doc.Sops == nil {
		return nil, fmt.Errorf("the secrets file has no sops metadata: it is not encrypted; encrypt it with sops --encrypt (see .sops.yaml)")
	}
	var out []string
	for _, a := range doc.Sops.Age {
		if r := strings.TrimSpace(a.Recipient); r != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// CheckSecretsRecipients refuses secrets that are not the environment's own, by their labels,
// before anything is built: a production file whose recipients include the repository's test key
// (RepositoryTestRecipient), or a file encrypted to no age recipient. dev and staging may use the
// test key. Labels can lie: the key itself is tried by sops-decrypt --refuse-identity
// (WithDecryptedSecrets), which production always runs.
func CheckSecretsRecipients(env domain.Environment, file string, encrypted []byte) error {
	recipients, err := SopsRecipients(encrypted)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was changed", file, err)
	}
	if len(recipients) == 0 {
		return fmt.Errorf("%s is encrypted to no age recipient: encrypt it to the environment's age key (.sops.yaml, then sops updatekeys %s); nothing was changed", file, file)
	}
	if env.IsProduction() && slices.Contains(recipients, RepositoryTestRecipient) {
		return fmt.Errorf("%s can be decrypted with the repository's TEST key (%s is among its recipients): production secrets must be encrypted only to production's own key; remove the test key from the production rule of .sops.yaml and run sops updatekeys %s (or re-encrypt it); nothing was changed", file, RepositoryTestRecipient, file)
	}
	return nil
}
