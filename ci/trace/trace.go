// Package trace is the traceability record of a deployment: which git commit, which image digests,
// which dataset version and which model version run in an environment, and under which release.
//
// The record travels three ways and this package reads and writes all of them:
//
//   - the chart's `trace.*` values the deploy step passes to Helm (ChartValues), which the chart
//     writes as Kubernetes annotations on the release's workloads and its <release>-trace ConfigMap
//     (Annotations / FromAnnotations; FromManifest reads and cross-checks them in a deployed manifest);
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
	"regexp"
	"sort"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
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

// Record is the traceability record of one deployment: what the deploy step passes to the chart
// (ChartValues), what the chart writes as annotations (Annotations, read back by FromAnnotations
// and FromManifest), and what `trace` and `release` report (Text, JSON).
type Record struct {
	// Environment is the target environment.
	Environment domain.Environment `json:"environment"`
	// GitCommit is the full commit the images were built from ("" only in dev).
	GitCommit domain.Commit `json:"git_commit"`
	// ImageDigests maps a service to its image digest; in dev a digest may be "" (an image run
	// by tag).
	ImageDigests map[domain.Service]domain.Digest `json:"image_digests"`
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

// maxVersionLen bounds dataset and model version strings.
const maxVersionLen = 128

// versionPattern is the one rule for a dataset or model version: 1-128 characters from letters,
// digits and . _ : / @ + -, starting with a letter or digit. It is safe in a Helm --set-string
// value (no ',', '{', '[' or backslash) and in an annotation or label.
var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$`)

// Validate checks that the record is complete for its environment and returns every problem at
// once (nil when valid). Its commit, digests and environment are domain values, parsed where they
// entered; Validate checks what the environment requires of them: a complete record (the commit,
// a digest for every image listed, at least one image, the dataset and model versions) where
// [domain.Environment.RequiresTrace] holds, while dev may leave them empty. Versions and the
// dataset pointer, when present, must follow their rule.
func (r Record) Validate() error {
	var errs []error
	if _, err := domain.ParseEnvironment(string(r.Environment)); err != nil {
		errs = append(errs, fmt.Errorf("trace record: %w", err))
	}
	complete := r.Environment.RequiresTrace()
	if r.GitCommit == "" && complete {
		errs = append(errs, fmt.Errorf("git commit is empty: %s deploys must record it; pass --commit=$CI_COMMIT_SHA", r.Environment))
	}
	if len(r.ImageDigests) == 0 && complete {
		errs = append(errs, errors.New("no image digests: the record must name the digest of every deployed image (publish's images.json)"))
	}
	for _, svc := range sortedKeys(r.ImageDigests) {
		if r.ImageDigests[svc] == "" && complete {
			errs = append(errs, fmt.Errorf("image %s has no digest: %s deploys images by digest (publish's images.env)", svc, r.Environment))
		}
	}
	if r.DatasetVersion != "" || complete {
		if err := validateVersionString("dataset version", r.DatasetVersion, "the DVC dataset version (the md5 of the dataset's .dvc file from `dvc add`, or of dvc.lock)"); err != nil {
			errs = append(errs, err)
		}
	}
	if r.DatasetPointer != "" {
		if err := dvc.ValidatePointer(r.DatasetPointer); err != nil {
			errs = append(errs, err)
		}
	}
	if r.ModelVersion != "" || complete {
		if err := validateVersionString("model version", r.ModelVersion, "the MLflow model version behind the champion alias"); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Release != "" {
		if _, err := domain.ParseVersion(r.Release); err != nil {
			errs = append(errs, fmt.Errorf("release: %w", err))
		}
	}
	return errors.Join(errs...)
}

func validateVersionString(what, v, fix string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is empty: set it to %s", what, fix)
	case len(v) > maxVersionLen:
		return fmt.Errorf("%s is longer than %d characters: set it to %s", what, maxVersionLen, fix)
	case !versionPattern.MatchString(v):
		return fmt.Errorf("%s %q is not a version label (letters, digits and . _ : / @ + -, starting with a letter or digit): set it to %s", what, v, fix)
	}
	return nil
}

// Text renders the record as aligned "key: value" lines, services sorted by name; an empty value
// (possible in dev) reads "(unknown)".
func (r Record) Text() string {
	type kv struct{ k, v string }
	lines := []kv{{"environment", orUnknown(string(r.Environment))}, {"git commit", orUnknown(string(r.GitCommit))}}
	for _, svc := range sortedKeys(r.ImageDigests) {
		lines = append(lines, kv{"image " + string(svc), orUnknown(string(r.ImageDigests[svc]))})
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
// (dataset pointer, release, deployed-at) are left out when empty.
func (r Record) Annotations() map[string]string {
	digests := r.ImageDigests
	if digests == nil {
		digests = map[domain.Service]domain.Digest{}
	}
	js, _ := json.Marshal(digests) // a map of strings always marshals; keys come out sorted
	a := map[string]string{
		AnnotationEnvironment:    string(r.Environment),
		AnnotationGitCommit:      string(r.GitCommit),
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

// ChartValues returns the record as the chart's `trace.*` values, in a fixed order, for Helm's
// --set-string: the chart writes them into the annotations (Annotations) of every workload and of
// the ConfigMap <release>-trace, and derives the image digests from `images.<service>.digest`.
func (r Record) ChartValues() [][2]string {
	v := [][2]string{
		{"trace.gitCommit", string(r.GitCommit)},
		{"trace.datasetVersion", r.DatasetVersion},
		{"trace.modelVersion", r.ModelVersion},
		{"trace.environment", string(r.Environment)},
	}
	if r.DatasetPointer != "" {
		v = append(v, [2]string{"trace.datasetPointer", r.DatasetPointer})
	}
	return v
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
	if env, ok := ann[AnnotationEnvironment]; !ok {
		need(AnnotationEnvironment)
	} else if e, err := domain.ParseEnvironment(env); err != nil {
		errs = append(errs, fmt.Errorf("annotation %s: %w", AnnotationEnvironment, err))
	} else {
		r.Environment = e
	}
	if c := need(AnnotationGitCommit); c != "" {
		commit, err := domain.ParseCommit(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", AnnotationGitCommit, err))
		}
		r.GitCommit = commit
	}
	r.DatasetVersion = need(AnnotationDatasetVersion)
	r.ModelVersion = need(AnnotationModelVersion)
	if raw, ok := ann[AnnotationImageDigests]; !ok {
		need(AnnotationImageDigests)
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

// parseDigestMap decodes the image-digests annotation: exactly one JSON object of service to
// digest ("" for an image run by tag), without duplicate keys and with nothing after it.
func parseDigestMap(raw string) (map[domain.Service]domain.Digest, error) {
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
	m := map[domain.Service]domain.Digest{}
	var errs []error
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
		svc, err := domain.ParseService(key)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", AnnotationImageDigests, err))
			continue
		}
		if _, dup := m[svc]; dup {
			return nil, bad(fmt.Sprintf("service %q appears twice", key))
		}
		var d domain.Digest
		if val != "" { // a local render with global.allowTags runs images by tag
			if d, err = domain.ParseDigest(val); err != nil {
				errs = append(errs, fmt.Errorf("annotation %s: image %s: %w", AnnotationImageDigests, svc, err))
				continue
			}
		}
		m[svc] = d
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return nil, bad(err.Error())
	}
	if rest := strings.Trim(raw[dec.InputOffset():], " \t\r\n"); rest != "" {
		return nil, bad("there is data after the object")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// ImageLabels is what an image says about itself through its OCI labels.
type ImageLabels struct {
	// Revision is the git commit the image was built from (org.opencontainers.image.revision).
	Revision domain.Commit
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
		DatasetVersion: labels[LabelDatasetVersion],
		DatasetPointer: labels[LabelDatasetPointer],
		ModelVersion:   labels[LabelModelVersion],
	}
	var errs []error
	if l.DatasetPointer != "" {
		if err := dvc.ValidatePointer(l.DatasetPointer); err != nil {
			errs = append(errs, fmt.Errorf("label %s: %w", LabelDatasetPointer, err))
		}
	}
	if rev := labels[LabelRevision]; rev == "" {
		errs = append(errs, fmt.Errorf("label %s is missing: build the image with the pipeline's build function, which sets it", LabelRevision))
	} else if c, err := domain.ParseCommit(rev); err != nil {
		errs = append(errs, fmt.Errorf("label %s: %w", LabelRevision, err))
	} else {
		l.Revision = c
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
func (r Record) CheckLabels(labels map[domain.Service]map[string]string) error {
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

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
