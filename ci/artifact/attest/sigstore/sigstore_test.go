package sigstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore/sigstoretest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const (
	commit   = "0123456789abcdef0123456789abcdef01234567"
	repo     = "registry.example.com/sp/api"
	identity = "https://gitlab.com/soccerpredictai/pipeline//.gitlab-ci.yml@refs/heads/main"
	issuer   = "https://gitlab.com"
)

var (
	digest = "sha256:" + strings.Repeat("a", 64)
	other  = "sha256:" + strings.Repeat("b", 64)
	config = "sha256:" + strings.Repeat("c", 64)
	image  = repo + "@" + digest
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// modes are the two ways publish signs, each with the verifier deploy would use.
type mode struct {
	signer   *sigstore.Signer
	verifier *sigstore.Verifier
}

func keyed(t *testing.T) mode {
	t.Helper()
	k := newKey(t)
	s, err := sigstore.NewKeyedSigner(k)
	require.NoError(t, err)
	v, err := sigstore.NewKeyedVerifier(&k.PublicKey)
	require.NoError(t, err)
	return mode{s, v}
}

func keyless(t *testing.T, ss *sigstoretest.Sigstore) mode {
	t.Helper()
	s, err := ss.Signer(identity, issuer)
	require.NoError(t, err)
	tr, err := ss.TrustedRoot()
	require.NoError(t, err)
	// The virtual CA embeds no SCT in its certificates: requireSCT is the public-good default,
	// not this instance's.
	v, err := sigstore.NewKeylessVerifier(tr, sigstore.Identity{SAN: identity, Issuer: issuer}, false)
	require.NoError(t, err)
	return mode{s, v}
}

func sign(t *testing.T, s *sigstore.Signer, img, typ string, doc []byte) []byte {
	t.Helper()
	st, err := attest.StatementFor(img, typ, doc)
	require.NoError(t, err)
	b, err := s.SignStatement(context.Background(), st)
	require.NoError(t, err)
	return b
}

func TestBundlesOfEveryDocumentVerifyInBothModes(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	docs, err := sigstoretest.Documents(image, commit, config)
	require.NoError(t, err)
	for name, m := range map[string]mode{"keyed": keyed(t), "keyless": keyless(t, ss)} {
		for typ, doc := range docs {
			t.Run(name+"/"+attest.Describe(typ), func(t *testing.T) {
				b := sign(t, m.signer, image, typ, doc)
				var bundle struct {
					MediaType            string `json:"mediaType"`
					VerificationMaterial map[string]json.RawMessage
					DsseEnvelope         struct{ PayloadType string }
				}
				require.NoError(t, json.Unmarshal(b, &bundle))
				assert.Equal(t, attest.TypeSigstoreBundle, bundle.MediaType)
				assert.Equal(t, attest.PayloadTypeInToto, bundle.DsseEnvelope.PayloadType)
				if name == "keyless" {
					assert.Contains(t, bundle.VerificationMaterial, "certificate")
					assert.Contains(t, bundle.VerificationMaterial, "tlogEntries")
				} else {
					assert.Contains(t, bundle.VerificationMaterial, "publicKey")
					assert.NotContains(t, bundle.VerificationMaterial, "tlogEntries", "keyed mode logs nowhere (air-gapped)")
				}

				st, err := m.verifier.VerifyBundle(b, digest)
				require.NoError(t, err)
				var head struct{ PredicateType string }
				require.NoError(t, json.Unmarshal(st, &head))
				assert.Equal(t, attest.PredicateTypeOf(typ), head.PredicateType)
				gotType, got, err := attest.OpenStatement(st, domain.Digest(digest))
				require.NoError(t, err)
				assert.Equal(t, typ, gotType)
				assert.JSONEq(t, string(doc), string(got), "the document comes back as attached")
			})
		}
	}
}

func tamper(t *testing.T, b []byte, f func(env map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	f(m["dsseEnvelope"].(map[string]any))
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestBundlesAreRefusedForWhatCosignRefuses(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	docs, err := sigstoretest.Documents(image, commit, config)
	require.NoError(t, err)
	gateDoc := docs[attest.TypeGateReport]
	otherImage := repo + "@" + other
	otherDocs, err := sigstoretest.Documents(otherImage, commit, config)
	require.NoError(t, err)
	redStatement, err := attest.StatementFor(image, attest.TypeGateReport, []byte(strings.Replace(string(gateDoc), `"pass"`, `"fail"`, 1)))
	require.NoError(t, err)

	k, kl := keyed(t), keyless(t, ss)
	otherKey := keyed(t)
	stranger, err := ss.Signer("https://gitlab.com/someone/else//.gitlab-ci.yml@refs/heads/main", issuer)
	require.NoError(t, err)
	otherIssuer, err := ss.Signer(identity, "https://gitlab.example.com")
	require.NoError(t, err)
	otherCA, err := sigstoretest.New()
	require.NoError(t, err)
	foreign, err := otherCA.Signer(identity, issuer)
	require.NoError(t, err)

	cases := map[string]struct {
		verifier *sigstore.Verifier
		bundle   []byte
		want     string
	}{
		"keyed: statement about another digest":   {k.verifier, sign(t, k.signer, otherImage, attest.TypeInToto, otherDocs[attest.TypeInToto]), "does not verify"},
		"keyed: signed by another key":            {k.verifier, sign(t, otherKey.signer, image, attest.TypeGateReport, gateDoc), "does not verify against key"},
		"keyed: payload changed after signing":    {k.verifier, tamper(t, sign(t, k.signer, image, attest.TypeGateReport, gateDoc), func(e map[string]any) { e["payload"] = redStatement }), "does not verify"},
		"keyless: statement about another digest": {kl.verifier, sign(t, kl.signer, otherImage, attest.TypeSBOM, otherDocs[attest.TypeSBOM]), "does not verify"},
		"keyless: another identity":               {kl.verifier, sign(t, stranger, image, attest.TypeGateReport, gateDoc), "someone/else"},
		"keyless: another issuer":                 {kl.verifier, sign(t, otherIssuer, image, attest.TypeGateReport, gateDoc), "gitlab.example.com"},
		"keyless: certificate of another CA":      {kl.verifier, sign(t, foreign, image, attest.TypeGateReport, gateDoc), "does not verify"},
		"keyless: payload changed after signing":  {kl.verifier, tamper(t, sign(t, kl.signer, image, attest.TypeGateReport, gateDoc), func(e map[string]any) { e["payload"] = redStatement }), "does not verify"},
		"keyless bundle, keyed policy":            {k.verifier, sign(t, kl.signer, image, attest.TypeGateReport, gateDoc), "does not verify against key"},
		"keyed bundle, keyless policy":            {kl.verifier, sign(t, k.signer, image, attest.TypeGateReport, gateDoc), "does not verify against identity"},
		"not a bundle":                            {k.verifier, []byte(`{"payloadType":"application/vnd.in-toto+json"}`), "not a Sigstore bundle"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.verifier.VerifyBundle(tc.bundle, digest)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Positive twins: the same signers and verifiers accept the right bundle.
	for name, m := range map[string]mode{"keyed": k, "keyless": kl} {
		_, err := m.verifier.VerifyBundle(sign(t, m.signer, image, attest.TypeGateReport, gateDoc), digest)
		assert.NoError(t, err, name)
	}
}

func TestKeylessSignerNeedsTheJobToken(t *testing.T) {
	_, err := sigstore.NewKeylessSigner(sigstore.Instance{FulcioURL: "https://fulcio.sigstore.dev", RekorURL: "https://rekor.sigstore.dev"}, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SIGSTORE_ID_TOKEN")
	s, err := sigstore.NewKeylessSigner(sigstore.Instance{FulcioURL: "https://fulcio.sigstore.dev", RekorURL: "https://rekor.sigstore.dev"}, "a.b.c")
	require.NoError(t, err)
	assert.Contains(t, s.String(), "fulcio.sigstore.dev")
}
