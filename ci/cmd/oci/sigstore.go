package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// sigstoreFlags select Sigstore bundles (cosign v3's format) for attach and verify: the trust
// policy (the module passes the one committed at attest.SigstorePolicyPath), the private
// Sigstore's trusted root it names, and for keyless signing the job's OIDC token, read from a
// mounted file, never an argument.
type sigstoreFlags struct {
	policy, trustedRoot, idToken *string
}

func addSigstoreFlags(fs *flag.FlagSet, signing bool) sigstoreFlags {
	f := sigstoreFlags{
		policy:      fs.String("sigstore-policy", "", "Sigstore trust policy (JSON, "+attest.SigstorePolicyPath+"): attach signs, and verify counts, Sigstore bundles as cosign v3 writes them"),
		trustedRoot: fs.String("trusted-root", "", "trusted_root.json of the private Sigstore the policy names (keyless); without it the public good's, through Sigstore's TUF repository"),
	}
	if signing {
		f.idToken = fs.String("id-token-file", "", "file holding the CI job's OIDC token for keyless signing (GitLab: id_tokens SIGSTORE_ID_TOKEN, aud sigstore)")
	}
	return f
}

func (f sigstoreFlags) enabled() bool { return *f.policy != "" }

// load reads the policy and the trusted root it names.
func (f sigstoreFlags) load() (attest.SigstorePolicy, []byte, error) {
	b, err := os.ReadFile(*f.policy)
	if err != nil {
		return attest.SigstorePolicy{}, nil, usageError{msg: fmt.Sprintf("cannot read the Sigstore policy: %v", err)}
	}
	p, err := attest.ParseSigstorePolicy(b)
	if err != nil {
		return attest.SigstorePolicy{}, nil, usageError{msg: err.Error()}
	}
	var root []byte
	switch {
	case p.Mode == attest.ModeKeyless && p.Keyless.TrustedRoot != "" && *f.trustedRoot == "":
		return p, nil, usageError{msg: fmt.Sprintf("the Sigstore policy names the trusted root %s: pass it with --trusted-root", p.Keyless.TrustedRoot)}
	case *f.trustedRoot != "" && (p.Mode != attest.ModeKeyless || p.Keyless.TrustedRoot == ""):
		return p, nil, usageError{msg: "--trusted-root is only for a keyless policy that names a private Sigstore's trusted root"}
	case *f.trustedRoot != "":
		if root, err = os.ReadFile(*f.trustedRoot); err != nil {
			return p, nil, usageError{msg: fmt.Sprintf("cannot read the trusted root: %v", err)}
		}
	}
	return p, root, nil
}

// bundleSigner is the signer attach uses under the policy: keyed with the signing key (which
// must be the private half of --public-key, as for DSSE), keyless with the job's token.
func (f sigstoreFlags) signer(p attest.SigstorePolicy, sf signFlags) (*sigstore.Signer, error) {
	switch p.Mode {
	case attest.ModeKeyed:
		if *f.idToken != "" {
			return nil, usageError{msg: "the Sigstore policy says keyed: pass --signing-key-file, not --id-token-file"}
		}
		if *sf.keyFile == "" || *sf.publicKey == "" {
			return nil, usageError{msg: "the Sigstore policy says keyed: pass --signing-key-file and the trusted --public-key"}
		}
		s, err := sf.signer()
		if err != nil {
			return nil, err
		}
		return sigstore.NewKeyedSigner(s.PrivateKey())
	case attest.ModeKeyless:
		if *sf.keyFile != "" {
			return nil, usageError{msg: "the Sigstore policy says keyless (GitLab's OIDC token, Fulcio, Rekor): pass --id-token-file, not --signing-key-file"}
		}
		if *f.idToken == "" {
			return nil, usageError{msg: "the Sigstore policy says keyless: pass the job's OIDC token with --id-token-file (GitLab: id_tokens SIGSTORE_ID_TOKEN with aud sigstore)"}
		}
		tok, err := os.ReadFile(*f.idToken)
		if err != nil {
			return nil, usageError{msg: fmt.Sprintf("cannot read the OIDC token file: %v", err)}
		}
		token := strings.TrimSpace(string(tok))
		if token == "" {
			return nil, usageError{msg: "the OIDC token file is empty: give the publish job `id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`"}
		}
		// What Fulcio would refuse is refused here, before anything is signed or pushed.
		if err := attest.CheckIDToken(tok, p.Keyless, time.Now()); err != nil {
			return nil, usageError{msg: err.Error()}
		}
		s, err := sigstore.KeylessSignerFor(p, token)
		if err != nil {
			return nil, usageError{msg: err.Error()}
		}
		return s, nil
	}
	return nil, errors.New("unreachable: a parsed policy has a mode")
}

// verifier is the bundle verifier of the policy (keyed: --public-key).
func (f sigstoreFlags) verifier(p attest.SigstorePolicy, root []byte, publicKey string) (*sigstore.Verifier, error) {
	var pub []byte
	if p.Mode == attest.ModeKeyed {
		if publicKey == "" {
			return nil, usageError{msg: "the Sigstore policy says keyed: pass the trusted --public-key"}
		}
		var err error
		if pub, err = os.ReadFile(publicKey); err != nil {
			return nil, usageError{msg: fmt.Sprintf("cannot read the public key: %v", err)}
		}
	} else if publicKey != "" {
		return nil, usageError{msg: "the Sigstore policy says keyless: --public-key is not trusted, drop it"}
	}
	v, err := sigstore.VerifierFor(p, pub, root)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// signBundles signs every document as a Sigstore bundle under the policy (attach).
func signBundles(ctx context.Context, f sigstoreFlags, sf signFlags, image string, docs []registry.Attachment) ([]registry.Attachment, error) {
	p, _, err := f.load()
	if err != nil {
		return nil, err
	}
	s, err := f.signer(p, sf)
	if err != nil {
		return nil, err
	}
	out, err := sigstore.SignAll(ctx, s, image, docs)
	if err != nil {
		return nil, err
	}
	return out, nil
}
