package trace

import (
	"fmt"
	"sort"
	"strings"
)

// ConfigMapName is the ConfigMap that carries the record of a Helm release: <release>-trace.
func ConfigMapName(release string) string { return release + "-trace" }

// Object is what the record is read from in a rendered manifest: one Kubernetes object's kind,
// name and metadata.annotations as decoded from YAML (ci/deploy/helm.TraceObjects splits a
// manifest into them).
type Object struct {
	// Kind and Name identify the object; Key is how errors name it ("Deployment/sp-api").
	Kind, Name, Key string
	// Annotations are metadata.annotations, values as YAML decoded them (a non-string is an error).
	Annotations map[string]any
}

// IsWorkload reports whether objects of kind run pods (Deployment, StatefulSet, DaemonSet, Job,
// CronJob): their metadata must carry the record, and their images are the release's images.
func IsWorkload(kind string) bool {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob":
		return true
	}
	return false
}

// FromManifest reads the traceability record of a rendered manifest (`helm get manifest` or `helm
// template` output, split into objects): the annotations of the ConfigMap <release>-trace (with
// release == "", the only ConfigMap whose name ends in -trace and that carries the record), and
// checks that every workload carries the same record.
func FromManifest(objs []Object, release string) (Record, error) {
	var carrier *Object
	var candidates []string
	for i := range objs {
		o := &objs[i]
		if o.Kind != "ConfigMap" {
			continue
		}
		if release != "" {
			if o.Name == ConfigMapName(release) {
				carrier = o
			}
			continue
		}
		if strings.HasSuffix(o.Name, "-trace") && o.Annotations[AnnotationGitCommit] != nil {
			candidates = append(candidates, o.Name)
			carrier = o
		}
	}
	if release == "" && len(candidates) > 1 {
		return Record{}, fmt.Errorf("the manifest holds several trace ConfigMaps (%s): name the release", strings.Join(candidates, ", "))
	}
	if carrier == nil {
		want := "a ConfigMap named <release>-trace"
		if release != "" {
			want = "ConfigMap " + ConfigMapName(release)
		}
		return Record{}, fmt.Errorf("the manifest has no %s: the release was not deployed with a chart that records traceability; redeploy it with charts/soccer-predict", want)
	}
	r, err := fromObject(*carrier)
	if err != nil {
		return Record{}, err
	}
	for _, o := range objs {
		if !IsWorkload(o.Kind) {
			continue
		}
		wr, err := fromObject(o)
		if err != nil {
			return Record{}, err
		}
		if diff := difference(r, wr); diff != "" {
			return Record{}, fmt.Errorf("%s carries a different traceability record than %s (%s): the manifest was edited or mixes releases; redeploy", o.Key, carrier.Key, diff)
		}
	}
	return r, nil
}

// fromObject reads the record of one object's annotations.
func fromObject(o Object) (Record, error) {
	ann := map[string]string{}
	for k, v := range o.Annotations {
		if !strings.HasPrefix(k, "soccerpredict.io/") {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Record{}, fmt.Errorf("%s annotation %s is a %T, not a string: redeploy with charts/soccer-predict", o.Key, k, v)
		}
		ann[k] = s
	}
	r, err := FromAnnotations(ann)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", o.Key, err)
	}
	return r, nil
}

// difference names the fields in which a and b differ ("" if none).
func difference(a, b Record) string {
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
			if d, ok := b.ImageDigests[k]; !ok || d != v {
				diffs = append(diffs, "image-digests")
				break
			}
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, ", ")
}
