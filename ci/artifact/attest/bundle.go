package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Sigstore bundles, the format cosign v3 writes and reads (`cosign attest --new-bundle-format`,
// `cosign verify-attestation`). Each document is an in-toto v1 Statement about the image digest
// (StatementFor), signed in a DSSE envelope inside a Sigstore bundle v0.3 (sigstore-go, in the
// tool-only package ci/artifact/attest/sigstore), attached as an OCI 1.1 referrer laid out as
// cosign's ociremote.WriteAttestationNewBundleFormat lays it out (cosign v3.1.3,
// pkg/oci/remote/write.go):
//
//   - manifest artifactType and config.artifactType: TypeSigstoreBundle; config: the OCI empty
//     descriptor ("{}");
//   - one layer, the bundle JSON, media type TypeSigstoreBundle;
//   - annotations: AnnotationCreated, AnnotationBundleContent = BundleContentDSSE and
//     AnnotationBundlePredicateType = the statement's predicateType (a hint for listing only:
//     verification reads the predicateType from the signed statement).
//
// cosign finds them with the referrers API (or the sha256-<hex> tag fallback) of the digest.
const (
	// TypeSigstoreBundle is a Sigstore bundle v0.3 in JSON (sigstore-go bundle.MediaTypeString("0.3")).
	TypeSigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// AnnotationCreated is the referrer's creation time (RFC 3339, UTC), as cosign writes it.
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationBundleContent says what the bundle holds (cosign: "dsse-envelope").
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	// AnnotationBundlePredicateType is the predicateType of the bundle's statement (cosign's
	// ociremote.BundlePredicateType).
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	// BundleContentDSSE is AnnotationBundleContent's value for an attestation.
	BundleContentDSSE = "dsse-envelope"

	// PredicateVuln is cosign's vulnerability-scan predicate type (`cosign attest --type vuln`,
	// attestation.CosignVulnProvenanceV01); the Trivy JSON report is its scanner.result.
	PredicateVuln = "https://cosign.sigstore.dev/attestation/vuln/v1"

	// SigstorePolicyPath is the committed trust policy of Sigstore bundles (who signs, and the
	// instance): compiled into the module and the tool like PublicKeyPath.
	SigstorePolicyPath = "ci/artifact/attest/trust/sigstore.json"
)

// PredicateTypeOf is the predicateType of the statement StatementFor writes for a document of
// artifactType ("" for a type publish does not attach).
func PredicateTypeOf(artifactType string) string { return predicateOf[artifactType] }

// BundleVerifier checks a Sigstore bundle against the trust policy (a public key, or a
// certificate identity and issuer under a trusted root); ci/artifact/attest/sigstore implements
// it with sigstore-go's verifier, the one cosign v3 uses.
type BundleVerifier interface {
	// VerifyBundle returns the in-toto statement of a bundle whose signature the policy trusts
	// and whose statement's subject includes digest (sha256:<hex>), else an error saying why.
	VerifyBundle(bundle []byte, digest string) (statement []byte, err error)
	// Policy names what the verifier trusts, for messages and evidence.json ("key sha256:…" or
	// "identity … issued by …").
	Policy() string
}

// vulnPredicate is cosign's CosignVulnPredicate (pkg/cosign/attestation): `cosign
// verify-attestation --type vuln` decodes the predicate into it, so every field is present and
// the times are RFC 3339.
type vulnPredicate struct {
	Invocation vulnInvocation `json:"invocation"`
	Scanner    vulnScanner    `json:"scanner"`
	Metadata   vulnMetadata   `json:"metadata"`
}

type vulnInvocation struct {
	Parameters any    `json:"parameters"`
	URI        string `json:"uri"`
	EventID    string `json:"event_id"`
	BuilderID  string `json:"builder.id"`
}

type vulnScanner struct {
	URI     string          `json:"uri"`
	Version string          `json:"version"`
	DB      vulnDB          `json:"db"`
	Result  json.RawMessage `json:"result"`
}

type vulnDB struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
}

type vulnMetadata struct {
	ScanStartedOn  time.Time `json:"scanStartedOn"`
	ScanFinishedOn time.Time `json:"scanFinishedOn"`
}

// trivyScanner is the scanner URI of the vuln predicate (a package URL of Trivy).
const trivyScanner = "pkg:github/aquasecurity/trivy"

// vulnOf wraps a Trivy JSON report (schema 2) into cosign's vuln predicate: scanner Trivy at
// the version the report names (Trivy.Version, when present), its vulnerability DB version
// (Trivy.VulnerabilityDB.UpdatedAt), the report's CreatedAt as the scan time, the report
// verbatim as scanner.result.
func vulnOf(report []byte) ([]byte, error) {
	var meta struct {
		CreatedAt time.Time `json:"CreatedAt"`
		Trivy     struct {
			Version         string `json:"Version"`
			VulnerabilityDB struct {
				UpdatedAt string `json:"UpdatedAt"`
			} `json:"VulnerabilityDB"`
		} `json:"Trivy"`
	}
	if err := json.Unmarshal(report, &meta); err != nil {
		return nil, fmt.Errorf("the Trivy report cannot be read: %v", err)
	}
	p := vulnPredicate{
		Scanner: vulnScanner{
			URI:     trivyScanner,
			Version: meta.Trivy.Version,
			DB:      vulnDB{URI: "ghcr.io/aquasecurity/trivy-db", Version: meta.Trivy.VulnerabilityDB.UpdatedAt},
			Result:  json.RawMessage(report),
		},
		Metadata: vulnMetadata{ScanStartedOn: meta.CreatedAt.UTC(), ScanFinishedOn: meta.CreatedAt.UTC()},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// reportOfVuln returns the Trivy report a vuln predicate carries (scanner.result).
func reportOfVuln(predicate []byte) ([]byte, error) {
	var p struct {
		Scanner struct {
			URI    string          `json:"uri"`
			Result json.RawMessage `json:"result"`
		} `json:"scanner"`
	}
	if err := json.Unmarshal(predicate, &p); err != nil {
		return nil, fmt.Errorf("the signed vulnerability scan is not cosign's vuln predicate: %v", err)
	}
	if p.Scanner.URI != trivyScanner {
		return nil, fmt.Errorf("the signed vulnerability scan was made by %q, not Trivy (%s)", p.Scanner.URI, trivyScanner)
	}
	if len(p.Scanner.Result) == 0 || bytes.Equal(bytes.TrimSpace(p.Scanner.Result), []byte("null")) {
		return nil, fmt.Errorf("the signed vulnerability scan has no scanner.result")
	}
	return []byte(p.Scanner.Result), nil
}
