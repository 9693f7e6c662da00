//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/lint"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const passingJUnit = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="3" time="0.5"><testcase classname="tests.test_features" name="test_a" time="0.1"/><testcase classname="tests.test_features" name="test_b" time="0.1"/><testcase classname="tests.test_api" name="test_c" time="0.1"/></testsuite></testsuites>`

const passingGE = `{"success": true, "results": [
 {"success": true, "expectation_config": {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "home_team"}, "meta": {"severity": "critical"}}, "result": {"unexpected_count": 0}},
 {"success": true, "expectation_config": {"type": "expect_column_values_to_be_between", "kwargs": {"column": "home_elo", "min_value": 800, "max_value": 2400}, "meta": {"severity": "advisory"}}, "result": {"unexpected_count": 0}}]}`

func fixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// happy makes every tool succeed with realistic output, so each test changes one thing.
func happy(t *testing.T) {
	t.Helper()
	// The candidate is a rerun of the pipeline that wrote the champion: the same metrics.
	champion := fixture(t, "../tests/testdata/soccerpredict/metrics/champion.json")
	candidate := champion
	for _, r := range []daggertest.Responder{
		daggertest.Always("exists", true),
		// The sample pins ruff==0.12.3: its `ruff format --check` prints text.
		daggertest.OnFile("requirements-dev.txt", fixture(t, "../tests/testdata/soccerpredict/requirements-dev.txt")),
		daggertest.OnExec([]string{"ruff --version"}, map[string]any{"stdout": "ruff 0.12.3\n", "exitCode": 0}),
		daggertest.OnExec([]string{"ruff check"}, map[string]any{"stdout": "[]", "exitCode": 0}),
		daggertest.OnExec([]string{"ruff format --check"}, map[string]any{"stdout": "14 files already formatted\n", "exitCode": 0}),
		daggertest.OnExec([]string{"pytest"}, map[string]any{"combinedOutput": "3 passed in 0.50s\n", "exitCode": 0}),
		daggertest.OnFile("junit.xml", passingJUnit),
		daggertest.OnFile("coverage.xml", fixture(t, "../ci/gate/junit/testdata/coverage.xml")),
		daggertest.OnFile("ge-results.json", passingGE),
		daggertest.OnFile("metrics/candidate.json", string(candidate)),
		daggertest.OnFile("metrics/champion.json", champion),
		daggertest.OnFile("drift.json", `{"engine": "builtin", "drift_share": 0.1, "dataset_drift": false, "n_columns": 10, "n_drifted_columns": 1}`),
		daggertest.OnExec([]string{"sh", "-c"}, map[string]any{"exitCode": 0}),
		daggertest.OnFile("openapi.json", fixture(t, "../tests/module/testdata/openapi.json")),
		daggertest.OnFile("valid.status", "200"),
		daggertest.OnFile("valid.body", fixture(t, "../tests/module/testdata/valid.body")),
		daggertest.OnFile("invalid.status", "422"),
		daggertest.OnFile("invalid.body", fixture(t, "../tests/module/testdata/invalid.body")),
		// The sample project has no trivy-secret.yaml, and Trivy finds no secret in it.
		absent("trivy-secret.yaml"),
		daggertest.OnFile("secret-scan.json", recorded(t, "trivy-fs-clean.json")),
	} {
		rec.Respond(r)
	}
}

func mustExec(t *testing.T, words ...string) daggertest.Exec {
	t.Helper()
	e, ok := rec.ExecWith(words...)
	require.True(t, ok, "no exec with %q; execs:\n%s", words, execsText())
	return e
}

func filesOf(t *testing.T, o outcome) map[string]string {
	t.Helper()
	require.NotNil(t, o.Files, "the gate must return its report files")
	id, err := o.Files.ID(context.Background())
	require.NoError(t, err)
	chain, ok := rec.Chain(string(id))
	require.True(t, ok)
	return chain.Files()
}

