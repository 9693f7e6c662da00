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
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
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
	// Helm 4 (Helm 3's security support ended in November 2026), pinned by tag like every
	// default; the same version as tests/cluster's helm CLI and tests/chart's SDK.
	Helm:   "alpine/helm:4.3.2",
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

// Mirror rewrites r to be pulled through the registry prefix. Docker Hub images keep their
// short path (GitLab's Dependency Proxy resolves `python` and `library/python` alike); images
// from another registry keep their host as the first path component (lowercased, a port's ':'
// written '-', since a path component cannot hold ':'), the layout registry mirrors such as
// Harbor proxy projects and `crane copy` scripts use. The result is read back with
// domain.ParseImageRef (a host such as an IPv6 literal may not fit a path component).
func Mirror(r domain.ImageRef, prefix domain.Repository) (domain.ImageRef, error) {
	path := r.Repository.Path()
	if h := r.Repository.Host(); h != "" {
		path = strings.ToLower(strings.ReplaceAll(h, ":", "-")) + "/" + path
	}
	out := domain.ImageRef{Repository: domain.Repository(string(prefix) + "/" + path), Tag: r.Tag, Digest: r.Digest}
	m, err := domain.ParseImageRef(out.String())
	if err != nil {
		return domain.ImageRef{}, fmt.Errorf("%s cannot be pulled through the mirror %s: %w", r, prefix, err)
	}
	return m, nil
}

// Set resolves the image of every tool: defaults, overridden per tool, then mirrored. Every
// reference is parsed (domain.ParseImageRef; Docker Hub short names such as python:3.11 are
// repositories without a host) and mirrored once, by NewSet.
type Set struct {
	refs map[Image]domain.ImageRef
}

// NewSet validates overrides (tool → reference; empty values are ignored) and the mirror prefix
// (host[:port][/path]; "" for none), and resolves every tool's reference.
func NewSet(overrides map[Image]string, mirror string) (Set, error) {
	s := Set{refs: map[Image]domain.ImageRef{}}
	var probs []string
	for t, ref := range overrides {
		if ref == "" {
			continue
		}
		if _, ok := defaults[t]; !ok {
			probs = append(probs, fmt.Sprintf("unknown tool %q: want one of %s", t, joinImages()))
			continue
		}
		r, err := domain.ParseImageRef(ref)
		if err != nil {
			probs = append(probs, fmt.Sprintf("--%s-image: %v", t, err))
			continue
		}
		s.refs[t] = r
	}
	for t, ref := range defaults {
		if _, ok := s.refs[t]; !ok {
			s.refs[t] = mustParse(ref)
		}
	}
	if mirror = strings.TrimSuffix(mirror, "/"); mirror != "" {
		if _, err := domain.ParseRepository(mirror + "/x"); err != nil || strings.Contains(mirror, "://") {
			probs = append(probs, fmt.Sprintf("registry mirror %q is not a registry prefix: want host[:port][/path], e.g. gitlab.example.com:443/group/dependency_proxy/containers", mirror))
		} else {
			for t, r := range s.refs {
				m, err := Mirror(r, domain.Repository(mirror))
				if err != nil {
					probs = append(probs, fmt.Sprintf("--%s-image: %v", t, err))
					continue
				}
				s.refs[t] = m
			}
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return Set{}, fmt.Errorf("image settings: %s", strings.Join(probs, "; "))
	}
	return s, nil
}

// Ref returns the reference to pull for tool t, as the engine takes it.
func (s Set) Ref(t Image) string { return s.ImageRef(t).String() }

// ImageRef is the reference of tool image t, parsed (once, in NewSet).
func (s Set) ImageRef(t Image) domain.ImageRef {
	r, ok := s.refs[t]
	if !ok {
		r = mustParse(defaults[t]) // the zero Set: defaults, no mirror
	}
	return r
}

// mustParse parses a default (covered by TestDefaultsArePinnedByTag).
func mustParse(ref string) domain.ImageRef {
	r, err := domain.ParseImageRef(ref)
	if err != nil {
		panic(fmt.Sprintf("toolchain: invalid default reference %q: %v", ref, err))
	}
	return r
}

func joinImages() string {
	var names []string
	for _, t := range Images() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}
