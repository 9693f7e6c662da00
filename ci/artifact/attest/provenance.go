package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// in-toto and SLSA identifiers.
const (
	// StatementType is the in-toto v1 Statement's _type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateSLSAProvenance is the SLSA v1 provenance predicate type.
	PredicateSLSAProvenance = "https://slsa.dev/provenance/v1"
	// BuildType names this pipeline's build: one service image built by the soccer-predict
	// Dagger module from the repository's Dockerfile at a commit. Its external parameters are
	// ExternalParameters.
	BuildType = "https://gitlab.com/soccerpredictai/pipeline/buildtypes/dagger-image/v1"
	// DigestGitCommit is the digest algorithm name SLSA uses for a git commit.
	DigestGitCommit = "gitCommit"
)

// Statement is an in-toto v1 Statement with a SLSA v1 provenance predicate.
type Statement struct {
	Type          string     `json:"_type"`
	Subject       []Subject  `json:"subject"`
	PredicateType string     `json:"predicateType"`
	Predicate     Provenance `json:"predicate"`
}

// Subject is an artifact the statement is about: here the image, by its manifest digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Provenance is the SLSA v1 provenance predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what was built and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ExternalParameters are the inputs a user controls (SLSA: the ones to verify).
type ExternalParameters struct {
	// Source is the git repository (https URL of the project).
	Source string `json:"source"`
	// Ref is the branch or tag built (CI_COMMIT_REF_NAME).
	Ref string `json:"ref"`
	// Service is the service whose Dockerfile was built (api, worker, airflow).
	Service string `json:"service"`
	// DatasetVersion is the DVC dataset version baked into the image's labels.
	DatasetVersion string `json:"datasetVersion,omitempty"`
	// ModelVersion is the model version baked into the image's labels.
	ModelVersion string `json:"modelVersion,omitempty"`
}

// InternalParameters are set by the pipeline itself.
type InternalParameters struct {
	// Pipeline is the CI pipeline that built the image (GitLab: $CI_PIPELINE_URL or id).
	Pipeline string `json:"pipeline,omitempty"`
	// Registry is the repository prefix images are pushed to.
	Registry string `json:"registry,omitempty"`
}

