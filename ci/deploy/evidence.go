package deploy

import (
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
)

// Evidence is the gate and scan evidence the module read, from where Request.Evidence said.
type Evidence struct {
	// Registry is the registry tool's verification of every digest's evidence (Registry only).
	Registry *attest.Summary
	// GateReport is gate-report.json attached to the images (read only when the registry's
	// evidence counts); nil when there is none.
	GateReport []byte
	// Scan is the registry's Trivy reports; nil when none.
	Scan *Scan
}

// Scan is a directory of Trivy reports and the scan policy they are judged by.
type Scan struct {
	// Reports are the directory's trivy-<service>.json files, by service; a service without one
	// is missing from the directory.
	Reports map[domain.Service][]byte
	// Policy is the blocking severities and the project's .trivyignore, evaluated now.
	Policy scan.Policy
}

// Clean re-evaluates every service's Trivy report under the policy: clean when no service has a
// blocking finding. No directory is not clean; a directory without a service's report is an error.
func (s *Scan) Clean() (bool, error) {
	if s == nil {
		return false, nil
	}
	for _, svc := range domain.Services() {
		name := gate.TrivyFor(svc)
		raw, ok := s.Reports[svc]
		if !ok {
			return false, fmt.Errorf("the evidence read has no %s: republish the images (publish attaches the Trivy report of each)", name)
		}
		rep, err := scan.ParseImageReport(raw)
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		v, err := scan.Evaluate(rep, s.Policy)
		if err != nil {
			return false, err
		}
		if !v.Passed() {
			return false, nil
		}
	}
	return true, nil
}

// verdict is what the evidence says for the promotion policy.
type verdict struct {
	// green: the gate report is the green, complete report of the commit.
	green bool
	// clean: no image has a blocking finding.
	clean bool
	// firstModel: the report's model gate accepted its candidate without a champion.
	firstModel bool
}

// judge reads the evidence from src for commit. A gate report is green only when it is the report
// of the commit with every blocking gate of the catalog present and passed (gate.VerifyReport);
// anything else is refused with what is missing. The registry's evidence must count first.
func (e Evidence) judge(src Source, env domain.Environment, commit domain.Commit) (verdict, error) {
	var v verdict
	wrap := func(err error) error { return fmt.Errorf("gate report: %w", err) }
	if src != Registry {
		return v, nil
	}
	if e.Registry == nil {
		return v, fmt.Errorf("deploy to %s refused, nothing was changed: the evidence of the images was not read from the registry", env)
	}
	if err := e.Registry.Err(); err != nil {
		return v, fmt.Errorf("deploy to %s refused, nothing was changed: %w", env, err)
	}
	// The gate report is attached to every image whose evidence counts.
	rep, err := gate.VerifyReport(e.GateReport, commit)
	if err != nil {
		return v, wrap(err)
	}
	if _, err := modelgate.ReportTolerances(rep); err != nil {
		return v, wrap(err)
	}
	v.green, v.firstModel = true, modelgate.UsedFirstModel(rep)
	if e.Scan != nil {
		if err := e.Scan.Policy.CheckFor(env); err != nil {
			return v, err
		}
	}
	v.clean, err = e.Scan.Clean()
	return v, err
}
