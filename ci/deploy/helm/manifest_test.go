package helm_test

import (
	"encoding/base64"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

func stagingManifest(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "staging-manifest.yaml"))
	require.NoError(t, err)
	return b
}

// The fixture's secret values, base64 and plain, must never show in output.
var secretNeedles = []string{"FAKE-staging", base64.StdEncoding.EncodeToString([]byte("FAKE-staging-mlflow-token-not-a-real-secret"))}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, n := range secretNeedles {
		assert.NotContains(t, s, n)
	}
	assert.NotContains(t, s, "cG9zdGdyZXNxbDovL3NvY2NlcnByZWRpY3Q6RkFLRS1zdGFnaW5n", "base64 of the database URL")
}

func TestSplitManifest(t *testing.T) {
	objs, err := helm.SplitManifest(stagingManifest(t))
	require.NoError(t, err)
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key())
	}
	assert.Equal(t, []string{
		"ConfigMap/sp-config", "ConfigMap/sp-trace",
		"Deployment/sp-airflow-scheduler", "Deployment/sp-airflow-webserver", "Deployment/sp-api", "Deployment/sp-worker",
		"Ingress/sp-api", "PodDisruptionBudget/sp-api", "Secret/sp-secrets", "Service/sp-api", "ServiceAccount/sp",
	}, keys)
	assert.Equal(t, "apps/v1", objs[2].APIVersion)
	assert.NotContains(t, objs[0].Body, "# Source", "comments are dropped from the canonical body")

	ns, err := helm.SplitManifest([]byte("kind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n---\n---\n# only a comment\n"))
	require.NoError(t, err)
	require.Len(t, ns, 1)
	assert.Equal(t, "ConfigMap/x/a", ns[0].Key())

	for name, bad := range map[string]string{
		"not yaml":   "kind: [",
		"a list":     "- a\n- b\n",
		"no kind":    "metadata:\n  name: a\n",
		"no name":    "kind: ConfigMap\nmetadata: {}\n",
		"a scalar":   "hello\n",
		"name isn't": "kind: ConfigMap\nmetadata:\n  name: 3\n",
	} {
		_, err := helm.SplitManifest([]byte(bad))
		assert.Error(t, err, name)
	}
}

func TestRedactSecrets(t *testing.T) {
	in := stagingManifest(t)
	out, err := helm.RedactSecrets(in)
	require.NoError(t, err)
	assertNoSecrets(t, string(out))
	assert.Contains(t, string(out), "DATABASE_URL: <redacted>")
	assert.Contains(t, string(out), "# Source: soccer-predict/templates/secret.yaml", "comments are kept")
	assert.Contains(t, string(out), "MLFLOW_TRACKING_URI: \"http://mlflow:5000\"", "other documents are untouched")

	// Same objects, only the Secret's values differ.
	a, err := helm.SplitManifest(in)
	require.NoError(t, err)
	b, err := helm.SplitManifest(out)
	require.NoError(t, err)
	require.Equal(t, len(a), len(b))
	for i := range a {
		if a[i].Kind == "Secret" {
			assert.NotEqual(t, a[i].Body, b[i].Body)
			continue
		}
		assert.Equal(t, a[i].Body, b[i].Body, a[i].Key())
	}

	strData, err := helm.RedactSecrets([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: LEAKCHECK\ndata: null\n"))
	require.NoError(t, err)
	assert.NotContains(t, string(strData), "LEAKCHECK")
	assert.Contains(t, string(strData), "data: null")

	_, err = helm.RedactSecrets([]byte("a: ["))
	assert.Error(t, err)
}

// edit changes one object of a manifest (parsed with yaml.v3) and returns
// the new manifest.
func edit(t *testing.T, manifest []byte, kind, name string, f func(m map[string]any)) []byte {
	t.Helper()
	objs, err := helm.SplitManifest(manifest)
	require.NoError(t, err)
	var b strings.Builder
	for _, o := range objs {
		body := o.Body
		if o.Kind == kind && o.Name == name {
			var m map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(body), &m))
			f(m)
			out, err := yaml.Marshal(m)
			require.NoError(t, err)
			body = string(out)
		}
		b.WriteString("---\n" + body)
	}
	return []byte(b.String())
}

