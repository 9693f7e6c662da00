package sigstore_test

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore/sigstoretest"
)

// A private Sigstore (here the virtual one) pinned in a policy: bundles of the policy's
// project and default branch count, those of another branch or project do not.
func TestPolicyVerifierTrustsTheDefaultBranchPipelineOnly(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	trJSON, err := ss.TrustedRootJSON()
	require.NoError(t, err)
	p, err := attest.ParseSigstorePolicy([]byte(`{"mode":"keyless","keyless":{"instance":"https://gitlab.example.com","project":"platform/shop","defaultBranch":"main","fulcioURL":"https://fulcio.example.com","rekorURL":"https://rekor.example.com","trustedRoot":"private_root.json","requireSCT":false}}`))
	require.NoError(t, err)
	v, err := sigstore.VerifierFor(p, nil, trJSON)
	require.NoError(t, err)
	assert.Contains(t, v.Policy(), "https://gitlab.example.com/platform/shop//.gitlab-ci.yml@refs/heads/main")

	docs, err := sigstoretest.Documents(image, commit, config)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		san, issuer string
		ok          bool
	}{
		"the default branch's pipeline": {"https://gitlab.example.com/platform/shop//.gitlab-ci.yml@refs/heads/main", "https://gitlab.example.com", true},
		"a feature branch's pipeline":   {"https://gitlab.example.com/platform/shop//.gitlab-ci.yml@refs/heads/feature", "https://gitlab.example.com", false},
		"a fork's pipeline":             {"https://gitlab.example.com/someone/shop//.gitlab-ci.yml@refs/heads/main", "https://gitlab.example.com", false},
		"the same path on gitlab.com":   {"https://gitlab.example.com/platform/shop//.gitlab-ci.yml@refs/heads/main", "https://gitlab.com", false},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := ss.Signer(tc.san, tc.issuer)
			require.NoError(t, err)
			_, err = v.VerifyBundle(sign(t, s, image, attest.TypeGateReport, docs[attest.TypeGateReport]), digest)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "does not verify against identity")
		})
	}
}

func TestPolicyVerifierKeyedNeedsTheCommittedKey(t *testing.T) {
	p, err := attest.ParseSigstorePolicy([]byte(`{"mode":"keyed"}`))
	require.NoError(t, err)
	_, err = sigstore.VerifierFor(p, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), attest.PublicKeyPath)
	k := newKey(t)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	v, err := sigstore.VerifierFor(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil)
	require.NoError(t, err)
	s, err := sigstore.NewKeyedSigner(k)
	require.NoError(t, err)
	docs, err := sigstoretest.Documents(image, commit, config)
	require.NoError(t, err)
	_, err = v.VerifyBundle(sign(t, s, image, attest.TypeSBOM, docs[attest.TypeSBOM]), digest)
	require.NoError(t, err)
	_, err = sigstore.KeylessSignerFor(p, "a.b.c")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "--signing-key"))
}
