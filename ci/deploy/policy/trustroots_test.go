package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

// The GitLab that proves approvals and the GitLab whose pipeline signs the evidence are one
// project: the committed keyless Sigstore policy (attest.SigstorePolicyPath, which the registry
// tool and cosign users read as a file) must name TrustedGitLabAPI's instance and TrustedProject,
// else a fresh clone's production deploy would refuse the evidence its own pipeline signed (or
// trust another project's). Both are trust roots in reviewed files; this test fails the moment
// one changes without the other.
func TestTheSigningIdentityIsTheApprovingProject(t *testing.T) {
	p, ok, err := attest.TrustedSigstorePolicy()
	require.NoError(t, err)
	require.True(t, ok, "%s is committed", attest.SigstorePolicyPath)
	require.Equal(t, attest.ModeKeyless, p.Mode, "the committed default is keyless: a fresh clone has no key to manage")
	assert.Equal(t, TrustedGitLabAPI, p.Keyless.Instance+"/api/v4", "%s: keyless.instance is the instance of policy.TrustedGitLabAPI", attest.SigstorePolicyPath)
	assert.Equal(t, TrustedProject, p.Keyless.Project, "%s: keyless.project is policy.TrustedProject", attest.SigstorePolicyPath)
	host := strings.TrimSuffix(strings.TrimPrefix(TrustedGitLabAPI, "https://"), "/api/v4")
	assert.Equal(t, "https://"+host+"/"+TrustedProject+"//.gitlab-ci.yml@refs/heads/"+p.Keyless.DefaultBranch, p.Keyless.Identity(),
		"the certificate identity Fulcio gives the project's default-branch pipeline")

	// The check is not vacuous: a policy naming another project is told apart.
	other, err := attest.ParseSigstorePolicy([]byte(`{"mode":"keyless","keyless":{"instance":"https://gitlab.com","project":"soccerpredictai/pipeline","defaultBranch":"main"}}`))
	require.NoError(t, err)
	assert.NotEqual(t, TrustedProject, other.Keyless.Project)
}
