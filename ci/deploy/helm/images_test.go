package helm_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

func TestImageRepositoriesOfTheStagingManifest(t *testing.T) {
	repos, err := helm.ImageRepositories(stagingManifest(t))
	require.NoError(t, err)
	const registry = "registry.example.com/soccerpredictai/soccerpredict/"
	// Every digest of the release's record is pulled from a repository the manifest names.
	objs, err := helm.TraceObjects(stagingManifest(t))
	require.NoError(t, err)
	tr, err := trace.FromManifest(objs, "sp")
	require.NoError(t, err)
	want := map[domain.Digest]domain.Repository{}
	for svc, d := range tr.ImageDigests {
		want[d] = domain.Repository(registry + string(svc))
	}
	assert.Len(t, want, 3)
	assert.Equal(t, want, repos)
}

func asDomain(m map[string]string) map[domain.Digest]domain.Repository {
	out := map[domain.Digest]domain.Repository{}
	for d, r := range m {
		out[domain.Digest(d)] = domain.Repository(r)
	}
	return out
}

// workloadDoc renders one workload of kind with the given containers and initContainers images.
func workloadDoc(kind, name string, images, initImages []string) string {
	list := func(field string, imgs []string) string {
		if len(imgs) == 0 {
			return ""
		}
		var b strings.Builder
		b.WriteString(field + ":\n")
		for i, img := range imgs {
			fmt.Fprintf(&b, "  - name: c%d\n    image: %q\n", i, img)
		}
		return b.String()
	}
	pod := list("containers", images) + list("initContainers", initImages)
	indent := func(s string, n int) string {
		pad := strings.Repeat(" ", n)
		var b strings.Builder
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			b.WriteString(pad + l + "\n")
		}
		return b.String()
	}
	if pod == "" {
		pod = "containers: []\n"
	}
	head := fmt.Sprintf("---\napiVersion: apps/v1\nkind: %s\nmetadata:\n  name: %s\nspec:\n", kind, name)
	if kind == "CronJob" {
		return head + "  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" + indent(pod, 10)
	}
	return head + "  template:\n    spec:\n" + indent(pod, 6)
}

func TestImageRepositories(t *testing.T) {
	const repo = "registry.gitlab.com/sp/app"
	cases := []struct {
		name     string
		manifest string
		want     map[string]string
	}{
		{"empty manifest", "", map[string]string{}},
		{"a Deployment", workloadDoc("Deployment", "api", []string{repo + "/api@" + dA}, nil), map[string]string{dA: repo + "/api"}},
		{"a StatefulSet", workloadDoc("StatefulSet", "db", []string{repo + "/db@" + dA}, nil), map[string]string{dA: repo + "/db"}},
		{"a DaemonSet", workloadDoc("DaemonSet", "agent", []string{repo + "/agent@" + dA}, nil), map[string]string{dA: repo + "/agent"}},
		{"a Job", workloadDoc("Job", "migrate", []string{repo + "/api@" + dA}, nil), map[string]string{dA: repo + "/api"}},
		{"a CronJob's job template", workloadDoc("CronJob", "retrain", []string{repo + "/worker@" + dB}, []string{repo + "/init@" + dC}),
			map[string]string{dB: repo + "/worker", dC: repo + "/init"}},
		{"init containers", workloadDoc("Deployment", "api", []string{repo + "/api@" + dA}, []string{repo + "/migrate@" + dB}),
			map[string]string{dA: repo + "/api", dB: repo + "/migrate"}},
		{"the tag is dropped", workloadDoc("Deployment", "api", []string{repo + "/api:v1.4.0@" + dA}, nil), map[string]string{dA: repo + "/api"}},
		{"a registry port is not a tag", workloadDoc("Deployment", "api", []string{"localhost:5000/sp/api@" + dA, "localhost:5000/sp/worker:1@" + dB}, nil),
			map[string]string{dA: "localhost:5000/sp/api", dB: "localhost:5000/sp/worker"}},
		{"images by tag are skipped", workloadDoc("Deployment", "api", []string{repo + "/api:dev", repo + "/worker@" + dB, ""}, nil), map[string]string{dB: repo + "/worker"}},
		{"several containers and workloads",
			workloadDoc("Deployment", "web", []string{repo + "/airflow@" + dC}, nil) + workloadDoc("Deployment", "scheduler", []string{repo + "/airflow@" + dC, repo + "/api@" + dA}, nil),
			map[string]string{dA: repo + "/api", dC: repo + "/airflow"}},
		{"one digest in two repositories: the smallest is kept",
			workloadDoc("Deployment", "a", []string{repo + "/zz@" + dA}, nil) + workloadDoc("Job", "b", []string{repo + "/aa@" + dA}, nil) + workloadDoc("CronJob", "c", []string{repo + "/mm@" + dA}, nil),
			map[string]string{dA: repo + "/aa"}},
		{"other kinds are ignored", "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: " + repo + "/pod@" + dA + "\n" +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  readme: |\n    image: " + repo + "/text@" + dB + "\n",
			map[string]string{}},
		{"a CronJob's spec.template is not its pod template",
			"---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          image: " + repo + "/x@" + dA + "\n",
			map[string]string{}},
		{"a workload without a pod template", "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n", map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := helm.ImageRepositories([]byte(c.manifest))
			require.NoError(t, err, c.manifest)
			assert.Equal(t, asDomain(c.want), got)
		})
	}
}