// ResourceDescriptor is a SLSA v1 resource descriptor (the subset used here).
type ResourceDescriptor struct {
	Name   string            `json:"name,omitempty"`
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// RunDetails says who built it and when.
type RunDetails struct {
	Builder  Builder       `json:"builder"`
	Metadata BuildMetadata `json:"metadata"`
}

// Builder identifies the build platform.
type Builder struct {
	ID string `json:"id"`
}

// BuildMetadata identifies one invocation.
type BuildMetadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// BuildInput is what publish knows about one pushed image.
type BuildInput struct {
	// Image is the pushed image by digest: repo@sha256:<64 hex>. Required.
	Image domain.ImageRef
	// Service is the service built. Required.
	Service domain.Service
	// Commit is the git commit built. Required.
	Commit domain.Commit
	// Ref is the branch or tag (CI_COMMIT_REF_NAME). Required.
	Ref string
	// SourceURL is the project's https URL (CI_PROJECT_URL). Required.
	SourceURL string
	// Pipeline identifies the run (CI_PIPELINE_URL, CI_PIPELINE_ID, or "local"). Required.
	Pipeline string
	// BuilderID identifies the builder (the module and engine version). Required.
	BuilderID string
	// DatasetVersion and ModelVersion are recorded as given.
	DatasetVersion, ModelVersion string
	// Registry is the repository prefix.
	Registry string
	// BaseImages are the images the build started from, each by digest (repo[:tag]@sha256:…),
	// as the engine resolved them. At least one.
	BaseImages []domain.ImageRef
	// StartedOn and FinishedOn bracket the build. Required, in order.
	StartedOn, FinishedOn time.Time
}

// NewProvenance builds the SLSA v1 provenance statement of one pushed image. Every field is
// checked: a digest or commit that is not one is refused, nothing is guessed.
func NewProvenance(in BuildInput) (Statement, error) {
	var probs []string
	img := in.Image
	if img.Digest == "" {
		probs = append(probs, fmt.Sprintf("image: %s is not pinned by digest: record the pushed image as repo@sha256:<64 hex>", img))
	}
	if in.Commit == "" {
		probs = append(probs, "commit is empty: pass --commit=$CI_COMMIT_SHA")
	}
	for field, v := range map[string]string{"service": string(in.Service), "ref": in.Ref, "source URL": in.SourceURL, "pipeline": in.Pipeline, "builder id": in.BuilderID} {
		if strings.TrimSpace(v) == "" {
			probs = append(probs, fmt.Sprintf("%s is empty", field))
		}
	}
	if len(in.BaseImages) == 0 {
		probs = append(probs, "no base image: record the images the build started from, by digest")
	}
	var deps []ResourceDescriptor
	if in.Commit != "" {
		deps = append(deps, ResourceDescriptor{Name: "source", URI: "git+" + in.SourceURL + "@" + in.Ref, Digest: map[string]string{DigestGitCommit: string(in.Commit)}})
	}
	bases := append([]domain.ImageRef(nil), in.BaseImages...)
	sort.Slice(bases, func(i, j int) bool { return bases[i].String() < bases[j].String() })
	for _, b := range bases {
		if b.Digest == "" {
			probs = append(probs, fmt.Sprintf("base image %q is not pinned by digest: record the image the engine resolved, repo[:tag]@sha256:<64 hex>", b))
			continue
		}
		deps = append(deps, ResourceDescriptor{Name: "base-image", URI: b.String(), Digest: map[string]string{domain.DigestAlgorithm: b.Digest.Hex()}})
	}
	if in.StartedOn.IsZero() || in.FinishedOn.IsZero() || in.FinishedOn.Before(in.StartedOn) {
		probs = append(probs, "build times missing or out of order: pass when the build started and finished")
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return Statement{}, fmt.Errorf("provenance of %s: %s", in.Image, strings.Join(probs, "; "))
	}
	return Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: string(img.Repository), Digest: map[string]string{domain.DigestAlgorithm: img.Digest.Hex()}}},
		PredicateType: PredicateSLSAProvenance,
		Predicate: Provenance{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Source: in.SourceURL, Ref: in.Ref, Service: string(in.Service),
					DatasetVersion: in.DatasetVersion, ModelVersion: in.ModelVersion,
				},
				InternalParameters:   InternalParameters{Pipeline: in.Pipeline, Registry: in.Registry},
				ResolvedDependencies: deps,
			},
			RunDetails: RunDetails{
				Builder:  Builder{ID: in.BuilderID},
				Metadata: BuildMetadata{InvocationID: in.Pipeline, StartedOn: in.StartedOn.UTC(), FinishedOn: in.FinishedOn.UTC()},
			},
		},
	}, nil
}

// JSON renders the statement (stable field order, UTC times).
func (s Statement) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("provenance: encode JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseStatement reads an in-toto v1 Statement with a SLSA v1 provenance predicate.
func ParseStatement(data []byte) (Statement, error) {
	var s Statement
	if err := json.Unmarshal(data, &s); err != nil {
		return Statement{}, fmt.Errorf("provenance is not valid JSON: %w", err)
	}
	switch {
	case s.Type != StatementType:
		return Statement{}, fmt.Errorf("provenance _type is %q, not %q", s.Type, StatementType)
	case s.PredicateType != PredicateSLSAProvenance:
		return Statement{}, fmt.Errorf("provenance predicateType is %q, not %q", s.PredicateType, PredicateSLSAProvenance)
	case len(s.Subject) == 0:
		return Statement{}, fmt.Errorf("provenance has no subject")
	case s.Predicate.BuildDefinition.BuildType == "":
		return Statement{}, fmt.Errorf("provenance has no buildDefinition.buildType")
	case s.Predicate.RunDetails.Builder.ID == "":
		return Statement{}, fmt.Errorf("provenance has no runDetails.builder.id")
	}
	return s, nil
}

// Commit is the git commit the statement says was built ("" when none).
func (s Statement) Commit() string {
	for _, d := range s.Predicate.BuildDefinition.ResolvedDependencies {
		if c := d.Digest[DigestGitCommit]; c != "" {
			return c
		}
	}
	return ""
}

// Covers reports whether digest is one of the statement's subjects.
func (s Statement) Covers(digest domain.Digest) bool {
	if digest == "" {
		return false
	}
	for _, sub := range s.Subject {
		if sub.Digest[domain.DigestAlgorithm] == digest.Hex() {
			return true
		}
	}
	return false
}
