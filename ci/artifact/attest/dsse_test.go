package attest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/signing"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

const (
	sCommit = "0123456789abcdef0123456789abcdef01234567"
	sRepo   = "registry.example.com/sp/api"
)

var (
	sDigest = "sha256:" + strings.Repeat("a", 64)
	sConfig = "sha256:" + strings.Repeat("c", 64)
	sImage  = sRepo + "@" + sDigest
	sOther  = sRepo + "@sha256:" + strings.Repeat("b", 64)
)

type keyPair struct {
	signer   *signing.Signer
	verifier *signing.Verifier
	pub      []byte
}

func newKeyPair(t *testing.T) keyPair {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	s, err := signing.LoadSigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	require.NoError(t, err)
	pder, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
	v, err := signing.LoadVerifier(pub)
	require.NoError(t, err)
	return keyPair{s, v, pub}
}

func gateDoc(t *testing.T, lint gate.Status) []byte {
	t.Helper()
	r := gate.Report{Commit: sCommit}
	for _, g := range gate.Catalog() {
		st := gate.Pass
		if g.Name == gate.Lint {
			st = lint
		}
		r.Results = append(r.Results, gate.NewResult(g.Name, st, "ok"))
	}
	b, err := r.JSON()
	require.NoError(t, err)
	return b
}

