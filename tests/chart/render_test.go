package chart_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"

	cihelm "gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	citrace "gitlab.com/soccerpredictai/pipeline/ci/trace"
)

const releaseName = "sp"

// repoRoot is the repository root, found from this file's location.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func chartDir(t testing.TB) string { return filepath.Join(repoRoot(t), "charts", "soccer-predict") }

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir(t))
	require.NoError(t, err)
	return ch
}

// fixture digests: fixed, obviously synthetic test values (not real images).
var digests = map[string]string{
	"api":     "sha256:" + strings.Repeat("a1", 32),
	"worker":  "sha256:" + strings.Repeat("b2", 32),
	"airflow": "sha256:" + strings.Repeat("c3", 32),
}

const registry = "registry.example.com/soccerpredictai/soccerpredict"

func images() map[domain.Service]domain.ImageRef {
	out := map[domain.Service]domain.ImageRef{}
	for svc, d := range digests {
		out[domain.Service(svc)] = domain.Pinned(domain.Repository(registry+"/"+svc), domain.Digest(d))
	}
	return out
}

// parseTrace reads the record of a rendered manifest as the module does.
func parseTrace(manifest []byte, release string) (citrace.Record, error) {
	objs, err := cihelm.TraceObjects(manifest)
	if err != nil {
		return citrace.Record{}, err
	}
	return citrace.FromManifest(objs, release)
}

func trace(env domain.Environment) citrace.Record {
	return citrace.Record{
		GitCommit:      "0123456789abcdef0123456789abcdef01234567",
		DatasetVersion: "dvc-" + string(env) + "-2024.06.01",
		ModelVersion:   "soccer-predict/7",
		Environment:    env,
	}
}

// decryptedSecrets decrypts the shipped SOPS file of env with the shipped
// TEST key and writes the plaintext into a temp dir, like sops-decrypt
// exec-file does for helm. Production's file is encrypted to a placeholder
// recipient nobody holds: the test key must fail on it, and the chart is
// rendered with staging's values for production's environment, after checking
// that both files hold the same keys (SOPS leaves key names in clear).
func decryptedSecrets(t testing.TB, env domain.Environment) string {
	t.Helper()
	root := repoRoot(t)
	ids, err := secrets.LoadIdentityFile(filepath.Join(root, "tests", "testdata", "keys", "test-age.key"))
	require.NoError(t, err)
	dir := filepath.Join(chartDir(t), "secrets")
	from := env
	if env == domain.Production {
		_, err := secrets.DecryptFile(secrets.EnvFile(dir, string(env)), ids)
		require.Error(t, err, "the repository's test key must not open production's secrets")
		from = domain.Staging
		prodRaw, err := os.ReadFile(secrets.EnvFile(dir, string(env)))
		require.NoError(t, err)
		stagingRaw, err := os.ReadFile(secrets.EnvFile(dir, string(from)))
		require.NoError(t, err)
		var prod, staging struct {
			Secrets map[string]any `json:"secrets"`
		}
		require.NoError(t, yaml.Unmarshal(prodRaw, &prod))
		require.NoError(t, yaml.Unmarshal(stagingRaw, &staging))
		require.Equal(t, slices.Sorted(maps.Keys(staging.Secrets)), slices.Sorted(maps.Keys(prod.Secrets)), "production and staging hold the same secrets")
	}
	plain, err := secrets.DecryptFile(secrets.EnvFile(dir, string(from)), ids)
	require.NoError(t, err)
	plain = []byte(strings.ReplaceAll(string(plain), string(from), string(env)))
	path := filepath.Join(t.TempDir(), "secrets.yaml")
	require.NoError(t, os.WriteFile(path, plain, 0o600))
	return path
}

// valuesFromArgv interprets the -f and --set-string arguments of a helm argv
// built by ci/deploy/helm the way helm does (files merged in order, then
// --set-string parsed by helm's own strvals).
func valuesFromArgv(t testing.TB, argv []string) map[string]any {
	t.Helper()
	vals := map[string]any{}
	for i := 0; i < len(argv); i++ {
		switch argv[i] {
		case "-f":
			i++
			data, err := os.ReadFile(argv[i])
			require.NoError(t, err, argv[i])
			var m map[string]any
			require.NoError(t, yaml.Unmarshal(data, &m), argv[i])
			vals = mergeMaps(vals, m)
		case "--set-string":
			i++
			require.NoError(t, strvals.ParseIntoString(argv[i], vals), argv[i])
		}
	}
	return vals
}

// mergeMaps is helm's values merge (pkg/cli/values): maps merge
// recursively, anything else is replaced.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if bv, ok := out[k]; ok {
				if bm, ok := bv.(map[string]any); ok {
					out[k] = mergeMaps(bm, vm)
					continue
				}
			}
		}
		out[k] = v
	}
	return out
}

// release returns the ci/deploy/helm release for env, with the chart on local disk
// and the decrypted shipped secrets.
func release(t testing.TB, env domain.Environment) cihelm.Release {
	return cihelm.Release{
		Name:        releaseName,
		Namespace:   "soccerpredict-" + string(env),
		Env:         env,
		Chart:       filepath.ToSlash(chartDir(t)),
		SecretsFile: decryptedSecrets(t, env),
		Images:      images(),
		Trace:       trace(env),
	}
}

// envValues returns the values helm would use for env, from the argv
// ci/deploy/helm builds for `helm upgrade`, plus extra overrides.
func envValues(t testing.TB, env domain.Environment, extra map[string]any) map[string]any {
	t.Helper()
	argv, err := cihelm.UpgradeArgs(release(t, env))
	require.NoError(t, err)
	vals := valuesFromArgv(t, argv)
	if extra != nil {
		vals = mergeMaps(vals, extra)
	}
	return vals
}

// render renders the chart like `helm template` (schema validation on
// unless skipSchema) and returns the manifests by template path.
func render(t testing.TB, vals map[string]any, namespace string, skipSchema bool) (map[string]string, error) {
	t.Helper()
	ch := loadChart(t)
	opts := common.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, common.DefaultCapabilities, skipSchema)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, rv)
}

// manifest joins the rendered YAML templates into one multi-document
// manifest, in path order, the way helm prints them.
func manifest(rendered map[string]string) string {
	paths := make([]string, 0, len(rendered))
	for p := range rendered {
		if strings.HasSuffix(p, ".yaml") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		body := strings.TrimSpace(rendered[p])
		if body == "" {
			continue
		}
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", p, body)
	}
	return b.String()
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// documents splits a manifest into non-empty raw YAML documents.
func documents(m string) []string {
	var out []string
	for _, d := range docSep.Split(m, -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(d string) string {
	var b strings.Builder
	for _, l := range strings.Split(d, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
