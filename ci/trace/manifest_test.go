package trace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// stagingManifest is the rendered staging release the helm package's tests split.
func stagingManifest(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "helm", "testdata", "staging-manifest.yaml"))
	require.NoError(t, err)
	return b
}

// fromManifest splits a manifest as the module does and reads its record.
func fromManifest(manifest []byte, release string) (trace.Record, error) {
	objs, err := helm.TraceObjects(manifest)
	if err != nil {
		return trace.Record{}, err
	}
	return trace.FromManifest(objs, release)
}

var fixtureTrace = trace.Record{
	GitCommit: "0123456789abcdef0123456789abcdef01234567",
	ImageDigests: map[domain.Service]domain.Digest{
		"api":     domain.Digest("sha256:" + strings.Repeat("a1", 32)),
		"worker":  domain.Digest("sha256:" + strings.Repeat("b2", 32)),
		"airflow": domain.Digest("sha256:" + strings.Repeat("c3", 32)),
	},
	DatasetVersion: "dvc-staging-2024.06.01",
	ModelVersion:   "soccer-predict/7",
	Environment:    domain.Staging,
}

func TestParseTrace(t *testing.T) {
	m := stagingManifest(t)
	got, err := fromManifest(m, "sp")
	require.NoError(t, err)
	assert.Equal(t, fixtureTrace, got)
	require.NoError(t, got.Validate())

	got, err = fromManifest(m, "")
	require.NoError(t, err, "without a release name the single -trace ConfigMap is used")
	assert.Equal(t, fixtureTrace, got)

	_, err = fromManifest(m, "other")
	assert.ErrorContains(t, err, "ConfigMap other-trace")
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
		"annotation missing":  {strings.Replace(base, `soccerpredict.io/dataset-version:`, `x-dataset-version:`, 1), "annotation soccerpredict.io/dataset-version is missing"},
		"bad environment":     {strings.ReplaceAll(base, `soccerpredict.io/environment: "staging"`, `soccerpredict.io/environment: "qa"`), "dev, staging, production"},
		"digests not json":    {strings.ReplaceAll(base, `soccerpredict.io/image-digests: "{`, `soccerpredict.io/image-digests: "[{`), "not a JSON object"},
		"bad digest":          {strings.ReplaceAll(base, "sha256:"+strings.Repeat("a1", 32), "sha256:abc"), "not sha256"},
		"short commit":        {strings.ReplaceAll(base, `"0123456789abcdef0123456789abcdef01234567"`, `"0123456"`), "abbreviation"},
		"unknown service":     {strings.ReplaceAll(base, `\"worker\":`, `\"web\":`), `unknown service "web"`},
		"not a manifest":      {"kind: [", "not YAML"},
		"annotation not text": {strings.ReplaceAll(base, `soccerpredict.io/git-commit: "0123456789abcdef0123456789abcdef01234567"`, `soccerpredict.io/git-commit: 12345`), "not a string"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, base, c.manifest, "the edit applied")
			_, err := fromManifest([]byte(c.manifest), "sp")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	two := base + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x-trace\n  annotations:\n    soccerpredict.io/git-commit: abc1234\n"
	_, err := fromManifest([]byte(two), "")
	assert.ErrorContains(t, err, "several trace ConfigMaps")
}

func TestTraceAnnotationsRoundTrip(t *testing.T) {
	ann := fixtureTrace.Annotations()
	keys := []string{trace.AnnotationGitCommit, trace.AnnotationImageDigests, trace.AnnotationDatasetVersion, trace.AnnotationModelVersion, trace.AnnotationEnvironment}
	assert.Len(t, ann, len(keys))
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rel-trace\n  annotations:\n")
	for _, k := range keys {
		b.WriteString("    " + k + ": '" + ann[k] + "'\n")
	}
	got, err := fromManifest([]byte(b.String()), "rel")
	require.NoError(t, err)
	assert.Equal(t, fixtureTrace, got)
	assert.Equal(t, "rel-trace", trace.ConfigMapName("rel"))
}

func TestRecordCompleteness(t *testing.T) {
	require.NoError(t, fixtureTrace.Validate())
	assert.NoError(t, trace.Record{Environment: domain.Dev}.Validate(), "dev may deploy without a full record")
	assert.ErrorContains(t, trace.Record{Environment: domain.Production}.Validate(), "git commit is empty")
	bad := fixtureTrace
	bad.ImageDigests = map[domain.Service]domain.Digest{domain.API: ""}
	assert.ErrorContains(t, bad.Validate(), "image api has no digest")
	assert.ErrorContains(t, trace.Record{Environment: "qa"}.Validate(), "dev, staging, production")
}

func FuzzFromManifest(f *testing.F) {
	f.Add(stagingManifest(f), "sp")
	f.Add([]byte("kind: ConfigMap\nmetadata:\n  name: a-trace\n  annotations:\n    soccerpredict.io/git-commit: x\n"), "")
	f.Add([]byte("kind: ConfigMap\nmetadata:\n  name: a-trace\n  annotations: {soccerpredict.io/image-digests: '{}'}\n"), "a")
	f.Fuzz(func(t *testing.T, manifest []byte, release string) {
		tr, err := fromManifest(manifest, release)
		if err != nil {
			return
		}
		_, err = domain.ParseEnvironment(string(tr.Environment))
		require.NoError(t, err)
		require.NotNil(t, tr.ImageDigests)
		for _, d := range tr.ImageDigests {
			if d != "" {
				_, err := domain.ParseDigest(string(d))
				require.NoError(t, err)
			}
		}
		// The record survives a trip through the chart's annotation format.
		again, err := trace.FromAnnotations(tr.Annotations())
		require.NoError(t, err)
		require.Equal(t, tr, again)
	})
}
