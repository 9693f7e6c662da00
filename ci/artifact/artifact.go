// Package artifact is the pipeline's one artifact: the set of service images, each pinned by
// digest, that is built once and promoted dev → staging → production unchanged. It renders
// the set as the dotenv file GitLab passes between jobs (API_IMAGE=repo@sha256:…) and as
// JSON.
//
// It also decides the names images are published under (tags.go, tag.go), over the nouns of
// ci/domain (a service, a commit, a version, an image reference):
//
//   - branch builds: "<branch-slug>-<short sha>", where the slug is exactly GitLab's
//     CI_COMMIT_REF_SLUG (see [Slug]) and the short sha is [domain.Commit.Short], like
//     GitLab's CI_COMMIT_SHORT_SHA (see [BranchTag]);
//   - releases: the tag of a final [domain.Version], "vX.Y.Z" (see [ReleaseTag]);
//   - [domain.LatestTag]: never a publish tag ([DecideTag] refuses it); a release moves it
//     when [domain.Environment.MovesLatest] says so (ci/release).
//
// A published tag never moves ([DecideTag]).
package artifact

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Set maps each service to its image pinned by digest ("repo@sha256:<64 hex>", no tag).
type Set map[domain.Service]domain.ImageRef

// FromPublished records what a push returned ("repo:tag@sha256:…", decoded at the edge) as
// the image by digest ("repo@sha256:…"): the tag is dropped.
func (s Set) FromPublished(svc domain.Service, published domain.ImageRef) error {
	if published.Digest == "" {
		return fmt.Errorf("%s: the registry answered %s, not a digest reference", svc, published)
	}
	s[svc] = domain.Pinned(published.Repository, published.Digest)
	return nil
}

// Validate checks that every service is present and pinned by digest without a tag.
func (s Set) Validate() error {
	var probs []string
	for _, svc := range domain.Services() {
		ref, ok := s[svc]
		if !ok || ref.Repository == "" {
			probs = append(probs, fmt.Sprintf("%s: missing: pass --%s-image=repo@sha256:… (GitLab: $%s from the publish job's dotenv)", svc, svc, svc.ImageVar()))
			continue
		}
		if ref.Digest == "" || ref.Tag != "" {
			probs = append(probs, fmt.Sprintf("%s: %q is not pinned by digest: want repo@sha256:<64 hex> (images are promoted by digest, never by tag)", svc, ref))
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return fmt.Errorf("image set: %s", strings.Join(probs, "; "))
	}
	return nil
}

// Digests maps each service to its digest, for the traceability record.
func (s Set) Digests() map[domain.Service]domain.Digest {
	out := make(map[domain.Service]domain.Digest, len(s))
	for svc, ref := range s {
		if ref.Digest != "" {
			out[svc] = ref.Digest
		}
	}
	return out
}

// References lists the image references in service order (services without one are skipped).
func (s Set) References() []domain.ImageRef {
	var out []domain.ImageRef
	for _, svc := range domain.Services() {
		if ref, ok := s[svc]; ok {
			out = append(out, ref)
		}
	}
	return out
}

// Dotenv renders the set as KEY=VALUE lines in service order (GitLab `artifacts:reports:dotenv`),
// the key being [domain.Service.ImageVar].
func (s Set) Dotenv() string {
	var b strings.Builder
	for _, svc := range domain.Services() {
		if ref, ok := s[svc]; ok {
			fmt.Fprintf(&b, "%s=%s\n", svc.ImageVar(), ref)
		}
	}
	return b.String()
}

// JSON renders the set as an indented JSON object, service name → "repo@sha256:…".
func (s Set) JSON() ([]byte, error) {
	m := make(map[string]string, len(s))
	for svc, ref := range s {
		m[string(svc)] = ref.String()
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseSet reads the images a caller gave (service → the --<service>-image flag's value) with
// [domain.ParsePinnedRef]: the one place module arguments become a Set. An empty value is a
// missing service; every problem is listed, each naming its flag.
func ParseSet(given map[domain.Service]string) (Set, error) {
	s := Set{}
	var probs []string
	for _, svc := range domain.Services() {
		v := given[svc]
		if v == "" {
			probs = append(probs, fmt.Sprintf("%s: missing: pass --%s-image=repo@sha256:… (GitLab: $%s from the publish job's dotenv)", svc, svc, svc.ImageVar()))
			continue
		}
		ref, err := domain.ParsePinnedRef(v)
		if err != nil {
			probs = append(probs, fmt.Sprintf("--%s-image: %v", svc, err))
			continue
		}
		s[svc] = ref
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return nil, fmt.Errorf("image set: %s", strings.Join(probs, "; "))
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
