package helm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

func TestUpgradeArgs(t *testing.T) {
	argv, err := helm.UpgradeArgs(testRelease())
	require.NoError(t, err)
	assert.Equal(t, []string{
		"helm", "upgrade", "--install", "--rollback-on-failure", "--wait=watcher", "--timeout", "7m0s",
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
	r.Env = domain.Dev
	r.Timeout = 0
	r.Trace = trace.Record{} // dev may deploy without a full record
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
	assert.Equal(t, up[12:], tpl[6:], "a dry run renders exactly what deploy installs")
}

func TestReleaseValidationNamesTheFix(t *testing.T) {
	cases := map[string]struct {
		mutate func(*helm.Release)
		want   string
	}{
		"bad release":        {func(r *helm.Release) { r.Name = "Soccer" }, "DNS-1123"},
		"bad namespace":      {func(r *helm.Release) { r.Namespace = "" }, "--namespace"},
		"bad env":            {func(r *helm.Release) { r.Env = "prod" }, "dev, staging, production"},
		"no chart":           {func(r *helm.Release) { r.Chart = "" }, "chart directory"},
		"no secrets":         {func(r *helm.Release) { r.SecretsFile = "" }, "sops-decrypt exec-file"},
		"long timeout":       {func(r *helm.Release) { r.Timeout = 3 * time.Hour }, "shorter --timeout"},
		"negative timeout":   {func(r *helm.Release) { r.Timeout = -time.Second }, "not positive"},
		"sub-second timeout": {func(r *helm.Release) { r.Timeout = 1500 * time.Millisecond }, "whole seconds"},
		"missing image":      {func(r *helm.Release) { delete(r.Images, domain.Worker) }, "no image for service worker: pass --worker-image"},
		"unknown image":      {func(r *helm.Release) { r.Images["web"] = r.Images[domain.API] }, "services the chart does not have"},
		"tag not digest":     {func(r *helm.Release) { r.Images[domain.API] = domain.Tagged("r.io/x/api", "v1.2.3") }, "not pinned by digest"},
		"no commit":          {func(r *helm.Release) { r.Trace.GitCommit = "" }, "--commit"},
		"no model":           {func(r *helm.Release) { r.Trace.ModelVersion = "" }, "model version is empty"},
		"no dataset":         {func(r *helm.Release) { r.Trace.DatasetVersion = "" }, "dataset version is empty"},
		"comma in version":   {func(r *helm.Release) { r.Trace.ModelVersion = "a,b" }, "version label"},
		"brace in version":   {func(r *helm.Release) { r.Trace.DatasetVersion = "{a}" }, "version label"},
		"env mismatch":       {func(r *helm.Release) { r.Trace.Environment = domain.Production }, "differs from the target"},
		"digest mismatch": {func(r *helm.Release) {
			r.Trace.ImageDigests = map[domain.Service]domain.Digest{domain.API: domain.Digest(dB)}
		}, "the trace records image api as"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := testRelease()
			r.Images = map[domain.Service]domain.ImageRef{}
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
	assert.ErrorContains(t, err, `release name "SP" is not a DNS-1123 label`)
}

func TestRollbackArgs(t *testing.T) {
	argv, err := helm.RollbackArgs(helm.Rollback{Release: "sp", Namespace: "ns"})
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "rollback", "sp", "--namespace", "ns", "--wait=watcher", "--timeout", "10m0s"}, argv)
	argv, err = helm.RollbackArgs(helm.Rollback{Release: "sp", Namespace: "ns", Revision: 3, Timeout: 90 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "rollback", "sp", "3", "--namespace", "ns", "--wait=watcher", "--timeout", "1m30s"}, argv)
	for _, bad := range []struct {
		r   helm.Rollback
		why string
	}{
		{helm.Rollback{Release: "sp", Namespace: "ns", Revision: -2}, "revision -2 is negative"},
		{helm.Rollback{Release: "", Namespace: "ns"}, "release name is empty"},
		{helm.Rollback{Release: "sp", Namespace: "NS"}, `namespace "NS" is not a DNS-1123 label`},
		{helm.Rollback{Release: "sp", Namespace: "ns", Timeout: 2 * time.Hour}, "timeout 2h0m0s is longer than 1h0m0s"},
	} {
		argv, err := helm.RollbackArgs(bad.r)
		assert.ErrorContains(t, err, bad.why, "%+v", bad.r)
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
	assert.ErrorContains(t, err, "max -1 is negative")
}

func FuzzUpgradeArgs(f *testing.F) {
	f.Add("soccer-predict", "ns", "staging", strings.Repeat("ab", 20), "v1", "m/1", int64(time.Minute))
	f.Add("x", "y", "dev", "", "", "", int64(0))
	f.Add("Bad", "ns", "prod", "zz", "a,b", "", int64(-1))
	f.Fuzz(func(t *testing.T, name, ns, env, commit, data, model string, timeout int64) {
		r := testRelease()
		e, err := domain.ParseEnvironment(env)
		if err != nil {
			return // the module parses --env before building a release
		}
		c, err := domain.ParseCommit(commit)
		if err != nil && commit != "" {
			return // likewise --commit
		}
		r.Name, r.Namespace, r.Env = name, ns, e
		r.Trace = trace.Record{GitCommit: c, DatasetVersion: data, ModelVersion: model}
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
