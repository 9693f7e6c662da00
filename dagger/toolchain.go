package main

import (
	"context"

	"dagger/soccer-predict/internal/dagger"

	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

const (
	workdir    = "/src"
	reportsDir = "/reports"
	pipCache   = "/root/.cache/pip"
)

// anyExit lets an exec finish whatever its exit code, so reports are kept and the verdict
// is made in ci/ from the exit code and output, not by the exec failing.
var anyExit = dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny}

// python is the project's Python toolchain: the pinned image, the given requirements files
// installed with a shared pip cache (in a layer of their own, so editing code keeps it), and
// the project copied to /src.
func (m *SoccerPredict) python(ctx context.Context, requirements ...string) (*dagger.Container, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	src := m.project()
	ctr := dag.Container().
		From(imgs.Ref(toolchain.Python)).
		WithMountedCache(pipCache, dag.CacheVolume("soccer-predict-pip")).
		WithEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		WithEnvVariable("PYTHONDONTWRITEBYTECODE", "1").
		WithEnvVariable("PYTHONUNBUFFERED", "1").
		WithEnvVariable("HYPOTHESIS_STORAGE_DIRECTORY", "/tmp/hypothesis").
		WithWorkdir(workdir)
	if len(requirements) > 0 {
		reqDir := dag.Directory()
		for _, r := range requirements {
			reqDir = reqDir.WithFile(r, src.File(r))
		}
		ctr = ctr.
			WithDirectory("/tmp/requirements", reqDir).
			WithWorkdir("/tmp/requirements").
			WithExec(projectpkg.PipInstall(requirements...)).
			WithWorkdir(workdir)
	}
	return ctr.
		WithDirectory(workdir, src).
		WithEnvVariable("PYTHONPATH", workdir+"/src").
		WithDirectory(reportsDir, dag.Directory()), nil
}

// run executes args in ctr whatever the exit code and returns the container, its exit code
// and combined output.
func run(ctx context.Context, ctr *dagger.Container, args []string) (*dagger.Container, int, string, error) {
	done := ctr.WithExec(args, anyExit)
	code, err := done.ExitCode(ctx)
	if err != nil { // a step before it failed (e.g. installing the project's requirements)
		return nil, 0, "", toolFailure(args[0], err)
	}
	out, err := done.CombinedOutput(ctx)
	if err != nil {
		return nil, 0, "", toolFailure(args[0], err)
	}
	return done, code, out, nil
}
