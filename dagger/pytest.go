package main

import (
	"context"
	"fmt"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/junit"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Test runs the project's pytest suite, Hypothesis property tests included, with coverage.
// A failing or erroring test fails it. `test-reports` returns the JUnit XML and cobertura
// coverage files, also when tests fail.
//
// +check
func (m *SoccerPredict) Test(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.test)
}

// TestReports runs the test suite and returns junit.xml and coverage.xml, whether or not the
// tests passed (export them with `test-reports export --path=reports`).
func (m *SoccerPredict) TestReports(ctx context.Context) (_ *dagger.Directory, err error) {
	defer surface(&err)
	o, err := m.test(ctx)
	if err != nil {
		return nil, err
	}
	return o.Files, nil
}

// testRequirements are installed for the test run: the services' pins and the dev tools.
func testRequirements() []string {
	return []string{domain.API.Requirements(), domain.Worker.Requirements(), projectpkg.DevRequirements}
}

func (m *SoccerPredict) test(ctx context.Context) (outcome, error) {
	ctr, err := m.python(ctx, testRequirements()...)
	if err != nil {
		return outcome{}, err
	}
	done, code, out, err := run(ctx, ctr, projectpkg.Pytest(reportsDir))
	if err != nil {
		return outcome{}, err
	}
	files := done.Directory(reportsDir)
	hasJUnit, err := files.Exists(ctx, gate.JUnit)
	if err != nil {
		return outcome{}, err
	}
	if !hasJUnit {
		// pytest stopped before running tests: collection or configuration errors.
		return single(gate.NewResult(gate.Test, gate.Error, fmt.Sprintf("pytest exited %d before writing %s", code, gate.JUnit), gate.Tail(out, 20)...)).withFiles(files), nil
	}
	xml, err := files.File(gate.JUnit).Contents(ctx)
	if err != nil {
		return outcome{}, err
	}
	var cov string
	if hasCov, err := files.Exists(ctx, gate.Coverage); err != nil {
		return outcome{}, err
	} else if hasCov {
		if cov, err = files.File(gate.Coverage).Contents(ctx); err != nil {
			return outcome{}, err
		}
	}
	res := junit.Evaluate([]byte(xml), []byte(cov))
	if code != 0 && res.Status == gate.Pass {
		// All recorded tests passed but pytest still failed (no tests collected, a coverage
		// threshold, a plugin error): never let that pass silently.
		res = gate.NewResult(gate.Test, gate.Fail, fmt.Sprintf("pytest exited %d although every recorded test passed", code), gate.Tail(out, 10)...)
	}
	return single(res).withFiles(files), nil
}
