package chart_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	citrace "gitlab.com/soccerpredictai/pipeline/ci/trace"
)

var digestRef = regexp.MustCompile(`^[a-z0-9./:-]+@sha256:[a-f0-9]{64}$`)

type envExpect struct {
	apiReplicas    int32
	workerReplicas int32
	pdbMin         *intstr.IntOrString
	pdbMaxUnavail  *intstr.IntOrString
	ingressHost    string
}

func intOrStr(i int) *intstr.IntOrString { v := intstr.FromInt32(int32(i)); return &v }

var expectations = map[domain.Environment]envExpect{
	domain.Dev:        {apiReplicas: 1, workerReplicas: 1, pdbMaxUnavail: intOrStr(1)},
	domain.Staging:    {apiReplicas: 2, workerReplicas: 2, pdbMin: intOrStr(1), ingressHost: "api.staging.soccerpredict.example"},
	domain.Production: {apiReplicas: 3, workerReplicas: 3, pdbMin: intOrStr(2), ingressHost: "api.soccerpredict.example"},
}

func renderEnv(t *testing.T, env domain.Environment) (string, *objects) {
	t.Helper()
	rendered, err := render(t, envValues(t, env, nil), "soccerpredict-"+string(env), false)
	require.NoError(t, err)
	m := manifest(rendered)
	return m, decodeAll(t, m)
}