func TestLintRunsRuffCheckAndFormatWithCacheAndWritesCodeQuality(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"ruff check"}, map[string]any{"stdout": fixture(t, "../ci/gate/lint/testdata/ruff.json"), "exitCode": 1}))
	rec.Respond(daggertest.OnExec([]string{"ruff format"}, map[string]any{"stdout": "Would reformat: src/soccerpredict/features.py\n1 file would be reformatted, 13 files already formatted\n", "exitCode": 1}))

	o, err := m.lint(context.Background())
	require.NoError(t, err)
	require.Len(t, o.Results, 1)
	assert.Equal(t, gate.Fail, o.Results[0].Status)
	assert.Contains(t, o.Results[0].Summary, "ruff 0.12.3 (pinned by requirements-dev.txt)")
	assert.Contains(t, o.Results[0].Details, "src/soccerpredict/features.py:1 [minor] "+lint.FormatDescription)

	check := mustExec(t, "ruff", "check", "--output-format=json", ".")
	assert.Equal(t, "ANY", check.Step.Str("expect"))
	cache, ok := check.Container.StepWhere("withMountedCache", "path", "/root/.cache/ruff")
	require.True(t, ok, "ruff cache volume missing: %s", check.Container)
	vol, _ := cache.Ref("cache")
	assert.Contains(t, vol.Chain.String(), `cacheVolume(key:"soccer-predict-ruff")`)
	_, ok = check.Container.StepWhere("withEnvVariable", "name", "RUFF_CACHE_DIR")
	assert.True(t, ok)
	format := mustExec(t, "ruff", "format", "--check", ".")
	assert.NotContains(t, format.Args, "--output-format=json", "ruff 0.12.3 applies it only with --preview")
	mustExec(t, "pip", "install", "-r", "requirements-dev.txt")
	_, installed := rec.ExecWith("pip", "install", "ruff==")
	assert.False(t, installed, "the project's own pin is what runs")

	report := filesOf(t, o)["gl-code-quality-report.json"]
	var issues []map[string]any
	require.NoError(t, json.Unmarshal([]byte(report), &issues))
	require.NotEmpty(t, issues)
	var paths []string
	for _, i := range issues {
		paths = append(paths, i["location"].(map[string]any)["path"].(string))
		assert.NotEmpty(t, i["fingerprint"])
	}
	assert.Contains(t, paths, "src/soccerpredict/features.py", "format findings are reported too, with project-relative paths")

	err = m.Lint(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint FAIL")
}

func TestLintPassesOnCleanProject(t *testing.T) {
	m := fresh(t)
	happy(t)
	require.NoError(t, m.Lint(context.Background()))
}

func TestLintErrorsWhenRuffItselfFails(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"ruff check"}, map[string]any{"exitCode": 2, "stderr": "ruff failed: unknown rule selector `XX`"}))
	err := m.Lint(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint ERROR")
	assert.Contains(t, err.Error(), "unknown rule selector")
}

func TestTestRunsPytestWithReportsKeptOnFailure(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"pytest"}, map[string]any{"exitCode": 1, "combinedOutput": "1 failed, 2 passed"}))
	rec.Respond(daggertest.OnFile("junit.xml", fixture(t, "../ci/gate/junit/testdata/junit-fail.xml")))

	o, err := m.test(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Fail, o.Results[0].Status)
	assert.Contains(t, o.Results[0].Summary, "coverage 82.0%")

	e := mustExec(t, "python", "-m", "pytest")
	assert.Contains(t, e.Line(), "--junitxml=/reports/junit.xml")
	assert.Contains(t, e.Line(), "--cov-report=xml:/reports/coverage.xml")
	assert.Equal(t, "ANY", e.Step.Str("expect"), "a failing test run must still yield its reports")
	mustExec(t, "pip", "install", "-r", "requirements-api.txt", "-r", "requirements-worker.txt", "-r", "requirements-dev.txt")

	// The returned reports are the test container's /reports, whatever the exit code.
	id, err := o.Files.ID(context.Background())
	require.NoError(t, err)
	chain, _ := rec.Chain(string(id))
	assert.True(t, strings.HasSuffix(chain.String(), `directory(path:"/reports")`), chain.String())
	assert.Contains(t, chain.String(), "pytest")

	err = m.Test(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "test FAIL")
}

func TestTestFailsWhenPytestFailsWithoutFailedTests(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"pytest"}, map[string]any{"exitCode": 5, "combinedOutput": "no tests ran in 0.01s"}))
	err := m.Test(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pytest exited 5")
}

func TestTestErrorsWhenPytestWritesNoReport(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.Always("exists", false))
	rec.Respond(daggertest.OnExec([]string{"pytest"}, map[string]any{"exitCode": 4, "combinedOutput": "ERROR: usage: pytest [options]\npytest: error: unrecognized arguments: --cov"}))
	err := m.Test(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "test ERROR: pytest exited 4 before writing junit.xml")
	assert.Contains(t, err.Error(), "unrecognized arguments: --cov")
}

