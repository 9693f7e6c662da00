package helm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

func TestUpgradeArgs(t *testing.T) {
	argv, err := helm.UpgradeArgs(testRelease())
	require.NoError(t, err)
	assert.Equal(t, []string{
		"helm", "upgrade", "--install", "--atomic", "--wait", "--timeout", "7m0s",
		"--namespace", "soccerpredict-staging", "--create-namespace",
		"soccer-predict", "/src/charts/soccer-predict",
		"-f", "/src/charts/soccer-predict/values.yaml",
		"-f", "/src/charts/soccer-predict/values-staging.yaml",
		"-f", "{}",
		"--set-string", "images.airflow.repository=registry.gitlab.com/sp/app/airflow",
		"--set-string", "images.airflow.digest=" + dC,
		"--set-string", "images.api.repository=registry.gitlab.com/sp/app/api",
		"--set-string", "images.api.digest=" + dA,
		"--set-string", "images.worker.repository=registry.gitlab.com/sp/app/worker",
		"--set-string", "images.worker.digest=" + dB,
		"--set-string", "trace.gitCommit=0123456789abcdef0123456789abcdef01234567",
		"--set-string", "trace.datasetVersion=data-v12",
		"--set-string", "trace.modelVersion=soccer-predict/7",
		"--set-string", "trace.environment=staging",
	}, argv)
}

func TestUpgradeArgsDefaultsAndDev(t *testing.T) {
	r := testRelease()
	r.Env = helm.Dev
	r.Timeout = 0
	r.Trace = helm.Trace{} // dev may deploy without a full record
	argv, err := helm.UpgradeArgs(r)
	require.NoError(t, err)
	assert.Equal(t, "10m0s", argv[6])
	assert.Contains(t, argv, "/src/charts/soccer-predict/values-dev.yaml")
	assert.Contains(t, argv, "trace.gitCommit=")
	assert.Contains(t, argv, "trace.environment=dev")
}

func TestTemplateArgsShareTheValues(t *testing.T) {
	r := testRelease()
	up, err := helm.UpgradeArgs(r)
	require.NoError(t, err)
	tpl, err := helm.TemplateArgs(r)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "template", "soccer-predict", "/src/charts/soccer-predict", "--namespace", "soccerpredict-staging"}, tpl[:6])
	assert.Equal(t, up[12:], tpl[6:], "plan renders exactly what deploy installs")
}

func TestReleaseValidationNamesTheFix(t *testing.T) {
	cases := map[string]struct {
		mutate func(*helm.Release)
		want   string
	}{
		"bad release":      {func(r *helm.Release) { r.Name = "Soccer" }, "DNS-1123"},
		"bad namespace":    {func(r *helm.Release) { r.Namespace = "" }, "--namespace"},
		"bad env":          {func(r *helm.Release) { r.Env = "prod" }, "dev, staging, production"},
		"no chart":         {func(r *helm.Release) { r.Chart = "" }, "chart directory"},
		"no secrets":       {func(r *helm.Release) { r.SecretsFile = "" }, "sops-decrypt exec-file"},
		"long timeout":     {func(r *helm.Release) { r.Timeout = 3 * time.Hour }, "shorter --timeout"},
		"negative timeout": {func(r *helm.Release) { r.Timeout = -time.Second }, "not positive"},
		"missing image":    {func(r *helm.Release) { delete(r.Images, "worker") }, "no image for service worker"},
		"unknown image":    {func(r *helm.Release) { r.Images["web"] = r.Images["api"] }, `unknown service "web"`},
		"tag not digest":   {func(r *helm.Release) { r.Images["api"] = helm.Image{Repository: "r.io/x/api", Digest: "v1.2.3"} }, "not sha256"},
		"repo with tag":    {func(r *helm.Release) { r.Images["api"] = helm.Image{Repository: "r.io/x/api:v1", Digest: dA} }, "without a tag"},
		"no commit":        {func(r *helm.Release) { r.Trace.GitCommit = "" }, "--commit"},
		"bad commit":       {func(r *helm.Release) { r.Trace.GitCommit = "HEAD" }, "7-40 lowercase hex"},
		"no model":         {func(r *helm.Release) { r.Trace.ModelVersion = "" }, "model version is empty"},
		"no dataset":       {func(r *helm.Release) { r.Trace.DatasetVersion = "" }, "dataset version is empty"},
		"comma in version": {func(r *helm.Release) { r.Trace.ModelVersion = "a,b" }, "version label"},
		"env mismatch":     {func(r *helm.Release) { r.Trace.Environment = helm.Production }, "differs from the target"},
		"digests preset":   {func(r *helm.Release) { r.Trace.ImageDigests = map[string]string{"api": dA} }, "derives it from Images"},
		"dev bad commit":   {func(r *helm.Release) { r.Env = helm.Dev; r.Trace.GitCommit = "zzz" }, "7-40 lowercase hex"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := testRelease()
			r.Images = map[string]helm.Image{}
			for k, v := range testRelease().Images {
				r.Images[k] = v
			}
			c.mutate(&r)
			for _, build := range []func(helm.Release) ([]string, error){helm.UpgradeArgs, helm.TemplateArgs} {
				argv, err := build(r)
				require.Error(t, err)
				assert.Nil(t, argv)
				assert.Contains(t, err.Error(), c.want)
			}
		})
	}
}

