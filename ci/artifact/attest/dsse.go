package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Signed attestations. publish wraps every document in an in-toto v1 Statement whose subject is
// the image digest, signs the statement in a DSSE envelope and attaches the envelope as the
// referrer (artifactType TypeDSSE). The envelope, its PAE and the signature scheme (ECDSA P-256
// over SHA-256, ASN.1 DER signatures, base64 in the envelope) are those of the DSSE v1 spec and
// of `cosign attest`; signing and checking signatures is ci/artifact/attest/signing's job (a tool-only
// package: go-securesystemslib stays out of the Dagger module). This file holds what the module
// and the tools share: the statements, the trust decision per environment and the public key.
const (
	// TypeDSSE is a DSSE envelope (the referrer's artifactType and its single layer's media type).
	TypeDSSE = "application/vnd.dsse.envelope.v1+json"
	// PayloadTypeInToto is the envelope payloadType of an in-toto statement.
	PayloadTypeInToto = "application/vnd.in-toto+json"

	// PredicateGateReport is the predicateType of a statement whose predicate is gate-report.json.
	PredicateGateReport = "https://gitlab.com/soccerpredictai/pipeline/attestation/gate-report/v1"
	// PredicateTrivy is the predicateType of the statements of earlier releases whose predicate
	// is Trivy's JSON report (schema 2), verbatim; still read (OpenStatement), no longer written:
	// the report is now the scanner.result of cosign's PredicateVuln.
	PredicateTrivy = "https://gitlab.com/soccerpredictai/pipeline/attestation/trivy-report/v2"
	// PredicateCycloneDX is the in-toto predicate type of a CycloneDX SBOM (as `cosign attest
	// --type cyclonedx` writes it).
	PredicateCycloneDX = "https://cyclonedx.org/bom"

	// PublicKeyPath is where the attestation public key is committed in the pipeline's own
	// repository: the trusted configuration, compiled into the module ([TrustedPublicKey]), so
	// no caller argument can choose whom to trust.
	PublicKeyPath = "ci/artifact/attest/trust/attestation.pub"
)

// predicateOf maps each artifact type to the predicateType of its statement.
var predicateOf = map[string]string{
	TypeGateReport: PredicateGateReport,
	TypeTrivy:      PredicateVuln,
	TypeSBOM:       PredicateCycloneDX,
	TypeInToto:     PredicateSLSAProvenance,
}

// artifactTypeOf is the artifact type a statement of predicateType carries ("" when unknown).
func artifactTypeOf(predicateType string) string {
	if predicateType == PredicateTrivy {
		return TypeTrivy
	}
	for typ, p := range predicateOf {
		if p == predicateType {
			return typ
		}
	}
	return ""
}

// Attachable lists every artifact type a referrer written by publish may have: the unsigned
// documents of Types, the signed envelopes of earlier releases and the Sigstore bundles.
func Attachable() []string { return append(Types(), TypeDSSE, TypeSigstoreBundle) }