func TestDataContractsCriticalBlocksAdvisoryDoesNot(t *testing.T) {
	m := fresh(t)
	happy(t)
	require.NoError(t, m.DataContracts(context.Background()))
	e := mustExec(t, "python", "data_contracts/run_checkpoint.py")
	assert.Contains(t, e.Line(), "--out /reports/ge-results.json")
	mustExec(t, "pip", "install", "-r", "requirements-data.txt")

	// Only the advisory expectation fails: a signal, not a failure.
	rec.Respond(daggertest.OnFile("ge-results.json", strings.Replace(passingGE, `"success": true, "expectation_config": {"type": "expect_column_values_to_be_between"`, `"success": false, "expectation_config": {"type": "expect_column_values_to_be_between"`, 1)))
	o, err := m.dataContracts(context.Background())
	require.NoError(t, err)
	byName := results(o)
	assert.Equal(t, gate.Pass, byName[gate.DataContracts].Status)
	assert.Equal(t, gate.Fail, byName[gate.DataAdvisory].Status)
	require.NoError(t, m.DataContracts(context.Background()))

	rec.Respond(daggertest.OnFile("ge-results.json", fixture(t, "../ci/gate/datacontract/testdata/gx1.json")))
	err = m.DataContracts(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data-contracts FAIL")
	assert.Contains(t, err.Error(), "home_team")
}

func TestDataContractsCrashIsAnError(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"run_checkpoint.py"}, map[string]any{"exitCode": 1, "combinedOutput": "ModuleNotFoundError: No module named 'great_expectations'"}))
	err := m.DataContracts(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "No module named 'great_expectations'")
}

func results(o outcome) map[string]gate.Result {
	out := map[string]gate.Result{}
	for _, r := range o.Results {
		out[r.Name] = r
	}
	return out
}

func TestSmokeTrainsOnTheReducedDatasetAndKeepsMetrics(t *testing.T) {
	m := fresh(t)
	happy(t)
	o, err := m.smoke(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Pass, o.Results[0].Status)
	e := mustExec(t, "python", "-m", "soccerpredict.pipeline.train", "--smoke")
	assert.Contains(t, e.Line(), "--out /reports/metrics/candidate.json")
	assert.Contains(t, filesOf(t, o), "metrics/candidate.json")

	rec.Respond(daggertest.OnExec([]string{"--smoke"}, map[string]any{"exitCode": 1, "combinedOutput": "ValueError: Input contains NaN"}))
	err = m.Smoke(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "smoke FAIL")
	assert.Contains(t, err.Error(), "Input contains NaN")
}

