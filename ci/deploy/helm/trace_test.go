package helm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

var fixtureTrace = helm.Trace{
	GitCommit: "0123456789abcdef0123456789abcdef01234567",
	ImageDigests: map[string]string{
		"api":     "sha256:" + strings.Repeat("a1", 32),
		"worker":  "sha256:" + strings.Repeat("b2", 32),
		"airflow": "sha256:" + strings.Repeat("c3", 32),
	},
	DatasetVersion: "dvc-staging-2024.06.01",
	ModelVersion:   "soccer-predict/7",
	Environment:    helm.Staging,
}

func TestParseTrace(t *testing.T) {
	m := stagingManifest(t)
	got, err := helm.ParseTrace(m, "sp")
	require.NoError(t, err)
	assert.Equal(t, fixtureTrace, got)
	require.NoError(t, got.Validate(helm.Staging))

	got, err = helm.ParseTrace(m, "")
	require.NoError(t, err, "without a release name the single -trace ConfigMap is used")
	assert.Equal(t, fixtureTrace, got)

	_, err = helm.ParseTrace(m, "other")
	assert.ErrorContains(t, err, "ConfigMap other-trace")
	_, err = helm.ParseTrace(m, "Bad_Name")
	assert.ErrorContains(t, err, "DNS-1123")
}

func TestParseTraceDetectsInconsistentOrBrokenRecords(t *testing.T) {
	base := string(stagingManifest(t))
	cases := map[string]struct {
		manifest string
		want     string
	}{
		"no trace configmap": {strings.ReplaceAll(base, "name: sp-trace", "name: sp-other"), "no ConfigMap sp-trace"},
		"workload differs": {strings.Replace(base, `soccerpredict.io/model-version: "soccer-predict/7"`, `soccerpredict.io/model-version: "soccer-predict/6"`, 1),
			"different traceability record"},
		"annotation missing":  {strings.Replace(base, `soccerpredict.io/dataset-version:`, `x-dataset-version:`, 1), "no soccerpredict.io/dataset-version annotation"},
		"bad environment":     {strings.ReplaceAll(base, `soccerpredict.io/environment: "staging"`, `soccerpredict.io/environment: "qa"`), "dev, staging, production"},
		"digests not json":    {strings.ReplaceAll(base, `soccerpredict.io/image-digests: "{`, `soccerpredict.io/image-digests: "[{`), "not a JSON object"},
		"bad digest":          {strings.ReplaceAll(base, "sha256:"+strings.Repeat("a1", 32), "sha256:abc"), "not sha256"},
		"not a manifest":      {"kind: [", "not YAML"},
		"annotation not text": {strings.ReplaceAll(base, `soccerpredict.io/git-commit: "0123456789abcdef0123456789abcdef01234567"`, `soccerpredict.io/git-commit: 12345`), "not a string"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, base, c.manifest, "the edit applied")
			_, err := helm.ParseTrace([]byte(c.manifest), "sp")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	two := base + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x-trace\n  annotations:\n    soccerpredict.io/git-commit: abc1234\n"
	_, err := helm.ParseTrace([]byte(two), "")
	assert.ErrorContains(t, err, "several trace ConfigMaps")
}

func TestTraceAnnotationsRoundTrip(t *testing.T) {
	ann, err := fixtureTrace.Annotations()
	require.NoError(t, err)
	assert.Len(t, ann, len(helm.TraceAnnotations))
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rel-trace\n  annotations:\n")
	for _, k := range helm.TraceAnnotations {
		b.WriteString("    " + k + ": '" + ann[k] + "'\n")
	}
	got, err := helm.ParseTrace([]byte(b.String()), "rel")
	require.NoError(t, err)
	assert.Equal(t, fixtureTrace, got)
	assert.Equal(t, "rel-trace", helm.TraceConfigMapName("rel"))
}

func TestTraceValidate(t *testing.T) {
	require.NoError(t, fixtureTrace.Validate(helm.Staging))
	assert.ErrorContains(t, fixtureTrace.Validate(helm.Production), "differs from the target")
	assert.NoError(t, helm.Trace{}.Validate(helm.Dev))
	assert.ErrorContains(t, helm.Trace{}.Validate(helm.Production), "git commit is empty")
	bad := fixtureTrace
	bad.ImageDigests = map[string]string{"api": "latest"}
	assert.ErrorContains(t, bad.Validate(helm.Staging), "image api")
	assert.Error(t, fixtureTrace.Validate("qa"))
}

func FuzzParseTrace(f *testing.F) {
	f.Add(stagingManifest(f), "sp")
	f.Add([]byte("kind: ConfigMap\nmetadata:\n  name: a-trace\n  annotations:\n    soccerpredict.io/git-commit: x\n"), "")
	f.Add([]byte("kind: ConfigMap\nmetadata:\n  name: a-trace\n  annotations: {soccerpredict.io/image-digests: '{}'}\n"), "a")
	f.Fuzz(func(t *testing.T, manifest []byte, release string) {
		tr, err := helm.ParseTrace(manifest, release)
		if err != nil {
			return
		}
		_, err = helm.ParseEnv(string(tr.Environment))
		require.NoError(t, err)
		require.NotNil(t, tr.ImageDigests)
		for _, d := range tr.ImageDigests {
			if d != "" {
				require.NoError(t, helm.ValidateDigest(d))
			}
		}
		// The record survives a trip through the chart's annotation format.
		ann, err := tr.Annotations()
		require.NoError(t, err)
		require.Equal(t, string(tr.Environment), ann[helm.AnnotationEnvironment])
	})
}
