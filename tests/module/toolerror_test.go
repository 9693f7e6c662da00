//go:build daggerharness

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

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

// cliMessage is the text the dagger CLI prints for an error a module function returns, by the
// rule of Dagger v0.21.8's generated module code (convertError and findSingleGQLError in
// cmd/codegen/generator/go/templates/modules.go at v0.21.8, read from dagger/dagger's source):
// the message of the single GraphQL error found by following Unwrap() error (a multi-error
// Unwrap() []error stops the search), else the error's own text.
func cliMessage(err error) string {
	for e := err; e != nil; {
		switch x := e.(type) {
		case *gqlerror.Error:
			return x.Message
		case interface{ Unwrap() []error }:
			return err.Error()
		case interface{ Unwrap() error }:
			e = x.Unwrap()
			continue
		}
		break
	}
	return err.Error()
}

// What the user reads at the end of `dagger call` is the command that failed, its exit code and
// its last output lines, not the engine's bare "exit code: N".
func TestTheCLIPrintsTheToolsCommandAndWords(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	src := registry + "/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": &daggertest.ExecError{Cmd: []string{"/usr/local/bin/oci", "promote", "--src", src}, ExitCode: 5,
			Stderr: "oci: " + registry + "/api:v1.2.3 already points at " + digestOf(2) + ": pass --allow-overwrite to move it"},
	}))
	_, err := m.Promote(context.Background(), src, []string{registry + "/api:v1.2.3"}, "", nil, false, nil)
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "oci promote of "+src+" failed: `/usr/local/bin/oci promote --src "+src+"` exited 5:\n")
	assert.Contains(t, msg, "pass --allow-overwrite to move it")
	assert.NotContains(t, msg, "did not complete successfully", "the engine's own words add nothing")

	// The same rule, applied to the bare engine error, shows what users saw before.
	var tool *ToolError
	require.ErrorAs(t, err, &tool)
	assert.Equal(t, 5, tool.ExitCode)
	assert.NotContains(t, cliMessage(tool.Exec()), "allow-overwrite", "the engine's error alone drops the tool's words")
}

// An engine error that is not an exec failure keeps the words the module wrapped around it.
func TestTheCLIPrintsTheWrappingOfAnEngineError(t *testing.T) {
	fresh(t)
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if c.Leaf == "contents" && strings.Contains(c.Chain.String(), "settings.env") {
			return &daggertest.GQLError{Message: "open settings.env: no such file or directory"}, true
		}
		return nil, false
	})
	_, err := New(context.Background(), dag.Host().Directory("/work/repo"), "", dag.Host().File("/work/settings.env"), "", "", "", "",
		"", "", "", "", "", "", "", "", nil, nil, nil)
	require.Error(t, err)
	assert.Equal(t, "read --settings-file: open settings.env: no such file or directory", cliMessage(err))
}
