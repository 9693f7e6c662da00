package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/signing"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// signFlags are attach's signing options. The key and its password are read from files (the
// module mounts them as secrets): never an argument or an environment variable.
type signFlags struct {
	keyFile, passwordFile, publicKey *string
}

func signingFlags(fs *flag.FlagSet) signFlags {
	return signFlags{
		keyFile:      fs.String("signing-key-file", "", "file holding the private key (PEM: PKCS#8, SEC 1, or cosign's encrypted key); each document is attached as a signed in-toto statement in a DSSE envelope"),
		passwordFile: fs.String("signing-password-file", "", "file holding the password of a cosign encrypted key"),
		publicKey:    fs.String("public-key", "", "trusted attestation public key (PEM): refuse to sign with a key that is not its private half"),
	}
}

// runCheckKey checks the signing credential before publish builds or pushes anything. Keyed: it
// loads the signing key and, with --public-key, checks that it is the trusted key's private half;
// it prints the key ID. Keyless (--id-token-file with the keyless --sigstore-policy): it checks
// that the job's OIDC token can earn a Fulcio certificate (attest.CheckIDToken); it prints "ok".
func runCheckKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci check-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := signingFlags(fs)
	sg := addSigstoreFlags(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sg.idToken != "" {
		return checkIDToken(sg, sf, stdout)
	}
	if *sf.keyFile == "" {
		return usageError{msg: "--signing-key-file (keyed) or --id-token-file with --sigstore-policy (keyless) is required"}
	}
	s, err := sf.signer()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, s.KeyID())
	return err
}

// checkIDToken builds the keyless signer attach would sign with (sigstoreFlags.signer: the policy's
// mode, the token file, attest.CheckIDToken), without signing anything.
func checkIDToken(sg sigstoreFlags, sf signFlags, stdout io.Writer) error {
	if !sg.enabled() {
		return usageError{msg: "--id-token-file needs --sigstore-policy"}
	}
	p, _, err := sg.load()
	if err != nil {
		return err
	}
	if _, err := sg.signer(p, sf); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}

// signer loads the signing key, or returns nil when none is given.
func (f signFlags) signer() (*signing.Signer, error) {
	if *f.keyFile == "" {
		if *f.passwordFile != "" || *f.publicKey != "" {
			return nil, usageError{msg: "--signing-password-file and --public-key need --signing-key-file"}
		}
		return nil, nil
	}
	key, err := os.ReadFile(*f.keyFile)
	if err != nil {
		return nil, usageError{msg: fmt.Sprintf("cannot read the signing key file: %v", err)}
	}
	var password []byte
	if *f.passwordFile != "" {
		if password, err = os.ReadFile(*f.passwordFile); err != nil {
			return nil, usageError{msg: fmt.Sprintf("cannot read the signing key's password file: %v", err)}
		}
		password = trimNewline(password)
	}
	s, err := signing.LoadSigner(key, password)
	if err != nil {
		return nil, usageError{msg: err.Error()}
	}
	if *f.publicKey != "" {
		v, err := loadVerifier(*f.publicKey)
		if err != nil {
			return nil, err
		}
		if !v.Matches(s) {
			return nil, usageError{msg: fmt.Sprintf("the signing key (%s) is not the private half of the trusted public key %s (%s): deploys would refuse what it signs; pass the key whose public half is committed there, or commit its public half (docs/evidence.md \"Signing\")", s.KeyID(), attest.PublicKeyPath, v.KeyID())}
		}
	}
	return s, nil
}

func loadVerifier(path string) (*signing.Verifier, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{msg: fmt.Sprintf("cannot read the public key: %v", err)}
	}
	v, err := signing.LoadVerifier(pem)
	if err != nil {
		return nil, usageError{msg: err.Error()}
	}
	return v, nil
}

// signAll replaces every document by a DSSE envelope of its in-toto statement about image.
func signAll(s *signing.Signer, image string, docs []registry.Attachment) ([]registry.Attachment, error) {
	out := make([]registry.Attachment, 0, len(docs))
	for _, d := range docs {
		st, err := attest.StatementFor(image, d.ArtifactType, d.Data)
		if err != nil {
			return nil, err
		}
		env, err := s.SignStatement(st)
		if err != nil {
			return nil, err
		}
		out = append(out, registry.Attachment{ArtifactType: attest.TypeDSSE, Data: env})
	}
	return out, nil
}

// trimNewline drops one trailing newline (a password file written by echo or a CI variable).
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
