package domain

import (
	"fmt"
	"strings"
)

// Environment is a deployment environment. The zero value is not an environment; obtain one from
// [ParseEnvironment] or the constants.
type Environment string

// The environments, in promotion order: the same image digest moves dev → staging → production.
const (
	Dev        Environment = "dev"
	Staging    Environment = "staging"
	Production Environment = "production"
)

// LatestTag is the one moving image tag. Only environments for which [Environment.GetsLatest] holds
// ever move it, and only to a final release.
const LatestTag = "latest"

// Environments returns every environment in promotion order.
func Environments() []Environment { return []Environment{Dev, Staging, Production} }

func environmentNames() string {
	names := make([]string, 0, 3)
	for _, e := range Environments() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// ParseEnvironment returns the environment named s. An empty or unknown name is an error that lists
// the environments.
func ParseEnvironment(s string) (Environment, error) {
	for _, e := range Environments() {
		if s == string(e) {
			return e, nil
		}
	}
	if s == "" {
		return "", fmt.Errorf("no environment given: set --env to one of %s", environmentNames())
	}
	return "", fmt.Errorf("unknown environment %q: set --env to one of %s", s, environmentNames())
}

// String returns the environment's name.
func (e Environment) String() string { return string(e) }

// Approvals is how many approvals from distinct people, other than the commit author and the
// deployer, a deployment to e needs: none for dev, 1 for staging, 2 for production.
func (e Environment) Approvals() int {
	switch e {
	case Staging:
		return 1
	case Production:
		return 2
	}
	return 0
}

// Namespace is the Kubernetes namespace of e: "<prefix>-<environment>", prefix being SP_NAMESPACE.
func (e Environment) Namespace(prefix string) string { return prefix + "-" + string(e) }

// RequiresTrace reports whether a deployment to e must carry a complete traceability record (git
// commit, image digests, dataset and model versions): staging and production.
func (e Environment) RequiresTrace() bool { return e == Staging || e == Production }

// GetsLatest reports whether e's releases move the [LatestTag]: staging and production, never dev
// (dev images are addressed by their branch tag or digest only).
func (e Environment) GetsLatest() bool { return e == Staging || e == Production }

// IsProduction reports whether e is production, where every opt-out (insecure registries, file
// evidence, a first model without a champion) is refused.
func (e Environment) IsProduction() bool { return e == Production }

// MovesLatest reports whether releasing v to e moves the [LatestTag]: e gets `latest` and v is a
// final release (a pre-release never moves it).
func (e Environment) MovesLatest(v Version) bool { return e.GetsLatest() && !v.Prerelease() }
