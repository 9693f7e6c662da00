// Package secrets decrypts (and, for fixtures and tests, encrypts) SOPS files
// that use age recipients, and runs a command against a short-lived plaintext
// copy of a decrypted file, the way `sops exec-file` does.
//
// The age identity always comes from an explicit reader or file path: this
// package never reads SOPS_AGE_KEY, SOPS_AGE_KEY_FILE or any other variable of
// the process environment. Errors never contain plaintext values or key
// material; each wraps one of the sentinel errors below so callers can tell a
// malformed file from a wrong key, a tampered file or a missing file.
//
// This package imports the SOPS library and must stay out of the Dagger module
// binary: only ci/deploy/secrets/cmd/sops-decrypt (built in a golang container) and tests
// import it.
package secrets

import "errors"

var (
	// ErrMalformed means the input is not YAML or carries no usable SOPS
	// metadata (it was never encrypted, or the "sops" block was damaged).
	ErrMalformed = errors.New("malformed SOPS file")
	// ErrWrongKey means none of the given age identities is a recipient of
	// the file.
	ErrWrongKey = errors.New("no matching age identity")
	// ErrTampered means the file decrypted with the right key but failed an
	// integrity check: a value's authentication tag or the file MAC did not
	// match (MAC mismatch).
	ErrTampered = errors.New("SOPS integrity check failed")
	// ErrMissingFile means the encrypted file for an environment does not
	// exist; the error lists the files that do.
	ErrMissingFile = errors.New("SOPS file not found")
	// ErrBadIdentity means the age identity file could not be read or holds
	// no usable identity.
	ErrBadIdentity = errors.New("unusable age identity")
	// ErrForbiddenKey means the file can be decrypted with an identity it must
	// never be encrypted to (production secrets the repository's committed
	// test key opens).
	ErrForbiddenKey = errors.New("SOPS file opens with a forbidden key")
)
