package chart_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	citrace "gitlab.com/soccerpredictai/pipeline/ci/trace"
)

func set(path string, v any) map[string]any {
	parts := strings.Split(path, ".")
	var out any = v
	for i := len(parts) - 1; i >= 0; i-- {
		out = map[string]any{parts[i]: out}
	}
	return out.(map[string]any)
}

func renderWith(t *testing.T, env domain.Environment, skipSchema bool, overrides ...map[string]any) (string, error) {
	t.Helper()
	vals := envValues(t, env, nil)
	for _, o := range overrides {
		vals = mergeMaps(vals, o)
	}
	r, err := render(t, vals, "soccerpredict-"+string(env), skipSchema)
	if err != nil {
		return "", err
	}
	return manifest(r), nil
}

func TestMissingDigestFailsWithAClearMessage(t *testing.T) {
	for _, env := range domain.Environments() {
		for _, s := range domain.Services() {
			svc := string(s)
			t.Run(string(env)+"/"+svc, func(t *testing.T) {
				_, err := renderWith(t, env, false, set("images."+svc+".digest", ""))
				require.Error(t, err)
				assert.Contains(t, err.Error(), "images."+svc+".digest is missing")
				assert.Contains(t, err.Error(), "--set-string images."+svc+".digest=sha256:")
			})
		}
	}
}

func TestMalformedDigestFails(t *testing.T) {
	bad := []string{
		"sha256:" + strings.Repeat("A", 64), // upper case
		"sha256:" + strings.Repeat("a", 63), // short
		"sha512:" + strings.Repeat("a", 64), // wrong algorithm
		"latest",                            // a tag
		"sha256:" + strings.Repeat("a", 64) + "\n",
	}
	for _, d := range bad {
		// The schema rejects it first ...
		_, err := renderWith(t, domain.Staging, false, set("images.api.digest", d))
		require.Error(t, err, "%q", d)
		assert.Contains(t, err.Error(), "schema")
		// ... and the template on its own too, with its message.
		_, err = renderWith(t, domain.Staging, true, set("images.api.digest", d))
		require.Error(t, err, "%q", d)
		assert.Contains(t, err.Error(), "is not a sha256 digest")
	}
}

func TestAllowTagsIsForLocalDevRendersOnly(t *testing.T) {
	noDigests := mergeMaps(set("images.api.digest", ""), mergeMaps(set("images.worker.digest", ""), set("images.airflow.digest", "")))
	local := mergeMaps(noDigests, set("global.allowTags", true))

	m, err := renderWith(t, domain.Dev, false, local)
	require.NoError(t, err)
	objs := decodeAll(t, m)
	assert.Equal(t, registry+"/api:0.1.0", objs.Deployments["sp-api"].Spec.Template.Spec.Containers[0].Image)

	// A digest still wins over a tag.
	m, err = renderWith(t, domain.Dev, false, set("global.allowTags", true))
	require.NoError(t, err)
	assert.Equal(t, registry+"/api@"+digests["api"], decodeAll(t, m).Deployments["sp-api"].Spec.Template.Spec.Containers[0].Image)

	for _, env := range []domain.Environment{domain.Staging, domain.Production} {
		_, err := renderWith(t, env, false, local)
		require.Error(t, err, env)
		_, err = renderWith(t, env, true, local)
		require.Error(t, err, env)
		assert.Contains(t, err.Error(), "global.allowTags is true for "+string(env))
	}
}

func TestTraceIsRequiredOutsideDev(t *testing.T) {
	for _, env := range []domain.Environment{domain.Staging, domain.Production} {
		for _, field := range []string{"gitCommit", "datasetVersion", "modelVersion"} {
			_, err := renderWith(t, env, false, set("trace."+field, ""))
			require.Error(t, err, "%s without trace.%s", env, field)
			assert.Contains(t, err.Error(), "schema")
			_, err = renderWith(t, env, true, set("trace."+field, ""))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "trace."+field+" is empty")
		}
	}
	// dev may leave the record empty.
	_, err := renderWith(t, domain.Dev, false, set("trace.gitCommit", ""), set("trace.modelVersion", ""))
	require.NoError(t, err)
}

