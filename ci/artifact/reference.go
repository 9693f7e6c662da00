package artifact

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

const (
	// DigestAlgorithm is the only digest algorithm accepted in references.
	DigestAlgorithm = "sha256"
	// MaxRepositoryLength is the longest repository name (registry host included) accepted.
	MaxRepositoryLength = 255
)

var (
	// pathComponent is one "/"-separated component of a repository path (OCI distribution).
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	// domainPattern is a registry host with an optional port.
	domainPattern = regexp.MustCompile(`^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$`)
	// digestPattern is a sha256 digest with lowercase hex.
	digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// Reference is a parsed image reference. At least one of Tag and Digest is set.
type Reference struct {
	// Repository is the image name including the registry host when there is one,
	// e.g. "registry.gitlab.com/soccerpredictai/pipeline/api".
	Repository string
	// Tag is the tag without ":" or "" when the reference is by digest only.
	Tag string
	// Digest is "sha256:<64 lowercase hex>" or "" when the reference is by tag only.
	Digest string
}

// String renders r as "repo:tag", "repo@sha256:..." or "repo:tag@sha256:...".
func (r Reference) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// ByDigest renders r as "repo@sha256:..." (empty when r has no digest).
func (r Reference) ByDigest() string {
	if r.Digest == "" {
		return ""
	}
	return r.Repository + "@" + r.Digest
}

// Domain returns the registry host (with port) of the repository, or "" when the
// repository has none (a name like "group/api").
func (r Reference) Domain() string {
	d, _ := splitDomain(r.Repository)
	return d
}

// Path returns the repository path without the registry host.
func (r Reference) Path() string {
	_, p := splitDomain(r.Repository)
	return p
}

// splitDomain splits a repository into host and path with the docker rule: the first
// component is a host when the name has a "/" and that component contains "." or ":"
// or is "localhost".
func splitDomain(repo string) (domain, path string) {
	i := strings.IndexByte(repo, '/')
	if i < 0 {
		return "", repo
	}
	first := repo[:i]
	if strings.ContainsAny(first, ".:") || first == "localhost" || strings.HasPrefix(first, "[") {
		return first, repo[i+1:]
	}
	return "", repo
}

// ValidateRepository checks an image repository name: an optional registry host
// (with port) followed by lowercase path components separated by "/".
func ValidateRepository(repo string) error {
	if repo == "" {
		return fmt.Errorf("image repository is empty: set --registry (GitLab: CI_REGISTRY_IMAGE), e.g. registry.gitlab.com/group/project")
	}
	if len(repo) > MaxRepositoryLength {
		return fmt.Errorf("image repository %q is %d characters: shorten it to at most %d", repo, len(repo), MaxRepositoryLength)
	}
	domain, path := splitDomain(repo)
	if domain != "" && !domainPattern.MatchString(domain) {
		return fmt.Errorf("image repository %q has an invalid registry host %q: write it as host[:port], e.g. registry.gitlab.com or localhost:5000", repo, domain)
	}
	if path == "" {
		return fmt.Errorf("image repository %q has no path after the registry host: append the project path, e.g. %s/group/project", repo, domain)
	}
	for _, c := range strings.Split(path, "/") {
		if pathComponent.MatchString(c) {
			continue
		}
		if c == "" {
			return fmt.Errorf("image repository %q has an empty path component (\"//\" or a trailing \"/\"): remove the extra \"/\"", repo)
		}
		if lc := strings.ToLower(c); lc != c && pathComponent.MatchString(lc) {
			return fmt.Errorf("image repository %q has uppercase letters in %q: repository paths must be lowercase, use %q", repo, c, lc)
		}
		return fmt.Errorf("image repository %q has an invalid path component %q: use lowercase letters and digits separated by '.', '_', '__' or '-'", repo, c)
	}
	return nil
}

// ValidateDigest checks that d is "sha256:" followed by 64 lowercase hex characters.
func ValidateDigest(d string) error {
	if digestPattern.MatchString(d) {
		return nil
	}
	if d == "" {
		return fmt.Errorf("image digest is empty: use the sha256:<64 hex> digest printed by publish (images.env)")
	}
	if alg, _, ok := strings.Cut(d, ":"); ok && alg != DigestAlgorithm {
		return fmt.Errorf("image digest %q uses %q: only sha256 digests are accepted", d, alg)
	}
	return fmt.Errorf("image digest %q is not sha256:<64 lowercase hex>: copy the digest printed by publish (images.env)", d)
}

// ParseReference parses "repo:tag", "repo@sha256:<64 hex>" or "repo:tag@sha256:<64 hex>".
// A reference with neither tag nor digest is refused (no implicit "latest").
func ParseReference(s string) (Reference, error) {
	const forms = "write it as <registry>/<path>:<tag> or <registry>/<path>@sha256:<64 hex>"
	if s == "" {
		return Reference{}, fmt.Errorf("image reference is empty: %s", forms)
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n") {
		return Reference{}, fmt.Errorf("image reference %q contains whitespace: remove it", s)
	}
	var r Reference
	rest := s
	if i := strings.IndexByte(s, '@'); i >= 0 {
		rest, r.Digest = s[:i], s[i+1:]
		if err := ValidateDigest(r.Digest); err != nil {
			return Reference{}, fmt.Errorf("image reference %q: %w", s, err)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		rest, r.Tag = rest[:i], rest[i+1:]
		if err := ValidateTag(r.Tag); err != nil {
			return Reference{}, fmt.Errorf("image reference %q: %w", s, err)
		}
	}
	r.Repository = rest
	if err := ValidateRepository(r.Repository); err != nil {
		return Reference{}, fmt.Errorf("image reference %q: %w", s, err)
	}
	if r.Tag == "" && r.Digest == "" {
		return Reference{}, fmt.Errorf("image reference %q has neither tag nor digest: %s", s, forms)
	}
	return r, nil
}

// ParseDigestReference parses a reference that must carry a digest ("repo@sha256:...";
// a tag before the digest is tolerated and ignored by registries).
func ParseDigestReference(s string) (Reference, error) {
	r, err := ParseReference(s)
	if err != nil {
		return Reference{}, err
	}
	if r.Digest == "" {
		return Reference{}, fmt.Errorf("image reference %q is not pinned by digest: use %s@sha256:<64 hex> (the value publish wrote to images.env)", s, r.Repository)
	}
	return r, nil
}

// ParseTagReference parses a reference that must be "repo:tag" without a digest.
func ParseTagReference(s string) (Reference, error) {
	r, err := ParseReference(s)
	if err != nil {
		return Reference{}, err
	}
	if r.Digest != "" {
		return Reference{}, fmt.Errorf("image reference %q has a digest: a destination is a tag, write it as %s:<tag>", s, r.Repository)
	}
	if r.Tag == "" {
		return Reference{}, fmt.Errorf("image reference %q has no tag: write it as %s:<tag>", s, r.Repository)
	}
	return r, nil
}

// DigestReference builds "repo@sha256:..." after validating both parts.
func DigestReference(repo, digest string) (string, error) {
	if err := ValidateRepository(repo); err != nil {
		return "", err
	}
	if err := ValidateDigest(digest); err != nil {
		return "", err
	}
	return repo + "@" + digest, nil
}

// ServiceRepository returns "<registry>/<service>", where registry is the image
// repository prefix (GitLab's CI_REGISTRY_IMAGE; a trailing "/" is dropped) and
// service is a single lowercase path component such as "api".
func ServiceRepository(registry, service string) (string, error) {
	registry = strings.TrimSuffix(registry, "/")
	if registry == "" {
		return "", fmt.Errorf("registry is empty: pass --registry (GitLab: CI_REGISTRY_IMAGE), e.g. registry.gitlab.com/group/project")
	}
	if !pathComponent.MatchString(service) {
		return "", fmt.Errorf("service name %q is not a lowercase image path component: use e.g. api, worker or airflow", service)
	}
	repo := registry + "/" + service
	if err := ValidateRepository(repo); err != nil {
		return "", fmt.Errorf("registry %q: %w", registry, err)
	}
	return repo, nil
}

// ServiceImage returns "<registry>/<service>:<tag>".
func ServiceImage(registry, service, tag string) (string, error) {
	repo, err := ServiceRepository(registry, service)
	if err != nil {
		return "", err
	}
	if err := ValidateTag(tag); err != nil {
		return "", err
	}
	return repo + ":" + tag, nil
}

// ServiceImages returns service → "<registry>/<service>:<tag>" for every service.
// Duplicate service names are an error.
func ServiceImages(registry, tag string, services []string) (map[string]string, error) {
	if len(services) == 0 {
		return nil, fmt.Errorf("no services given: pass at least one of api, worker, airflow")
	}
	out := make(map[string]string, len(services))
	for _, s := range services {
		if _, dup := out[s]; dup {
			return nil, fmt.Errorf("service %q is listed twice: list each service once", s)
		}
		ref, err := ServiceImage(registry, s, tag)
		if err != nil {
			return nil, err
		}
		out[s] = ref
	}
	return out, nil
}

// SortedServices returns the keys of a ServiceImages result in sorted order.
func SortedServices(images map[string]string) []string {
	keys := make([]string, 0, len(images))
	for k := range images {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
