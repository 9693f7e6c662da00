package sigstore

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

// Verifier checks bundles against one trust policy; it implements attest.BundleVerifier.
type Verifier struct {
	verifier *verify.Verifier
	policy   []verify.PolicyOption
	what     string
}

// NewKeyedVerifier trusts bundles signed by pub (keyed mode): the options of `cosign
// verify-attestation --key pub --insecure-ignore-tlog` (sigstore-go WithKey, no observer
// timestamps).
func NewKeyedVerifier(pub *ecdsa.PublicKey) (*Verifier, error) {
	sv, err := signature.LoadECDSAVerifier(pub, cryptoSHA256)
	if err != nil {
		return nil, err
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, err
	}
	id, err := attest.KeyID(pub)
	if err != nil {
		return nil, err
	}
	return &Verifier{verifier: v, policy: []verify.PolicyOption{verify.WithKey()}, what: attest.KeyTrust(id)}, nil
}

// Identity is whom a keyless signature must come from: the certificate's subject alternative
// name and OIDC issuer, both compared exactly.
type Identity struct {
	// SAN is the certificate identity, for GitLab
	// https://<instance>/<project path>//.gitlab-ci.yml@refs/heads/<default branch>.
	SAN string
	// Issuer is the OIDC issuer, for GitLab the instance URL (https://gitlab.com).
	Issuer string
}

func (i Identity) String() string { return attest.IdentityTrust(i.SAN, i.Issuer) }

// NewKeylessVerifier trusts bundles whose certificate chains to a Fulcio CA of tm, names id,
// and whose signature is in a Rekor log of tm, integrated while the certificate was valid:
// the options `cosign verify-attestation --certificate-identity --certificate-oidc-issuer`
// uses (one tlog entry, integrated timestamps, and with requireSCT an embedded SCT of a CT log
// of tm).
func NewKeylessVerifier(tm root.TrustedMaterial, id Identity, requireSCT bool) (*Verifier, error) {
	if tm == nil {
		return nil, errors.New("keyless verification needs a trusted root")
	}
	if id.SAN == "" || id.Issuer == "" {
		return nil, errors.New("keyless verification needs the certificate identity and its issuer (attest.SigstorePolicy)")
	}
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}
	if requireSCT {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	v, err := verify.NewVerifier(tm, opts...)
	if err != nil {
		return nil, err
	}
	ci, err := verify.NewShortCertificateIdentity(id.Issuer, "", id.SAN, "")
	if err != nil {
		return nil, err
	}
	return &Verifier{verifier: v, policy: []verify.PolicyOption{verify.WithCertificateIdentity(ci)}, what: id.String()}, nil
}

// Policy names what the verifier trusts.
func (v *Verifier) Policy() string { return v.what }

// VerifyBundle checks a bundle (JSON) against the policy and that its in-toto statement's
// subject includes digest (sha256:<hex>); it returns the statement.
func (v *Verifier) VerifyBundle(data []byte, digest string) ([]byte, error) {
	algo, hexDigest, ok := strings.Cut(digest, ":")
	raw, err := hex.DecodeString(hexDigest)
	if !ok || algo != "sha256" || err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%q is not a sha256 digest", digest)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("not a Sigstore bundle: %v", err)
	}
	env, err := b.Envelope()
	if err != nil {
		return nil, fmt.Errorf("the bundle holds no DSSE envelope (not an attestation): %v", err)
	}
	if _, err := v.verifier.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest(algo, raw), v.policy...)); err != nil {
		return nil, fmt.Errorf("the bundle does not verify against %s: %v", v.what, err)
	}
	if env.PayloadType != attest.PayloadTypeInToto {
		return nil, fmt.Errorf("the bundle's payloadType is %q, not %q", env.PayloadType, attest.PayloadTypeInToto)
	}
	return env.RawEnvelope().DecodeB64Payload()
}
