package sigstore

import (
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

// VerifierFor is the verifier of the committed policy p (attest.TrustedSigstorePolicy):
//
//   - keyed: the public key publicKeyPEM (attest.PublicKeyPath);
//   - keyless: identity and issuer of p, under trustedRoot (the committed trusted_root.json of
//     a private Sigstore, attest.TrustedRootFile) or, when nil, the public good's trusted root
//     fetched and checked through Sigstore's TUF repository (sigstore-go's embedded TUF root),
//     as cosign does.
func VerifierFor(p attest.SigstorePolicy, publicKeyPEM, trustedRoot []byte) (*Verifier, error) {
	switch p.Mode {
	case attest.ModeKeyed:
		if len(publicKeyPEM) == 0 {
			return nil, fmt.Errorf("%s says keyed and no public key is committed at %s", attest.SigstorePolicyPath, attest.PublicKeyPath)
		}
		pub, err := attest.ParsePublicKey(publicKeyPEM)
		if err != nil {
			return nil, err
		}
		return NewKeyedVerifier(pub)
	case attest.ModeKeyless:
		var (
			tr  *root.TrustedRoot
			err error
		)
		if trustedRoot != nil {
			if tr, err = root.NewTrustedRootFromJSON(trustedRoot); err != nil {
				return nil, fmt.Errorf("the Sigstore trusted root of %s cannot be read: %v", attest.SigstorePolicyPath, err)
			}
		} else if tr, err = root.FetchTrustedRoot(); err != nil {
			return nil, fmt.Errorf("the public good Sigstore's trusted root, which %s trusts, cannot be fetched from its TUF repository (%s): %v. "+
				"The engine's network must reach it over HTTPS; a site that cannot commits its own Sigstore's trusted_root.json beside the policy and names it in \"trustedRoot\"",
				attest.SigstorePolicyPath, tuf.DefaultMirror, err)
		}
		sct := p.Keyless.RequireSCT == nil || *p.Keyless.RequireSCT
		return NewKeylessVerifier(tr, Identity{SAN: p.Keyless.Identity(), Issuer: p.Keyless.Issuer()}, sct)
	}
	return nil, errors.New("the Sigstore policy has no mode: parse it with attest.ParseSigstorePolicy")
}

// KeylessSignerFor signs keylessly with the instances of p for idToken (the job's
// SIGSTORE_ID_TOKEN).
func KeylessSignerFor(p attest.SigstorePolicy, idToken string) (*Signer, error) {
	if p.Mode != attest.ModeKeyless {
		return nil, fmt.Errorf("%s says %s: sign with the key (--signing-key)", attest.SigstorePolicyPath, p.Mode)
	}
	return NewKeylessSigner(Instance{FulcioURL: p.Keyless.FulcioURL, RekorURL: p.Keyless.RekorURL}, idToken)
}
