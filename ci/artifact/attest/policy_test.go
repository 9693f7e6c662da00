package attest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

func TestCommittedSigstorePolicyIsGitLabKeylessOnThePublicGood(t *testing.T) {
	p, ok, err := attest.TrustedSigstorePolicy()
	require.NoError(t, err)
	require.True(t, ok, "%s is committed and compiled in", attest.SigstorePolicyPath)
	assert.Equal(t, attest.ModeKeyless, p.Mode)
	// GitLab's documented cosign identity for a pipeline of the default branch (Fulcio's SAN is
	// the token's ci_config_ref_uri), issuer the instance.
	assert.Equal(t, "https://gitlab.com/soccerpredictai/soccerpredict//.gitlab-ci.yml@refs/heads/main", p.Keyless.Identity())
	assert.Equal(t, "https://gitlab.com", p.Keyless.Issuer())
	assert.Equal(t, "https://fulcio.sigstore.dev", p.Keyless.FulcioURL)
	assert.Equal(t, "https://rekor.sigstore.dev", p.Keyless.RekorURL)
	require.NotNil(t, p.Keyless.RequireSCT)
	assert.True(t, *p.Keyless.RequireSCT)
	root, err := attest.TrustedRootFile(p)
	require.NoError(t, err)
	assert.Nil(t, root, "the public good's root comes from Sigstore's TUF repository")
	// The file on disk is the one compiled in.
	disk, err := os.ReadFile("trust/sigstore.json")
	require.NoError(t, err)
	fromDisk, err := attest.ParseSigstorePolicy(disk)
	require.NoError(t, err)
	assert.Equal(t, p, fromDisk)
}

func TestSigstorePolicyDefaultsAndRefusals(t *testing.T) {
	minimal := `{"mode":"keyless","keyless":{"instance":"https://gitlab.example.com/","project":"platform/shop","defaultBranch":"trunk"}}`
	p, err := attest.ParseSigstorePolicy([]byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, "https://gitlab.example.com/platform/shop//.gitlab-ci.yml@refs/heads/trunk", p.Keyless.Identity())
	assert.Equal(t, "https://gitlab.example.com", p.Keyless.Issuer())
	assert.Equal(t, attest.PublicGoodFulcio, p.Keyless.FulcioURL)
	assert.True(t, *p.Keyless.RequireSCT)
	private := `{"mode":"keyless","keyless":{"instance":"https://gitlab.example.com","project":"platform/shop","defaultBranch":"main","fulcioURL":"https://fulcio.example.com","rekorURL":"https://rekor.example.com","trustedRoot":"private_root.json","requireSCT":false}}`
	p, err = attest.ParseSigstorePolicy([]byte(private))
	require.NoError(t, err)
	assert.False(t, *p.Keyless.RequireSCT)
	_, err = attest.TrustedRootFile(p)
	require.Error(t, err, "a named trusted root must be committed")
	assert.Contains(t, err.Error(), "private_root.json, which is not committed")
	keyed, err := attest.ParseSigstorePolicy([]byte(`{"mode":"keyed"}`))
	require.NoError(t, err)
	assert.Equal(t, attest.ModeKeyed, keyed.Mode)

	for name, tc := range map[string]struct{ doc, want string }{
		"unknown mode":                             {`{"mode":"trust-me"}`, `mode is "trust-me"`},
		"unknown field":                            {`{"mode":"keyed","identity":"anyone"}`, `unknown field "identity"`},
		"plain http instance":                      {strings.Replace(minimal, "https://gitlab.example.com/", "http://gitlab.example.com", 1), "keyless.instance"},
		"no project":                               {strings.Replace(minimal, "platform/shop", "", 1), "keyless.project"},
		"project without group":                    {strings.Replace(minimal, "platform/shop", "shop", 1), "keyless.project"},
		"branch with ..":                           {strings.Replace(minimal, "trunk", "a/../b", 1), "keyless.defaultBranch"},
		"private Fulcio without its root":          {strings.Replace(private, `"trustedRoot":"private_root.json",`, "", 1), "needs its trusted root"},
		"trusted root outside the trust directory": {strings.Replace(private, "private_root.json", "../../root.json", 1), "keyless.trustedRoot"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := attest.ParseSigstorePolicy([]byte(tc.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), attest.SigstorePolicyPath)
		})
	}
}
