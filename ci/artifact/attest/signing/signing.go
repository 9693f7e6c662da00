// Package signing signs in-toto statements in DSSE envelopes and checks them, with
// go-securesystemslib's dsse (the envelope, PAE and verification loop of the DSSE v1 spec) and
// ECDSA P-256 over SHA-256 (ASN.1 DER signatures, as cosign signs).
//
// Keys: the private key is PEM, PKCS#8 ("PRIVATE KEY", `openssl genpkey`), SEC 1 ("EC PRIVATE
// KEY", `openssl ecparam -genkey`) or cosign's encrypted format ("ENCRYPTED SIGSTORE PRIVATE
// KEY" / "ENCRYPTED COSIGN PRIVATE KEY", `cosign generate-key-pair`: scrypt + NaCl secretbox,
// decrypted with go-securesystemslib's encrypted package and the key's password). The public
// key is a PKIX "PUBLIC KEY" PEM (ci/artifact/attest.ParsePublicKey).
//
// Only the tools (ci/cmd/oci) import this package: go-securesystemslib and
// golang.org/x/crypto stay out of the Dagger module, which reaches it through the
// ci/artifact/attest.EnvelopeVerifier interface and the tool's command line.
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

// PEM block types of cosign's encrypted private keys (current and older releases).
const (
	pemCosignEncrypted  = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemCosignEncrypted1 = "ENCRYPTED COSIGN PRIVATE KEY"
)

// Signer signs statements with one ECDSA P-256 private key.
type Signer struct {
	key   *ecdsa.PrivateKey
	keyID string
}

// LoadSigner reads a private key (see the package doc). password is used only for cosign's
// encrypted format (it may be empty: `cosign generate-key-pair` accepts an empty password).
// Errors never quote the key.
func LoadSigner(data, password []byte) (*Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("the signing key is not PEM: pass the private key file (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` or cosign.key from `cosign generate-key-pair`)")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case pemCosignEncrypted, pemCosignEncrypted1:
		der, derr := encrypted.Decrypt(block.Bytes, password)
		if derr != nil {
			return nil, fmt.Errorf("cannot decrypt the cosign signing key: wrong password? pass it with --signing-key-password=env:COSIGN_PASSWORD (%v)", derr)
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the signing key is a PKCS#8 key encrypted by openssl, which is not supported: write it unencrypted (`openssl pkey -in key.pem -out attestation.key`) and keep it in a secret variable, or use cosign's format")
	default:
		return nil, fmt.Errorf("the signing key is a PEM %q block, not a private key: pass the private half of the key pair", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("the signing key cannot be read: %v", err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("the signing key is not an ECDSA P-256 key: create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` or `cosign generate-key-pair`")
	}
	id, err := attest.KeyID(&ec.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{key: ec, keyID: id}, nil
}

// SignerFromKey is a Signer of an ECDSA P-256 key already in memory.
func SignerFromKey(key *ecdsa.PrivateKey) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("the signing key is not an ECDSA P-256 key")
	}
	id, err := attest.KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, keyID: id}, nil
}

// PrivateKey is the signer's key, for the Sigstore signer (ci/artifact/attest/sigstore).
func (s *Signer) PrivateKey() *ecdsa.PrivateKey { return s.key }

// Public is the signer's public key.
func (s *Signer) Public() *ecdsa.PublicKey { return &s.key.PublicKey }

// KeyID identifies the signer's public key (ci/artifact/attest.KeyID).
func (s *Signer) KeyID() string { return s.keyID }

// dsseSigner adapts the key to dsse.Signer: it signs SHA-256(PAE) with ECDSA, ASN.1 DER.
type dsseSigner struct{ s *Signer }

func (d dsseSigner) Sign(_ context.Context, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, d.s.key, h[:])
}

func (d dsseSigner) KeyID() (string, error) { return d.s.keyID, nil }

// SignStatement signs an in-toto statement: a DSSE envelope (JSON) with payloadType
// application/vnd.in-toto+json and one signature whose keyid is the signer's KeyID.
func (s *Signer) SignStatement(statement []byte) ([]byte, error) {
	es, err := dsse.NewEnvelopeSigner(dsseSigner{s})
	if err != nil {
		return nil, err
	}
	env, err := es.SignPayload(context.Background(), attest.PayloadTypeInToto, statement)
	if err != nil {
		return nil, fmt.Errorf("sign the statement: %w", err)
	}
	return json.Marshal(env)
}

// Verifier checks envelopes against one trusted public key; it implements
// ci/artifact/attest.EnvelopeVerifier.
type Verifier struct {
	pub   *ecdsa.PublicKey
	keyID string
}

// LoadVerifier reads the trusted public key (ci/artifact/attest.ParsePublicKey).
func LoadVerifier(publicKeyPEM []byte) (*Verifier, error) {
	pub, err := attest.ParsePublicKey(publicKeyPEM)
	if err != nil {
		return nil, err
	}
	id, err := attest.KeyID(pub)
	if err != nil {
		return nil, err
	}
	return &Verifier{pub: pub, keyID: id}, nil
}

// KeyID identifies the trusted key.
func (v *Verifier) KeyID() string { return v.keyID }

// Matches reports whether s holds the private half of the trusted key.
func (v *Verifier) Matches(s *Signer) bool { return s.Public().Equal(v.pub) }

// dsseVerifier adapts the key to dsse.Verifier.
type dsseVerifier struct{ v *Verifier }

func (d dsseVerifier) Verify(_ context.Context, data, sig []byte) error {
	h := sha256.Sum256(data)
	if !ecdsa.VerifyASN1(d.v.pub, h[:], sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

func (d dsseVerifier) KeyID() (string, error)   { return d.v.keyID, nil }
func (d dsseVerifier) Public() crypto.PublicKey { return d.v.pub }

// VerifyEnvelope checks that the envelope carries a signature by the trusted key over
// PAE(payloadType, payload) and returns both. An envelope without signatures, signed by
// another key, or whose payload or payloadType changed after signing is refused.
func (v *Verifier) VerifyEnvelope(data []byte) (string, []byte, error) {
	var env dsse.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return "", nil, fmt.Errorf("not a DSSE envelope: %v", err)
	}
	if env.PayloadType == "" || env.Payload == "" {
		return "", nil, errors.New("not a DSSE envelope: no payloadType or payload")
	}
	if len(env.Signatures) == 0 {
		return "", nil, errors.New("the envelope is not signed")
	}
	ev, err := dsse.NewEnvelopeVerifier(dsseVerifier{v})
	if err != nil {
		return "", nil, err
	}
	_, payload, err := ev.VerifyAndDecode(context.Background(), &env)
	if err != nil {
		ids := make([]string, 0, len(env.Signatures))
		for _, s := range env.Signatures {
			ids = append(ids, orNone(s.KeyID))
		}
		return "", nil, fmt.Errorf("no signature by the trusted key %s verifies (signed by %s): signed by another key, or the payload changed after signing", v.keyID, strings.Join(ids, ", "))
	}
	return env.PayloadType, payload, nil
}

func orNone(s string) string {
	if s == "" {
		return "a key without keyid"
	}
	return s
}