func TestSetStringEscapesHelmSpecials(t *testing.T) {
	// Validation keeps commas out of every value; a repository path is the
	// only free-form part left, and it cannot contain them either. The
	// escaping is still checked through the chart-facing output.
	r := testRelease()
	argv, err := helm.UpgradeArgs(r)
	require.NoError(t, err)
	for _, a := range argv {
		assert.NotContains(t, a, ",")
	}
}

func TestGetManifestArgs(t *testing.T) {
	argv, err := helm.GetManifestArgs("sp", "ns", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "get", "manifest", "sp", "--namespace", "ns"}, argv)
	argv, err = helm.GetManifestArgs("sp", "ns", 4)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "get", "manifest", "sp", "--namespace", "ns", "--revision", "4"}, argv)
	_, err = helm.GetManifestArgs("sp", "ns", -1)
	assert.ErrorContains(t, err, "negative")
	_, err = helm.GetManifestArgs("SP", "ns", 0)
	assert.Error(t, err)
}

func TestRollbackArgs(t *testing.T) {
	argv, err := helm.RollbackArgs(helm.Rollback{Release: "sp", Namespace: "ns"})
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "rollback", "sp", "--namespace", "ns", "--wait", "--timeout", "10m0s"}, argv)
	argv, err = helm.RollbackArgs(helm.Rollback{Release: "sp", Namespace: "ns", Revision: 3, Timeout: 90 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "rollback", "sp", "3", "--namespace", "ns", "--wait", "--timeout", "1m30s"}, argv)
	for _, bad := range []helm.Rollback{
		{Release: "sp", Namespace: "ns", Revision: -2},
		{Release: "", Namespace: "ns"},
		{Release: "sp", Namespace: "NS"},
		{Release: "sp", Namespace: "ns", Timeout: 2 * time.Hour},
	} {
		argv, err := helm.RollbackArgs(bad)
		assert.Error(t, err, "%+v", bad)
		assert.Nil(t, argv)
	}
}

func TestHistoryArgs(t *testing.T) {
	argv, err := helm.HistoryArgs("sp", "ns", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "history", "sp", "--namespace", "ns", "-o", "json"}, argv)
	argv, err = helm.HistoryArgs("sp", "ns", 20)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "history", "sp", "--namespace", "ns", "-o", "json", "--max", "20"}, argv)
	_, err = helm.HistoryArgs("sp", "ns", -1)
	assert.Error(t, err)
}

