package helm

import (
	"fmt"
	"path"
)

// SecretsPlaceholder is what Release.SecretsFile should be when helm runs
// under sops-decrypt exec-file, which replaces it with the decrypted file.
const SecretsPlaceholder = "{}"

// EncryptedSecretsFile returns the SOPS file of env inside the chart
// directory: <chart>/secrets/<env>.enc.yaml.
func EncryptedSecretsFile(chart string, env Env) string {
	return path.Join(chart, "secrets", string(env)+".enc.yaml")
}

// WithDecryptedSecrets wraps a helm argv so that it runs under
//
//	<sopsDecrypt> exec-file --identity <identity> --file <encrypted> [--tmpdir <tmpdir>] -- <argv...>
//
// which decrypts the file to a 0600 temporary file, substitutes "{}" in argv
// with its path, runs helm and deletes the file. argv must contain "{}"
// (build it with Release.SecretsFile = SecretsPlaceholder). tmpdir may be
// empty (sops-decrypt then uses /dev/shm when it exists).
func WithDecryptedSecrets(sopsDecrypt, identity, encrypted, tmpdir string, argv []string) ([]string, error) {
	if sopsDecrypt == "" {
		return nil, fmt.Errorf("no sops-decrypt binary path: build ci/secrets/cmd/sops-decrypt and pass its path")
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
	out := []string{sopsDecrypt, "exec-file", "--identity", identity, "--file", encrypted}
	if tmpdir != "" {
		out = append(out, "--tmpdir", tmpdir)
	}
	out = append(out, "--")
	return append(out, argv...), nil
}
