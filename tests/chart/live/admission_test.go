package live_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// deployment is a one-container Deployment of image with annotations.
func deployment(name, image string, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

func TestAdmissionPolicyRefusesWhatThePipelineDidNotVouchFor(t *testing.T) {
	t.Parallel()
	ns := namespace(t, "live-admission")
	createNamespace(t, ns)
	outside := namespace(t, "live-admission-other")
	createNamespace(t, outside)

	// The operator's one-time install, by the same helm; the policy covers this test's namespace.
	name := "soccer-predict-admission-live"
	mustHelm(t, []string{"helm", "upgrade", "--install", name, filepath.Join(repoRoot(), "charts", "soccer-predict-admission"),
		"--namespace", "default", "--set-json", `namespaces=["` + ns + `"]`, "--wait=watcher", "--timeout", "1m0s"})
	t.Cleanup(func() {
		_, _, _ = runHelm(context.Background(), t, kubeconfig, []string{"helm", "uninstall", name, "--namespace", "default"})
	})

	good := release(ns, domain.Production, "admitted")
	rec := expected(good).Annotations()
	pinned := good.Images[domain.API].String()
	ctx := context.Background()
	create := func(d *appsv1.Deployment) error {
		_, err := kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		return err
	}

	// A tag: refused with the policy's message (the API server takes a moment to load the policy).
	tagged := registry + "/api:1.2.3"
	require.Eventually(t, func() bool { // a dry run passes admission and stores nothing
		_, err := kube.AppsV1().Deployments(ns).Create(ctx, deployment("tagged", tagged, rec), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "soccer-predict admission")
	}, 30*time.Second, 250*time.Millisecond, "the policy never refused a tagged image")
	err := create(deployment("tagged", tagged, rec))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "soccer-predict admission: images must be pinned by digest from "+registry+" (what the pipeline published): refused "+tagged)
	assert.Contains(t, err.Error(), "ValidatingAdmissionPolicy '"+name+"'")

	// By digest, but from another registry: refused.
	foreign := "docker.io/library/nginx@" + string(digest("nginx"))
	err = create(deployment("foreign", foreign, rec))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused "+foreign)

	// By digest from the registry, without the record: refused, naming what is missing.
	err = create(deployment("unrecorded", pinned, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "soccer-predict admission: Deployment unrecorded lacks the traceability annotations soccerpredict.io/environment, soccerpredict.io/git-commit, soccerpredict.io/image-digests, soccerpredict.io/dataset-version, soccerpredict.io/model-version")

	// A record that does not list the image it runs: refused.
	other := registry + "/api@" + string(digest("not-recorded"))
	err = create(deployment("mismatch", other, rec))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "runs images its soccerpredict.io/image-digests annotation does not record")

	// The positive twins: the same pinned, recorded Deployment is admitted; a bare Pod by tag is
	// refused too, while the policy leaves other namespaces alone.
	require.NoError(t, create(deployment("vouched", pinned, rec)))
	_, err = kube.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: tagged}}}}, metav1.CreateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused "+tagged)
	_, err = kube.AppsV1().Deployments(outside).Create(ctx, deployment("tagged", tagged, nil), metav1.CreateOptions{})
	require.NoError(t, err)

	// The module's own deploy (its argv, its chart) is admitted, and its pods run.
	mustUpgrade(t, good)
	assertServing(t, good)
}