func TestParseImageRef(t *testing.T) {
	cases := map[string]helm.Image{
		"registry.gitlab.com/sp/app/api@" + dA:     {Repository: "registry.gitlab.com/sp/app/api", Digest: dA},
		"registry.gitlab.com/sp/app/api:1.2@" + dA: {Repository: "registry.gitlab.com/sp/app/api", Digest: dA},
		"localhost:5000/sp/api@" + dB:              {Repository: "localhost:5000/sp/api", Digest: dB},
		"localhost:5000/sp/api:latest@" + dB:       {Repository: "localhost:5000/sp/api", Digest: dB},
	}
	for in, want := range cases {
		got, err := helm.ParseImageRef(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, want.Repository+"@"+want.Digest, got.Ref())
	}
	for _, bad := range []string{"", "registry.gitlab.com/sp/app/api:1.2", "api@" + dA, "r.io/x@sha256:abc", "@" + dA, "r.io/x@" + dA + "@" + dB} {
		_, err := helm.ParseImageRef(bad)
		assert.Error(t, err, bad)
	}
}

func FuzzParseImageRef(f *testing.F) {
	f.Add("registry.gitlab.com/sp/app/api@" + dA)
	f.Add("localhost:5000/sp/api:latest@" + dB)
	f.Add("api:1")
	f.Add("@")
	f.Fuzz(func(t *testing.T, ref string) {
		img, err := helm.ParseImageRef(ref)
		if err != nil {
			return
		}
		require.NoError(t, img.Validate())
		again, err := helm.ParseImageRef(img.Ref())
		require.NoError(t, err)
		require.Equal(t, img, again, "Ref round-trips")
		require.True(t, strings.HasSuffix(ref, img.Digest))
	})
}

func FuzzUpgradeArgs(f *testing.F) {
	f.Add("soccer-predict", "ns", "staging", "abc1234", "v1", "m/1", int64(time.Minute))
	f.Add("x", "y", "dev", "", "", "", int64(0))
	f.Add("Bad", "ns", "prod", "zz", "a,b", "", int64(-1))
	f.Fuzz(func(t *testing.T, name, ns, env, commit, data, model string, timeout int64) {
		r := testRelease()
		r.Name, r.Namespace, r.Env = name, ns, helm.Env(env)
		r.Trace = helm.Trace{GitCommit: commit, DatasetVersion: data, ModelVersion: model}
		r.Timeout = time.Duration(timeout)
		argv, err := helm.UpgradeArgs(r)
		if err != nil {
			require.Nil(t, argv)
			return
		}
		// Accepted input yields a well-formed argv: the release and
		// namespace are where helm expects them and no value can split a
		// --set-string into several assignments.
		require.Equal(t, name, argv[10])
		require.Equal(t, ns, argv[8])
		for i, a := range argv {
			if i > 0 && argv[i-1] == "--set-string" {
				key, _, ok := strings.Cut(a, "=")
				require.True(t, ok, a)
				require.Regexp(t, `^(images\.(api|worker|airflow)\.(repository|digest)|trace\.(gitCommit|datasetVersion|datasetPointer|modelVersion|environment))$`, key)
				require.Equal(t, strings.Count(a, ","), strings.Count(a, `\,`), "unescaped comma in %q", a)
			}
		}
	})
}

func TestUpgradeArgsCarryTheDatasetPointerOnlyWhenKnown(t *testing.T) {
	r := testRelease()
	argv, err := helm.UpgradeArgs(r)
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(argv, " "), "trace.datasetPointer")

	r.Trace.DatasetPointer = "data/raw/matches.csv.dvc"
	argv, err = helm.UpgradeArgs(r)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(argv, " "), "--set-string trace.datasetPointer=data/raw/matches.csv.dvc")

	r.Trace.DatasetPointer = "../x.dvc"
	_, err = helm.UpgradeArgs(r)
	assert.ErrorContains(t, err, "dataset pointer")
}
