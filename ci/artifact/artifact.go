// Package artifact is the pipeline's one artifact: the set of service images, each pinned by
// digest, that is built once and promoted dev → staging → production unchanged. It renders
// the set as the dotenv file GitLab passes between jobs (API_IMAGE=repo@sha256:…) and as
// JSON, and reads it back strictly.
//
// Tags (tags.go, formerly package tags) decide the names images are published under.
//
// Three kinds of tag exist:
//
//   - branch builds: "<branch-slug>-<short-sha>", where the slug is exactly GitLab's
//     CI_COMMIT_REF_SLUG (see [Slug]) and the short sha is the first 8 hex characters of
//     the commit, like GitLab's CI_COMMIT_SHORT_SHA (see [ShortSHA]);
//   - releases: "v<major>.<minor>.<patch>", strict semantic versioning with a mandatory
//     "v" prefix (see [ReleaseTag]). Pre-releases such as "v1.2.0-rc.1" are accepted for
//     the staging environment only (see [ReleaseTagFor]); build metadata ("+build.5") is
//     always rejected because "+" is not allowed in an OCI tag;
//   - "latest": a moving tag that exists only in the staging and production
//     environments (see [LatestTag]).
//
// Every tag produced here satisfies the OCI distribution tag grammar
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} (see [ValidateTag]).
//
// This package also parses (reference.go) and builds image references ("repo:tag",
// "repo@sha256:<64 hex>") for the per-service images "<registry>/<service>".
//
// It depends on the standard library and github.com/Masterminds/semver/v3 only, so the
// Dagger module can import it.
package artifact

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Services are the services an artifact must hold, in order.
var Services = []string{"api", "worker", "airflow"}

// Set maps a service to its image reference by digest ("repo@sha256:<64 hex>").
type Set map[string]string

// Var is the dotenv variable of a service's image: API_IMAGE, WORKER_IMAGE, AIRFLOW_IMAGE.
func Var(service string) string { return strings.ToUpper(service) + "_IMAGE" }

// FromPublished records what a push returned ("repo:tag@sha256:…") as "repo@sha256:…".
func (s Set) FromPublished(service, published string) error {
	ref, err := ParseDigestReference(published)
	if err != nil {
		return fmt.Errorf("%s: the registry answered %q, not a digest reference: %w", service, published, err)
	}
	byDigest, err := DigestReference(ref.Repository, ref.Digest)
	if err != nil {
		return err
	}
	s[service] = byDigest
	return nil
}

// Validate checks that every service is present and pinned by digest, and nothing else is.
func (s Set) Validate() error {
	var probs []string
	for _, svc := range Services {
		ref, ok := s[svc]
		if !ok || ref == "" {
			probs = append(probs, fmt.Sprintf("%s: missing: pass --%s-image=repo@sha256:… (GitLab: $%s from the publish job's dotenv)", svc, svc, Var(svc)))
			continue
		}
		parsed, err := ParseDigestReference(ref)
		if err != nil || parsed.Tag != "" {
			probs = append(probs, fmt.Sprintf("%s: %q is not pinned by digest: want repo@sha256:<64 hex> (images are promoted by digest, never by tag)", svc, ref))
		}
	}
	for svc := range s {
		if !contains(Services, svc) {
			probs = append(probs, fmt.Sprintf("unknown service %q: want %s", svc, strings.Join(Services, ", ")))
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return fmt.Errorf("image set: %s", strings.Join(probs, "; "))
	}
	return nil
}

// Digests maps each service to its bare digest (sha256:…), for the traceability record.
func (s Set) Digests() map[string]string {
	out := map[string]string{}
	for svc, ref := range s {
		if parsed, err := ParseDigestReference(ref); err == nil {
			out[svc] = parsed.Digest
		}
	}
	return out
}

// References lists the image references in service order (services without one are skipped).
func (s Set) References() []string {
	var out []string
	for _, svc := range Services {
		if ref, ok := s[svc]; ok {
			out = append(out, ref)
		}
	}
	return out
}

// Dotenv renders the set as KEY=VALUE lines in service order (GitLab `artifacts:reports:dotenv`).
func (s Set) Dotenv() string {
	var b strings.Builder
	for _, svc := range Services {
		if ref, ok := s[svc]; ok {
			fmt.Fprintf(&b, "%s=%s\n", Var(svc), ref)
		}
	}
	return b.String()
}

// JSON renders the set as an indented JSON object.
func (s Set) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(map[string]string(s), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