func TestSecretsAreRequiredOutsideDev(t *testing.T) {
	vals := envValues(t, domain.Production, nil)
	delete(vals["secrets"].(map[string]any), "databaseUrl")
	_, err := render(t, vals, "soccerpredict-production", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "databaseUrl")
}

func TestProductionKeepsThreeReplicasAndAPDBOfTwo(t *testing.T) {
	_, err := renderWith(t, domain.Production, false, set("api.replicas", 2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replicas")
	_, err = renderWith(t, domain.Production, false, set("api.pdb.minAvailable", 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "minAvailable")
}

func TestPDBMustAllowDrains(t *testing.T) {
	_, err := renderWith(t, domain.Staging, false, set("api.pdb.minAvailable", 2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be below api.replicas")
	_, err = renderWith(t, domain.Dev, false, set("api.pdb.minAvailable", 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be below api.replicas")
	_, err = renderWith(t, domain.Dev, false, set("api.pdb.maxUnavailable", ""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neither api.pdb.minAvailable nor api.pdb.maxUnavailable")
	// A percentage is passed through.
	m, err := renderWith(t, domain.Staging, false, set("api.pdb.minAvailable", "50%"))
	require.NoError(t, err)
	assert.Equal(t, "50%", decodeAll(t, m).PDBs["sp-api"].Spec.MinAvailable.String())
}

func TestUnknownValuesAreRejected(t *testing.T) {
	_, err := renderWith(t, domain.Dev, false, set("api.replica", 3))
	require.Error(t, err, "a misspelt key must not be silently ignored")
	_, err = renderWith(t, domain.Dev, false, set("images.api.repository", "registry.example.com/x/api:v1"))
	require.Error(t, err, "a tag inside the repository is rejected")
}

func TestChecksumsRollPodsWhenConfigOrSecretsChange(t *testing.T) {
	checksums := func(overrides ...map[string]any) (string, string) {
		m, err := renderWith(t, domain.Staging, false, overrides...)
		require.NoError(t, err)
		ann := decodeAll(t, m).Deployments["sp-api"].Spec.Template.Annotations
		return ann["checksum/config"], ann["checksum/secret"]
	}
	baseC, baseS := checksums()
	c, s := checksums(set("config.LOG_LEVEL", "ERROR"))
	assert.NotEqual(t, baseC, c)
	assert.Equal(t, baseS, s)
	c, s = checksums(set("secrets.mlflowTrackingToken", "FAKE-rotated"))
	assert.Equal(t, baseC, c)
	assert.NotEqual(t, baseS, s)
	c, s = checksums()
	assert.Equal(t, baseC, c, "rendering is deterministic")
	assert.Equal(t, baseS, s)
}

func TestIngressIsOptional(t *testing.T) {
	m, err := renderWith(t, domain.Production, false, set("api.ingress.enabled", false))
	require.NoError(t, err)
	assert.Empty(t, decodeAll(t, m).Ingresses)
	_, err = renderWith(t, domain.Dev, false, set("api.ingress.enabled", true), set("api.ingress.host", ""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api.ingress.host is empty")
}

func TestLocalRenderOfTheChartDefaults(t *testing.T) {
	// helm template sp charts/soccer-predict --set global.allowTags=true
	r, err := render(t, set("global.allowTags", true), "default", false)
	require.NoError(t, err)
	objs := decodeAll(t, manifest(r))
	assert.Equal(t, "registry.gitlab.com/soccerpredictai/soccerpredict/worker:0.1.0",
		objs.Deployments["sp-worker"].Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, "dev", objs.ConfigMaps["sp-trace"].Annotations[citrace.AnnotationEnvironment])
	// Without allowTags the same render fails on the first missing digest.
	_, err = render(t, nil, "default", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "digest is missing")
}
