// Package trace is the traceability record of a deployment: which git commit, which image digests,
// which dataset version and which model version run in an environment, and under which release.
//
// The record travels three ways and this package reads and writes all of them:
//
//   - Kubernetes annotations on the Helm release's workloads (Annotations / FromAnnotations), written by
//     the chart from the values the deploy step passes;
//   - OCI image labels set at build time (FromLabels), which say what each image was built from;
//   - text and JSON (Text / JSON) for the `trace` function and the `trace.json` report.
//
// CheckLabels compares what the cluster says (annotations) with what the images say (labels) and
// reports every disagreement.
package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kubernetes annotation keys carrying the record.
const (
	AnnotationEnvironment    = "soccerpredict.io/environment"
	AnnotationGitCommit      = "soccerpredict.io/git-commit"
	AnnotationImageDigests   = "soccerpredict.io/image-digests" // JSON object: service → sha256 digest
	AnnotationDatasetVersion = "soccerpredict.io/dataset-version"
	// AnnotationDatasetPointer is optional: the DVC file the dataset version came from.
	AnnotationDatasetPointer = "soccerpredict.io/dataset-pointer"
	AnnotationModelVersion   = "soccerpredict.io/model-version"
	AnnotationRelease        = "soccerpredict.io/release"     // optional: vX.Y.Z
	AnnotationDeployedAt     = "soccerpredict.io/deployed-at" // optional: RFC 3339
)

// OCI image label keys set at build time.
const (
	LabelRevision       = "org.opencontainers.image.revision"
	LabelDatasetVersion = "io.soccerpredict.dataset.version"
	// LabelDatasetPointer is optional: the DVC file the dataset version came from.
	LabelDatasetPointer = "io.soccerpredict.dataset.pointer"
	LabelModelVersion   = "io.soccerpredict.model.version"
)

// Record is the traceability record of one deployment.
type Record struct {
	// Environment is the target environment (dev, staging, production).
	Environment string `json:"environment"`
	// GitCommit is the full 40-hex commit the images were built from.
	GitCommit string `json:"git_commit"`
	// ImageDigests maps a service name (api, worker, airflow) to its sha256 image digest.
	ImageDigests map[string]string `json:"image_digests"`
	// DatasetVersion is the DVC dataset version the model was trained on.
	DatasetVersion string `json:"dataset_version"`
	// DatasetPointer is the DVC file the dataset version was read from, relative to the
	// project: the dataset's .dvc file (dvc add) or dvc.lock. Empty when unknown.
	DatasetPointer string `json:"dataset_pointer,omitempty"`
	// ModelVersion is the MLflow registered model version served.
	ModelVersion string `json:"model_version"`
	// Release is the vX.Y.Z release, empty when the deployment is not a release.
	Release string `json:"release,omitempty"`
	// DeployedAt is when the deployment happened; zero for a plan that has not been applied.
	DeployedAt time.Time `json:"deployed_at,omitzero"`
}

var (
	envRE     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	serviceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	releaseRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
)

// maxVersionLen bounds dataset and model version strings.
const maxVersionLen = 256

// Lenient is the environment whose records may be incomplete: the chart lets dev releases (laptop
// runs, images by tag) leave the commit, the dataset and model versions and the digests empty.
const Lenient = "dev"

