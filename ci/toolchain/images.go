// Package toolchain is what the pipeline's steps run with: the catalog of tool images (Image,
// images.go) with their pins, overrides and the registry-mirror rewrite (GitLab Dependency Proxy
// or an air-gapped registry), and the Go-built helper programs (GoTool, tools.go).
//
// Every default is pinned by tag only: a digest cannot be verified on the machines this
// repository is developed on, and an invented digest would be worse than none. Pin digests
// in your own overrides (`python:3.11-slim-bookworm@sha256:...`); they are validated and kept.
package toolchain

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Image names an image role.
type Image string

// The tool images.
const (
	Python Image = "python"
	Golang Image = "golang"
	Trivy  Image = "trivy"
	Helm   Image = "helm"
	Curl   Image = "curl"
	MkDocs Image = "mkdocs"
)

var defaults = map[Image]string{
	Python: "python:3.11-slim-bookworm",
	Golang: "golang:1.26",
	Trivy:  "aquasec/trivy:0.58.1",
	Helm:   "alpine/helm:3.16.3",
	Curl:   "curlimages/curl:8.11.1",
	MkDocs: "squidfunk/mkdocs-material:9.5.49",
}

// Images lists the tool image roles in a stable order.
func Images() []Image {
	out := make([]Image, 0, len(defaults))
	for t := range defaults {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Default returns the pinned default reference of a tool.
func Default(t Image) string { return defaults[t] }

var (
	// OCI distribution-spec grammar, simplified: [host[:port]/]path[:tag][@digest]
	refPattern = regexp.MustCompile(`^(?:([a-zA-Z0-9.-]+(?::[0-9]+)?)/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`)
)

// Ref is a parsed image reference.
type Ref struct {
	Host   string // "" means Docker Hub
	Path   string // e.g. library/python is written python on Docker Hub
	Tag    string
	Digest string
}

// Parse validates an image reference. It requires a tag or a digest: an unpinned reference
// would float, and floating tool images make builds unreproducible.
func Parse(s string) (Ref, error) {
	m := refPattern.FindStringSubmatch(s)
	if m == nil {
		return Ref{}, fmt.Errorf("image %q is not a valid reference: want [registry/]name:tag or name:tag@sha256:<64 hex>", s)
	}
	r := Ref{Host: m[1], Path: m[2], Tag: m[3], Digest: m[4]}
	// A first component without '.', ':' or "localhost" is a Docker Hub namespace, not a host.
	if r.Host != "" && !strings.ContainsAny(r.Host, ".:") && r.Host != "localhost" {
		r.Path = r.Host + "/" + r.Path
		r.Host = ""
	}
	if r.Tag == "" && r.Digest == "" {
		return Ref{}, fmt.Errorf("image %q has no tag or digest: pin it, e.g. %s:1.2.3", s, s)
	}
	return r, nil
}

// String renders the reference.
func (r Ref) String() string {
	s := r.Path
	if r.Host != "" {
		s = r.Host + "/" + s
	}
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Mirror rewrites r to be pulled through prefix. Docker Hub images keep their short path
// (GitLab's Dependency Proxy resolves `python` and `library/python` alike); images from
// another registry keep their host as the first path component (lowercased, a port's ':'
// written '-', since a path component cannot hold ':'), the layout registry mirrors such as
// Harbor proxy projects and `crane copy` scripts use.
func (r Ref) Mirror(prefix string) Ref {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return r
	}
	path := r.Path
	if r.Host != "" {
		path = strings.ToLower(strings.ReplaceAll(r.Host, ":", "-")) + "/" + path
	}
	host, rest, _ := strings.Cut(prefix, "/")
	out := Ref{Host: host, Path: path, Tag: r.Tag, Digest: r.Digest}
	if rest != "" {
		out.Path = rest + "/" + path
	}
	return out
}

// Set resolves the image of every tool: defaults, overridden per tool, then mirrored.
type Set struct {
	overrides map[Image]string
	mirror    string
}

// NewSet validates overrides (tool → reference; empty values are ignored) and the mirror prefix.
func NewSet(overrides map[Image]string, mirror string) (Set, error) {
	s := Set{overrides: map[Image]string{}, mirror: mirror}
	var probs []string
	for t, ref := range overrides {
		if ref == "" {
			continue
		}
		if _, ok := defaults[t]; !ok {
			probs = append(probs, fmt.Sprintf("unknown tool %q: want one of %s", t, joinImages()))
			continue
		}
		if _, err := Parse(ref); err != nil {
			probs = append(probs, fmt.Sprintf("--%s-image: %v", t, err))
			continue
		}
		s.overrides[t] = ref
	}
	if mirror != "" {
		if _, err := Parse(strings.TrimSuffix(mirror, "/") + "/x:1"); err != nil {
			probs = append(probs, fmt.Sprintf("registry mirror %q is not a registry prefix: want host[:port][/path], e.g. gitlab.example.com:443/group/dependency_proxy/containers", mirror))
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return Set{}, fmt.Errorf("image settings: %s", strings.Join(probs, "; "))
	}
	return s, nil
}

// Ref returns the reference to pull for tool t.
func (s Set) Ref(t Image) string {
	raw, ok := s.overrides[t]
	if !ok {
		raw = defaults[t]
	}
	r, err := Parse(raw)
	if err != nil {
		// Defaults are covered by tests and overrides are validated by NewSet.
		panic(fmt.Sprintf("toolchain: invalid reference %q for %s: %v", raw, t, err))
	}
	return r.Mirror(s.mirror).String()
}

func joinImages() string {
	var names []string
	for _, t := range Images() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}
