//go:build daggerharness

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// build calls the constructor with the given settings file and flags.
func build(settings *dagger.File, project, registry, mirror, python string) (*SoccerPredict, error) {
	return New(context.Background(), dag.Host().Directory("/work/repo"), project, settings, "", "", "", "",
		registry, mirror, python, "", "", "", "", "", nil, nil, nil)
}

func TestConstructorRejectsBadInputNamingTheFix(t *testing.T) {
	rec.Reset()
	for _, tc := range []struct {
		name                             string
		settings                         *dagger.File
		project, registry, mirror, image string
		want                             string
	}{
		{"unknown setting", dag.File("ci.env", "SP_GATE_CONCURENCY=2\n"), "", "", "", "", "unknown setting(s) SP_GATE_CONCURENCY"},
		{"bad setting value", dag.File("ci.env", "SP_GATE_CONCURRENCY=99\n"), "", "", "", "", "SP_GATE_CONCURRENCY=99: want an integer from 1 to 16"},
		{"registry with a tag", nil, "", "registry.example.com/sp:latest", "", "", "CI_REGISTRY_IMAGE"},
		{"project outside the source", nil, "../elsewhere", "", "", "", "--project=\"../elsewhere\" must be a path relative to --source"},
		{"unpinned image", nil, "", "", "", "python", "--python-image"},
		{"mirror with a scheme", nil, "", "", "https://mirror.example.com", "", "SP_REGISTRY_MIRROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(tc.settings, tc.project, tc.registry, tc.mirror, tc.image)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Empty(t, rec.Execs(), "bad input runs nothing")
}

func TestConstructorFindsTheProjectAndAppliesTheMirror(t *testing.T) {
	rec.Reset()
	happy(t)
	// A source with a pyproject.toml at its root is the project itself.
	m, err := build(dag.File("ci.env", "SP_GATE_CONCURRENCY=2\n"), "", "", "gitlab.example.com:443/group/dependency_proxy/containers", "")
	require.NoError(t, err)
	assert.Equal(t, ".", m.Project)
	assert.Contains(t, m.Settings, "SP_GATE_CONCURRENCY=2")

	require.NoError(t, m.DvcDry(context.Background()))
	e := mustExec(t, "dvc", "repro", "--dry")
	_, ok := e.Container.StepWhere("from", "address", "gitlab.example.com:443/group/dependency_proxy/containers/python:3.11-slim-bookworm")
	assert.True(t, ok, "every tool image is pulled through the mirror: %s", e.Container)
	assert.NotContains(t, e.Container.String(), "tests/testdata/soccerpredict")

	// Without one, the bundled sample is.
	rec.Respond(daggertest.Always("exists", false))
	m, err = build(nil, "", "", "", "")
	require.NoError(t, err)
	assert.Equal(t, "tests/testdata/soccerpredict", m.Project)
}
