package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestMissingDeployInputsNamesEachFlagAndItsUserDefault(t *testing.T) {
	err := MissingDeployInputs(DeployInputs{Env: domain.Staging})
	require.Error(t, err)
	for _, want := range []string{
		"deploy to staging is missing 2 input(s); nothing was changed",
		"--kubeconfig=file:$HOME/.kube/config", "DEPLOY_KUBECONFIG=file://${HOME}/.kube/config",
		"--age-key=env:SOPS_AGE_KEY", "DEPLOY_AGEKEY=env://SOPS_AGE_KEY",
	} {
		assert.Contains(t, err.Error(), want)
	}
	err = MissingDeployInputs(DeployInputs{Env: domain.Dev, Kubeconfig: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing 1 input(s)")
	assert.NotContains(t, err.Error(), "KUBECONFIG")
	assert.NoError(t, MissingDeployInputs(DeployInputs{Env: domain.Production, Kubeconfig: true, AgeKey: true}))
}

func TestEvidenceHintsPerEnvironment(t *testing.T) {
	assert.Empty(t, EvidenceHints(DeployInputs{Env: domain.Dev}), "dev needs no approvals")
	all := DeployInputs{GitLabToken: true, ProjectID: true, GateReport: true, ScanReport: true}
	for _, env := range []domain.Environment{domain.Staging, domain.Production} {
		in := all
		in.Env = env
		assert.Empty(t, EvidenceHints(in), env)
	}
	h := EvidenceHints(DeployInputs{Env: domain.Staging})
	for _, want := range []string{"--gitlab-token", "DEPLOY_GITLABTOKEN=env://GITLAB_TOKEN", "--project-id", "DEPLOY_PROJECTID="} {
		assert.Contains(t, h, want)
	}
	// A report file is never suggested: staging and production count only the Sigstore bundles
	// attached to each image and refuse files (attest.FileEvidence), so the hint never names one.
	for _, in := range []DeployInputs{{Env: domain.Production}, {Env: domain.Staging}} {
		require.Error(t, attest.FileEvidence(in.Env, true), "the oracle: files are refused in %s", in.Env)
		h = EvidenceHints(in)
		assert.Contains(t, h, "DEPLOY_GITLABTOKEN=env://GITLAB_TOKEN", in)
		assert.NotContains(t, h, "gate-report", in)
		assert.NotContains(t, h, "GATEREPORT", in)
		assert.NotContains(t, h, "scan-report", in)
	}
	in := all
	in.Env, in.GateReport, in.ScanReport = domain.Production, false, false
	assert.Empty(t, EvidenceHints(in), "production lacks no input it could be given: its gate report is the registry's")
	in.Env = domain.Staging
	assert.Empty(t, EvidenceHints(in), "staging: the same")
}