func documents(t *testing.T, image string) map[string][]byte {
	t.Helper()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st, err := attest.NewProvenance(attest.BuildInput{Image: pinnedRef(t, image), Service: "api", Commit: sCommit, Ref: "main", SourceURL: "https://gitlab.com/x/y",
		Pipeline: "1", BuilderID: "b", BaseImages: []domain.ImageRef{pinnedRef(t, "python@sha256:"+strings.Repeat("e", 64))}, StartedOn: now, FinishedOn: now})
	require.NoError(t, err)
	prov, err := st.JSON()
	require.NoError(t, err)
	return map[string][]byte{
		attest.TypeGateReport: gateDoc(t, gate.Pass),
		attest.TypeTrivy:      []byte(fmt.Sprintf(`{"SchemaVersion":2,"ArtifactName":"/tmp/image.tar","ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.5"},"ImageID":%q},"Results":[]}`, sConfig)),
		attest.TypeSBOM:       []byte(fmt.Sprintf(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"x","properties":[{"name":"aquasecurity:trivy:ImageID","value":%q}]}}}`, sConfig)),
		attest.TypeInToto:     prov,
	}
}

func envelope(t *testing.T, s *signing.Signer, image, typ string, doc []byte) []byte {
	t.Helper()
	st, err := attest.StatementFor(image, typ, doc)
	require.NoError(t, err)
	env, err := s.SignStatement(st)
	require.NoError(t, err)
	return env
}

// signedEvidence is what the registry holds after a signed publish of sImage.
func signedEvidence(t *testing.T, s *signing.Signer) attest.Evidence {
	t.Helper()
	ev := attest.Evidence{Service: "api", Image: pinnedRef(t, sImage), ConfigDigest: domain.Digest(sConfig), Labels: map[string]string{attest.LabelRevision: sCommit}, Documents: map[string][][]byte{}}
	for typ, doc := range documents(t, sImage) {
		ev.Envelopes = append(ev.Envelopes, envelope(t, s, sImage, typ, doc))
	}
	return ev
}

func TestSignedEvidenceCounts(t *testing.T) {
	kp := newKeyPair(t)
	v := attest.VerifySigned(signedEvidence(t, kp.signer), sCommit, kp.verifier)
	require.True(t, v.OK(), "%v", v.Problems)
	assert.JSONEq(t, string(gateDoc(t, gate.Pass)), string(v.GateReport), "the gate report is the signed predicate")
	assert.NotEmpty(t, v.Trivy)
	assert.NotEmpty(t, v.SBOM)
	assert.NotEmpty(t, v.Provenance)
	// Without signatures required, the envelopes' statements count as well (staging without a key).
	assert.True(t, attest.Verify(signedEvidence(t, kp.signer), sCommit).OK())
	assert.False(t, attest.VerifySigned(signedEvidence(t, kp.signer), sCommit, nil).OK(), "required without a key never passes")
}

func TestSignedEvidenceRefusesEachForgery(t *testing.T) {
	kp, other := newKeyPair(t), newKeyPair(t)
	replace := func(ev *attest.Evidence, typ string, env []byte) {
		t.Helper()
		for i, raw := range ev.Envelopes {
			var e struct{ Payload []byte }
			require.NoError(t, json.Unmarshal(raw, &e))
			var st struct{ PredicateType string }
			require.NoError(t, json.Unmarshal(e.Payload, &st))
			want := map[string]string{attest.TypeGateReport: attest.PredicateGateReport, attest.TypeTrivy: attest.PredicateVuln, attest.TypeSBOM: attest.PredicateCycloneDX, attest.TypeInToto: attest.PredicateSLSAProvenance}[typ]
			if st.PredicateType == want {
				ev.Envelopes[i] = env
				return
			}
		}
		t.Fatalf("no envelope of %s", typ)
	}
	tamper := func(env []byte, f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(env, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	docs := documents(t, sImage)
	cases := map[string]struct {
		edit func(ev *attest.Evidence)
		want []string
	}{
		"unsigned documents only": {func(ev *attest.Evidence) {
			ev.Envelopes = nil
			for typ, d := range docs {
				ev.Documents[typ] = [][]byte{d}
			}
		}, []string{"no signed gate report attached to " + sImage + " counts", "unsigned gate report(s) attached do not count", "--signing-key=env:SP_SIGNING_KEY"}},
		"unsigned envelope": {func(ev *attest.Evidence) {
			replace(ev, attest.TypeGateReport, tamper(envelope(t, kp.signer, sImage, attest.TypeGateReport, docs[attest.TypeGateReport]), func(m map[string]any) { m["signatures"] = []any{} }))
		}, []string{"no signed gate report attached", "not signed"}},
		"signature by another key": {func(ev *attest.Evidence) {
			replace(ev, attest.TypeInToto, envelope(t, other.signer, sImage, attest.TypeInToto, docs[attest.TypeInToto]))
		}, []string{"no signed SLSA provenance attached", "no signature by the trusted key " + kp.verifier.KeyID()}},
		"payload swapped after signing": {func(ev *attest.Evidence) {
			red, err := attest.StatementFor(sImage, attest.TypeGateReport, gateDoc(t, gate.Fail))
			require.NoError(t, err)
			good := envelope(t, kp.signer, sImage, attest.TypeGateReport, docs[attest.TypeGateReport])
			replace(ev, attest.TypeGateReport, tamper(good, func(m map[string]any) { m["payload"] = base64.StdEncoding.EncodeToString(red) }))
		}, []string{"no signed gate report attached", "payload changed after signing"}},
		"envelope for another digest": {func(ev *attest.Evidence) {
			replace(ev, attest.TypeTrivy, envelope(t, kp.signer, sOther, attest.TypeTrivy, docs[attest.TypeTrivy]))
		}, []string{"no signed Trivy report attached", "about another image (its subject is not " + sDigest + ")"}},
		"valid signature over a red report": {func(ev *attest.Evidence) {
			replace(ev, attest.TypeGateReport, envelope(t, kp.signer, sImage, attest.TypeGateReport, gateDoc(t, gate.Fail)))
		}, []string{"no signed gate report attached", "lint (fail)"}},
		"signed SBOM of another image's config": {func(ev *attest.Evidence) {
			replace(ev, attest.TypeSBOM, envelope(t, kp.signer, sImage, attest.TypeSBOM, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"properties":[{"name":"aquasecurity:trivy:ImageID","value":"sha256:`+strings.Repeat("9", 64)+`"}]}}}`)))
		}, []string{"no signed CycloneDX SBOM attached", "names neither"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := signedEvidence(t, kp.signer)
			tc.edit(&ev)
			v := attest.VerifySigned(ev, sCommit, kp.verifier)
			require.False(t, v.OK())
			err := attest.Set{v}.Err()
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}

	// A forgery next to the genuine signed document does not hide it (a retried publish).
	ev := signedEvidence(t, kp.signer)
	ev.Envelopes = append(ev.Envelopes, envelope(t, other.signer, sImage, attest.TypeGateReport, gateDoc(t, gate.Pass)))
	ev.Documents[attest.TypeGateReport] = [][]byte{gateDoc(t, gate.Fail)}
	require.True(t, attest.VerifySigned(ev, sCommit, kp.verifier).OK())
}

