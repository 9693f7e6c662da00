// Report file names: every file the pipeline exports, so the Dagger module,
// the .gitlab-ci.yml shim and the tests share one source of truth.
//
// Every name is a path relative to the directory a function returns.

package gate

import "gitlab.com/soccerpredictai/pipeline/ci/domain"

const (
	// CodeQuality is the GitLab Code Quality report written by lint-report.
	CodeQuality = "gl-code-quality-report.json"
	// SecretScanJSON is Trivy's JSON report of the secret scan of the project's files, with
	// nothing that may hold a secret in clear (scan.Redact), written by secret-scan.
	SecretScanJSON = "secret-scan.json"
	// SecretDetection is the GitLab secret detection report written by secret-scan: every
	// secret found in the project's files, masked.
	SecretDetection = "gl-secret-detection-report.json"
	// JUnit is the pytest --junitxml report written by test.
	JUnit = "junit.xml"
	// Coverage is the Cobertura coverage report written by test.
	Coverage = "coverage.xml"
	// GEResults is the Great Expectations validation result written by data-contracts.
	GEResults = "ge-results.json"
	// CandidateMetrics is the candidate model's metrics written by smoke.
	CandidateMetrics = "metrics/candidate.json"
	// ModelGateJSON is the champion/challenger comparison written by model-gate.
	ModelGateJSON = "model-gate.json"
	// GateReportJSON is the machine-readable report of every gate written by check.
	GateReportJSON = "gate-report.json"
	// GateReportMarkdown is the human-readable report of every gate written by check.
	GateReportMarkdown = "gate-report.md"
	// Trivy matches Trivy's native JSON reports written by scan-report, one per service
	// (TrivyFor).
	Trivy = "trivy-*.json"
	// ContainerScanning is the GitLab container scanning report written by scan-report: the
	// findings of every scanned service, each located in its image.
	ContainerScanning = "gl-container-scanning-report.json"
	// SBOM matches the CycloneDX software bills of materials written by scan-report, one per
	// service (SBOMFor); GitLab's cyclonedx report takes the glob.
	SBOM = "sbom-*.cdx.json"
	// ImagesEnv is the dotenv file of published image references (API_IMAGE=repo@sha256:…) written by publish.
	ImagesEnv = "images.env"
	// ImagesJSON is the JSON list of published image references written by publish.
	ImagesJSON = "images.json"
	// Manifests is the rendered Kubernetes manifests in deploy --dry-run's answer.
	Manifests = "manifests.yaml"
	// Diff is the difference between the live release and the rendered manifests in deploy --dry-run's answer.
	Diff = "diff.txt"
	// Policy is the policy decision in deploy --dry-run's answer.
	Policy = "policy.json"
	// Trace is the traceability record in deploy --dry-run's answer and release's files.
	Trace = "trace.json"
	// ReleaseNotes is the release notes written by release.
	ReleaseNotes = "release-notes.md"
	// ReleasePlan is the release's promotion plan (service, source digest, destinations).
	ReleasePlan = "release-plan.json"
	// Audit is the audit record of a rollback.
	Audit = "audit.json"
	// RollbackPlan lists what a data rollback restores and deletes.
	RollbackPlan = "rollback-plan.txt"
)

// GitLab artifact report types (the keys under artifacts:reports: in .gitlab-ci.yml).
const (
	GitLabCodeQuality       = "codequality"
	GitLabJUnit             = "junit"
	GitLabCoverageReport    = "coverage_report" // with coverage_format: cobertura
	GitLabContainerScanning = "container_scanning"
	GitLabSecretDetection   = "secret_detection"
	GitLabCycloneDX         = "cyclonedx"
	GitLabDotenv            = "dotenv"
)

// ReportFiles returns every exported file name, in a fixed order.
func ReportFiles() []string {
	return []string{
		CodeQuality, SecretScanJSON, SecretDetection, JUnit, Coverage, GEResults, CandidateMetrics, ModelGateJSON,
		GateReportJSON, GateReportMarkdown, Trivy, ContainerScanning, SBOM,
		ImagesEnv, ImagesJSON, Manifests, Diff, Policy, Trace, ReleaseNotes, ReleasePlan, Audit, RollbackPlan,
	}
}

// GitLabReports maps a GitLab artifact report type to the file it reads.
// A new map is returned on every call.
func GitLabReports() map[string]string {
	return map[string]string{
		GitLabCodeQuality:       CodeQuality,
		GitLabJUnit:             JUnit,
		GitLabCoverageReport:    Coverage,
		GitLabContainerScanning: ContainerScanning,
		GitLabSecretDetection:   SecretDetection,
		GitLabCycloneDX:         SBOM,
		GitLabDotenv:            ImagesEnv,
	}
}

// KnownReport reports whether name is one of the exported file names.
func KnownReport(name string) bool {
	for _, n := range ReportFiles() {
		if n == name {
			return true
		}
	}
	return false
}

// TrivyFor is the Trivy JSON report of one service.
func TrivyFor(svc domain.Service) string { return "trivy-" + string(svc) + ".json" }

// SBOMFor is the CycloneDX SBOM of one service.
func SBOMFor(svc domain.Service) string { return "sbom-" + string(svc) + ".cdx.json" }
