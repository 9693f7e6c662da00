package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const keylessPolicy = `{"mode":"keyless","keyless":{"instance":"https://gitlab.com","project":"soccerpredictai/soccerpredict","defaultBranch":"main"}}`

func p256PEM(t *testing.T) ([]byte, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(der) // the key ID by its definition, not by KeyID
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "sha256:" + hex.EncodeToString(sum[:])
}

func TestTheCommittedTrustIsKeylessForTheProjectsDefaultBranch(t *testing.T) {
	tr, err := CommittedTrustFiles().Trust()
	require.NoError(t, err, "the committed policy must load: a fresh clone deploys with it")
	assert.True(t, tr.Keyless(), "keyless is the committed default: no key to manage")
	assert.Equal(t, "identity https://gitlab.com/soccerpredictai/soccerpredict//.gitlab-ci.yml@refs/heads/main issued by https://gitlab.com", tr.Name)
	assert.Nil(t, tr.Files.TrustedRoot, "the public good's root comes through Sigstore's TUF repository")
}

func TestTrustFilesNameWhatTheVerifierTrusts(t *testing.T) {
	pub, id := p256PEM(t)
	keyed, err := TrustFiles{Policy: []byte(`{"mode":"keyed"}`), PublicKey: pub}.Trust()
	require.NoError(t, err)
	assert.Equal(t, "key "+id, keyed.Name)
	assert.False(t, keyed.Keyless())

	for name, tc := range map[string]struct {
		f    TrustFiles
		want string
	}{
		"no policy":                {TrustFiles{PublicKey: pub}, "no Sigstore policy is committed at " + SigstorePolicyPath},
		"keyed without its key":    {TrustFiles{Policy: []byte(`{"mode":"keyed"}`)}, "says keyed and no public key is committed at " + PublicKeyPath},
		"keyed with a private key": {TrustFiles{Policy: []byte(`{"mode":"keyed"}`), PublicKey: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, "commit only the public half"},
		"private root not committed": {TrustFiles{Policy: []byte(`{"mode":"keyless","keyless":{"instance":"https://gitlab.example","project":"a/b","defaultBranch":"main","fulcioURL":"https://fulcio.example","rekorURL":"https://rekor.example","trustedRoot":"root.json"}}`)},
			"names the trusted root root.json, which is not committed"},
		"unknown mode": {TrustFiles{Policy: []byte(`{"mode":"trust-me"}`)}, `mode is "trust-me"`},
	} {
		_, err := tc.f.Trust()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
}

func TestEvidenceTrustPerEnvironment(t *testing.T) {
	good := TrustFiles{Policy: []byte(keylessPolicy)}
	for _, env := range []domain.Environment{domain.Staging, domain.Production} {
		tr, required, err := EvidenceTrust(env, good)
		require.NoError(t, err)
		assert.True(t, required, "%s counts only bundles", env)
		assert.Equal(t, IdentityTrust("https://gitlab.com/soccerpredictai/soccerpredict//.gitlab-ci.yml@refs/heads/main", "https://gitlab.com"), tr.Name)

		_, _, err = EvidenceTrust(env, TrustFiles{})
		require.Error(t, err, "%s without a committed policy is refused, never unsigned", env)
		assert.Contains(t, err.Error(), string(env)+" counts only Sigstore-signed evidence: no Sigstore policy is committed")
	}
	_, required, err := EvidenceTrust(domain.Dev, TrustFiles{})
	require.NoError(t, err)
	assert.False(t, required, "dev reads no evidence")
}

func TestSigningFitsTheCommittedPolicy(t *testing.T) {
	pub, _ := p256PEM(t)
	keyless := TrustFiles{Policy: []byte(keylessPolicy)}
	keyed := TrustFiles{Policy: []byte(`{"mode":"keyed"}`), PublicKey: pub}

	s, tr, err := SigningFor(keyless, true, false, false)
	require.NoError(t, err)
	assert.Equal(t, SignKeyless, s)
	assert.True(t, tr.Keyless())
	s, _, err = SigningFor(keyed, false, true, false)
	require.NoError(t, err)
	assert.Equal(t, SignKeyed, s)
	s, _, err = SigningFor(keyed, false, true, true)
	require.NoError(t, err)
	assert.Equal(t, SignKeyed, s, "a cosign key with its password")
	s, _, err = SigningFor(TrustFiles{}, false, false, false)
	require.NoError(t, err, "nothing to sign with: dev's unsigned evidence, whatever is committed")
	assert.Equal(t, Unsigned, s)

	for name, tc := range map[string]struct {
		f                    TrustFiles
		token, key, password bool
		want                 string
	}{
		"a key under the keyless policy":      {keyless, false, true, false, "pass " + IDTokenFlag},
		"a password under the keyless policy": {keyless, false, false, true, "not --signing-key or --signing-key-password"},
		"a token under the keyed policy":      {keyed, true, false, false, "is keyed: pass " + SigningKeyFlag},
		"both under the keyed policy":         {keyed, true, true, false, "not --sigstore-id-token"},
		"a password without its key":          {keyed, false, false, true, "--signing-key-password needs --signing-key"},
	} {
		_, _, err := SigningFor(tc.f, tc.token, tc.key, tc.password)
		require.ErrorIs(t, err, ErrSigningInput, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
	_, _, err = SigningFor(TrustFiles{}, true, false, false)
	assert.ErrorContains(t, err, "no Sigstore policy is committed", "a token with nothing committed to sign under")
}

// The verifier's answer must be about the question: the commit, the images, the environment,
// this run's nonce and the committed policy. Each forgery is refused; the true answer counts.
func TestSummaryCheckBindsTheAnswerToTheQuestion(t *testing.T) {
	api := ref(image)
	trust := IdentityTrust("https://gitlab.com/soccerpredictai/soccerpredict//.gitlab-ci.yml@refs/heads/main", "https://gitlab.com")
	asked := Asked{Commit: commit, Images: map[domain.Service]domain.ImageRef{domain.API: api}, Env: domain.Production, Nonce: "n-1234", Trust: trust}
	answer := func() Summary {
		s := NewSummary(commit, Set{Verify(goodEvidence(t), commit)})
		s.Environment, s.Nonce, s.SigstorePolicy = domain.Production, "n-1234", trust
		b, err := json.Marshal(s) // as the module reads it: through evidence.json
		require.NoError(t, err)
		back, err := ParseSummary(b, commit)
		require.NoError(t, err)
		return back
	}
	require.NoError(t, answer().Check(asked), "the answer to this very question")

	for name, tc := range map[string]struct {
		forge func(*Summary)
		want  string
	}{
		"another environment's": {func(s *Summary) { s.Environment = domain.Staging }, `environment "staging", not production`},
		"no environment":        {func(s *Summary) { s.Environment = "" }, `environment "", not production`},
		"a stale nonce":         {func(s *Summary) { s.Nonce = "n-0000" }, `nonce "n-0000", not this run's`},
		"no nonce":              {func(s *Summary) { s.Nonce = "" }, `nonce "", not this run's`},
		"unchecked signatures":  {func(s *Summary) { s.SigstorePolicy = "" }, "checked against no Sigstore policy (signatures unchecked)"},
		"another identity": {func(s *Summary) {
			s.SigstorePolicy = IdentityTrust("https://gitlab.com/mallory/fork//.gitlab-ci.yml@refs/heads/main", "https://gitlab.com")
		}, "not against the committed policy " + SigstorePolicyPath},
		"other digests":  {func(s *Summary) { s.Images[0].Image = ref(repo + "@" + otherHash) }, "evidence.json is not about the images being deployed"},
		"another commit": {func(s *Summary) { s.Commit = domain.Commit(strings.Repeat("f", 40)) }, "is about commit \"" + strings.Repeat("f", 40) + "\""},
	} {
		s := answer()
		tc.forge(&s)
		err := s.Check(asked)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
	// The module's own nonce must exist: an empty one would match an answer without one.
	s := answer()
	s.Nonce = ""
	a := asked
	a.Nonce = ""
	assert.ErrorContains(t, s.Check(a), "not this run's")
}

// Evidence of the earlier format (unsigned documents under the project's artifact types, DSSE
// envelopes) never counts under the bundle rule, and the problem says to republish.
func TestTheEarlierFormatIsRefusedWithRepublish(t *testing.T) {
	ev := goodEvidence(t) // unsigned documents of every type
	ev.Envelopes = [][]byte{[]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`)}
	v := VerifyBundles(ev, commit, refuseAll{})
	require.False(t, v.OK())
	for _, typ := range Types() {
		found := false
		for _, p := range v.Problems {
			found = found || (strings.Contains(p, "no signed "+Describe(typ)) && strings.Contains(p, "of the earlier evidence format") && strings.Contains(p, "republish the images with this version's publish"))
		}
		assert.True(t, found, "%s: %v", Describe(typ), v.Problems)
	}
	assert.True(t, Verify(ev, commit).OK(), "the same documents are read by trace (no signature rule)")
}

// refuseAll is a bundle verifier that trusts nothing: the earlier format must be refused before
// any bundle is checked.
type refuseAll struct{}

func (refuseAll) VerifyBundle([]byte, string) ([]byte, error) {
	return nil, errors.New("no bundle is trusted")
}
func (refuseAll) Policy() string { return "nothing" }
