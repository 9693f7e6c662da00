// Package sample checks the bundled sample project against the pipeline's own decision code:
// what its real tools produce must pass the gates that `dagger call check` applies.
package sample

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/requirements"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

const root = "../testdata/soccerpredict"

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err)
	return b
}

// modelRuns returns the metrics of real training runs that tests/run.sh trains with Debian's
// packages (tests/python/run.sh, MODEL_RUNS_OUT): full.json (the champion's pipeline rerun),
// worse.json (C=1e-5) and slower.json (a 300-tree random forest).
func modelRun(t *testing.T, name string) []byte {
	t.Helper()
	dir := os.Getenv("SP_MODEL_RUNS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SP_MODEL_RUNS is not set: run the tests through tests/run.sh, which trains the candidates first")
		}
		t.Skip("SP_MODEL_RUNS not set: run tests/run.sh to train the candidates first")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return b
}

func evaluate(t *testing.T, candidate []byte) map[string]gate.Result {
	t.Helper()
	results, doc := modelgate.Evaluate(modelgate.Inputs{
		Candidate:   candidate,
		Champion:    read(t, project.ChampionMetrics),
		MaxSlowdown: modelgate.DefaultMaxSlowdown,
	})
	require.NotNil(t, doc, "%v", results)
	out := map[string]gate.Result{}
	for _, r := range results {
		out[r.Name] = r
	}
	return out
}

// A rerun of the pipeline that wrote the bundled champion passes the model gate against it.
func TestRealFullRunPassesTheModelGate(t *testing.T) {
	res := evaluate(t, modelRun(t, "full.json"))
	assert.Equal(t, gate.Pass, res[gate.ModelGate].Status, "%s %v", res[gate.ModelGate].Summary, res[gate.ModelGate].Details)
	v, err := trace.ModelVersion("", modelRun(t, "full.json"))
	require.NoError(t, err)
	champion, err := trace.ModelVersion("", read(t, project.ChampionMetrics))
	require.NoError(t, err)
	assert.Equal(t, champion, v, "the same pipeline on the same data and params has the champion's version")
}

// A genuinely worse model (almost no inverse regularisation) fails the blocking gate.
func TestRealWorseRunFailsTheModelGate(t *testing.T) {
	res := evaluate(t, modelRun(t, "worse.json"))
	assert.Equal(t, gate.Fail, res[gate.ModelGate].Status, res[gate.ModelGate].Summary)
	assert.True(t, res[gate.ModelGate].Blocks())
	assert.Contains(t, res[gate.ModelGate].Summary, "accuracy")
}

// A genuinely slower model (a 300-tree forest, milliseconds per prediction against the champion's
// fraction of one) raises the perf-regression signal, which never blocks.
func TestRealSlowerRunRaisesThePerfRegressionSignal(t *testing.T) {
	res := evaluate(t, modelRun(t, "slower.json"))
	perf := res[gate.PerfRegression]
	assert.Equal(t, gate.Fail, perf.Status, perf.Summary)
	assert.False(t, perf.Blocks())
	assert.Contains(t, perf.Summary, "latency_ms_p95")
}

// The bundled champion is a real model, not a no-skill baseline: better than the uniform guess
// (log-loss ln 3) and than always predicting the most frequent outcome of its test set.
func TestBundledChampionHasSkill(t *testing.T) {
	m, err := modelgate.ParseMetrics(read(t, project.ChampionMetrics))
	require.NoError(t, err)
	assert.Less(t, m["log_loss"], math.Log(3)-0.05)
	_, err = trace.ModelVersion("", read(t, project.ChampionMetrics))
	require.NoError(t, err, "deploy, build labels and trace read model_version from it")
	res, doc := modelgate.Evaluate(modelgate.Inputs{Candidate: read(t, project.ChampionMetrics), Champion: read(t, project.ChampionMetrics), MaxSlowdown: 0.1})
	require.NotNil(t, doc)
	for _, r := range res {
		assert.Equal(t, gate.Pass, r.Status, "%s: %s", r.Name, r.Summary)
	}
}

// Every path and service the module assumes exists in the sample project.
func TestSampleHasWhatTheModuleRunsOn(t *testing.T) {
	for _, rel := range []string{
		project.Pyproject, project.PDMLock, project.DevRequirements, project.DataRequirements,
		project.ChampionMetrics, project.Dataset, project.SmokeDataset, project.ReferenceDataset,
		project.CurrentDataset, project.ValidRequest, project.InvalidRequest, dvc.LockFile, project.GESuite,
		"data_contracts/run_checkpoint.py", "monitoring/drift.py", "dvc.yaml", "params.yaml", ".dvc/config",
	} {
		_, err := os.Stat(filepath.Join(root, rel))
		assert.NoError(t, err, rel)
	}
	for _, svc := range domain.Services() {
		for _, rel := range []string{svc.Dockerfile(), svc.Requirements()} {
			_, err := os.Stat(filepath.Join(root, rel))
			assert.NoError(t, err, rel)
		}
	}
}

// The dataset version the images are labelled with comes from the sample's real dvc.lock.
func TestSampleDatasetVersion(t *testing.T) {
	lock, err := dvc.ParseDVCLock(read(t, dvc.LockFile))
	require.NoError(t, err)
	v, err := dvc.DatasetVersion(lock, project.Dataset)
	require.NoError(t, err)
	assert.Regexp(t, `^md5:[0-9a-f]{32}$`, v)
}

// Every pinned requirements file parses as the requirements check reads it.
func TestSampleRequirementsParse(t *testing.T) {
	for _, svc := range domain.Services() {
		_, err := requirements.Parse(read(t, svc.Requirements()))
		assert.NoError(t, err, svc.Requirements())
	}
}
