package helm

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Env is a deployment environment.
type Env string

// The environments the chart has a values-<env>.yaml for.
const (
	Dev        Env = "dev"
	Staging    Env = "staging"
	Production Env = "production"
)

// Envs lists every environment, in promotion order.
var Envs = []Env{Dev, Staging, Production}

// ParseEnv returns the Env named s.
func ParseEnv(s string) (Env, error) {
	for _, e := range Envs {
		if string(e) == s {
			return e, nil
		}
	}
	return "", fmt.Errorf("environment %q is not known: set --env to one of dev, staging, production", s)
}

// RequiresTrace reports whether a deploy to e must carry a complete
// traceability record (git commit, dataset and model versions).
func (e Env) RequiresTrace() bool { return e == Staging || e == Production }

// Limits on names, from Kubernetes and helm.
const (
	// MaxReleaseNameLen is helm's limit on release names.
	MaxReleaseNameLen = 53
	// MaxNamespaceLen is the DNS-1123 label limit.
	MaxNamespaceLen = 63
	// MaxTimeout bounds --timeout: a helm wait longer than this is treated
	// as a mistake.
	MaxTimeout = time.Hour
)

var (
	releaseRE   = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	digestRE    = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	commitRE    = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	versionRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$`)
	// repositoryRE is an image repository without tag or digest: an
	// optional registry host[:port] and lowercase path components.
	repositoryRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+$`)
)

// ValidateReleaseName checks a helm release name: a DNS-1123 label that
// starts with a letter (the chart derives Service names from it), at most 53
// characters.
func ValidateReleaseName(name string) error {
	if name == "" {
		return fmt.Errorf("release name is empty: set --release, e.g. soccer-predict")
	}
	if len(name) > MaxReleaseNameLen {
		return fmt.Errorf("release name %q has %d characters: use at most %d", name, len(name), MaxReleaseNameLen)
	}
	if !releaseRE.MatchString(name) {
		return fmt.Errorf("release name %q is not a DNS-1123 label: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. soccer-predict)", name)
	}
	return nil
}

// ValidateNamespace checks a Kubernetes namespace name (DNS-1123 label).
func ValidateNamespace(ns string) error {
	if ns == "" {
		return fmt.Errorf("namespace is empty: set --namespace, e.g. soccerpredict-staging")
	}
	if len(ns) > MaxNamespaceLen {
		return fmt.Errorf("namespace %q has %d characters: use at most %d", ns, len(ns), MaxNamespaceLen)
	}
	if !namespaceRE.MatchString(ns) {
		return fmt.Errorf("namespace %q is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit", ns)
	}
	return nil
}

// ValidateDigest checks an image digest: "sha256:" followed by 64 lowercase
// hex characters.
func ValidateDigest(d string) error {
	if d == "" {
		return fmt.Errorf("image digest is empty: deploy images by digest (take it from publish's images.env)")
	}
	if !digestRE.MatchString(d) {
		return fmt.Errorf("image digest %q is not sha256:<64 lowercase hex>: pass the digest publish printed, not a tag", d)
	}
	return nil
}

// ValidateRepository checks an image repository (no tag, no digest), e.g.
// registry.gitlab.com/soccerpredictai/soccerpredict/api.
func ValidateRepository(repo string) error {
	if repo == "" {
		return fmt.Errorf("image repository is empty: set --registry (GitLab's $CI_REGISTRY_IMAGE)")
	}
	if strings.Contains(repo, "@") {
		return fmt.Errorf("image repository %q carries a digest: pass the repository and the digest separately (or use ParseImageRef)", repo)
	}
	if !repositoryRE.MatchString(repo) {
		return fmt.Errorf("image repository %q is not a lowercase registry/path without a tag, e.g. registry.gitlab.com/group/project/api", repo)
	}
	return nil
}

// ParseTimeout parses a helm --timeout value (a Go duration such as "10m"),
// which must be positive and at most MaxTimeout.
func ParseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("timeout %q is not a duration: use a value such as 5m or 10m30s", s)
	}
	if err := validateTimeout(d); err != nil {
		return 0, err
	}
	return d, nil
}

func validateTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("timeout %s is not positive: use a value such as 5m", d)
	}
	if d > MaxTimeout {
		return fmt.Errorf("timeout %s is longer than %s: use a shorter --timeout (a rollout that slow is stuck)", d, MaxTimeout)
	}
	if d%time.Second != 0 {
		return fmt.Errorf("timeout %s has a sub-second part: use whole seconds, e.g. 5m", d)
	}
	return nil
}

// ValidateGitCommit checks a git commit hash (7 to 40 lowercase hex).
func ValidateGitCommit(c string) error {
	if !commitRE.MatchString(c) {
		return fmt.Errorf("git commit %q is not 7-40 lowercase hex characters: pass --commit (GitLab's $CI_COMMIT_SHA)", c)
	}
	return nil
}

// ValidateVersion checks a dataset or model version label: 1-128 characters
// from letters, digits and . _ : / @ + -, starting with a letter or digit.
func ValidateVersion(what, v string) error {
	if !versionRE.MatchString(v) {
		return fmt.Errorf("%s %q is not a version label: use 1-128 characters from letters, digits and . _ : / @ + -, starting with a letter or digit", what, v)
	}
	return nil
}