func TestChartRendersEveryEnvironment(t *testing.T) {
	for _, env := range domain.Environments() {
		t.Run(string(env), func(t *testing.T) {
			m, objs := renderEnv(t, env)
			want := expectations[env]

			names := []string{"sp-api", "sp-worker", "sp-airflow-webserver", "sp-airflow-scheduler"}
			require.Len(t, objs.Deployments, len(names))
			for _, n := range names {
				require.Contains(t, objs.Deployments, n)
			}
			require.Contains(t, objs.Services, "sp-api")
			require.Contains(t, objs.ServiceAccounts, "sp")
			require.Contains(t, objs.ConfigMaps, "sp-config")
			require.Contains(t, objs.ConfigMaps, "sp-trace")
			require.Contains(t, objs.Secrets, "sp-secrets")

			tr := trace(env)
			tr.ImageDigests = map[domain.Service]domain.Digest{}
			for svc, d := range digests {
				tr.ImageDigests[domain.Service(svc)] = domain.Digest(d)
			}
			wantAnn := tr.Annotations()

			for name, d := range objs.Deployments {
				t.Run(name, func(t *testing.T) {
					checkWorkload(t, d, wantAnn)
				})
			}

			api := objs.Deployments["sp-api"]
			require.Equal(t, want.apiReplicas, *api.Spec.Replicas)
			require.Equal(t, want.workerReplicas, *objs.Deployments["sp-worker"].Spec.Replicas)
			checkAPI(t, api)
			checkWorker(t, objs.Deployments["sp-worker"])
			checkAirflow(t, objs.Deployments["sp-airflow-webserver"], "http", 8080)
			checkAirflow(t, objs.Deployments["sp-airflow-scheduler"], "health", 8974)

			// PDB selects the API pods.
			pdb := objs.PDBs["sp-api"]
			require.NotNil(t, pdb, "the API needs a PodDisruptionBudget")
			assert.Equal(t, want.pdbMin, pdb.Spec.MinAvailable)
			assert.Equal(t, want.pdbMaxUnavail, pdb.Spec.MaxUnavailable)
			assert.Equal(t, api.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
			if pdb.Spec.MinAvailable != nil {
				assert.Less(t, pdb.Spec.MinAvailable.IntValue(), int(*api.Spec.Replicas), "minAvailable below replicas, or nodes never drain")
			}

			// Service targets the API's named port.
			svc := objs.Services["sp-api"]
			assert.Equal(t, api.Spec.Selector.MatchLabels, svc.Spec.Selector)
			require.Len(t, svc.Spec.Ports, 1)
			assert.Equal(t, intstr.FromString("http"), svc.Spec.Ports[0].TargetPort)

			// Ingress only where an environment enables it.
			if want.ingressHost == "" {
				assert.Empty(t, objs.Ingresses)
			} else {
				ing := objs.Ingresses["sp-api"]
				require.NotNil(t, ing)
				require.Len(t, ing.Spec.Rules, 1)
				assert.Equal(t, want.ingressHost, ing.Spec.Rules[0].Host)
				assert.Equal(t, "sp-api", ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)
				require.Len(t, ing.Spec.TLS, 1)
			}

			// Trace ConfigMap carries the record; ci/deploy/helm reads it back.
			cm := objs.ConfigMaps["sp-trace"]
			for k, v := range wantAnn {
				assert.Equal(t, v, cm.Annotations[k], k)
			}
			assert.Equal(t, string(env), cm.Data["environment"])
			got, err := parseTrace([]byte(m), releaseName)
			require.NoError(t, err)
			assert.Equal(t, tr, got)

			// Secret holds the decrypted SOPS values as UPPER_SNAKE keys.
			sec := objs.Secrets["sp-secrets"]
			require.ElementsMatch(t, []string{"DATABASE_URL", "CELERY_BROKER_URL", "MLFLOW_TRACKING_TOKEN"}, keys(sec.Data))
			assert.Contains(t, string(sec.Data["DATABASE_URL"]), "FAKE-"+string(env))
			assert.Equal(t, corev1.SecretTypeOpaque, sec.Type)

			// Config reaches the pods.
			assert.Equal(t, string(env), objs.ConfigMaps["sp-config"].Data["ENVIRONMENT"])
		})
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func checkWorkload(t *testing.T, d *appsv1.Deployment, wantAnn map[string]string) {
	t.Helper()
	for k, v := range wantAnn {
		assert.Equal(t, v, d.Annotations[k], "release annotation %s", k)
	}
	var digestsAnn map[string]string
	require.NoError(t, json.Unmarshal([]byte(d.Annotations[citrace.AnnotationImageDigests]), &digestsAnn))
	assert.Equal(t, digests, digestsAnn)

	pod := d.Spec.Template
	assert.Regexp(t, `^[a-f0-9]{64}$`, pod.Annotations["checksum/config"])
	assert.Regexp(t, `^[a-f0-9]{64}$`, pod.Annotations["checksum/secret"])
	assert.Equal(t, d.Spec.Selector.MatchLabels["app.kubernetes.io/component"], pod.Labels["app.kubernetes.io/component"])

	psc := pod.Spec.SecurityContext
	require.NotNil(t, psc)
	require.NotNil(t, psc.RunAsNonRoot)
	assert.True(t, *psc.RunAsNonRoot)
	require.NotNil(t, psc.RunAsUser)
	assert.EqualValues(t, 10001, *psc.RunAsUser)
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
	require.NotNil(t, pod.Spec.AutomountServiceAccountToken)
	assert.False(t, *pod.Spec.AutomountServiceAccountToken)
	assert.Equal(t, "sp", pod.Spec.ServiceAccountName)

	var tmpVolume bool
	for _, v := range pod.Spec.Volumes {
		if v.Name == "tmp" && v.EmptyDir != nil {
			tmpVolume = true
		}
	}
	assert.True(t, tmpVolume, "an emptyDir volume named tmp")

	require.NotEmpty(t, pod.Spec.Containers)
	for _, c := range pod.Spec.Containers {
		assert.Regexp(t, digestRef, c.Image, "container %s must be pinned by digest", c.Name)
		require.NotNil(t, c.ReadinessProbe, "container %s readiness probe", c.Name)
		require.NotNil(t, c.LivenessProbe, "container %s liveness probe", c.Name)
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, ok := c.Resources.Requests[res]
			assert.True(t, ok && !req.IsZero(), "container %s request %s", c.Name, res)
			lim, ok := c.Resources.Limits[res]
			assert.True(t, ok && !lim.IsZero(), "container %s limit %s", c.Name, res)
			assert.True(t, req.Cmp(lim) <= 0, "container %s %s request above limit", c.Name, res)
		}
		sc := c.SecurityContext
		require.NotNil(t, sc, "container %s securityContext", c.Name)
		require.NotNil(t, sc.RunAsNonRoot)
		assert.True(t, *sc.RunAsNonRoot)
		require.NotNil(t, sc.RunAsUser)
		assert.EqualValues(t, 10001, *sc.RunAsUser)
		require.NotNil(t, sc.AllowPrivilegeEscalation)
		assert.False(t, *sc.AllowPrivilegeEscalation)
		require.NotNil(t, sc.Capabilities)
		assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
		assert.Empty(t, sc.Capabilities.Add)
		require.NotNil(t, sc.SeccompProfile)
		assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
		require.NotNil(t, sc.ReadOnlyRootFilesystem)
		var tmpMount bool
		for _, m := range c.VolumeMounts {
			if m.Name == "tmp" && m.MountPath == "/tmp" {
				tmpMount = true
			}
		}
		assert.True(t, tmpMount, "container %s mounts the tmp emptyDir at /tmp", c.Name)
		var envFromConfig, envFromSecret bool
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == "sp-config" {
				envFromConfig = true
			}
			if ef.SecretRef != nil && ef.SecretRef.Name == "sp-secrets" {
				envFromSecret = true
			}
		}
		assert.True(t, envFromConfig && envFromSecret, "container %s gets config and secrets", c.Name)
	}
}

func checkAPI(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	c := d.Spec.Template.Spec.Containers[0]
	assert.Equal(t, registry+"/api@"+digests["api"], c.Image)
	require.Len(t, c.Ports, 1)
	assert.Equal(t, "http", c.Ports[0].Name)
	assert.EqualValues(t, 8000, c.Ports[0].ContainerPort)
	require.NotNil(t, c.ReadinessProbe.HTTPGet)
	assert.Equal(t, "/healthz", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, intstr.FromString("http"), c.ReadinessProbe.HTTPGet.Port)
	require.NotNil(t, c.LivenessProbe.HTTPGet)
	assert.Equal(t, "/livez", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, intstr.FromString("http"), c.LivenessProbe.HTTPGet.Port)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem, "the API runs with a read-only root filesystem")
	require.NotNil(t, d.Spec.Strategy.RollingUpdate)
	assert.Equal(t, intstr.FromInt32(0), *d.Spec.Strategy.RollingUpdate.MaxUnavailable)
}