// Validate checks the record and returns every problem at once (nil when valid). Outside dev the
// commit, at least one image digest and the dataset and model versions are required; in dev they
// may be empty. Whatever is present must be well-formed.
func (r Record) Validate() error {
	var errs []error
	lenient := r.Environment == Lenient
	if !envRE.MatchString(r.Environment) {
		errs = append(errs, fmt.Errorf("environment %q is not a valid environment name: set it to dev, staging or production", r.Environment))
	}
	if !(lenient && r.GitCommit == "") {
		if err := ValidateCommit(r.GitCommit); err != nil {
			errs = append(errs, err)
		}
	}
	if len(r.ImageDigests) == 0 && !lenient {
		errs = append(errs, errors.New("no image digests: the record must name the digest of every deployed image (publish's images.json)"))
	}
	for _, svc := range sortedKeys(r.ImageDigests) {
		if !serviceRE.MatchString(svc) {
			errs = append(errs, fmt.Errorf("invalid service name %q in image digests: use lowercase letters, digits and '-'", svc))
		}
		if lenient && r.ImageDigests[svc] == "" {
			continue
		}
		if err := ValidateDigest(r.ImageDigests[svc]); err != nil {
			errs = append(errs, fmt.Errorf("image %s: %w", svc, err))
		}
	}
	if !(lenient && r.DatasetVersion == "") {
		if err := validateVersionString("dataset version", r.DatasetVersion, "the DVC dataset version (the md5 of the dataset's .dvc file from `dvc add`, or of dvc.lock)"); err != nil {
			errs = append(errs, err)
		}
	}
	if r.DatasetPointer != "" {
		if err := ValidateDatasetPointer(r.DatasetPointer); err != nil {
			errs = append(errs, err)
		}
	}
	if !(lenient && r.ModelVersion == "") {
		if err := validateVersionString("model version", r.ModelVersion, "the MLflow model version behind the champion alias"); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Release != "" && !releaseRE.MatchString(r.Release) {
		errs = append(errs, fmt.Errorf("release %q is not a vX.Y.Z semantic version: pass --version=vX.Y.Z", r.Release))
	}
	return errors.Join(errs...)
}

func validateVersionString(what, v, fix string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is empty: set it to %s", what, fix)
	case len(v) > maxVersionLen:
		return fmt.Errorf("%s is longer than %d characters: set it to %s", what, maxVersionLen, fix)
	}
	for _, c := range v {
		if c <= ' ' || c == 0x7f || c > '~' {
			return fmt.Errorf("%s %q contains whitespace or non-printable characters: set it to %s", what, v, fix)
		}
	}
	return nil
}

// Text renders the record as aligned "key: value" lines, services sorted by name; an empty value
// (possible in dev) reads "(unknown)".
func (r Record) Text() string {
	type kv struct{ k, v string }
	lines := []kv{{"environment", orUnknown(r.Environment)}, {"git commit", orUnknown(r.GitCommit)}}
	for _, svc := range sortedKeys(r.ImageDigests) {
		lines = append(lines, kv{"image " + svc, orUnknown(r.ImageDigests[svc])})
	}
	lines = append(lines, kv{"dataset version", orUnknown(r.DatasetVersion)})
	if r.DatasetPointer != "" {
		lines = append(lines, kv{"dataset pointer", r.DatasetPointer})
	}
	lines = append(lines, kv{"model version", orUnknown(r.ModelVersion)})
	if r.Release != "" {
		lines = append(lines, kv{"release", r.Release})
	}
	if !r.DeployedAt.IsZero() {
		lines = append(lines, kv{"deployed at", r.DeployedAt.UTC().Format(time.RFC3339Nano)})
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l.k)+1)
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s %s\n", width, l.k+":", l.v)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// JSON renders the record as indented JSON (the trace.json report).
func (r Record) JSON() ([]byte, error) {
	out := r
	if !out.DeployedAt.IsZero() {
		out.DeployedAt = out.DeployedAt.UTC()
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render trace record as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// Annotations renders the record as the Kubernetes annotations the chart sets. Optional fields
// (release, deployed-at) are left out when empty.
func (r Record) Annotations() map[string]string {
	digests := r.ImageDigests
	if digests == nil {
		digests = map[string]string{}
	}
	js, _ := json.Marshal(digests) // a map[string]string always marshals; keys come out sorted
	a := map[string]string{
		AnnotationEnvironment:    r.Environment,
		AnnotationGitCommit:      r.GitCommit,
		AnnotationImageDigests:   string(js),
		AnnotationDatasetVersion: r.DatasetVersion,
		AnnotationModelVersion:   r.ModelVersion,
	}
	if r.Release != "" {
		a[AnnotationRelease] = r.Release
	}
	if r.DatasetPointer != "" {
		a[AnnotationDatasetPointer] = r.DatasetPointer
	}
	if !r.DeployedAt.IsZero() {
		a[AnnotationDeployedAt] = r.DeployedAt.UTC().Format(time.RFC3339Nano)
	}
	return a
}

// FromAnnotations reads the record back from a workload's annotations (other annotations are ignored)
// and validates it. Every missing or malformed annotation is reported.
func FromAnnotations(ann map[string]string) (Record, error) {
	var r Record
	var errs []error
	need := func(key string) string {
		v, ok := ann[key]
		if !ok {
			errs = append(errs, fmt.Errorf("annotation %s is missing: redeploy with the chart from this pipeline, which sets it", key))
		}
		return v
	}
	r.Environment = need(AnnotationEnvironment)
	r.GitCommit = need(AnnotationGitCommit)
	r.DatasetVersion = need(AnnotationDatasetVersion)
	r.ModelVersion = need(AnnotationModelVersion)
	if raw, ok := ann[AnnotationImageDigests]; !ok {
		errs = append(errs, fmt.Errorf("annotation %s is missing: redeploy with the chart from this pipeline, which sets it", AnnotationImageDigests))
	} else if d, err := parseDigestMap(raw); err != nil {
		errs = append(errs, err)
	} else {
		r.ImageDigests = d
	}
	r.Release = ann[AnnotationRelease]
	r.DatasetPointer = ann[AnnotationDatasetPointer]
	if raw, ok := ann[AnnotationDeployedAt]; ok && raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s = %q is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)", AnnotationDeployedAt, raw))
		} else {
			r.DeployedAt = t.UTC()
		}
	}
	if len(errs) > 0 {
		return Record{}, errors.Join(errs...)
	}
	if err := r.Validate(); err != nil {
		return Record{}, fmt.Errorf("annotations do not hold a valid trace record: %w", err)
	}
	return r, nil
}

