// Package sigstoretest is a Sigstore for tests: sigstore-go's VirtualSigstore (pkg/testing/ca:
// a Fulcio root and intermediate, a Rekor log key, a CT log key, generated in memory) seen
// through the interfaces sigstore-go signs with, so ci/artifact/attest/sigstore's keyless path
// runs end to end: the certificate is one the test CA issued for the identity and issuer asked
// for, the Rekor entry is one the test log signed (a DSSE entry with its signed entry
// timestamp), and the trusted root handed to verifiers, and to cosign as --trusted-root, holds
// exactly those keys. Only tests import it.
package sigstoretest

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	dsseentry "github.com/sigstore/rekor/pkg/types/dsse"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	sigtlog "github.com/sigstore/sigstore-go/pkg/tlog"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Sigstore is one virtual Sigstore instance.
type Sigstore struct {
	vs *ca.VirtualSigstore
}

// New starts a virtual Sigstore.
func New() (*Sigstore, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	return &Sigstore{vs: vs}, nil
}

// TrustedRoot is the instance's trusted root (Fulcio CA, Rekor log, CT log, TSA), read back
// from TrustedRootJSON: verifiers in tests trust exactly what cosign is given.
func (s *Sigstore) TrustedRoot() (*root.TrustedRoot, error) {
	b, err := s.TrustedRootJSON()
	if err != nil {
		return nil, err
	}
	return root.NewTrustedRootFromJSON(b)
}

// TrustedRootJSON is the instance's trusted root as trusted_root.json (what cosign
// --trusted-root reads). VirtualSigstore names its logs by the hex of their key ID and keeps
// that text as the ID; a trusted_root.json carries the raw key ID (logId.keyId), so the IDs are
// decoded here, else no verifier reading the file would find the log of an entry.
func (s *Sigstore) TrustedRootJSON() ([]byte, error) {
	rekor, err := rawIDs(s.vs.RekorLogs())
	if err != nil {
		return nil, err
	}
	ct, err := rawIDs(s.vs.CTLogs())
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.vs.FulcioCertificateAuthorities(), ct, s.vs.TimestampingAuthorities(), rekor)
	if err != nil {
		return nil, err
	}
	return tr.MarshalJSON()
}

func rawIDs(logs map[string]*root.TransparencyLog) (map[string]*root.TransparencyLog, error) {
	out := map[string]*root.TransparencyLog{}
	for id, l := range logs {
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, fmt.Errorf("log ID %q is not hex: %v", id, err)
		}
		c := *l
		c.ID = raw
		out[id] = &c
	}
	return out, nil
}

// Signer is a keyless signer whose certificate the instance's Fulcio CA issues for identity
// (the certificate's SAN) and issuer (the OIDC issuer extension), and whose signature the
// instance's Rekor logs.
func (s *Sigstore) Signer(identity, issuer string) (*sigstore.Signer, error) {
	cert, priv, err := s.vs.GenerateLeafCert(identity, issuer)
	if err != nil {
		return nil, err
	}
	key, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the test CA generated a %T key", priv)
	}
	kp, err := sigstore.KeypairOf(key)
	if err != nil {
		return nil, err
	}
	return sigstore.NewSigner(kp, certificate{cert}, &sign.CertificateProviderOptions{IDToken: "test"}, []sign.Transparency{tlog{s.vs, cert}}, "test Sigstore for "+identity), nil
}

// certificate answers as Fulcio does: the certificate of the key it is asked about.
type certificate struct{ cert *x509.Certificate }

func (c certificate) GetCertificate(_ context.Context, kp sign.Keypair, _ *sign.CertificateProviderOptions) ([]byte, error) {
	pub, ok := c.cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(kp.GetPublicKey()) {
		return nil, errors.New("the test Fulcio certifies another key")
	}
	return c.cert.Raw, nil
}

