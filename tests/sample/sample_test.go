// Package sample checks the bundled sample project against the pipeline's own decision code:
// what its real tools produce must pass the gates that `dagger call check` applies.
package sample

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/buildinfo"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/requirements"
)

const root = "../testdata/soccerpredict"

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err)
	return b
}

// The candidate metrics of a real smoke run (tests/run.sh trains one with Debian's packages
// and passes the file) must pass the model gate against the bundled champion.
func TestRealSmokeCandidatePassesTheModelGate(t *testing.T) {
	path := os.Getenv("SP_SMOKE_METRICS")
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SP_SMOKE_METRICS is not set: run the tests through tests/run.sh, which trains the smoke model first")
		}
		t.Skip("SP_SMOKE_METRICS not set: run tests/run.sh to train the smoke model first")
	}
	candidate, err := os.ReadFile(path)
	require.NoError(t, err)
	results, doc := modelgate.Evaluate(modelgate.Inputs{
		Candidate:   candidate,
		Champion:    read(t, project.ChampionMetrics),
		MaxSlowdown: modelgate.DefaultMaxSlowdown,
	})
	require.NotNil(t, doc)
	for _, r := range results {
		assert.False(t, r.Blocks(), "%s: %s %v", r.Name, r.Summary, r.Details)
		if r.Name == gate.ModelGate {
			assert.Equal(t, gate.Pass, r.Status)
		}
	}
}

// Every path and service the module assumes exists in the sample project.
func TestSampleHasWhatTheModuleRunsOn(t *testing.T) {
	for _, rel := range []string{
		project.Pyproject, project.PDMLock, project.DevRequirements, project.DataRequirements,
		project.ChampionMetrics, project.Dataset, project.SmokeDataset, project.ReferenceDataset,
		project.CurrentDataset, project.ValidRequest, project.InvalidRequest, project.DVCLock, project.GESuite,
		"data_contracts/run_checkpoint.py", "monitoring/drift.py", "dvc.yaml", "params.yaml", ".dvc/config",
	} {
		_, err := os.Stat(filepath.Join(root, rel))
		assert.NoError(t, err, rel)
	}
	for _, svc := range project.Services() {
		for _, rel := range []string{svc.Dockerfile(), svc.Requirements()} {
			_, err := os.Stat(filepath.Join(root, rel))
			assert.NoError(t, err, rel)
		}
	}
}

// The dataset version the images are labelled with comes from the sample's real dvc.lock.
func TestSampleDatasetVersion(t *testing.T) {
	lock, err := buildinfo.ParseDVCLock(read(t, project.DVCLock))
	require.NoError(t, err)
	v, err := buildinfo.DatasetVersion(lock, project.Dataset)
	require.NoError(t, err)
	assert.Regexp(t, `^md5:[0-9a-f]{32}$`, v)
}

// Every pinned requirements file parses as the requirements check reads it.
func TestSampleRequirementsParse(t *testing.T) {
	for _, svc := range project.Services() {
		_, err := requirements.Parse(read(t, svc.Requirements()))
		assert.NoError(t, err, svc.Requirements())
	}
}
