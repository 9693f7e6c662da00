package scan

import (
	"fmt"
	"strconv"
	"strings"
)

// SecretDetectionScanType is the report type GitLab expects under artifacts:reports for the
// secret detection report (gl-secret-detection-report.json).
const SecretDetectionScanType = "secret_detection"

// UnknownCommit is the commit a secret detection report names when the scan was not told which
// commit it scanned (a local run without --commit): the schema requires one.
const UnknownCommit = "unknown"

// SecretDetectionOptions describe a scan of the project's files for the GitLab report.
type SecretDetectionOptions struct {
	// Commit is the commit whose files were scanned; UnknownCommit when empty.
	Commit string
	Run
}

type sdLocation struct {
	File      string   `json:"file"`
	StartLine int      `json:"start_line"`
	EndLine   int      `json:"end_line"`
	Commit    sdCommit `json:"commit"`
}

type sdCommit struct {
	SHA string `json:"sha"`
}

// SecretDetectionReport renders secrets found in the project's files (normally
// Verdict.ReportedSecrets() of a `trivy fs` scan) as a GitLab secret_detection report (schema
// 15.0.7), indented JSON with a trailing newline. Each secret is located by file, lines and
// commit; its description carries Trivy's masked line, and the report has no
// raw_source_code_extract: the secret itself is never written.
func SecretDetectionReport(secrets []SecretFinding, o SecretDetectionOptions) ([]byte, error) {
	sc, err := newScan(SecretDetectionScanType, o.Run)
	if err != nil {
		return nil, err
	}
	commit := strings.TrimSpace(o.Commit)
	if commit == "" {
		commit = UnknownCommit
	}
	rep := glReport[glVulnerability[sdLocation]]{
		Version:         GitLabSchemaVersion,
		Vulnerabilities: make([]glVulnerability[sdLocation], 0, len(secrets)),
		Remediations:    []any{},
		Scan:            sc,
	}
	sorted := append([]SecretFinding(nil), secrets...)
	sortSecrets(sorted)
	for _, f := range sorted {
		lines := "line " + strconv.Itoa(f.StartLine)
		if f.EndLine > f.StartLine {
			lines = fmt.Sprintf("lines %d-%d", f.StartLine, f.EndLine)
		}
		rep.Vulnerabilities = append(rep.Vulnerabilities, glVulnerability[sdLocation]{
			ID:          stableID("secret", f.Rule, f.File, strconv.Itoa(f.StartLine), strconv.Itoa(f.EndLine)),
			Name:        truncate(secretName(f), maxName),
			Description: truncate(secretDescription(f, f.File+" "+lines), maxDescription),
			Severity:    f.Severity.GitLab(),
			Solution:    truncate(strings.ToUpper(SecretFix[:1])+SecretFix[1:]+".", maxSolution),
			Location:    sdLocation{File: f.File, StartLine: f.StartLine, EndLine: f.EndLine, Commit: sdCommit{SHA: commit}},
			Identifiers: []glIdentifier{secretIdentifier(f.Rule)},
		})
	}
	return encodeReport(rep)
}

// IgnoredNotes lists, one line each, the secrets the project's .trivyignore accepted (rule, file
// and line, the entry's line and expiry) and the entries that expired, for a report's notes.
func (v Verdict) IgnoredNotes() []string {
	var out []string
	for _, f := range v.IgnoredSecrets {
		n := fmt.Sprintf("%s: secret %s in %s is accepted", IgnoreFile, f.Rule, f.Where())
		if e := f.IgnoredBy; e != nil {
			n += fmt.Sprintf(" by line %d", e.Line)
			if !e.Expires.IsZero() {
				n += " until " + e.Expires.Format(ExpiryLayout)
			}
		}
		out = append(out, n)
	}
	for _, e := range v.ExpiredIgnores {
		out = append(out, fmt.Sprintf("%s: line %d (%s) expired on %s and no longer applies", IgnoreFile, e.Line, e.ID, e.Expires.Format(ExpiryLayout)))
	}
	return out
}
