package policy

import (
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// DotEnvFile is where Dagger v0.21.8 reads user defaults for this module's arguments: a .env
// file next to dagger.json (the repository root). A function argument is set there as
// FUNCTION_ARGUMENT=value, matched case-insensitively against the argument's GraphQL name
// (camelCase, so --age-key is AGEKEY); secrets take a secret address (env://NAME, file://PATH).
const DotEnvFile = ".env"

// DeployInputs says which of deploy's inputs a call has, after flags and user defaults.
type DeployInputs struct {
	Env                domain.Environment
	Kubeconfig, AgeKey bool
	GitLabToken        bool
	ProjectID          bool
	GateReport         bool
	ScanReport         bool
	// KeyConfigured: an attestation public key is committed (attest.PublicKeyPath), so staging
	// too counts only signed evidence from the registry and refuses report files.
	KeyConfigured bool
}

// input is one missing input with the flag and the one-time user default that provide it.
type input struct{ flag, userDefault string }

// MissingDeployInputs lists, in one error, the inputs deploy cannot run without at all (the
// cluster and the secrets' key), each with the flag that provides it and the line of .env that
// provides it once for all deploys from a checkout. Nil when nothing is missing.
func MissingDeployInputs(in DeployInputs) error {
	var miss []input
	if !in.Kubeconfig {
		miss = append(miss, input{"--kubeconfig=file:$HOME/.kube/config", "DEPLOY_KUBECONFIG=file://${HOME}/.kube/config"})
	}
	if !in.AgeKey {
		miss = append(miss, input{"--age-key=env:SOPS_AGE_KEY", "DEPLOY_AGEKEY=env://SOPS_AGE_KEY"})
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("deploy to %s is missing %d input(s); nothing was changed. Pass each flag, or set it once in %s next to dagger.json (Dagger user defaults; README \"Deploy from a checkout\"):%s",
		in.Env, len(miss), DotEnvFile, list(miss))
}

// EvidenceHints says how to provide the evidence inputs a deploy to in.Env lacks (GitLab token,
// project, and the gate and scan report files where they count), for a refusal by Decide: the flag and the
// .env line of each. A gate report file is suggested only where attest.FileEvidence accepts one
// (dev, and staging while no attestation key is configured): production, and staging with a key,
// read the report publish attached to each image, and a file would only be refused. Empty when
// none is missing or the environment needs no evidence. It never weakens the policy: the
// refusal stands; this only says how to supply what it asked for.
func EvidenceHints(in DeployInputs) string {
	if in.Env.Approvals() == 0 {
		return ""
	}
	var miss []input
	if !in.GitLabToken {
		miss = append(miss, input{"--gitlab-token=env:GITLAB_TOKEN (api: proves the approvals and records their use)", "DEPLOY_GITLABTOKEN=env://GITLAB_TOKEN"})
	}
	if !in.ProjectID {
		miss = append(miss, input{"--project-id=<GitLab project id> (or CI_PROJECT_ID in --settings-file)", "DEPLOY_PROJECTID=<GitLab project id>"})
	}
	files := attest.FileEvidence(in.Env, true, in.KeyConfigured) == nil
	if !in.GateReport && files {
		miss = append(miss, input{"--gate-report=reports/gate-report.json (`dagger call gate-report export --path=reports` on this commit)", "DEPLOY_GATEREPORT=reports/gate-report.json"})
	}
	if !in.ScanReport && files {
		miss = append(miss, input{"--scan-report=scan (`dagger call scan-report export --path=scan` on this commit: staging needs a clean scan too)", "DEPLOY_SCANREPORT=scan"})
	}
	if len(miss) == 0 {
		return ""
	}
	return fmt.Sprintf("missing evidence inputs: pass each flag, or set it once in %s next to dagger.json:%s", DotEnvFile, list(miss))
}

func list(miss []input) string {
	var b strings.Builder
	for _, m := range miss {
		fmt.Fprintf(&b, "\n  - %s   or in %s: %s", m.flag, DotEnvFile, m.userDefault)
	}
	return b.String()
}
