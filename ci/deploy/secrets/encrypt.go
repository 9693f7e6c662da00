package secrets

import (
	"errors"
	"fmt"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
)

// UnencryptedSuffix is the key suffix SOPS leaves in clear text (the sops
// CLI default).
const UnencryptedSuffix = "_unencrypted"

// Encrypt encrypts plaintext YAML for the given age recipients (age1...
// public keys) and returns a SOPS YAML file in the format the sops CLI
// writes and reads. Every value is encrypted except keys ending in
// UnencryptedSuffix. It is meant for fixtures and tests; production files are
// edited with the sops CLI.
func Encrypt(plain []byte, recipients ...string) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("no age recipient given: pass the public key(s) listed in .sops.yaml")
	}
	var group sops.KeyGroup
	for _, r := range recipients {
		mk, err := sopsage.MasterKeyFromRecipient(r)
		if err != nil {
			return nil, fmt.Errorf("recipient %q is not an age public key (age1...): %v", r, err)
		}
		group = append(group, mk)
	}
	store := newStore()
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, fmt.Errorf("plaintext is not YAML: %v", err)
	}
	if len(branches) == 0 || len(branches[0]) == 0 {
		return nil, errors.New("plaintext holds no keys: write a YAML mapping")
	}
	if store.HasSopsTopLevelKey(branches[0]) {
		return nil, errors.New("plaintext already has a top-level \"sops\" key: it is already encrypted")
	}
	tree := sops.Tree{
		Branches: branches,
		Metadata: sops.Metadata{
			KeyGroups:         []sops.KeyGroup{group},
			UnencryptedSuffix: UnencryptedSuffix,
			Version:           SOPSVersion,
		},
	}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewLocalClient()})
	if len(errs) > 0 {
		return nil, fmt.Errorf("encrypting the data key: %v", errors.Join(errs...))
	}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		return nil, fmt.Errorf("encrypting values: %v", err)
	}
	tree.Metadata.LastModified = time.Now().UTC()
	tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("encrypting the MAC: %v", err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		return nil, fmt.Errorf("writing the encrypted YAML: %v", err)
	}
	return out, nil
}

// SOPSVersion is the version of the SOPS library (github.com/getsops/sops/v3
// in go.mod) this package is built against. Encrypt records it in the
// file's metadata like the sops CLI does; a test keeps it equal to go.mod.
const SOPSVersion = "3.13.3"