// parseDigestMap decodes the image-digests annotation: exactly one JSON object whose values are
// strings, without duplicate keys and with nothing after it.
func parseDigestMap(raw string) (map[string]string, error) {
	bad := func(why string) error {
		return fmt.Errorf("annotation %s is not a JSON object of service to digest (e.g. {\"api\":\"sha256:…\"}): %s", AnnotationImageDigests, why)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(err.Error())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, bad("it does not start with {")
	}
	m := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err.Error())
		}
		key, ok := tok.(string)
		if !ok {
			return nil, bad("a key is not a string")
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, bad(err.Error())
		}
		val, ok := tok.(string)
		if !ok {
			return nil, bad(fmt.Sprintf("the value of %q is not a string", key))
		}
		if _, dup := m[key]; dup {
			return nil, bad(fmt.Sprintf("service %q appears twice", key))
		}
		m[key] = val
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return nil, bad(err.Error())
	}
	if rest := strings.Trim(raw[dec.InputOffset():], " \t\r\n"); rest != "" {
		return nil, bad("there is data after the object")
	}
	return m, nil
}

// ImageLabels is what an image says about itself through its OCI labels.
type ImageLabels struct {
	// Revision is the git commit the image was built from (org.opencontainers.image.revision).
	Revision string
	// DatasetVersion is the dataset version baked into the image, empty when the image carries none.
	DatasetVersion string
	// DatasetPointer is the DVC file the dataset version came from, empty when the image carries none.
	DatasetPointer string
	// ModelVersion is the model version baked into the image, empty when the image carries none.
	ModelVersion string
}

