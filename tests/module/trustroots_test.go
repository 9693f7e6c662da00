//go:build daggerharness

package main

// Trust roots no caller can choose (issue 18): the chart staging and production deploy, the
// source the verify/decrypt/redact tools are built from and the images they are built and run
// in. The oracle of "the module's own source" is dagger.json, read here as the engine reads it
// (its "source" subpath and "include" patterns), and the files on disk: not the module's code.

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const (
	committedProxy = "gitlab.com:443/soccerpredictai/dependency_proxy/containers"
	attackerChart  = "/work/attacker-chart"
)

// moduleConfig is what the engine loads as the module's context: dagger.json's source subpath
// and include patterns.
type moduleConfig struct {
	Source  string   `json:"source"`
	Include []string `json:"include"`
}

func readModuleConfig(t *testing.T) moduleConfig {
	t.Helper()
	raw, err := os.ReadFile("../dagger.json")
	require.NoError(t, err)
	var c moduleConfig
	require.NoError(t, json.Unmarshal(raw, &c))
	require.NotEmpty(t, c.Source)
	return c
}

// included reports whether p (relative to the context root) is loaded with the module: matched
// by an include pattern ("dir/**" is dir and everything under it).
func (c moduleConfig) included(p string) bool {
	for _, pat := range c.Include {
		if dir, ok := strings.CutSuffix(pat, "/**"); ok && (p == dir || strings.HasPrefix(p, dir+"/")) {
			return true
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

// dirSource is the chain of the directory mounted at at in the container ctr.
func dirSource(t *testing.T, ctr daggertest.Chain, at string) daggertest.Chain {
	t.Helper()
	st, ok := ctr.StepWhere("withDirectory", "path", at)
	require.True(t, ok, "no directory at %s in %s", at, ctr)
	ref, ok := st.Ref("source")
	if !ok {
		ref, ok = st.Ref("directory")
	}
	require.True(t, ok)
	return ref.Chain
}

// assertModuleChart checks that the helm container of exec deploys the chart committed with the
// module: /chart is the module's own source at a path dagger.json loads, holding the chart.
func assertModuleChart(t *testing.T, e daggertest.Exec) {
	t.Helper()
	cfg := readModuleConfig(t)
	chart := dirSource(t, e.Container, "/chart")
	dir, filters, ok := chart.OwnSource(cfg.Source)
	require.True(t, ok, "the chart is not the module's own source: %s", chart)
	assert.Empty(t, filters)
	assert.Equal(t, "charts/soccer-predict", dir)
	assert.True(t, cfg.included(dir+"/Chart.yaml"), "dagger.json must load the chart with the module: include %v", cfg.Include)
	raw, err := os.ReadFile(filepath.Join("..", dir, "Chart.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "name: soccer-predict")
}

// assertToolFromOwnSource checks that the tool built by `go build -o /out/<name>` was built from
// the module's own source, in image from.
func assertToolFromOwnSource(t *testing.T, name, moduleDir, from string) {
	t.Helper()
	cfg := readModuleConfig(t)
	build := mustExec(t, "go", "build", "-o", "/out/"+name)
	assert.Equal(t, `container.from(address:"`+from+`")`, build.Container[:2].String())
	src := dirSource(t, build.Container, "/pipeline")
	dir, filters, ok := src.OwnSource(cfg.Source)
	require.True(t, ok, "the %s tool is not built from the module's own source: %s", name, src)
	assert.Equal(t, "", dir, "the context root")
	_, ok = build.Container.StepWhere("withWorkdir", "path", path.Join("/pipeline", moduleDir))
	assert.True(t, ok, "built in %s", moduleDir)
	// What the build needs is loaded with the module and passes the filter.
	for _, f := range []string{path.Join(moduleDir, "go.mod"), "go.mod", "go.sum"} {
		assert.True(t, cfg.included(f), "dagger.json must load %s", f)
		_, err := os.Stat(filepath.Join("..", f))
		assert.NoError(t, err)
		for _, flt := range filters {
			keep := moduleConfig{Include: flt.Strings("include")}
			assert.True(t, keep.included(f), "the filter drops %s", f)
		}
	}
}

// refusedBeforeAnything asserts that nothing ran: no exec, no image pulled.
func refusedBeforeAnything(t *testing.T) {
	t.Helper()
	assert.Empty(t, rec.Execs(), "nothing may run before the refusal:\n%s", execsText())
	for _, c := range rec.Calls() {
		assert.Empty(t, c.Chain.Steps("from"), "no image may be pulled: %s", c.Chain)
	}
}

func TestStagingAndProductionRefuseACallersChartAndRunNothing(t *testing.T) {
	api, worker, airflow := deployImages()
	for _, env := range []string{"staging", "production"} {
		for _, dry := range []bool{false, true} {
			m := fresh(t, withRelease)
			deployHappy(t)
			registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
			_, err := m.Deploy(context.Background(), env, api, worker, airflow,
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory(attackerChart), nil, 0, "", nil, nil, nil, dry)
			require.Error(t, err, "%s dry-run=%v", env, dry)
			assert.Contains(t, err.Error(), "--chart is refused for "+env)
			assert.Contains(t, err.Error(), "Drop --chart")
			refusedBeforeAnything(t)
		}
		m := fresh(t, withRelease)
		_, err := m.RollbackService(context.Background(), env, dag.SetSecret("kubeconfig", relKube), 0, true, rbReason, "ana",
			dag.Host().Directory(attackerChart), nil, nil, "", 0, 0, 0)
		require.Error(t, err, env)
		assert.Contains(t, err.Error(), "--chart is refused for "+env)
		refusedBeforeAnything(t)
	}
	// A release is production's.
	m := fresh(t, withRelease)
	_, err := m.Release(context.Background(), "v2.0.0", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, dag.Host().Directory(attackerChart), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--chart is refused for production")
	refusedBeforeAnything(t)
}

// The positive twin: production without --chart deploys the module's chart, with the tools
// built from the module's own source in the committed Go image.
func TestProductionDeploysTheChartCommittedWithTheModule(t *testing.T) {
	out, err := deployAs(t, gitlabWithApprovals(t, "production", "bob", "carol"), 777, "erin", dag.SetSecret("job", jobTokenPln), 555)
	require.NoError(t, err)
	assert.Contains(t, out, "deployed soccer-predict to production")
	upgrade := mustExec(t, "helm", "upgrade", "--namespace", "soccerpredict-production")
	assertModuleChart(t, upgrade)
	assert.Equal(t, `container.from(address:"alpine/helm:4.3.2")`, upgrade.Container[:2].String())
	assertToolFromOwnSource(t, "sops-decrypt", "ci/deploy/secrets", "golang:1.26")
	assertToolFromOwnSource(t, "manifest-redact", ".", "golang:1.26")
	assertToolFromOwnSource(t, "oci", "ci/cmd/oci", "golang:1.26")
	for _, e := range rec.Execs() {
		assert.NotContains(t, e.Container.String(), `host.directory(path:"/work/repo")`, "nothing a caller passes builds a tool: %s", e.Line())
	}
	assertRefusesTheTestKey(t, upgrade)
}

// assertRefusesTheTestKey checks that production's helm runs under sops-decrypt
// --refuse-identity with the repository's test key, taken from the module's own source (never
// from --source or a caller's file) and loaded with the module by dagger.json.
func assertRefusesTheTestKey(t *testing.T, e daggertest.Exec) {
	t.Helper()
	const at, key = "/run/refused/test-age.key", "tests/testdata/keys/test-age.key"
	assert.Contains(t, e.Line(), "sops-decrypt exec-file --identity /run/secrets/age.key --refuse-identity "+at+" --file ")
	st, ok := e.Container.StepWhere("withFile", "path", at)
	require.True(t, ok, "the test key is mounted at %s", at)
	ref, ok := st.Ref("source")
	require.True(t, ok)
	src := ref.Chain.String()
	assert.True(t, strings.HasPrefix(src, `currentModule.source.directory(path:"..").file(path:"`+key+`")`), "the key comes from the module's own source: %s", src)
	cfg := readModuleConfig(t)
	assert.True(t, cfg.included(key), "dagger.json must load %s with the module: include %v", key, cfg.Include)
	raw, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(key)))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "AGE-SECRET-KEY-1")
}

// Staging may use the repository's test key (its shipped secrets are encrypted to it): no
// --refuse-identity there.
func TestStagingDoesNotRefuseTheTestKey(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow, dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain), "7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	require.NoError(t, err)
	tmpl := mustExec(t, "helm template")
	assert.Contains(t, tmpl.Line(), "sops-decrypt exec-file --identity /run/secrets/age.key --file ", "staging renders under sops-decrypt")
	assert.NotContains(t, tmpl.Line(), "--refuse-identity")
	_, ok := tmpl.Container.StepWhere("withFile", "path", "/run/refused/test-age.key")
	assert.False(t, ok)
}

// Dev keeps the convenience: its --chart is what it deploys.
func TestDevDeploysTheChartItIsGiven(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/dev-chart"), nil, 0, "", nil, nil, nil, false)
	require.NoError(t, err)
	upgrade := mustExec(t, "helm", "upgrade", "--namespace", "soccerpredict-dev")
	assert.Equal(t, `host.directory(path:"/work/dev-chart")`, dirSource(t, upgrade.Container, "/chart").String())

	// Without --chart, dev deploys the module's chart too.
	m = fresh(t, withRelease)
	deployHappy(t)
	_, err = m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	require.NoError(t, err)
	assertModuleChart(t, mustExec(t, "helm", "upgrade", "--namespace", "soccerpredict-dev"))
}

func TestStagingAndProductionRefuseCallerToolImagesAndMirrors(t *testing.T) {
	api, worker, airflow := deployImages()
	for _, tc := range []struct {
		name string
		opt  func(*newArgs)
		want string
	}{
		{"golang", func(a *newArgs) { a.golang = "evil.example/golang:1.26" }, "--golang-image=evil.example/golang:1.26 is refused for "},
		{"helm", func(a *newArgs) { a.helm = "evil.example/helm:4" }, "--helm-image=evil.example/helm:4 is refused for "},
		{"trivy", func(a *newArgs) { a.trivy = "evil.example/trivy:1" }, "--trivy-image=evil.example/trivy:1 is refused for "},
		{"mirror", func(a *newArgs) { a.registryMirror = "evil.example/proxy" }, "--registry-mirror=evil.example/proxy (SP_REGISTRY_MIRROR) is refused for "},
		{"another group's proxy", func(a *newArgs) { a.registryMirror = "gitlab.com:443/mallory/dependency_proxy/containers" }, "--registry-mirror=gitlab.com:443/mallory/dependency_proxy/containers (SP_REGISTRY_MIRROR) is refused for "},
	} {
		for _, env := range []string{"staging", "production"} {
			m := fresh(t, withRelease, tc.opt)
			deployHappy(t)
			registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
			_, err := m.Deploy(context.Background(), env, api, worker, airflow,
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
			require.Error(t, err, "%s %s", tc.name, env)
			assert.Contains(t, err.Error(), tc.want, tc.name)
			assert.Contains(t, err.Error(), "ci/toolchain/pins.go", tc.name)
			refusedBeforeAnything(t)

			m = fresh(t, withRelease, tc.opt)
			_, err = m.RollbackService(context.Background(), env, dag.SetSecret("kubeconfig", relKube), 0, false, "", "ana",
				nil, nil, nil, "", 0, 0, 0)
			require.Error(t, err, "%s rollback %s", tc.name, env)
			assert.Contains(t, err.Error(), tc.want, tc.name)
			refusedBeforeAnything(t)
		}
		m := fresh(t, withRelease, tc.opt)
		_, err := m.Release(context.Background(), "v2.0.0", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
			relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want+"production", tc.name)
		refusedBeforeAnything(t)
	}
}

// The positive twins: staging pulls through the group's Dependency Proxy as CI passes it, and
// dev keeps its own images and mirror.
func TestCommittedMirrorForStagingAndAnyImageForDev(t *testing.T) {
	api, worker, airflow := deployImages()
	m := fresh(t, withRelease, func(a *newArgs) { a.registryMirror = committedProxy })
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	require.NoError(t, err)
	tmpl := mustExec(t, "helm", "template")
	assert.Equal(t, `container.from(address:"`+committedProxy+`/alpine/helm:4.3.2")`, tmpl.Container[:2].String())
	assertModuleChart(t, tmpl)
	assertToolFromOwnSource(t, "sops-decrypt", "ci/deploy/secrets", committedProxy+"/golang:1.26")

	m = fresh(t, withRelease, func(a *newArgs) {
		a.registryMirror, a.golang, a.helm = "mirror.local/proxy", "golang:1.26-bookworm", "alpine/helm:4.3.1"
	})
	deployHappy(t)
	_, err = m.Deploy(context.Background(), "dev", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	require.NoError(t, err)
	upgrade := mustExec(t, "helm", "upgrade", "--namespace", "soccerpredict-dev")
	assert.Equal(t, `container.from(address:"mirror.local/proxy/alpine/helm:4.3.1")`, upgrade.Container[:2].String())
	assertToolFromOwnSource(t, "manifest-redact", ".", "mirror.local/proxy/golang:1.26-bookworm")
}