func TestApiContractRunsTheBuiltImageAsAService(t *testing.T) {
	m := fresh(t)
	happy(t)
	require.NoError(t, m.ApiContract(context.Background()))

	probe := mustExec(t, "sh", "-c", "http://api:8000/healthz")
	assert.Contains(t, probe.Container.String(), `from(address:"curlimages/curl:8.11.1")`)
	binding, ok := probe.Container.StepWhere("withServiceBinding", "alias", "api")
	require.True(t, ok, "the API must be bound as host api: %s", probe.Container)
	svc, _ := binding.Ref("service")
	s := svc.Chain.String()
	assert.Contains(t, s, `dockerBuild(buildArgs:[{name:"BASE_IMAGE",value:"python:3.11-slim-bookworm"}],dockerfile:"docker/api.Dockerfile")`)
	assert.Contains(t, s, "withExposedPort(port:8000)")
	assert.Contains(t, s, "asService")
	assert.Contains(t, probe.Container.String(), `withFile(path:"/contracts/valid.json"`)

	// A schema-violating 200 and an accepted invalid request both fail the contract.
	rec.Respond(daggertest.OnFile("invalid.status", "200"))
	err := m.ApiContract(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api-contract FAIL")

	// The service never became ready: the API's own command is run for a bounded time and the
	// gate carries its exit code and last output lines, the reason.
	rec.Respond(daggertest.OnExec([]string{"sh", "-c"}, map[string]any{"exitCode": 1, "combinedOutput": "API never became ready on /healthz"}))
	rec.Respond(daggertest.Always("defaultArgs", []string{"uvicorn", "soccerpredict.api.app:app", "--host", "0.0.0.0", "--port", "8000"}))
	rec.Respond(daggertest.OnExec([]string{"timeout"}, map[string]any{"exitCode": 1, "combinedOutput": "Traceback (most recent call last):\nsoccerpredict.model.ModelLoadError: cannot read model file /app/models/model.pkl\n"}))
	err = m.ApiContract(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api-contract FAIL")
	assert.Contains(t, err.Error(), "exited 1 at start")
	assert.Contains(t, err.Error(), "ModelLoadError: cannot read model file")
	assert.Contains(t, err.Error(), "never became ready")
	diag := mustExec(t, "timeout", "-s", "INT", "20", "uvicorn", "soccerpredict.api.app:app")
	assert.Contains(t, diag.Container.String(), `dockerfile:"docker/api.Dockerfile"`)

	// uvicorn missing from the image: the tool could not run, an error of the gate, not a fail.
	rec.Respond(daggertest.OnExec([]string{"timeout"}, map[string]any{"exitCode": 127, "combinedOutput": "timeout: failed to run command 'uvicorn': No such file or directory"}))
	o, err := m.apiContract(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Error, o.Results[0].Status, o.Results[0].Summary)
}

func TestModelGateComparesCandidateWithChampionAndDriftIsASignal(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnFile("drift.json", `{"drift_share": 0.8, "dataset_drift": true}`))
	o, err := m.modelGate(context.Background())
	require.NoError(t, err)
	byName := results(o)
	assert.Equal(t, gate.Pass, byName[gate.ModelGate].Status)
	assert.Equal(t, gate.Fail, byName[gate.Drift].Status, "drift is raised")
	assert.Equal(t, gate.Signal, byName[gate.Drift].Kind)
	require.NoError(t, m.ModelGate(context.Background(), false), "drift never blocks")
	assert.Contains(t, filesOf(t, o), "model-gate.json")
	mustExec(t, "python", "monitoring/drift.py")

	worse := `{"accuracy": 0.30, "brier": 0.66, "latency_ms_p95": 25.0, "log_loss": 1.09}`
	rec.Respond(daggertest.OnFile("metrics/candidate.json", worse))
	err = m.ModelGate(context.Background(), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model-gate FAIL")
	assert.Contains(t, err.Error(), "accuracy")
}

func TestCheckFailsOnlyOnBlockingFailures(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnFile("drift.json", `{"drift_share": 0.9, "dataset_drift": true}`))
	require.NoError(t, m.Check(context.Background()), "signals never fail check")

	dir, err := m.GateReport(context.Background(), nil)
	require.NoError(t, err)
	id, err := dir.ID(context.Background())
	require.NoError(t, err)
	chain, _ := rec.Chain(string(id))
	files := chain.Files()
	for _, f := range []string{"gate-report.json", "gate-report.md", "gl-code-quality-report.json", "metrics/candidate.json", "model-gate.json"} {
		assert.Contains(t, files, f)
	}
	// Test and data-contract reports are the tools' own output directories, merged in.
	assert.Contains(t, chain.String(), `"--junitxml=/reports/junit.xml"`)
	assert.Contains(t, chain.String(), `"--out","/reports/ge-results.json"]`)
	rep, err := gate.ParseReport([]byte(files["gate-report.json"]))
	require.NoError(t, err)
	assert.True(t, rep.Verdict().Pass)
	assert.Contains(t, rep.Verdict().Signals, gate.Drift)
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
	}
	for _, g := range []string{gate.Lint, gate.SecretScan, gate.Test, gate.DataContracts, gate.DVCDry, gate.Smoke, gate.APIContract, gate.ModelGate, gate.Drift, gate.DataAdvisory, gate.PerfRegression} {
		assert.Contains(t, names, g)
	}

	rec.Respond(daggertest.OnExec([]string{"ruff check"}, map[string]any{"stdout": fixture(t, "../ci/gate/lint/testdata/ruff.json"), "exitCode": 1}))
	err = m.Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint")
	assert.Contains(t, err.Error(), "| lint |", "the error carries the Markdown report")
}

func TestGateReportOnlyRunsTheSelectedGates(t *testing.T) {
	m := fresh(t)
	happy(t)
	_, err := m.GateReport(context.Background(), []string{"dvc-dry"})
	require.NoError(t, err)
	_, ranRuff := rec.ExecWith("ruff")
	assert.False(t, ranRuff)
	mustExec(t, "dvc", "repro", "--dry")

	_, err = m.GateReport(context.Background(), []string{"typo"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown gate "typo"`)
}
