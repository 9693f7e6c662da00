package attest

import (
	"embed"
	"path"
)

// trustDir is the trusted configuration compiled into the Dagger module: the directory of
// PublicKeyPath (its README always, attestation.pub once committed). Being part of the module's
// binary, it cannot be replaced by a constructor or function argument, unlike a directory the
// module reads at run time.
//
//go:embed trust
var trustDir embed.FS

// TrustedPublicKey returns the attestation public key committed at PublicKeyPath (PEM), and
// false when none is committed.
func TrustedPublicKey() ([]byte, bool) {
	b, err := trustDir.ReadFile(path.Join("trust", path.Base(PublicKeyPath)))
	if err != nil {
		return nil, false
	}
	return b, true
}
