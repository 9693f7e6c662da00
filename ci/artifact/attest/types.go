package attest

// Artifact types of the referrers attached to an image (the referrer manifest's artifactType
// and the media type of its single layer, which is the document itself).
const (
	// TypeGateReport is gate-report.json (ci/gate, schema 1) of the commit the image was built from.
	TypeGateReport = "application/vnd.soccerpredict.gate-report.v1+json"
	// TypeTrivy is `trivy image --format json` output (Trivy schema 2) of the image.
	TypeTrivy = "application/vnd.aquasec.trivy.report.v2+json"
	// TypeSBOM is the image's CycloneDX SBOM in JSON (`trivy image --format cyclonedx`).
	TypeSBOM = "application/vnd.cyclonedx+json"
	// TypeInToto is an in-toto v1 Statement in JSON, here with a SLSA v1 provenance predicate.
	TypeInToto = "application/vnd.in-toto+json"
)

// Types lists every artifact type publish attaches, in a fixed order.
func Types() []string { return []string{TypeGateReport, TypeTrivy, TypeSBOM, TypeInToto} }

// Describe names an artifact type for humans ("gate report", "Trivy report", …).
func Describe(artifactType string) string {
	switch artifactType {
	case TypeGateReport:
		return "gate report"
	case TypeTrivy:
		return "Trivy report"
	case TypeSBOM:
		return "CycloneDX SBOM"
	case TypeInToto:
		return "SLSA provenance"
	}
	return artifactType
}
