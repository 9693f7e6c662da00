// Image labels: the OCI labels stamped on every service image, so that an
// image says which commit, dataset and model it was built from:
//
//	org.opencontainers.image.revision   full git commit (domain.Commit)
//	org.opencontainers.image.source     repository URL (no credentials)
//	org.opencontainers.image.created    RFC 3339 timestamp, normalised to UTC (passed in)
//	org.opencontainers.image.version    image version (release or branch tag)
//	org.opencontainers.image.title      image title, e.g. soccer-predict-api
//	io.soccerpredict.dataset.version    dataset version (see dvc.ProjectDataset)
//	io.soccerpredict.dataset.pointer    the DVC file it was read from (.dvc file or dvc.lock)
//	io.soccerpredict.model.version      model version (explicit or from the metrics file)
//
// Nothing here reads the clock or the environment; the caller passes every value.

package trace

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
)

// Label keys stamped at build time besides the ones trace.go reads back (LabelRevision,
// LabelDatasetVersion, LabelDatasetPointer, LabelModelVersion).
const (
	LabelSource  = "org.opencontainers.image.source"
	LabelCreated = "org.opencontainers.image.created"
	LabelVersion = "org.opencontainers.image.version"
	LabelTitle   = "org.opencontainers.image.title"
)

// MaxValueLength bounds version-like label values.
const MaxValueLength = 256

// Info is what the labels are computed from.
type Info struct {
	// Revision is the commit (CI_COMMIT_SHA), parsed by domain.ParseCommit; required.
	Revision domain.Commit
	// Source is the repository web URL (CI_PROJECT_URL), http(s), without credentials.
	Source string
	// Created is the build time as an RFC 3339 timestamp (e.g. the commit time).
	Created string
	// Version is the image version: the release tag or the branch tag.
	Version string
	// Title is the image title, e.g. "soccer-predict-api".
	Title string
	// DatasetVersion is optional; see DatasetVersion.
	DatasetVersion string
	// DatasetPointer is the DVC file DatasetVersion was read from (Dataset.Pointer); optional,
	// only with DatasetVersion.
	DatasetPointer string
	// ModelVersion is optional; see ModelVersion.
	ModelVersion string
}

// Labels validates i and returns the label map. Optional values that are empty are
// left out. Created is normalised to UTC ("2025-03-01T09:00:00Z").
func Labels(i Info) (map[string]string, error) {
	if i.Revision == "" {
		return nil, fmt.Errorf("commit is empty: pass `git rev-parse HEAD` (GitLab: --commit=$CI_COMMIT_SHA)")
	}
	src, err := validateSource(i.Source)
	if err != nil {
		return nil, err
	}
	created, err := NormalizeCreated(i.Created)
	if err != nil {
		return nil, err
	}
	if err := validateValue("image version", i.Version, "the release tag (v1.2.3) or the branch tag", true); err != nil {
		return nil, err
	}
	if err := validateTitle(i.Title); err != nil {
		return nil, err
	}
	l := map[string]string{
		LabelRevision: string(i.Revision),
		LabelSource:   src,
		LabelCreated:  created,
		LabelVersion:  i.Version,
		LabelTitle:    i.Title,
	}
	if i.DatasetVersion != "" {
		if err := validateVersionString("dataset version", i.DatasetVersion, "the value dvc.ProjectDataset computes"); err != nil {
			return nil, err
		}
		l[LabelDatasetVersion] = i.DatasetVersion
	}
	if i.DatasetPointer != "" {
		if i.DatasetVersion == "" {
			return nil, fmt.Errorf("dataset pointer %s given without a dataset version: pass both (ProjectDataset returns them together)", i.DatasetPointer)
		}
		if err := dvc.ValidatePointer(i.DatasetPointer); err != nil {
			return nil, err
		}
		l[LabelDatasetPointer] = i.DatasetPointer
	}
	if i.ModelVersion != "" {
		if err := validateVersionString("model version", i.ModelVersion, "the MLflow model version"); err != nil {
			return nil, err
		}
		l[LabelModelVersion] = i.ModelVersion
	}
	return l, nil
}

// SortedKeys returns the label keys in sorted order (for deterministic WithLabel calls).
func SortedKeys(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NormalizeCreated parses an RFC 3339 timestamp and renders it in UTC.
func NormalizeCreated(s string) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || strings.TrimSpace(s) != s {
		return "", fmt.Errorf("created time %q is not an RFC 3339 timestamp: pass e.g. 2025-03-01T09:00:00Z (git show -s --format=%%cI HEAD)", s)
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}

func validateSource(s string) (string, error) {
	const fix = "pass the project web URL (GitLab: CI_PROJECT_URL), e.g. https://gitlab.com/group/project"
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return "", fmt.Errorf("source URL is empty or malformed: %s", fix)
	}
	if u.User != nil {
		// Never echo the URL: it carries credentials (CI_REPOSITORY_URL does).
		return "", fmt.Errorf("source URL carries credentials: %s, not the clone URL", fix)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("source URL %q is not an absolute http(s) URL: %s", s, fix)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return "", fmt.Errorf("source URL %q contains whitespace: %s", s, fix)
	}
	return s, nil
}

func validateTitle(t string) error {
	if strings.TrimSpace(t) == "" {
		return fmt.Errorf("image title is empty: pass e.g. soccer-predict-api")
	}
	if len(t) > MaxValueLength {
		return fmt.Errorf("image title is longer than %d characters: shorten it", MaxValueLength)
	}
	for _, c := range t {
		if c < ' ' || c == 0x7f {
			return fmt.Errorf("image title %q contains control characters: pass e.g. soccer-predict-api", t)
		}
	}
	return nil
}

// validateValue applies ci/trace's rule: printable ASCII without spaces, at most
// MaxValueLength characters.
func validateValue(what, v, fix string, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%s is empty: set it to %s", what, fix)
		}
		return nil
	}
	if len(v) > MaxValueLength {
		return fmt.Errorf("%s is longer than %d characters: set it to %s", what, MaxValueLength, fix)
	}
	for _, c := range v {
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%s %q contains whitespace or non-printable characters: set it to %s", what, v, fix)
		}
	}
	return nil
}