func checkWorker(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	assert.Equal(t, registry+"/worker@"+digests["worker"], c.Image)
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		require.NotNil(t, p.Exec, "the worker probes with an exec command")
		cmd := strings.Join(p.Exec.Command, " ")
		assert.Contains(t, cmd, "celery")
		assert.Contains(t, cmd, "inspect ping")
		assert.Contains(t, cmd, `celery@$HOSTNAME`, "ping this worker, not any worker")
	}
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	var app string
	for _, e := range c.Env {
		if e.Name == "CELERY_APP" {
			app = e.Value
		}
	}
	assert.Equal(t, "soccerpredict.worker", app)
}

func checkAirflow(t *testing.T, d *appsv1.Deployment, portName string, port int32) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	assert.Equal(t, registry+"/airflow@"+digests["airflow"], c.Image)
	var found bool
	for _, p := range c.Ports {
		if p.Name == portName && p.ContainerPort == port {
			found = true
		}
	}
	assert.True(t, found, "%s exposes %s:%d", d.Name, portName, port)
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		require.NotNil(t, p.HTTPGet)
		assert.Equal(t, "/health", p.HTTPGet.Path)
		assert.Equal(t, intstr.FromString(portName), p.HTTPGet.Port)
	}
	var logs bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/opt/airflow/logs" {
			logs = true
		}
	}
	assert.True(t, logs, "airflow logs go to an emptyDir")
}