func TestImageRepositoriesRefuses(t *testing.T) {
	const repo = "registry.gitlab.com/sp/app"
	cases := []struct {
		name, manifest string
		want           []string
	}{
		{"not YAML", "kind: [\n", []string{"not YAML"}},
		{"not an object", "- a\n- b\n", []string{"not a Kubernetes object"}},
		{"containers is not a list", "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: nginx\n",
			[]string{"Deployment/api", "not a Kubernetes pod spec"}},
		{"a container is not an object", "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      initContainers:\n        - nginx\n",
			[]string{"Job/j", "not a Kubernetes pod spec"}},
		{"a digest that is not sha256:<64 hex>", workloadDoc("Deployment", "api", []string{repo + "/api@sha256:abc"}, nil),
			[]string{"Deployment/api", "spec.template.spec.containers[0] (c0)", "sha256:abc"}},
		{"an uppercase digest", workloadDoc("StatefulSet", "s", []string{repo + "/api@" + strings.ToUpper(dA)}, nil), []string{"StatefulSet/s", "digest"}},
		{"another algorithm", workloadDoc("Deployment", "api", []string{repo + "/api@sha512:" + strings.Repeat("a", 128)}, nil), []string{"digest"}},
		{"a bad repository in an init container", workloadDoc("CronJob", "retrain", []string{repo + "/ok@" + dA}, []string{"Registry.Gitlab.com/SP/api@" + dB}),
			[]string{"CronJob/retrain", "spec.jobTemplate.spec.template.spec.initContainers[0]", "repository"}},
		{"a digest without a repository", workloadDoc("DaemonSet", "d", []string{"@" + dA}, nil), []string{"DaemonSet/d", "repository is empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := helm.ImageRepositories([]byte(c.manifest))
			require.Error(t, err)
			assert.Nil(t, got)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Property: for random manifests of workloads, ImageRepositories maps exactly the digests pinned
// in pod templates to their repositories (tags dropped, the smallest repository on a clash),
// whatever the order of the documents.
func TestImageRepositoriesProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(29))
	kinds := []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
	repos := []string{"registry.gitlab.com/sp/app/api", "registry.gitlab.com/sp/app/worker", "localhost:5000/x/airflow", "ghcr.io/a/b-c/d_e"}
	digests := []string{dA, dB, dC, "sha256:" + strings.Repeat("0f", 32)}
	tags := []string{"", ":v1.2.3", ":latest", ":main-0123abcd"}
	for range 500 {
		want := map[string]string{}
		var docs []string
		image := func() string {
			r, tag := repos[rng.Intn(len(repos))], tags[rng.Intn(len(tags))]
			if rng.Intn(5) == 0 {
				return r + ":dev" // by tag only
			}
			d := digests[rng.Intn(len(digests))]
			if prev, ok := want[d]; !ok || r < prev {
				want[d] = r
			}
			return r + tag + "@" + d
		}
		for i := range rng.Intn(6) {
			var imgs, inits []string
			for range rng.Intn(3) {
				imgs = append(imgs, image())
			}
			for range rng.Intn(2) {
				inits = append(inits, image())
			}
			docs = append(docs, workloadDoc(kinds[rng.Intn(len(kinds))], fmt.Sprintf("w%d", i), imgs, inits))
		}
		got, err := helm.ImageRepositories([]byte(strings.Join(docs, "")))
		require.NoError(t, err, strings.Join(docs, ""))
		require.Equal(t, asDomain(want), got, strings.Join(docs, ""))
		rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
		again, err := helm.ImageRepositories([]byte(strings.Join(docs, "")))
		require.NoError(t, err)
		require.Equal(t, got, again, "the order of the documents does not matter")
	}
}

func FuzzImageRepositories(f *testing.F) {
	f.Add([]byte(workloadDoc("Deployment", "api", []string{"registry.gitlab.com/sp/app/api:v1@" + dA}, []string{"r.io/x/y@" + dB})))
	f.Add([]byte(workloadDoc("CronJob", "c", []string{"localhost:5000/a/b@" + dC}, nil)))
	f.Add([]byte(workloadDoc("Job", "j", []string{"a/b@sha256:zz", "a/b:dev"}, nil)))
	f.Add([]byte("---\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers: 5\n"))
	f.Add([]byte("---\nkind: StatefulSet\nmetadata:\n  name: s\nspec:\n  template: [1]\n"))
	f.Add([]byte("kind: DaemonSet\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n        - image: &x a/b@" + dA + "\n        - image: *x\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		repos, err := helm.ImageRepositories(data)
		if err != nil {
			if repos != nil {
				t.Fatalf("a map with an error: %v", repos)
			}
			return
		}
		if repos == nil {
			t.Fatal("nil map without an error")
		}
		for d, r := range repos {
			if _, err := domain.ParsePinnedRef(domain.Pinned(r, d).String()); err != nil {
				t.Fatalf("%s@%s: %v", r, d, err)
			}
		}
	})
}
