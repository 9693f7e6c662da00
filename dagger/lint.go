package main

import (
	"context"
	"fmt"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/lint"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Lint runs `ruff check` and `ruff format --check` on the project with the settings of its
// pyproject.toml. Any finding fails it, each unformatted file named. The ruff is the one
// requirements-dev.txt pins; else the SP_RUFF_VERSION setting's; else the python image's. The
// result says which ran; `gate-report` also returns the findings as a GitLab Code Quality report
// (gl-code-quality-report.json).
//
// +check
func (m *SoccerPredict) Lint(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.lint)
}

func (m *SoccerPredict) lint(ctx context.Context) (outcome, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return outcome{}, err
	}
	reqs, err := m.project().File(projectpkg.DevRequirements).Contents(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("read the project's %s (the lint gate installs ruff from it): %w", projectpkg.DevRequirements, err)
	}
	plan, err := lint.PlanRuff([]byte(reqs), s.RuffVersion)
	if err != nil {
		return single(gate.Errored(gate.Lint, err)), nil
	}
	ctr, err := m.python(ctx, projectpkg.DevRequirements)
	if err != nil {
		return outcome{}, err
	}
	probe, err := ruffRun(ctx, ctr, projectpkg.RuffVersion())
	if err != nil {
		return outcome{}, err
	}
	ruff, install, err := plan.Resolve(probe, false)
	if install != "" {
		ctr = ctr.WithExec(projectpkg.RuffInstall(install))
		if probe, err = ruffRun(ctx, ctr, projectpkg.RuffVersion()); err != nil {
			return outcome{}, fmt.Errorf("install ruff==%s (SP_RUFF_VERSION): %w: pin ruff in %s instead, or unset SP_RUFF_VERSION to use the python image's ruff", install, err, projectpkg.DevRequirements)
		}
		ruff, _, err = plan.Resolve(probe, true)
	}
	if err != nil {
		return single(gate.Errored(gate.Lint, err)), nil
	}
	ctr = ctr.
		WithMountedCache("/root/.cache/ruff", dag.CacheVolume("soccer-predict-ruff")).
		WithEnvVariable("RUFF_CACHE_DIR", "/root/.cache/ruff")
	check, err := ruffRun(ctx, ctr, projectpkg.RuffCheck())
	if err != nil {
		return outcome{}, err
	}
	format, err := ruffRun(ctx, ctr, projectpkg.RuffFormat(ruff.FormatJSON()))
	if err != nil {
		return outcome{}, err
	}
	res, report := lint.Evaluate(ruff, check, format, workdir)
	if report == nil {
		return single(res), nil
	}
	files := dag.Directory().WithNewFile(gate.CodeQuality, string(report))
	return single(res).withFiles(files), nil
}

// ruffRun executes args whatever their exit code and returns the exit code with stdout and
// stderr apart (JSON comes on stdout only).
func ruffRun(ctx context.Context, ctr *dagger.Container, args []string) (lint.Run, error) {
	done := ctr.WithExec(args, anyExit)
	code, err := done.ExitCode(ctx)
	if err != nil { // a step before it failed (e.g. installing requirements-dev.txt)
		return lint.Run{}, toolFailure("ruff", err)
	}
	stdout, err := done.Stdout(ctx)
	if err != nil {
		return lint.Run{}, toolFailure("ruff", err)
	}
	stderr, err := done.Stderr(ctx)
	if err != nil {
		return lint.Run{}, toolFailure("ruff", err)
	}
	return lint.Run{ExitCode: code, Stdout: stdout, Stderr: stderr}, nil
}