func TestDiffManifests(t *testing.T) {
	old := stagingManifest(t)

	same, err := helm.DiffManifests(old, old, "live", "candidate")
	require.NoError(t, err)
	assert.True(t, same.Empty())
	assert.Empty(t, same.Unified)
	assert.Equal(t, "0 changed, 0 added, 0 removed", same.Summary())

	// A new API digest, a rotated secret, a removed Ingress and a new ConfigMap.
	newDigest := "sha256:" + strings.Repeat("d", 64)
	cand := []byte(strings.ReplaceAll(string(old), "sha256:"+strings.Repeat("a1", 32), newDigest))
	cand = edit(t, cand, "Secret", "sp-secrets", func(m map[string]any) {
		m["data"].(map[string]any)["MLFLOW_TRACKING_TOKEN"] = base64.StdEncoding.EncodeToString([]byte("FAKE-staging-rotated"))
	})
	var kept []string
	for _, doc := range strings.Split(string(cand), "\n---\n") {
		if !strings.Contains(doc, "kind: Ingress") {
			kept = append(kept, doc)
		}
	}
	cand = []byte(strings.Join(kept, "\n---\n") + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sp-extra\ndata:\n  a: b\n")

	d, err := helm.DiffManifests(old, cand, "live (revision 4)", "candidate")
	require.NoError(t, err)
	assert.False(t, d.Empty())
	assert.Equal(t, []string{"ConfigMap/sp-extra"}, d.Added)
	assert.Equal(t, []string{"Ingress/sp-api"}, d.Removed)
	assert.Equal(t, []string{"ConfigMap/sp-trace", "Deployment/sp-airflow-scheduler", "Deployment/sp-airflow-webserver",
		"Deployment/sp-api", "Deployment/sp-worker", "Secret/sp-secrets"}, d.Changed)
	assert.Equal(t, "6 changed, 1 added, 1 removed", d.Summary())

	u := d.Unified
	assert.True(t, strings.HasPrefix(u, "--- live (revision 4)\n+++ candidate\n"), u[:60])
	assert.Regexp(t, `(?m)^\+ +image: registry.example.com/soccerpredictai/soccerpredict/api@`+newDigest+`$`, u)
	assert.Contains(t, u, "-  MLFLOW_TRACKING_TOKEN: <redacted>\n+  MLFLOW_TRACKING_TOKEN: <redacted, changed>")
	assert.Contains(t, u, "  DATABASE_URL: <redacted>\n", "unchanged secret values stay as context, redacted")
	assert.Contains(t, u, "-kind: Ingress")
	assertNoSecrets(t, u)
	assert.NotContains(t, u, "rotated")
}

func TestDiffManifestsIgnoresOrderAndFormatting(t *testing.T) {
	a := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"1\"\n  y: \"2\"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n")
	b := []byte("# Source: x\nkind: Service\napiVersion: v1\nmetadata: {name: s}\n---\nkind: ConfigMap\napiVersion: v1\ndata:\n    y: '2'\n    x: '1'\nmetadata:\n    name: a\n")
	d, err := helm.DiffManifests(a, b, "a", "b")
	require.NoError(t, err)
	assert.True(t, d.Empty(), d.Unified)
}

func TestDiffManifestsErrors(t *testing.T) {
	good := []byte("kind: ConfigMap\nmetadata:\n  name: a\n")
	_, err := helm.DiffManifests([]byte("kind: ["), good, "live", "candidate")
	assert.ErrorContains(t, err, "live")
	_, err = helm.DiffManifests(good, []byte("kind: ["), "live", "candidate")
	assert.ErrorContains(t, err, "candidate")
	_, err = helm.DiffManifests(good, append(append([]byte{}, good...), append([]byte("---\n"), good...)...), "live", "candidate")
	assert.ErrorContains(t, err, "appears twice")
}

// randomManifest builds n ConfigMaps/Secrets with random data.
func randomManifest(r *rand.Rand) []byte {
	var b strings.Builder
	for i, n := 0, 1+r.Intn(6); i < n; i++ {
		kind := []string{"ConfigMap", "Secret", "Service"}[r.Intn(3)]
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: %s\nmetadata:\n  name: o%d\ndata:\n", kind, i)
		for j, m := 0, r.Intn(4); j < m; j++ {
			fmt.Fprintf(&b, "  k%d: \"v%d\"\n", j, r.Intn(3))
		}
	}
	return []byte(b.String())
}

// Property: a manifest never differs from itself or from a reordering of
// its documents; the diff of two manifests lists each object at most once
// and only objects that really changed.
func TestDiffManifestsProperty(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for i := 0; i < 300; i++ {
		a := randomManifest(r)
		docs := strings.Split(strings.TrimPrefix(string(a), "---\n"), "---\n")
		r.Shuffle(len(docs), func(x, y int) { docs[x], docs[y] = docs[y], docs[x] })
		shuffled := []byte("---\n" + strings.Join(docs, "---\n"))
		d, err := helm.DiffManifests(a, shuffled, "a", "b")
		require.NoError(t, err)
		require.True(t, d.Empty(), "%s\n%s", a, d.Unified)

		b := randomManifest(r)
		d, err = helm.DiffManifests(a, b, "a", "b")
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, k := range append(append(append([]string{}, d.Added...), d.Removed...), d.Changed...) {
			require.False(t, seen[k], "%s listed twice", k)
			seen[k] = true
		}
		require.Equal(t, d.Empty(), d.Unified == "")
		ao, _ := helm.SplitManifest(a)
		bo, _ := helm.SplitManifest(b)
		if len(ao) == len(bo) {
			same := true
			for j := range ao {
				same = same && ao[j].Key() == bo[j].Key() && ao[j].Body == bo[j].Body
			}
			require.Equal(t, same, d.Empty())
		}
	}
}

func FuzzSplitManifest(f *testing.F) {
	f.Add([]byte("kind: ConfigMap\nmetadata:\n  name: a\n---\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: dg==\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("kind: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := helm.SplitManifest(data)
		if err != nil {
			return
		}
		for i, o := range objs {
			require.NotEmpty(t, o.Kind)
			require.NotEmpty(t, o.Name)
			if i > 0 {
				p := objs[i-1]
				require.False(t, p.Kind > o.Kind || (p.Kind == o.Kind && p.Namespace > o.Namespace), "sorted")
			}
		}
		d, err := helm.DiffManifests(data, data, "a", "b")
		if err == nil {
			require.True(t, d.Empty())
		}
		red, err := helm.RedactSecrets(data)
		require.NoError(t, err, "input that splits also redacts")
		again, err := helm.SplitManifest(red)
		require.NoError(t, err)
		require.Equal(t, len(objs), len(again))
	})
}
