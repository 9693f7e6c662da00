package main

import (
	"context"
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/requirements"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// RequirementsCheck verifies that each service's pinned requirements-<service>.txt equals what
// `pdm export` produces from pdm.lock. A drift fails with the diff and the command that fixes it.
//
// +check
func (m *SoccerPredict) RequirementsCheck(ctx context.Context) (err error) {
	defer surface(&err)
	ctr, err := m.python(ctx)
	if err != nil {
		return err
	}
	ctr = ctr.
		WithExec([]string{"pip", "install", "--no-input", "--progress-bar", "off", "pdm==" + projectpkg.PDMVersion}).
		WithEnvVariable("PDM_CHECK_UPDATE", "false")
	src := m.project()
	var problems []string
	for _, svc := range domain.Services() {
		pinned, err := src.File(svc.Requirements()).Contents(ctx)
		if err != nil {
			return fmt.Errorf("read %s: %w", svc.Requirements(), err)
		}
		done, code, log, err := run(ctx, ctr, projectpkg.PDMExport(svc))
		if err != nil {
			return err
		}
		if why, cannot := gate.CannotRun(code, log); cannot {
			return fmt.Errorf("`%s` could not run (%s): the pdm tool image is broken, the requirements were not judged", strings.Join(projectpkg.PDMExport(svc), " "), why)
		}
		if code != 0 {
			problems = append(problems, fmt.Sprintf("%s: `%s` failed (exit %d): %s; fix pdm.lock (pdm lock -G %s) and commit",
				svc, strings.Join(projectpkg.PDMExport(svc), " "), code, strings.Join(gate.Tail(log, 5), " | "), svc))
			continue
		}
		out, err := done.Stdout(ctx) // warnings go to stderr; the requirements to stdout
		if err != nil {
			return err
		}
		diff, err := requirements.Compare(svc, []byte(pinned), []byte(out))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v\n%s", svc, err, diff))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("pinned requirements drifted from pdm.lock:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}
