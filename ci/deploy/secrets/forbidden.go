package secrets

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getsops/sops/v3"
	sopsage "github.com/getsops/sops/v3/age"
)

// CheckNotOpenableBy fails with ErrForbiddenKey when forbidden opens the file: it tries the
// identity on every age stanza of the file's key groups (the encrypted data key itself, not the
// recipient label beside it, which anyone can edit). A stanza for another recipient simply does
// not open; a file that cannot be parsed fails as DecryptFile would. Nothing is decrypted but
// the data key, which is dropped.
func CheckNotOpenableBy(data []byte, forbidden *Identities) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the SOPS library could not parse it: check that the file was written by sops", ErrMalformed)
		}
	}()
	if !forbidden.usable() {
		return fmt.Errorf("%w: no forbidden identity loaded: pass an age key file", ErrBadIdentity)
	}
	tree, err := newStore().LoadEncryptedFile(data)
	if err != nil {
		if errors.Is(err, sops.MetadataNotFound) {
			return fmt.Errorf("%w: no \"sops\" metadata block: the file is not encrypted; encrypt it with `sops --encrypt --in-place` (rules in .sops.yaml)", ErrMalformed)
		}
		return fmt.Errorf("%w: %s: restore the file from git or re-encrypt it with sops", ErrMalformed, describeLoadError(err))
	}
	var opened []string
	for _, group := range tree.Metadata.KeyGroups {
		for _, k := range group {
			ak, ok := k.(*sopsage.MasterKey)
			if !ok {
				continue
			}
			// A fresh key per try: the label (ak.Recipient) is only reported, never trusted.
			mk := &sopsage.MasterKey{Recipient: ak.Recipient, EncryptedKey: ak.EncryptedKey}
			forbidden.parsed.ApplyToMasterKey(mk)
			// Any failure (no match, a damaged stanza) means this key does not open it; the
			// real decryption judges damage.
			if _, derr := mk.Decrypt(); derr == nil {
				opened = append(opened, ak.Recipient)
			}
		}
	}
	if len(opened) == 0 {
		return nil
	}
	sort.Strings(opened)
	return fmt.Errorf("%w: the key %s opens an age stanza of this file (labelled %s)", ErrForbiddenKey, strings.Join(forbidden.Recipients(), ", "), strings.Join(opened, ", "))
}