// genericStatement is an in-toto v1 Statement with any predicate.
type genericStatement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// StatementFor wraps document (an artifact type of Types) into the in-toto v1 Statement that is
// signed for image (repo@sha256:…): subject the image digest, predicateType by artifact type,
// predicate the document. A provenance document already is a statement: it must be about the
// image, and is returned as is.
func StatementFor(image, artifactType string, document []byte) ([]byte, error) {
	ref, err := domain.ParsePinnedRef(image)
	if err != nil {
		return nil, err
	}
	pt, ok := predicateOf[artifactType]
	if !ok {
		return nil, fmt.Errorf("cannot sign a document of type %q: use one of %v", artifactType, Types())
	}
	if artifactType == TypeInToto {
		s, err := ParseStatement(document)
		if err != nil {
			return nil, err
		}
		if !s.Covers(ref.Digest) {
			return nil, fmt.Errorf("the provenance is about another image (its subject is not %s)", ref.Digest)
		}
		return document, nil
	}
	var probe any
	if err := json.Unmarshal(document, &probe); err != nil {
		return nil, fmt.Errorf("the %s is not valid JSON: %v", Describe(artifactType), err)
	}
	if _, ok := probe.(map[string]any); !ok {
		return nil, fmt.Errorf("the %s is not a JSON object", Describe(artifactType))
	}
	if artifactType == TypeTrivy {
		if document, err = vulnOf(document); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err = enc.Encode(genericStatement{
		Type:          StatementType,
		Subject:       []Subject{{Name: string(ref.Repository), Digest: map[string]string{"sha256": ref.Digest.Hex()}}},
		PredicateType: pt,
		Predicate:     json.RawMessage(document),
	})
	if err != nil {
		return nil, fmt.Errorf("statement of the %s: %w", Describe(artifactType), err)
	}
	return buf.Bytes(), nil
}

// OpenStatement reads a statement (the payload of an envelope) about digest (sha256:<hex>) and
// returns the artifact type and the document it carries: the predicate, or for a SLSA
// provenance the statement itself. A statement about another digest, of an unknown predicate
// type or not in-toto v1 is refused.
func OpenStatement(payload []byte, digest domain.Digest) (artifactType string, document []byte, err error) {
	var s genericStatement
	if err := json.Unmarshal(payload, &s); err != nil {
		return "", nil, fmt.Errorf("the signed payload is not an in-toto statement: %v", err)
	}
	if s.Type != StatementType {
		return "", nil, fmt.Errorf("the signed statement's _type is %q, not %q", s.Type, StatementType)
	}
	typ := artifactTypeOf(s.PredicateType)
	if typ == "" {
		return "", nil, fmt.Errorf("the signed statement's predicateType %q is none this pipeline attaches", s.PredicateType)
	}
	st := Statement{Subject: s.Subject}
	if !st.Covers(digest) {
		return typ, nil, fmt.Errorf("the signed %s is about another image (its subject is not %s)", Describe(typ), digest)
	}
	if typ == TypeInToto {
		return typ, payload, nil
	}
	if len(s.Predicate) == 0 || bytes.Equal(bytes.TrimSpace(s.Predicate), []byte("null")) {
		return typ, nil, fmt.Errorf("the signed %s statement has no predicate", Describe(typ))
	}
	if s.PredicateType == PredicateVuln {
		report, err := reportOfVuln(s.Predicate)
		return typ, report, err
	}
	return typ, []byte(s.Predicate), nil
}

// peekPredicate names the artifact type an unverified payload claims, for messages only.
func peekPredicate(payload []byte) string {
	var s struct {
		PredicateType string `json:"predicateType"`
	}
	if json.Unmarshal(payload, &s) != nil {
		return ""
	}
	return artifactTypeOf(s.PredicateType)
}

// Envelope is a DSSE envelope (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md).
type Envelope struct {
	PayloadType string              `json:"payloadType"`
	Payload     []byte              `json:"payload"` // base64 in JSON, as the spec says
	Signatures  []EnvelopeSignature `json:"signatures"`
}

// EnvelopeSignature is one signature of an envelope.
type EnvelopeSignature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// ParseEnvelope reads a DSSE envelope without checking any signature.
func ParseEnvelope(data []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return Envelope{}, fmt.Errorf("not a DSSE envelope: %v", err)
	}
	if e.PayloadType == "" || len(e.Payload) == 0 {
		return Envelope{}, errors.New("not a DSSE envelope: no payloadType or payload")
	}
	return e, nil
}

// EnvelopeVerifier checks the signature of a DSSE envelope against the trusted key
// (ci/artifact/attest/signing implements it with go-securesystemslib's dsse).
type EnvelopeVerifier interface {
	// VerifyEnvelope returns the payload type and payload of an envelope that carries a valid
	// signature by the trusted key over PAE(payloadType, payload), else an error.
	VerifyEnvelope(envelope []byte) (payloadType string, payload []byte, err error)
	// KeyID identifies the trusted key (see KeyID).
	KeyID() string
}

