package main

import (
	"context"
	"path"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/images"
	"gitlab.com/soccerpredictai/pipeline/ci/toolbox"
)

// tool builds one of the pipeline's helper programs as a static binary in the Go image,
// with shared module and build caches, so a fresh engine compiles it once per change.
func (m *SoccerPredict) tool(ctx context.Context, t toolbox.Tool) (*dagger.File, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	return dag.Container().
		From(imgs.Ref(images.Golang)).
		WithMountedCache("/go/pkg/mod", dag.CacheVolume("soccer-predict-gomod")).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume("soccer-predict-gobuild")).
		WithEnvVariable("CGO_ENABLED", "0").
		WithEnvVariable("GOFLAGS", "-mod=readonly").
		WithDirectory("/pipeline", m.PipelineSource).
		WithWorkdir(path.Join("/pipeline", t.ModuleDir)).
		WithExec(t.GoBuild()).
		File(t.Binary()), nil
}
