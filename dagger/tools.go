package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// toolFailure is a failed run of one of the pipeline's tools (what names it) as an error that
// carries the tool's own words. The engine's error message for a failed exec is only
// `process "…" did not complete successfully: exit code: N`; why the tool failed is in its
// stderr (stdout when it printed nothing there), which the engine returns beside the message
// (core.ExecError's extensions). Errors that are not exec failures pass through unchanged.
func toolFailure(what string, err error) error {
	var exec *dagger.ExecError
	if !errors.As(err, &exec) {
		return err
	}
	out := strings.TrimSpace(exec.Stderr)
	if out == "" {
		out = strings.TrimSpace(exec.Stdout)
	}
	// A lazy input of the step (a tool's go build, a Dockerfile RUN) may be what failed: name
	// the command the engine reports when it is not the tool's.
	if len(exec.Cmd) > 0 && !strings.Contains(what, path.Base(exec.Cmd[0])) {
		cmd := strings.Join(strings.Fields(strings.Join(exec.Cmd, " ")), " ")
		if len(cmd) > 120 {
			cmd = cmd[:117] + "..."
		}
		what += " (`" + cmd + "` failed first)"
	}
	// The engine's own message stays at the end (wrapped): it is what a tool that could not even
	// start leaves.
	if out == "" {
		return fmt.Errorf("%s failed (exit %d) and printed nothing: %w", what, exec.ExitCode, err)
	}
	return fmt.Errorf("%s failed (exit %d):\n%s\n(%w)", what, exec.ExitCode, strings.Join(gate.Tail(out, 15), "\n"), err)
}

// ociBin is where the registry tool (ci/cmd/oci) sits in its container.
const ociBin = "/usr/local/bin/oci"

// tool builds one of the pipeline's helper programs as a static binary in the Go image,
// with shared module and build caches, so a fresh engine compiles it once per change.
func (m *SoccerPredict) tool(ctx context.Context, t toolchain.GoTool) (*dagger.File, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	return dag.Container().
		From(imgs.Ref(toolchain.Golang)).
		WithMountedCache("/go/pkg/mod", dag.CacheVolume("soccer-predict-gomod")).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume("soccer-predict-gobuild")).
		WithEnvVariable("CGO_ENABLED", "0").
		WithEnvVariable("GOFLAGS", "-mod=readonly").
		WithDirectory("/pipeline", m.PipelineSource).
		WithWorkdir(path.Join("/pipeline", t.ModuleDir)).
		WithExec(t.GoBuild()).
		File(t.Binary()), nil
}

// toolContainer is the Go image (already pulled to build the tools; it carries the CA
// certificates) with one of the registry tools at bin and the registry credentials, the password
// only as a mounted secret file; it returns the tool's credential arguments.
func (m *SoccerPredict) toolContainer(ctx context.Context, t toolchain.GoTool, bin, username string, password *dagger.Secret) (*dagger.Container, []string, error) {
	file, err := m.tool(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, nil, err
	}
	ctr := dag.Container().From(imgs.Ref(toolchain.Golang)).WithFile(bin, file)
	var args []string
	if password != nil {
		if username == "" {
			return nil, nil, fmt.Errorf("--password needs --username")
		}
		ctr = ctr.
			WithNewFile("/run/registry/username", username).
			WithMountedSecret("/run/secrets/registry-password", password)
		args = []string{"--username-file", "/run/registry/username", "--password-file", "/run/secrets/registry-password"}
	}
	return ctr, args, nil
}
