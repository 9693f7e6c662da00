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

// toolFailure is a failed run of one of the pipeline's tools (what names the step) as an error
// that carries the tool's own words. The engine's error message for a failed exec is only
// `process "…" did not complete successfully: exit code: N`; the command that failed and its
// stderr (stdout when it printed nothing there) come beside the message (core.ExecError's
// extensions). The command is named as the engine reports it: it may be a lazy input of the step
// (a tool's go build, a pip install, a Dockerfile RUN) rather than the tool itself. Its arguments
// never hold a secret (secrets are mounted files). Errors that are not exec failures pass through
// unchanged; the engine's own message stays at the end, wrapped: it is all a command that could
// not even start leaves.
func toolFailure(what string, err error) error {
	var exec *dagger.ExecError
	if !errors.As(err, &exec) {
		return err
	}
	what += " failed"
	if cmd := strings.Join(strings.Fields(strings.Join(exec.Cmd, " ")), " "); cmd != "" {
		if len(cmd) > 160 {
			cmd = cmd[:157] + "..."
		}
		what += ": `" + cmd + "`"
	}
	out := strings.TrimSpace(exec.Stderr)
	if out == "" {
		out = strings.TrimSpace(exec.Stdout)
	}
	if out == "" {
		return fmt.Errorf("%s exited %d and printed nothing: %w", what, exec.ExitCode, err)
	}
	return fmt.Errorf("%s exited %d:\n%s\n(%w)", what, exec.ExitCode, strings.Join(gate.Tail(out, 15), "\n"), err)
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