func TestStatementForAndOpenStatement(t *testing.T) {
	docs := documents(t, sImage)
	for typ, doc := range docs {
		st, err := attest.StatementFor(sImage, typ, doc)
		require.NoError(t, err, typ)
		got, body, err := attest.OpenStatement(st, domain.Digest(sDigest))
		require.NoError(t, err, typ)
		assert.Equal(t, typ, got)
		assert.JSONEq(t, string(doc), string(body), typ)
		_, _, err = attest.OpenStatement(st, domain.Digest("sha256:"+strings.Repeat("b", 64)))
		assert.ErrorContains(t, err, "about another image")
	}
	_, err := attest.StatementFor(sOther, attest.TypeInToto, docs[attest.TypeInToto])
	assert.ErrorContains(t, err, "about another image", "a provenance is signed only for its own subject")
	_, err = attest.StatementFor(sRepo+":main", attest.TypeGateReport, docs[attest.TypeGateReport])
	assert.Error(t, err)
	_, err = attest.StatementFor(sImage, attest.TypeGateReport, []byte(`[1]`))
	assert.ErrorContains(t, err, "not a JSON object")
	_, err = attest.StatementFor(sImage, "text/plain", []byte(`{}`))
	assert.ErrorContains(t, err, "cannot sign")
	for name, payload := range map[string]string{
		"not JSON":          `{`,
		"not in-toto":       `{"_type":"x","subject":[],"predicateType":"` + attest.PredicateGateReport + `","predicate":{}}`,
		"unknown predicate": `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],"predicateType":"https://example.com/x","predicate":{}}`,
		"no predicate":      `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],"predicateType":"` + attest.PredicateGateReport + `"}`,
	} {
		_, _, err := attest.OpenStatement([]byte(payload), domain.Digest(sDigest))
		assert.Error(t, err, name)
	}
}

func TestPublicKeyAndSummaryKey(t *testing.T) {
	kp := newKeyPair(t)
	id, err := attest.PublicKeyID(kp.pub)
	require.NoError(t, err)
	assert.Equal(t, kp.verifier.KeyID(), id)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, id)

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for name, tc := range map[string]struct{ pem, want string }{
		"empty":       {"", "is not PEM"},
		"private key": {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "commit only the public half"},
		"two keys":    {string(kp.pub) + string(kp.pub), "more than one PEM block"},
		"p-384":       {string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "not an ECDSA P-256 key"},
		"garbage":     {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", attest.PublicKeyPath},
	} {
		_, err := attest.ParsePublicKey([]byte(tc.pem))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}

	assert.Equal(t, "key "+id, attest.KeyTrust(id), "a keyed policy's trust names the key")
}

func FuzzOpenStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],"predicateType":"` + attest.PredicateGateReport + `","predicate":{}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, doc, err := attest.OpenStatement(data, domain.Digest(sDigest))
		if err == nil && (typ == "" || len(doc) == 0) {
			t.Fatalf("accepted a statement without a type or document: %q", data)
		}
	})
}

func pinnedRef(t *testing.T, s string) domain.ImageRef {
	t.Helper()
	r, err := domain.ParsePinnedRef(s)
	require.NoError(t, err)
	return r
}

func TestTrivyReportIsCosignsVulnPredicateAndTheEarlierTypeStillOpens(t *testing.T) {
	report := documents(t, sImage)[attest.TypeTrivy]
	st, err := attest.StatementFor(sImage, attest.TypeTrivy, report)
	require.NoError(t, err)
	var s struct {
		PredicateType string
		Predicate     struct {
			Scanner struct {
				URI    string
				Result json.RawMessage
			}
			Metadata struct{ ScanStartedOn time.Time }
		}
	}
	require.NoError(t, json.Unmarshal(st, &s))
	assert.Equal(t, "https://cosign.sigstore.dev/attestation/vuln/v1", s.PredicateType)
	assert.Equal(t, "pkg:github/aquasecurity/trivy", s.Predicate.Scanner.URI)
	assert.JSONEq(t, string(report), string(s.Predicate.Scanner.Result))
	typ, doc, err := attest.OpenStatement(st, domain.Digest(sDigest))
	require.NoError(t, err)
	assert.Equal(t, attest.TypeTrivy, typ)
	assert.JSONEq(t, string(report), string(doc), "the report comes back verbatim")

	// Statements of the earlier releases carried the report itself under the project's type.
	legacy := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":%q,"digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`, sRepo, strings.TrimPrefix(sDigest, "sha256:"), attest.PredicateTrivy, report)
	typ, doc, err = attest.OpenStatement([]byte(legacy), domain.Digest(sDigest))
	require.NoError(t, err)
	assert.Equal(t, attest.TypeTrivy, typ)
	assert.JSONEq(t, string(report), string(doc))

	// A vuln predicate from another scanner is not a Trivy report.
	other := strings.Replace(string(st), "pkg:github/aquasecurity/trivy", "pkg:github/anchore/grype", 1)
	_, _, err = attest.OpenStatement([]byte(other), domain.Digest(sDigest))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not Trivy")
}
