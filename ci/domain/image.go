package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits from the OCI distribution specification.
const (
	// MaxRepositoryLength is the longest repository name (registry host included) accepted.
	MaxRepositoryLength = 255
	// MaxTagLength is the longest tag the OCI distribution specification allows.
	MaxTagLength = 128
)

var (
	// pathComponent is one "/"-separated component of a repository path.
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	// hostPattern is a registry host with an optional port.
	hostPattern = regexp.MustCompile(`^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$`)
	// tagPattern is the OCI distribution tag grammar.
	tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// Repository is an image repository without tag or digest: an optional registry host[:port] and
// lowercase path components, e.g. "registry.gitlab.com/soccerpredictai/pipeline/api".
type Repository string

// ParseRepository returns s as a Repository when it follows the OCI distribution name grammar.
func ParseRepository(s string) (Repository, error) {
	if s == "" {
		return "", fmt.Errorf("image repository is empty: set --registry (GitLab: CI_REGISTRY_IMAGE), e.g. registry.gitlab.com/group/project")
	}
	if len(s) > MaxRepositoryLength {
		return "", fmt.Errorf("image repository %q is %d characters: shorten it to at most %d", s, len(s), MaxRepositoryLength)
	}
	host, path := splitHost(s)
	if host != "" && !hostPattern.MatchString(host) {
		return "", fmt.Errorf("image repository %q has an invalid registry host %q: write it as host[:port], e.g. registry.gitlab.com or localhost:5000", s, host)
	}
	if path == "" {
		return "", fmt.Errorf("image repository %q has no path after the registry host: append the project path, e.g. %s/group/project", s, host)
	}
	for _, c := range strings.Split(path, "/") {
		if pathComponent.MatchString(c) {
			continue
		}
		if c == "" {
			return "", fmt.Errorf("image repository %q has an empty path component (\"//\" or a trailing \"/\"): remove the extra \"/\"", s)
		}
		if lc := strings.ToLower(c); lc != c && pathComponent.MatchString(lc) {
			return "", fmt.Errorf("image repository %q has uppercase letters in %q: repository paths are lowercase, use %q", s, c, lc)
		}
		return "", fmt.Errorf("image repository %q has an invalid path component %q: use lowercase letters and digits separated by '.', '_', '__' or '-'", s, c)
	}
	return Repository(s), nil
}

// splitHost splits a repository into host and path with the docker rule: the first component is a
// host when the name has a "/" and that component contains "." or ":" or is "localhost".
func splitHost(repo string) (host, path string) {
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

// String returns the repository name.
func (r Repository) String() string { return string(r) }

// Host returns the registry host with its port, or "" for a name without one ("group/api").
func (r Repository) Host() string { h, _ := splitHost(string(r)); return h }

// Path returns the repository path without the registry host.
func (r Repository) Path() string { _, p := splitHost(string(r)); return p }

// Service returns the repository of service s under r ("<r>/<service>"): r is the project's image
// prefix (GitLab's CI_REGISTRY_IMAGE).
func (r Repository) Service(s Service) Repository { return Repository(string(r) + "/" + string(s)) }

// Tag is an image tag following the OCI grammar [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
type Tag string

// ParseTag returns s as a Tag when it follows the OCI tag grammar.
func ParseTag(s string) (Tag, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("image tag is empty: a tag is 1 to %d characters from [a-zA-Z0-9_.-]", MaxTagLength)
	case len(s) > MaxTagLength:
		return "", fmt.Errorf("image tag %q is %d characters long: shorten it to at most %d", s, len(s), MaxTagLength)
	case !tagPattern.MatchString(s):
		return "", fmt.Errorf("image tag %q is not a valid OCI tag: use only [a-zA-Z0-9_.-] and do not start with '.' or '-'", s)
	}
	return Tag(s), nil
}

// String returns the tag.
func (t Tag) String() string { return string(t) }

// ImageRef is a parsed image reference: a repository with a tag, a digest, or both.
type ImageRef struct {
	Repository Repository
	// Tag is "" when the reference is by digest only.
	Tag Tag
	// Digest is "" when the reference is by tag only.
	Digest Digest
}

const refForms = "write it as <registry>/<path>:<tag> or <registry>/<path>@sha256:<64 hex>"

// ParseImageRef parses "repo:tag", "repo@sha256:<hex>" or "repo:tag@sha256:<hex>". A reference
// with neither tag nor digest is refused: there is no implicit "latest".
func ParseImageRef(s string) (ImageRef, error) {
	if s == "" {
		return ImageRef{}, fmt.Errorf("image reference is empty: %s", refForms)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return ImageRef{}, fmt.Errorf("image reference %q contains whitespace: remove it", s)
	}
	var r ImageRef
	rest := s
	if i := strings.IndexByte(s, '@'); i >= 0 {
		d, err := ParseDigest(s[i+1:])
		if err != nil {
			return ImageRef{}, fmt.Errorf("image reference %q: %w", s, err)
		}
		rest, r.Digest = s[:i], d
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		t, err := ParseTag(rest[i+1:])
		if err != nil {
			return ImageRef{}, fmt.Errorf("image reference %q: %w", s, err)
		}
		rest, r.Tag = rest[:i], t
	}
	repo, err := ParseRepository(rest)
	if err != nil {
		return ImageRef{}, fmt.Errorf("image reference %q: %w", s, err)
	}
	r.Repository = repo
	if r.Tag == "" && r.Digest == "" {
		return ImageRef{}, fmt.Errorf("image reference %q has neither tag nor digest: %s", s, refForms)
	}
	return r, nil
}

// ParsePinnedRef parses a reference that must carry a digest ("repo@sha256:..."; a tag before the
// digest is tolerated and ignored by registries).
func ParsePinnedRef(s string) (ImageRef, error) {
	r, err := ParseImageRef(s)
	if err != nil {
		return ImageRef{}, err
	}
	if r.Digest == "" {
		return ImageRef{}, fmt.Errorf("image reference %q is not pinned by digest: use %s@sha256:<64 hex> (the value publish wrote to images.env)", s, r.Repository)
	}
	return r, nil
}

// ParseTaggedRef parses a reference that must be "repo:tag" without a digest (a push destination).
func ParseTaggedRef(s string) (ImageRef, error) {
	r, err := ParseImageRef(s)
	if err != nil {
		return ImageRef{}, err
	}
	if r.Digest != "" {
		return ImageRef{}, fmt.Errorf("image reference %q has a digest: a destination is a tag, write it as %s:<tag>", s, r.Repository)
	}
	return r, nil
}

// Pinned returns the reference of repository and digest ("repo@sha256:...").
func Pinned(repo Repository, d Digest) ImageRef { return ImageRef{Repository: repo, Digest: d} }

// Tagged returns the reference of repository and tag ("repo:tag").
func Tagged(repo Repository, t Tag) ImageRef { return ImageRef{Repository: repo, Tag: t} }

// String renders "repo:tag", "repo@sha256:..." or "repo:tag@sha256:...".
func (r ImageRef) String() string {
	s := string(r.Repository)
	if r.Tag != "" {
		s += ":" + string(r.Tag)
	}
	if r.Digest != "" {
		s += "@" + string(r.Digest)
	}
	return s
}

// ByDigest renders "repo@sha256:..." (the tag dropped), or "" when r has no digest.
func (r ImageRef) ByDigest() string {
	if r.Digest == "" {
		return ""
	}
	return string(r.Repository) + "@" + string(r.Digest)
}
