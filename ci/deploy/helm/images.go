package helm

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// container is the part of a Kubernetes container that names its image.
type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
}

// podTemplate is the part of a pod template that lists its containers.
type podTemplate struct {
	Spec struct {
		Containers     []container `yaml:"containers"`
		InitContainers []container `yaml:"initContainers"`
	} `yaml:"spec"`
}

// workload is the part of a Deployment, StatefulSet, DaemonSet, Job or CronJob that holds its
// pod template: spec.template, or spec.jobTemplate.spec.template for a CronJob.
type workload struct {
	Spec struct {
		Template    podTemplate `yaml:"template"`
		JobTemplate struct {
			Spec struct {
				Template podTemplate `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

// ImageRepositories maps every image digest the workloads of a rendered manifest (`helm get
// manifest` or `helm template` output) pull to the repository they pull it from, the tag of a
// "repo:tag@sha256:..." image dropped. It reads the containers and initContainers of the pod
// template of every Deployment, StatefulSet, DaemonSet and Job (spec.template.spec) and CronJob
// (spec.jobTemplate.spec.template.spec); other objects are ignored, and so are images without a
// digest (a local render may run images by tag). When one digest is pulled from several
// repositories (the same image, copied), the lexically smallest repository is kept.
//
// A manifest that does not split into objects, a pod template that is not a pod spec, and an
// image with a digest that is not repository[:tag]@sha256:<64 hex> are errors.
func ImageRepositories(manifest []byte) (map[domain.Digest]domain.Repository, error) {
	objs, err := SplitManifest(manifest)
	if err != nil {
		return nil, err
	}
	out := map[domain.Digest]domain.Repository{}
	for _, o := range objs {
		if !trace.IsWorkload(o.Kind) {
			continue
		}
		var w workload
		if err := yaml.Unmarshal([]byte(o.Body), &w); err != nil {
			return nil, fmt.Errorf("%s: its pod template is not a Kubernetes pod spec (%v): the manifest was not rendered by Helm from a valid chart", o.Key(), err)
		}
		pod, where := w.Spec.Template, "spec.template.spec"
		if o.Kind == "CronJob" {
			pod, where = w.Spec.JobTemplate.Spec.Template, "spec.jobTemplate.spec.template.spec"
		}
		for _, list := range []struct {
			field      string
			containers []container
		}{{"containers", pod.Spec.Containers}, {"initContainers", pod.Spec.InitContainers}} {
			for i, c := range list.containers {
				if !strings.Contains(c.Image, "@") {
					continue // by tag: no digest to map
				}
				img, err := domain.ParsePinnedRef(c.Image)
				if err != nil {
					return nil, fmt.Errorf("%s %s.%s[%d] (%s): %w", o.Key(), where, list.field, i, c.Name, err)
				}
				if prev, ok := out[img.Digest]; ok && prev < img.Repository {
					continue
				}
				out[img.Digest] = img.Repository
			}
		}
	}
	return out, nil
}