// candidates returns, by artifact type, the documents that may count for ev's digest, and, by
// artifact type ("" when unknown), why the others do not. With a bundle verifier only
// statements in bundles it verifies count; with an envelope verifier only statements in
// envelopes it verifies; without either (signatures not required) the unsigned documents and
// the statements of the envelopes and bundles count, their signatures unchecked.
func (ev Evidence) candidates(digest domain.Digest, r rule) (map[string][][]byte, map[string][]string) {
	docs := map[string][][]byte{}
	why := map[string][]string{}
	if !r.signed() {
		for typ, list := range ev.Documents {
			docs[typ] = append(docs[typ], list...)
		}
	} else {
		trusted := PublicKeyPath
		if r.bundle != nil {
			trusted = SigstorePolicyPath + ": " + r.bundle.Policy()
		} else {
			trusted += " (" + r.env.KeyID() + ")"
		}
		for typ, list := range ev.Documents {
			if len(list) == 0 {
				continue
			}
			if r.bundle != nil {
				why[typ] = appendUnique(why[typ], fmt.Sprintf("%d unsigned %s(s) of the earlier evidence format attached do not count: %s", len(list), Describe(typ), RepublishFix))
				continue
			}
			why[typ] = appendUnique(why[typ], fmt.Sprintf("%d unsigned %s(s) attached do not count: signatures are required and checked against %s", len(list), Describe(typ), trusted))
		}
	}
	open := func(payloadType string, payload []byte) {
		if payloadType != PayloadTypeInToto {
			why[""] = appendUnique(why[""], fmt.Sprintf("a signed envelope's payloadType is %q, not %q", payloadType, PayloadTypeInToto))
			return
		}
		typ, doc, err := OpenStatement(payload, digest)
		if err != nil {
			why[typ] = appendUnique(why[typ], err.Error())
			return
		}
		docs[typ] = append(docs[typ], doc)
	}
	for _, raw := range ev.Envelopes {
		if r.bundle != nil {
			typ := ""
			if e, perr := ParseEnvelope(raw); perr == nil {
				typ = peekPredicate(e.Payload)
			}
			why[typ] = appendUnique(why[typ], "a DSSE envelope of the earlier evidence format does not count: "+RepublishFix)
			continue
		}
		var (
			pt      string
			payload []byte
			err     error
		)
		if r.env != nil {
			pt, payload, err = r.env.VerifyEnvelope(raw)
		} else {
			var e Envelope
			e, err = ParseEnvelope(raw)
			pt, payload = e.PayloadType, e.Payload
		}
		if err != nil {
			typ := ""
			if e, perr := ParseEnvelope(raw); perr == nil {
				typ = peekPredicate(e.Payload)
			}
			why[typ] = appendUnique(why[typ], fmt.Sprintf("a signed envelope does not count: %v", err))
			continue
		}
		open(pt, payload)
	}
	for _, raw := range ev.Bundles {
		switch {
		case r.bundle != nil:
			payload, err := r.bundle.VerifyBundle(raw, string(digest))
			if err != nil {
				typ := ""
				if e, perr := bundleEnvelope(raw); perr == nil {
					typ = peekPredicate(e.Payload)
				}
				why[typ] = appendUnique(why[typ], fmt.Sprintf("a Sigstore bundle does not count: %v", err))
				continue
			}
			open(PayloadTypeInToto, payload)
		case r.env != nil:
			// Bundles are not what the key-only rule checks.
		default:
			e, err := bundleEnvelope(raw)
			if err != nil {
				why[""] = appendUnique(why[""], err.Error())
				continue
			}
			open(e.PayloadType, e.Payload)
		}
	}
	return docs, why
}

// bundleEnvelope reads the DSSE envelope of a Sigstore bundle without checking anything.
func bundleEnvelope(raw []byte) (Envelope, error) {
	var b struct {
		DSSE *Envelope `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.DSSE == nil || b.DSSE.PayloadType == "" {
		return Envelope{}, errors.New("a Sigstore bundle holds no DSSE envelope")
	}
	return *b.DSSE, nil
}

// ParsePublicKey reads the attestation public key: a PEM "PUBLIC KEY" block (PKIX, as
// `openssl pkey -pubout` and `cosign generate-key-pair` write it) holding an ECDSA P-256 key.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s is not PEM: write the public key with `openssl pkey -in attestation.key -pubout -out %s`", PublicKeyPath, PublicKeyPath)
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s holds a PEM %q block, not a \"PUBLIC KEY\": commit only the public half (`openssl pkey -in attestation.key -pubout`)", PublicKeyPath, block.Type)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s holds more than one PEM block: keep exactly one public key", PublicKeyPath)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", PublicKeyPath, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s is not an ECDSA P-256 key: create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` or `cosign generate-key-pair`", PublicKeyPath)
	}
	return ec, nil
}

// KeyID identifies a public key: "sha256:" and the hex SHA-256 of its DER SubjectPublicKeyInfo
// (`openssl pkey -pubin -in attestation.pub -outform DER | sha256sum`). Envelopes carry it as
// their signature's keyid.
func KeyID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// PublicKeyID parses a public key file and returns its KeyID.
func PublicKeyID(data []byte) (string, error) {
	pub, err := ParsePublicKey(data)
	if err != nil {
		return "", err
	}
	return KeyID(pub)
}
