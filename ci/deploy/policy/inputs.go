package policy

import (
	"fmt"
	"strings"

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
// project), for a refusal by Decide: the flag and the .env line of each. No report file is ever
// suggested: staging and production read the signed evidence publish attached to each image
// (attest.FileEvidence refuses files there). Empty when
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
	// Report files count only where attest.FileEvidence accepts them: dev, which needs no
	// evidence. Staging and production read the Sigstore bundles publish attached to each image,
	// so a file is never suggested: it would only be refused.
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
