package main

import (
	"context"
	"errors"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// ownSource is the module's own source: the directory the engine loaded this module from (its
// context directory, the git root filtered by dagger.json's "include"), never a directory a
// caller passes. CurrentModule().Source() is that context narrowed to the module's source
// subpath ("dagger", dagger.json's "source"); ".." is the context root.
func ownSource() *dagger.Directory {
	return dag.CurrentModule().Source().Directory("..")
}

// toolSource is what the helper tools (oci, sops-decrypt, manifest-redact) are built from: the
// module's own go.mod, go.sum and ci/ tree, without tests.
func toolSource() *dagger.Directory {
	return ownSource().Filter(dagger.DirectoryFilterOpts{
		Include: toolchain.ToolSourceInclude,
		Exclude: toolchain.ToolSourceExclude,
	})
}

// forEnv is the pipeline and the chart env's steps run with, decided before anything runs. Dev
// keeps the caller's image overrides, mirror and --chart. Staging and production take the Go
// image of the tools, Helm and Trivy only from committed configuration and refuse a caller's
// (toolchain.ForEnvironment), and deploy the chart committed with the module, refusing a
// caller's (toolchain.CheckChart). A value that is not an environment is left to the
// function's own check, which refuses it before anything runs.
func (m *SoccerPredict) forEnv(ctx context.Context, env string, chart *dagger.Directory) (*SoccerPredict, *dagger.Directory, error) {
	e, err := domain.ParseEnvironment(env)
	if err != nil {
		return m, chart, nil
	}
	return m.forEnvironment(ctx, e, chart)
}

// forEnvironment is forEnv for a parsed environment.
func (m *SoccerPredict) forEnvironment(ctx context.Context, e domain.Environment, chart *dagger.Directory) (*SoccerPredict, *dagger.Directory, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return nil, nil, err
	}
	over := map[toolchain.Image]string{}
	for k, v := range configpkg.FromEnviron(m.ImageOverrides) {
		over[toolchain.Image(k)] = v
	}
	decided, imgErr := toolchain.ForEnvironment(e, over, s.RegistryMirror)
	if err := errors.Join(imgErr, toolchain.CheckChart(e, chart != nil)); err != nil {
		return nil, nil, err
	}
	if chart == nil {
		chart = ownSource().Directory(toolchain.ChartPath)
	}
	lines := map[string]string{}
	for t, ref := range decided {
		lines[string(t)] = ref
	}
	c := *m
	c.ImageOverrides = configpkg.Environ(lines)
	return &c, chart, nil
}
