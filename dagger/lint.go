package main

import (
	"context"
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/lint"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Lint runs `ruff check` and `ruff format --check` on the project with the settings of its
// pyproject.toml. Any finding fails it; `gate-report` also returns the findings as a GitLab
// Code Quality report (gl-code-quality-report.json).
//
// +check
func (m *SoccerPredict) Lint(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.lint)
}

func (m *SoccerPredict) lint(ctx context.Context) (outcome, error) {
	ctr, err := m.python(ctx, projectpkg.DevRequirements)
	if err != nil {
		return outcome{}, err
	}
	ctr = ctr.
		WithMountedCache("/root/.cache/ruff", dag.CacheVolume("soccer-predict-ruff")).
		WithEnvVariable("RUFF_CACHE_DIR", "/root/.cache/ruff")

	checked := ctr.WithExec(projectpkg.RuffCheck(), anyExit)
	code, err := checked.ExitCode(ctx)
	if err != nil {
		return outcome{}, toolFailure("ruff", err)
	}
	stdout, err := checked.Stdout(ctx)
	if err != nil {
		return outcome{}, toolFailure("ruff", err)
	}
	if code > 1 { // 0: clean, 1: findings, 2: ruff itself failed (bad config, crash)
		stderr, _ := checked.Stderr(ctx)
		return single(gate.NewResult(gate.Lint, gate.Error, fmt.Sprintf("ruff check exited %d: fix the ruff configuration in pyproject.toml", code), gate.Tail(stderr, 10)...)), nil
	}
	_, fcode, fout, err := run(ctx, ctr, projectpkg.RuffFormat())
	if err != nil {
		return outcome{}, err
	}
	if fcode > 1 {
		return single(gate.NewResult(gate.Lint, gate.Error, fmt.Sprintf("ruff format --check exited %d", fcode), gate.Tail(fout, 10)...)), nil
	}
	res, report := lint.Evaluate([]byte(stdout), fout, workdir)
	if report == nil {
		return single(res), nil
	}
	files := dag.Directory().WithNewFile(gate.CodeQuality, string(report))
	return single(res).withFiles(files), nil
}
