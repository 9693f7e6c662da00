package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// ToolError is a failed run of one of the pipeline's tools: which step (What), the command the
// engine reports as failed (it may be a lazy input of the step: a tool's go build, a pip
// install, a Dockerfile RUN), its exit code and its last output lines. Its message is all the
// user sees: Dagger v0.21.8's generated module code (convertError in
// cmd/codegen/generator/go/templates/modules.go) walks a returned error's Unwrap chain and, when
// it meets the engine's GraphQL error, prints only that error's message ("exit code: 1") and
// drops every message wrapped around it. So a ToolError keeps the engine's error beside it
// (Exec), never in its Unwrap chain.
type ToolError struct {
	What     string
	Cmd      string
	ExitCode int
	Output   []string // the last lines of stderr (stdout when stderr is empty)
	exec     *dagger.ExecError
}

func (e *ToolError) Error() string {
	msg := e.What + " failed"
	if e.Cmd != "" {
		msg += ": `" + e.Cmd + "`"
	}
	if len(e.Output) == 0 {
		return fmt.Sprintf("%s exited %d and printed nothing", msg, e.ExitCode)
	}
	return fmt.Sprintf("%s exited %d:\n%s", msg, e.ExitCode, strings.Join(e.Output, "\n"))
}

// Exec is the engine's exec error behind the failure.
func (e *ToolError) Exec() *dagger.ExecError { return e.exec }

// toolFailure is a failed run of one of the pipeline's tools (what names the step) as a
// *ToolError carrying the tool's own words: the engine's own message for a failed exec is only
// `process "…" did not complete successfully: exit code: N`; the command and its output come
// in the error's extensions (core.ExecError), which the CLI does not print. The command's
// arguments never hold a secret (secrets are mounted files). Errors that are not exec failures
// pass through unchanged (surface keeps their wrapping text at the function's boundary).
func toolFailure(what string, err error) error {
	var exec *dagger.ExecError
	if !errors.As(err, &exec) {
		return err
	}
	cmd := strings.Join(strings.Fields(strings.Join(exec.Cmd, " ")), " ")
	if len(cmd) > 160 {
		cmd = cmd[:157] + "..."
	}
	out := strings.TrimSpace(exec.Stderr)
	if out == "" {
		out = strings.TrimSpace(exec.Stdout)
	}
	var tail []string
	if out != "" {
		tail = gate.Tail(out, 15)
	}
	return &ToolError{What: what, Cmd: cmd, ExitCode: exec.ExitCode, Output: tail, exec: exec}
}

// surface keeps the whole text of the error a module function returns. Dagger v0.21.8's
// generated code reports only the message of the engine's GraphQL error when one is in the
// returned error's Unwrap chain, so `fmt.Errorf("read --settings-file: %w", err)` would reach the
// user as the engine's bare words. Every exported function of the module defers it
// (tests/moduleapi checks); the error it returns carries the same text and no engine error.
func surface(err *error) {
	if *err == nil {
		return
	}
	var ext interface{ Extensions() map[string]any }
	if errors.As(*err, &ext) {
		*err = &surfaced{msg: (*err).Error(), cause: *err}
	}
}

// surfaced is an error whose text is final: its cause is kept for errors.Is/As in this
// module's tests through Causes, never through Unwrap.
type surfaced struct {
	msg   string
	cause error
}

func (e *surfaced) Error() string { return e.msg }

// Cause is the error surfaced (for tests; never unwrapped by the engine).
func (e *surfaced) Cause() error { return e.cause }

// ociBin is where the registry tool (ci/cmd/oci) sits in its container.
const ociBin = "/usr/local/bin/oci"

// tool builds one of the pipeline's helper programs as a static binary in the Go image, from
// the module's own source (toolSource: never a directory a caller passes), with shared module
// and build caches, so a fresh engine compiles it once per change. For staging and production
// the Go image is the committed one (forEnv).
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
		WithDirectory("/pipeline", toolSource()).
		WithWorkdir(path.Join("/pipeline", t.ModuleDir)).
		WithExec(t.GoBuild()).
		File(t.Binary()), nil
}

// toolContainer is the Go image (already pulled to build the tools; it carries the CA
// certificates) with one of the registry tools at bin and the registry credentials, the password
// only as a mounted secret file; it returns the tool's registry arguments. reach are the images
// the tool will read or write: a loopback registry among them (localhost:5000, kind's
// localhost:5001) is on the caller's machine, while inside the container localhost is the
// container itself, so the service the caller passed as --local-registry (tcp://localhost:5000,
// a forward to that port of the caller's machine) is bound under a name of its own, and the tool
// connects there for that registry (--connect-to); references and digests keep naming the
// registry.
func (m *SoccerPredict) toolContainer(ctx context.Context, t toolchain.GoTool, bin, username string, password *dagger.Secret, reach ...domain.ImageRef) (*dagger.Container, []string, error) {
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
	if err := m.checkLocalRegistry(reach); err != nil {
		return nil, nil, err
	}
	for _, r := range domain.HostRoutes(reach...) {
		ctr = ctr.WithServiceBinding(r.Alias, m.LocalRegistry)
		args = append(args, domain.ConnectToFlag, r.ConnectTo())
	}
	return ctr, args, nil
}

// checkLocalRegistry refuses images on a loopback registry without --local-registry: a module
// function cannot reach the caller's machine by itself (Dagger gives modules no Host), only
// through a service the caller passes.
func (m *SoccerPredict) checkLocalRegistry(refs []domain.ImageRef) error {
	routes := domain.HostRoutes(refs...)
	if len(routes) == 0 || m.LocalRegistry != nil {
		return nil
	}
	r := routes[0]
	return fmt.Errorf("the images are on %s, a registry on the machine running dagger call, which a container cannot reach as %s (there it is the container itself): pass the registry as a service before the function name, --local-registry=tcp://%s:%d", r.Registry, r.Host, r.Host, r.Port)
}
