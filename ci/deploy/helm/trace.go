package helm

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Annotations of the traceability record (defined once, in ci/trace). The chart sets them on
// every workload and on the ConfigMap named <release>-trace.
const (
	AnnotationGitCommit      = trace.AnnotationGitCommit
	AnnotationImageDigests   = trace.AnnotationImageDigests
	AnnotationDatasetVersion = trace.AnnotationDatasetVersion
	// AnnotationDatasetPointer is optional (releases before it have none).
	AnnotationDatasetPointer = trace.AnnotationDatasetPointer
	AnnotationModelVersion   = trace.AnnotationModelVersion
	AnnotationEnvironment    = trace.AnnotationEnvironment
)

// TraceAnnotations lists the annotation keys of the record.
var TraceAnnotations = []string{AnnotationGitCommit, AnnotationImageDigests, AnnotationDatasetVersion, AnnotationModelVersion, AnnotationEnvironment}

// TraceConfigMapName returns the name of the ConfigMap that carries the
// record of release.
func TraceConfigMapName(release string) string { return release + "-trace" }

// workloadKinds are the kinds whose metadata must carry the record.
var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "Job": true, "CronJob": true}

// Annotations returns the record as the chart writes it.
func (t Trace) Annotations() (map[string]string, error) {
	digests := t.ImageDigests
	if digests == nil {
		digests = map[string]string{}
	}
	js, err := json.Marshal(digests)
	if err != nil {
		return nil, err
	}
	a := map[string]string{
		AnnotationGitCommit:      t.GitCommit,
		AnnotationImageDigests:   string(js),
		AnnotationDatasetVersion: t.DatasetVersion,
		AnnotationModelVersion:   t.ModelVersion,
		AnnotationEnvironment:    string(t.Environment),
	}
	if t.DatasetPointer != "" {
		a[AnnotationDatasetPointer] = t.DatasetPointer
	}
	return a, nil
}

// ParseTrace extracts the traceability record from a rendered manifest
// (`helm get manifest` or `helm template` output). It reads the annotations of
// the ConfigMap <release>-trace (with release == "", the only ConfigMap whose
// name ends in -trace and that carries the annotations) and checks that every
// workload in the manifest carries the same record.
func ParseTrace(manifest []byte, release string) (Trace, error) {
	if release != "" {
		if err := ValidateReleaseName(release); err != nil {
			return Trace{}, err
		}
	}
	objs, err := SplitManifest(manifest)
	if err != nil {
		return Trace{}, err
	}
	var carrier *Object
	var candidates []string
	for i := range objs {
		o := &objs[i]
		if o.Kind != "ConfigMap" {
			continue
		}
		if release != "" {
			if o.Name == TraceConfigMapName(release) {
				carrier = o
			}
			continue
		}
		if strings.HasSuffix(o.Name, "-trace") && annotations(o.content)[AnnotationGitCommit] != nil {
			candidates = append(candidates, o.Name)
			carrier = o
		}
	}
	if release == "" && len(candidates) > 1 {
		return Trace{}, fmt.Errorf("the manifest holds several trace ConfigMaps (%s): name the release", strings.Join(candidates, ", "))
	}
	if carrier == nil {
		want := "a ConfigMap named <release>-trace"
		if release != "" {
			want = "ConfigMap " + TraceConfigMapName(release)
		}
		return Trace{}, fmt.Errorf("the manifest has no %s: the release was not deployed with a chart that records traceability; redeploy it with charts/soccer-predict", want)
	}
	t, err := traceFrom(carrier.content, "ConfigMap/"+carrier.Name)
	if err != nil {
		return Trace{}, err
	}
	for _, o := range objs {
		if !workloadKinds[o.Kind] {
			continue
		}
		wt, err := traceFrom(o.content, o.Key())
		if err != nil {
			return Trace{}, err
		}
		if diff := traceDifference(t, wt); diff != "" {
			return Trace{}, fmt.Errorf("%s carries a different traceability record than ConfigMap/%s (%s): the manifest was edited or mixes releases; redeploy", o.Key(), carrier.Name, diff)
		}
	}
	return t, nil
}

func annotations(m map[string]any) map[string]any {
	meta, _ := m["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	return ann
}

// traceFrom reads and validates the record annotations of one object.
func traceFrom(m map[string]any, what string) (Trace, error) {
	ann := annotations(m)
	get := func(key string) (string, error) {
		v, ok := ann[key]
		if !ok {
			return "", fmt.Errorf("%s has no %s annotation: redeploy with charts/soccer-predict", what, key)
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s annotation %s is a %T, not a string", what, key, v)
		}
		return s, nil
	}
	var t Trace
	var err error
	if t.GitCommit, err = get(AnnotationGitCommit); err != nil {
		return Trace{}, err
	}
	if t.DatasetVersion, err = get(AnnotationDatasetVersion); err != nil {
		return Trace{}, err
	}
	if t.ModelVersion, err = get(AnnotationModelVersion); err != nil {
		return Trace{}, err
	}
	if v, ok := ann[AnnotationDatasetPointer]; ok {
		s, isString := v.(string)
		if !isString {
			return Trace{}, fmt.Errorf("%s annotation %s is a %T, not a string", what, AnnotationDatasetPointer, v)
		}
		if err := trace.ValidateDatasetPointer(s); err != nil {
			return Trace{}, fmt.Errorf("%s: %w", what, err)
		}
		t.DatasetPointer = s
	}
	env, err := get(AnnotationEnvironment)
	if err != nil {
		return Trace{}, err
	}
	if t.Environment, err = ParseEnv(env); err != nil {
		return Trace{}, fmt.Errorf("%s: %w", what, err)
	}
	digests, err := get(AnnotationImageDigests)
	if err != nil {
		return Trace{}, err
	}
	if err := json.Unmarshal([]byte(digests), &t.ImageDigests); err != nil || t.ImageDigests == nil {
		return Trace{}, fmt.Errorf("%s annotation %s is not a JSON object of service to digest: redeploy with charts/soccer-predict", what, AnnotationImageDigests)
	}
	for svc, d := range t.ImageDigests {
		if d == "" {
			// A local render with global.allowTags has no digest.
			continue
		}
		if err := ValidateDigest(d); err != nil {
			return Trace{}, fmt.Errorf("%s: image %s: %w", what, svc, err)
		}
	}
	return t, nil
}

// traceDifference names the fields in which a and b differ ("" if none).
func traceDifference(a, b Trace) string {
	var diffs []string
	if a.GitCommit != b.GitCommit {
		diffs = append(diffs, "git-commit")
	}
	if a.DatasetVersion != b.DatasetVersion {
		diffs = append(diffs, "dataset-version")
	}
	if a.DatasetPointer != b.DatasetPointer {
		diffs = append(diffs, "dataset-pointer")
	}
	if a.ModelVersion != b.ModelVersion {
		diffs = append(diffs, "model-version")
	}
	if a.Environment != b.Environment {
		diffs = append(diffs, "environment")
	}
	if len(a.ImageDigests) != len(b.ImageDigests) {
		diffs = append(diffs, "image-digests")
	} else {
		for k, v := range a.ImageDigests {
			if b.ImageDigests[k] != v {
				diffs = append(diffs, "image-digests")
				break
			}
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, ", ")
}
