//go:build daggerharness

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

func TestDvcDryRunsDVCInThePythonImageWithPipCache(t *testing.T) {
	m := fresh(t)
	require.NoError(t, m.DvcDry(context.Background()))

	e, ok := rec.ExecWith("dvc", "repro", "--dry")
	require.True(t, ok, "no dvc exec; execs:\n%s", execsText())
	assert.Equal(t, "ANY", e.Step.Str("expect"), "the verdict comes from the exit code, not a failing exec")
	from, ok := e.Container.StepWhere("from", "address", "python:3.11-slim-bookworm")
	require.True(t, ok, "dvc must run in the pinned python image: %s", e.Container)
	_ = from
	cache, ok := e.Container.StepWhere("withMountedCache", "path", "/root/.cache/pip")
	require.True(t, ok, "pip cache volume missing: %s", e.Container)
	vol, ok := cache.Ref("cache")
	require.True(t, ok)
	assert.Contains(t, vol.Chain.String(), `cacheVolume(key:"soccer-predict-pip")`)
	install, ok := rec.ExecWith("pip", "install", "-r", "requirements-data.txt")
	require.True(t, ok, "data requirements not installed; execs:\n%s", execsText())
	assert.NotContains(t, install.Container.String(), `withDirectory(path:"/src"`, "requirements must install before the code is copied, to keep the layer cached")
	assert.Contains(t, e.Container.String(), `directory(path:"tests/testdata/soccerpredict")`, "defaults to the bundled sample project")
}

func TestDvcDryFailureNamesTheGateAndShowsOutput(t *testing.T) {
	m := fresh(t)
	rec.Respond(daggertest.OnExec([]string{"dvc", "repro"}, map[string]any{
		"exitCode":       255,
		"combinedOutput": "ERROR: failed to reproduce 'train': missing dependency 'data/raw/matches.csv'\n",
	}))
	err := m.DvcDry(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dvc-dry FAIL")
	assert.Contains(t, err.Error(), "missing dependency 'data/raw/matches.csv'")
}
