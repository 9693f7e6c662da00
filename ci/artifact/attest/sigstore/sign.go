// Package sigstore signs in-toto statements as Sigstore bundles and verifies them, with
// github.com/sigstore/sigstore-go (the library cosign v3 signs and verifies bundles with): the
// bundle (v0.3, a DSSE envelope of the statement), the certificate request to Fulcio, the
// entry in Rekor and the verification are sigstore-go's; nothing here writes a bundle or an
// envelope by hand.
//
// Two signing modes:
//
//   - keyed ([NewKeyedSigner]): the project's ECDSA P-256 key (the key files of
//     ci/artifact/attest/signing: PKCS#8, SEC 1, cosign's encrypted key); the bundle names the
//     key by a hint and carries no certificate and no transparency-log entry (air-gapped
//     installs). cosign verifies it with `--key <public key> --insecure-ignore-tlog`;
//   - keyless ([NewKeylessSigner]): an ephemeral key, a short-lived certificate from Fulcio for
//     the CI job's OIDC token (GitLab's `id_tokens` with audience sigstore), and an entry in
//     Rekor; the instances are the public-good ones unless the committed policy names a
//     private Sigstore (attest.SigstorePolicy).
//
// [Verifier] checks a bundle as `cosign verify-attestation` does: against the trusted public
// key, or against the trusted root (Fulcio CAs, Rekor and CT log keys) and the certificate
// identity and issuer of the committed policy, and that the statement is about the image digest.
//
// Only the tools (ci/cmd/oci) and tests import this package: sigstore-go stays out of the
// Dagger module (docs/architecture.md).
package sigstore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// Signer signs statements into Sigstore bundles.
type Signer struct {
	keypair sign.Keypair
	opts    sign.BundleOptions
	what    string
}

// keypair is sigstore-go's Keypair over one ECDSA P-256 private key: SHA-256, ASN.1 DER
// signatures (what cosign signs with), hint the base64 SHA-256 of the DER public key (as
// sigstore-go's and cosign's bundles carry it).
type keypair struct {
	key  *ecdsa.PrivateKey
	hint []byte
}

func newKeypair(key *ecdsa.PrivateKey) (*keypair, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("the signing key is not an ECDSA P-256 key")
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &keypair{key: key, hint: []byte(base64.StdEncoding.EncodeToString(sum[:]))}, nil
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keypair) GetHint() []byte                  { return k.hint }
func (k *keypair) GetKeyAlgorithm() string          { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey   { return &k.key.PublicKey }
func (k *keypair) GetPublicKeyPem() (string, error) { return publicKeyPEM(&k.key.PublicKey) }

func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, sum[:])
	return sig, sum[:], err
}

func publicKeyPEM(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// KeypairOf is sigstore-go's Keypair over an ECDSA P-256 private key (for NewSigner).
func KeypairOf(key *ecdsa.PrivateKey) (sign.Keypair, error) { return newKeypair(key) }

// NewKeyedSigner signs with the project's key: no certificate, no transparency log.
func NewKeyedSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	kp, err := newKeypair(key)
	if err != nil {
		return nil, err
	}
	id, err := attest.KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{keypair: kp, what: "key " + id}, nil
}

// Instance is the Sigstore a keyless signature is made with.
type Instance struct {
	// FulcioURL issues the signing certificate (public good: https://fulcio.sigstore.dev).
	FulcioURL string
	// RekorURL logs the signature (public good: https://rekor.sigstore.dev).
	RekorURL string
}

// NewKeylessSigner signs with an ephemeral key certified by inst's Fulcio for idToken (the
// job's OIDC token, audience sigstore) and logs the signature to inst's Rekor (API v1). The
// token is sent to Fulcio only; it never appears in the bundle or in an error.
func NewKeylessSigner(inst Instance, idToken string) (*Signer, error) {
	if inst.FulcioURL == "" || inst.RekorURL == "" {
		return nil, errors.New("keyless signing needs a Fulcio and a Rekor URL (attest.SigstorePolicy)")
	}
	if idToken == "" {
		return nil, errors.New("keyless signing needs the job's OIDC token: give the publish job `id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}` (docs/evidence.md \"Signing\")")
	}
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	return NewSigner(kp,
		sign.NewFulcio(&sign.FulcioOptions{BaseURL: inst.FulcioURL, Timeout: 30 * time.Second, Retries: 1}),
		&sign.CertificateProviderOptions{IDToken: idToken},
		[]sign.Transparency{sign.NewRekor(&sign.RekorOptions{BaseURL: inst.RekorURL, Timeout: 90 * time.Second, Retries: 1})},
		"Fulcio "+inst.FulcioURL+", Rekor "+inst.RekorURL), nil
}

// NewSigner signs with kp, a certificate from certs (nil: keyed) and entries in tlogs: the
// parts NewKeylessSigner assembles for the public instances, given explicitly (a private
// Sigstore reached otherwise, or sigstore-go's test CA and log in tests).
func NewSigner(kp sign.Keypair, certs sign.CertificateProvider, certOpts *sign.CertificateProviderOptions, tlogs []sign.Transparency, what string) *Signer {
	return &Signer{keypair: kp, opts: sign.BundleOptions{CertificateProvider: certs, CertificateProviderOptions: certOpts, TransparencyLogs: tlogs}, what: what}
}

// String says how the signer signs (for messages; never a secret).
func (s *Signer) String() string { return s.what }

// SignStatement signs an in-toto statement (JSON) and returns the Sigstore bundle (v0.3 JSON):
// a DSSE envelope with payloadType application/vnd.in-toto+json.
func (s *Signer) SignStatement(ctx context.Context, statement []byte) ([]byte, error) {
	opts := s.opts
	opts.Context = ctx
	b, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: attest.PayloadTypeInToto}, s.keypair, opts)
	if err != nil {
		return nil, fmt.Errorf("sign the statement (%s): %w", s.what, err)
	}
	return protojson.Marshal(b)
}

const cryptoSHA256 = crypto.SHA256

// SignAll turns the documents publish attaches to image (repo@sha256:…) into Sigstore bundles
// of their in-toto statements (attest.StatementFor), ready for registry.Attach: one referrer
// per document, in cosign's layout.
func SignAll(ctx context.Context, s *Signer, image string, docs []registry.Attachment) ([]registry.Attachment, error) {
	out := make([]registry.Attachment, 0, len(docs))
	for _, d := range docs {
		st, err := attest.StatementFor(image, d.ArtifactType, d.Data)
		if err != nil {
			return nil, err
		}
		b, err := s.SignStatement(ctx, st)
		if err != nil {
			return nil, err
		}
		out = append(out, registry.Attachment{ArtifactType: attest.TypeSigstoreBundle, Data: b, PredicateType: attest.PredicateTypeOf(d.ArtifactType), Created: time.Now()})
	}
	return out, nil
}