// The Rekor entry kind GenerateTlogEntry writes (rekor's dsse type at its default version).
var (
	dsseKind    = dsseentry.KIND
	dsseVersion = dsseentry.New().DefaultVersion()
)

// tlog answers as Rekor v1 does for a DSSE entry: the entry the test log signed, with its
// signed entry timestamp, integrated a minute after the certificate was issued (while it is
// valid).
type tlog struct {
	vs   *ca.VirtualSigstore
	cert *x509.Certificate
}

func (l tlog) GetTransparencyLogEntry(_ context.Context, _ []byte, b *protobundle.Bundle) error {
	pe := b.GetDsseEnvelope()
	if pe == nil || len(pe.Signatures) != 1 {
		return errors.New("the test Rekor logs DSSE envelopes with one signature")
	}
	env := &dsse.Envelope{
		PayloadType: pe.PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(pe.Payload),
		Signatures:  []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(pe.Signatures[0].Sig)}},
	}
	integrated := l.cert.NotBefore.Add(time.Minute).Unix()
	entry, err := l.vs.GenerateTlogEntry(l.cert, env, pe.Signatures[0].Sig, integrated, true)
	if err != nil {
		return err
	}
	// GenerateTlogEntry keeps the kind and the signed entry timestamp out of the protobuf
	// entry (it builds it for its own TestEntity): put them where Rekor's answer puts them.
	tle := entry.TransparencyLogEntry()
	logID, err := l.vs.RekorLogID()
	if err != nil {
		return err
	}
	set, err := l.vs.RekorSignPayload(sigtlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody), IntegratedTime: integrated, LogIndex: tle.LogIndex, LogID: logID})
	if err != nil {
		return err
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: dsseKind, Version: dsseVersion}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	if _, err := sigtlog.ParseTransparencyLogEntry(tle); err != nil {
		return fmt.Errorf("the test Rekor's entry: %w", err)
	}
	b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, tle)
	return nil
}

// Documents are the four documents publish attaches to image (repo@sha256:…) built from
// commit, whose config digest is config: a green gate report, a Trivy report and a CycloneDX
// SBOM naming config, and a SLSA provenance statement about image.
func Documents(image, commit, config string) (map[string][]byte, error) {
	ref, err := domain.ParsePinnedRef(image)
	if err != nil {
		return nil, err
	}
	base, err := domain.ParsePinnedRef("docker.io/library/python@sha256:" + strings.Repeat("e", 64))
	if err != nil {
		return nil, err
	}
	r := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		r.Results = append(r.Results, gate.NewResult(g.Name, gate.Pass, "ok"))
	}
	report, err := r.JSON()
	if err != nil {
		return nil, err
	}
	when := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	st, err := attest.NewProvenance(attest.BuildInput{Image: ref, Service: "api", Commit: domain.Commit(commit), Ref: "main",
		SourceURL: "https://gitlab.com/soccerpredictai/pipeline", Pipeline: "https://gitlab.com/soccerpredictai/pipeline/-/pipelines/1",
		BuilderID: "https://gitlab.com/soccerpredictai/pipeline/-/runners", BaseImages: []domain.ImageRef{base}, StartedOn: when, FinishedOn: when})
	if err != nil {
		return nil, err
	}
	prov, err := st.JSON()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		attest.TypeGateReport: report,
		attest.TypeTrivy:      fmt.Appendf(nil, `{"SchemaVersion":2,"CreatedAt":"2026-03-01T08:00:00Z","ArtifactName":"/tmp/image.tar","ArtifactType":"container_image","Metadata":{"ImageID":%q,"OS":{"Family":"debian","Name":"12.5"}},"Results":[],"Trivy":{"Version":"0.69.3"}}`, config),
		attest.TypeSBOM:       fmt.Appendf(nil, `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"x","properties":[{"name":"aquasecurity:trivy:ImageID","value":%q}]}}}`, config),
		attest.TypeInToto:     prov,
	}, nil
}