// FromLabels reads an image's OCI labels. The revision label is required and must be a full commit;
// the dataset and model labels are optional (not every image carries a model).
func FromLabels(labels map[string]string) (ImageLabels, error) {
	l := ImageLabels{
		Revision:       labels[LabelRevision],
		DatasetVersion: labels[LabelDatasetVersion],
		DatasetPointer: labels[LabelDatasetPointer],
		ModelVersion:   labels[LabelModelVersion],
	}
	var errs []error
	if l.DatasetPointer != "" {
		if err := ValidateDatasetPointer(l.DatasetPointer); err != nil {
			errs = append(errs, fmt.Errorf("label %s: %w", LabelDatasetPointer, err))
		}
	}
	if l.Revision == "" {
		errs = append(errs, fmt.Errorf("label %s is missing: build the image with the pipeline's build function, which sets it", LabelRevision))
	} else if err := ValidateCommit(l.Revision); err != nil {
		errs = append(errs, fmt.Errorf("label %s: %w", LabelRevision, err))
	}
	if l.DatasetVersion != "" {
		if err := validateVersionString("label "+LabelDatasetVersion, l.DatasetVersion, "the DVC dataset version"); err != nil {
			errs = append(errs, err)
		}
	}
	if l.ModelVersion != "" {
		if err := validateVersionString("label "+LabelModelVersion, l.ModelVersion, "the MLflow model version"); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return ImageLabels{}, errors.Join(errs...)
	}
	return l, nil
}

// CheckLabels compares the record with the labels of the images it names (labels keyed by service).
// Every service of the record must have labels; the revision must equal the record's commit; a dataset
// or model label, when present, must equal the record's version (values the record leaves empty, as
// dev may, are not compared). Labels of a service the record does
// not list are a mismatch too. All disagreements are reported in one error.
func (r Record) CheckLabels(labels map[string]map[string]string) error {
	var errs []error
	for _, svc := range sortedKeys(r.ImageDigests) {
		raw, ok := labels[svc]
		if !ok {
			errs = append(errs, fmt.Errorf("image %s (%s): no labels to compare: inspect the image's config labels", svc, r.ImageDigests[svc]))
			continue
		}
		l, err := FromLabels(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("image %s (%s): %w", svc, r.ImageDigests[svc], err))
			continue
		}
		if r.GitCommit != "" && l.Revision != r.GitCommit {
			errs = append(errs, fmt.Errorf("image %s was built from commit %s but the deployment records commit %s: the running image does not match its release; redeploy or roll back", svc, l.Revision, r.GitCommit))
		}
		if l.DatasetVersion != "" && r.DatasetVersion != "" && l.DatasetVersion != r.DatasetVersion {
			errs = append(errs, fmt.Errorf("image %s carries dataset version %s but the deployment records %s: rebuild the image from the recorded dataset or fix the record", svc, l.DatasetVersion, r.DatasetVersion))
		}
		if l.ModelVersion != "" && r.ModelVersion != "" && l.ModelVersion != r.ModelVersion {
			errs = append(errs, fmt.Errorf("image %s carries model version %s but the deployment records %s: rebuild the image or fix the record", svc, l.ModelVersion, r.ModelVersion))
		}
	}
	for _, svc := range sortedKeys(labels) {
		if _, ok := r.ImageDigests[svc]; !ok {
			errs = append(errs, fmt.Errorf("labels given for image %s, which the deployment record does not list: the record and the running images disagree", svc))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValidateDatasetPointer checks the name of the DVC file a dataset version was read from:
// "dvc.lock" or a clean relative path ending in ".dvc" (e.g. data/raw/matches.csv.dvc).
func ValidateDatasetPointer(p string) error {
	clean := p == path.Clean(p) && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../") && len(p) <= maxVersionLen
	for _, c := range p {
		if c <= ' ' || c == 0x7f || c > '~' {
			clean = false
		}
	}
	if !clean || (p != "dvc.lock" && (!strings.HasSuffix(p, ".dvc") || p == ".dvc" || strings.HasSuffix(p, "/.dvc"))) {
		return fmt.Errorf("dataset pointer %q is neither dvc.lock nor a project-relative .dvc file: it names the DVC file the dataset version was read from, e.g. data/raw/matches.csv.dvc", p)
	}
	return nil
}
