package main

import (
	"context"
	"encoding/json"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// dvcShape makes the project hold exactly the given DVC pointer files (path → contents):
// exists answers true only for them (and for every non-DVC path, as happy does), contents
// answers theirs.
func dvcShape(t *testing.T, files map[string]string) {
	t.Helper()
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if c.Leaf != "exists" {
			return nil, false
		}
		p, _ := c.LeafArgs["path"].(string)
		if p == "dvc.lock" || strings.HasSuffix(p, ".dvc") {
			_, ok := files[p]
			return ok, true
		}
		return nil, false
	})
	for p, body := range files {
		rec.Respond(daggertest.OnFile(p, body))
	}
}

func builtLabels(t *testing.T, m *SoccerPredict) (map[string]string, error) {
	t.Helper()
	ctr, err := m.Build(context.Background(), "api", "7")
	if err != nil {
		return nil, err
	}
	id, err := ctr.ID(context.Background())
	require.NoError(t, err)
	labels := map[string]string{}
	for _, st := range containerChain(t, string(id)).Steps("withLabel") {
		labels[st.Str("name")] = st.Str("value")
	}
	return labels, nil
}

func TestBuildDatasetVersionFromBothProjectShapes(t *testing.T) {
	dvcFile := fixture(t, "../tests/testdata/soccerpredict/data/raw/matches.csv.dvc")
	lock := fixture(t, "../tests/testdata/soccerpredict/dvc.lock")
	for _, tc := range []struct {
		name        string
		files       map[string]string
		wantPointer string
	}{
		{"dvc add, no dvc.lock", map[string]string{"data/raw/matches.csv.dvc": dvcFile}, "data/raw/matches.csv.dvc"},
		{"dvc add, dvc.lock without stage outputs", map[string]string{"data/raw/matches.csv.dvc": dvcFile, "dvc.lock": "schema: '2.0'\nstages: {}\n"}, "data/raw/matches.csv.dvc"},
		{"pipeline, dvc.lock only", map[string]string{"dvc.lock": lock}, "dvc.lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fresh(t, withRelease)
			happy(t)
			projectFiles(t)
			dvcShape(t, tc.files)
			labels, err := builtLabels(t, m)
			require.NoError(t, err)
			assert.Equal(t, "md5:728b492a238a6a598afb0e51d7bac1c4", labels["io.soccerpredict.dataset.version"])
			assert.Equal(t, tc.wantPointer, labels["io.soccerpredict.dataset.pointer"])
		})
	}
}

func TestBuildRefusesADisagreeingOrBrokenPointer(t *testing.T) {
	lock := fixture(t, "../tests/testdata/soccerpredict/dvc.lock")
	stale := "outs:\n- md5: 99999999999999999999999999999999\n  size: 1\n  hash: md5\n  path: matches.csv\n"
	m := fresh(t, withRelease)
	happy(t)
	projectFiles(t)
	dvcShape(t, map[string]string{"data/raw/matches.csv.dvc": stale, "dvc.lock": lock})
	_, err := builtLabels(t, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run `dvc repro` and commit dvc.lock")

	m = fresh(t, withRelease)
	happy(t)
	projectFiles(t)
	dvcShape(t, map[string]string{"data/raw/matches.csv.dvc": "outs: []\n"})
	_, err = builtLabels(t, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "re-create it with `dvc add data/raw/matches.csv`")
}

func TestDryRunRecordsWhichPointerTheDatasetVersionCameFrom(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	dvcShape(t, map[string]string{"data/raw/matches.csv.dvc": fixture(t, "../tests/testdata/soccerpredict/data/raw/matches.csv.dvc")})
	api, worker, airflow := deployImages()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	out, err := m.Deploy(context.Background(), "staging", api, worker, airflow, dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain), "7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	require.NoError(t, err)
	var record map[string]any
	require.NoError(t, json.Unmarshal([]byte(dryRunDocs(t, out)["trace.json"]), &record))
	assert.Equal(t, "md5:728b492a238a6a598afb0e51d7bac1c4", record["dataset_version"])
	assert.Equal(t, "data/raw/matches.csv.dvc", record["dataset_pointer"])
	tmpl := mustExec(t, "helm template")
	assert.Contains(t, tmpl.Line(), "trace.datasetPointer=data/raw/matches.csv.dvc", "the release annotations carry it too")

	// Neither pointer: staging is refused, saying what is missing and how to provide it.
	m = fresh(t, withRelease)
	deployHappy(t)
	dvcShape(t, map[string]string{})
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow, dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain), "7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataset version is empty")
	assert.Contains(t, err.Error(), "dvc add")
}
