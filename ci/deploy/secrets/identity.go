package secrets

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"

	"filippo.io/age"
	sopsage "github.com/getsops/sops/v3/age"
)

// Identities holds parsed age identities (private keys). Build it with
// ParseIdentities or LoadIdentityFile; the zero value holds no identity and
// every decryption with it fails with ErrBadIdentity.
type Identities struct {
	parsed     sopsage.ParsedIdentities
	recipients []string
}

// maxIdentityFileSize bounds how much of an identity file is read.
const maxIdentityFileSize = 1 << 20

// ParseIdentities reads age identities (lines starting with AGE-SECRET-KEY-1,
// "#" comments and blank lines allowed) from r. The error never includes the
// content that was read.
func ParseIdentities(r io.Reader) (*Identities, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no identity reader given: pass the age key file with --identity", ErrBadIdentity)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxIdentityFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading identities: %v", ErrBadIdentity, err)
	}
	if len(data) > maxIdentityFileSize {
		return nil, fmt.Errorf("%w: identity input is larger than %d bytes: pass an age key file (age-keygen output)", ErrBadIdentity, maxIdentityFileSize)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// age's parse errors never include key material.
		return nil, fmt.Errorf("%w: %v: pass a file made by age-keygen (one AGE-SECRET-KEY-1... line per identity)", ErrBadIdentity, err)
	}
	out := &Identities{parsed: sopsage.ParsedIdentities(ids)}
	seen := map[string]bool{}
	for _, id := range ids {
		var pub string
		switch v := id.(type) {
		case *age.X25519Identity:
			pub = v.Recipient().String()
		case *age.HybridIdentity:
			pub = v.Recipient().String()
		}
		if pub != "" && !seen[pub] {
			seen[pub] = true
			out.recipients = append(out.recipients, pub)
		}
	}
	sort.Strings(out.recipients)
	return out, nil
}

// LoadIdentityFile reads age identities from the file at path (for example a
// mounted secret such as /run/secrets/age.key).
func LoadIdentityFile(path string) (*Identities, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no identity file given: pass the age key file path with --identity", ErrBadIdentity)
	}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%w: identity file %s does not exist: mount the age key there or point --identity at it", ErrBadIdentity, path)
		}
		return nil, fmt.Errorf("%w: opening identity file %s: %v", ErrBadIdentity, path, err)
	}
	defer f.Close()
	ids, err := ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	return ids, nil
}

// Recipients returns the public keys (age1...) of the identities, sorted. They
// are safe to print.
func (i *Identities) Recipients() []string {
	if i == nil {
		return nil
	}
	return append([]string(nil), i.recipients...)
}

// usable reports whether i holds at least one identity. It guards the SOPS age
// key source, which would otherwise fall back to the process environment.
func (i *Identities) usable() bool {
	return i != nil && len(i.parsed) > 0
}
