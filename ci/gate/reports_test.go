package gate

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestAllUniqueAndClean(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range ReportFiles() {
		require.NotEmpty(t, n)
		assert.False(t, seen[n], "duplicate report name %q", n)
		seen[n] = true
		assert.Equal(t, path.Clean(n), n, "name %q must be a clean relative path", n)
		assert.False(t, path.IsAbs(n), "name %q must be relative", n)
		assert.False(t, strings.HasPrefix(n, ".."), "name %q must stay inside the directory", n)
		assert.True(t, KnownReport(n))
	}
	assert.Len(t, ReportFiles(), 23)
	assert.False(t, KnownReport("nope.json"))
}

func TestArchitectureNames(t *testing.T) {
	// The names the architecture document promises; changing one is a contract change.
	want := []string{
		"gl-code-quality-report.json", "secret-scan.json", "gl-secret-detection-report.json", "junit.xml", "coverage.xml", "ge-results.json", "model-gate.json",
		"gate-report.json", "gate-report.md", "trivy-*.json", "gl-container-scanning-report.json", "sbom-*.cdx.json",
		"images.env", "images.json", "manifests.yaml", "diff.txt", "policy.json", "trace.json", "release-notes.md",
		"metrics/candidate.json", "release-plan.json", "audit.json", "rollback-plan.txt",
	}
	assert.ElementsMatch(t, want, ReportFiles())
}

func TestGitLabReports(t *testing.T) {
	m := GitLabReports()
	assert.Equal(t, "junit.xml", m["junit"])
	assert.Equal(t, "gl-code-quality-report.json", m["codequality"])
	assert.Equal(t, "coverage.xml", m["coverage_report"])
	assert.Equal(t, "gl-container-scanning-report.json", m["container_scanning"])
	assert.Equal(t, "gl-secret-detection-report.json", m["secret_detection"])
	assert.Equal(t, "sbom-*.cdx.json", m["cyclonedx"])
	assert.Equal(t, "images.env", m["dotenv"])
	for _, f := range m {
		assert.True(t, KnownReport(f))
	}
	m["junit"] = "x"
	assert.Equal(t, "junit.xml", GitLabReports()["junit"], "callers must not be able to change the table")
}

func TestPerServiceNamesMatchTheirGlobs(t *testing.T) {
	for _, svc := range domain.Services() {
		ok, err := path.Match(Trivy, TrivyFor(svc))
		assert.NoError(t, err)
		assert.True(t, ok)
		ok, err = path.Match(SBOM, SBOMFor(svc))
		assert.NoError(t, err)
		assert.True(t, ok)
	}
}
