//go:build daggerharness

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// A tool that cannot run at all is an error of its gate, never a failure of the project.
func TestToolsThatCannotRunAreErrorsNotFailures(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"--smoke"}, map[string]any{"exitCode": 1, "combinedOutput": "/usr/local/bin/python: No module named soccerpredict.pipeline.train"}))
	o, err := m.smoke(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Error, o.Results[0].Status, o.Results[0].Summary)

	rec.Respond(daggertest.OnExec([]string{"dvc", "repro", "--dry"}, map[string]any{"exitCode": 127, "combinedOutput": "sh: 1: dvc: not found"}))
	o, err = m.dvcDry(context.Background())
	require.NoError(t, err)
	assert.Equal(t, gate.Error, o.Results[0].Status, o.Results[0].Summary)

	rec.Respond(daggertest.OnExec([]string{"pdm", "export"}, map[string]any{"exitCode": 127, "combinedOutput": "sh: 1: pdm: not found"}))
	err = m.RequirementsCheck(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "could not run")
	assert.NotContains(t, err.Error(), "drifted")
}
