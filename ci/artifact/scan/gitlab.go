package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// GitLabSchemaVersion is the security report schema version written.
	GitLabSchemaVersion = "15.0.7"
	// GitLabScanType is the report type GitLab expects under artifacts:reports.
	GitLabScanType = "container_scanning"
	// GitLabTimeLayout is the schema's time format (UTC, no zone).
	GitLabTimeLayout = "2006-01-02T15:04:05"

	maxName        = 255
	maxDescription = 1 << 20
	maxSolution    = 7000
	maxLinks       = 20
)

// Run is one Trivy run, as a GitLab report's scan block tells it.
type Run struct {
	// ScannerVersion is the Trivy version (required), e.g. "0.58.1".
	ScannerVersion string
	// Start and End delimit the scan (required, End not before Start).
	Start, End time.Time
	// Failed marks the scan status "failure" (the scan itself failed, not the verdict).
	Failed bool
	// Notes are written as the scan's info messages: what the project's allow-list allows
	// (SecretConfig.Describe) and which findings it accepted (Verdict.IgnoredNotes).
	Notes []string
}

// GitLabOptions describe the scan for the GitLab report.
type GitLabOptions struct {
	// Image is the scanned image reference (required), e.g. "registry/group/api@sha256:…".
	Image string
	// OperatingSystem is e.g. "debian 12.5" (Report.OperatingSystem); "unknown" when empty.
	OperatingSystem string
	Run
}

// glReport is a GitLab security report whose vulnerabilities are V.
type glReport[V any] struct {
	Version         string `json:"version"`
	Vulnerabilities []V    `json:"vulnerabilities"`
	Remediations    []any  `json:"remediations"`
	Scan            glScan `json:"scan"`
}

// glVulnerability is a finding of a GitLab security report located by L, the report type's
// location (glLocation: container scanning; sdLocation: secret detection).
type glVulnerability[L any] struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Severity    string         `json:"severity"`
	Solution    string         `json:"solution"`
	Location    L              `json:"location"`
	Identifiers []glIdentifier `json:"identifiers"`
	Links       []glLink       `json:"links,omitempty"`
}

type glLocation struct {
	Dependency      glDependency `json:"dependency"`
	OperatingSystem string       `json:"operating_system"`
	Image           string       `json:"image"`
}

type glDependency struct {
	Package glPackage `json:"package"`
	Version string    `json:"version"`
}

type glPackage struct {
	Name string `json:"name"`
}

type glIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

type glLink struct {
	URL string `json:"url"`
}

type glScan struct {
	Analyzer  glTool      `json:"analyzer"`
	Scanner   glTool      `json:"scanner"`
	Type      string      `json:"type"`
	StartTime string      `json:"start_time"`
	EndTime   string      `json:"end_time"`
	Status    string      `json:"status"`
	Messages  []glMessage `json:"messages,omitempty"`
}

type glMessage struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

type glTool struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	URL     string   `json:"url,omitempty"`
	Vendor  glVendor `json:"vendor"`
	Version string   `json:"version"`
}

type glVendor struct {
	Name string `json:"name"`
}

// GitLabReport renders findings and secrets (normally Verdict.Reported() and
// Verdict.ReportedSecrets()) as a GitLab container_scanning report (schema 15.0.7), indented
// JSON with a trailing newline. A secret is located in the image by its file and line (the
// report's "package"), with Trivy's masked line in its description and never the secret.
// Vulnerability ids are stable: derived from the finding and the image.
func GitLabReport(findings []Finding, secrets []SecretFinding, o GitLabOptions) ([]byte, error) {
	if strings.TrimSpace(o.Image) == "" {
		return nil, fmt.Errorf("GitLab report needs the scanned image reference: pass the image that trivy scanned")
	}
	sc, err := newScan(GitLabScanType, o.Run)
	if err != nil {
		return nil, err
	}
	osName := strings.TrimSpace(o.OperatingSystem)
	if osName == "" {
		osName = "unknown"
	}
	rep := glReport[glVulnerability[glLocation]]{
		Version:         GitLabSchemaVersion,
		Vulnerabilities: make([]glVulnerability[glLocation], 0, len(findings)+len(secrets)),
		Remediations:    []any{},
		Scan:            sc,
	}
	sortedSecrets := append([]SecretFinding(nil), secrets...)
	sortSecrets(sortedSecrets)
	for _, f := range sortedSecrets {
		rep.Vulnerabilities = append(rep.Vulnerabilities, secretInImage(f, osName, o.Image))
	}
	sorted := append([]Finding(nil), findings...)
	sortFindings(sorted)
	for _, f := range sorted {
		rep.Vulnerabilities = append(rep.Vulnerabilities, toGitLab(f, osName, o.Image))
	}
	return encodeReport(rep)
}

func encodeReport(rep any) ([]byte, error) {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the GitLab report: %w", err)
	}
	return append(b, '\n'), nil
}

// newScan is the scan block of a GitLab security report of scanType written by Trivy.
func newScan(scanType string, r Run) (glScan, error) {
	start, end := r.Start, r.End
	if strings.TrimSpace(r.ScannerVersion) == "" {
		return glScan{}, fmt.Errorf("GitLab report needs the Trivy version: pass the output of `trivy --version`")
	}
	if start.IsZero() || end.IsZero() {
		return glScan{}, fmt.Errorf("GitLab report needs the scan start and end times: pass both")
	}
	if end.Before(start) {
		return glScan{}, fmt.Errorf("scan end %s is before its start %s: pass the times in order", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	trivy := glTool{
		ID:      "trivy",
		Name:    "Trivy",
		URL:     "https://github.com/aquasecurity/trivy",
		Vendor:  glVendor{Name: "Aqua Security"},
		Version: r.ScannerVersion,
	}
	sc := glScan{
		Analyzer:  trivy,
		Scanner:   trivy,
		Type:      scanType,
		StartTime: start.UTC().Format(GitLabTimeLayout),
		EndTime:   end.UTC().Format(GitLabTimeLayout),
		Status:    "success",
	}
	if r.Failed {
		sc.Status = "failure"
	}
	for _, n := range r.Notes {
		if n = strings.TrimSpace(n); n != "" {
			sc.Messages = append(sc.Messages, glMessage{Level: "info", Value: truncate(n, maxSolution)})
		}
	}
	return sc, nil
}

// secretIdentifier is the identifier of Trivy's secret rule.
func secretIdentifier(rule string) glIdentifier {
	return glIdentifier{Type: "trivy_secret_rule", Name: "Trivy secret rule " + rule, Value: rule}
}

// secretDescription says what matched where, with Trivy's masked line when there is one.
func secretDescription(f SecretFinding, where string) string {
	d := "Trivy's secret rule " + f.Rule
	if f.Category != "" {
		d += " (" + f.Category + ")"
	}
	d += " matched " + where + "."
	if f.Match != "" {
		d += "\n\nThe line, with the secret masked: `" + strings.ReplaceAll(f.Match, "`", "'") + "`"
	}
	return d
}

func secretName(f SecretFinding) string {
	if strings.TrimSpace(f.Title) != "" {
		return f.Title
	}
	return f.Rule
}

func secretInImage(f SecretFinding, osName, image string) glVulnerability[glLocation] {
	return glVulnerability[glLocation]{
		ID:          stableID("secret", f.Rule, f.File, strconv.Itoa(f.StartLine), strconv.Itoa(f.EndLine), image),
		Name:        truncate(secretName(f), maxName),
		Description: truncate(secretDescription(f, f.Where()+" in the image"), maxDescription),
		Severity:    f.Severity.GitLab(),
		Solution:    truncate("Rebuild the image without the secret: "+SecretFix+".", maxSolution),
		Location: glLocation{
			Dependency:      glDependency{Package: glPackage{Name: f.Where()}, Version: ""},
			OperatingSystem: osName,
			Image:           image,
		},
		Identifiers: []glIdentifier{secretIdentifier(f.Rule)},
	}
}

func toGitLab(f Finding, osName, image string) glVulnerability[glLocation] {
	name := f.Title
	if strings.TrimSpace(name) == "" {
		name = f.ID
	}
	desc := f.Description
	if desc == "" {
		desc = f.Title
	}
	var solution string
	if f.Fixed != "" {
		solution = fmt.Sprintf("Upgrade %s from %s to %s.", f.Package, f.Installed, f.Fixed)
	} else {
		solution = fmt.Sprintf("No fixed version of %s is available yet; follow %s.", f.Package, f.ID)
	}
	id := glIdentifier{Type: identifierType(f.ID), Name: f.ID, Value: f.ID}
	if isWebURL(f.URL) {
		id.URL = f.URL
	}
	var links []glLink
	seen := map[string]bool{}
	for _, u := range append([]string{f.URL}, f.References...) {
		if isWebURL(u) && !seen[u] && len(links) < maxLinks {
			seen[u] = true
			links = append(links, glLink{URL: u})
		}
	}
	return glVulnerability[glLocation]{
		ID:          stableID(f.ID, f.Package, f.Installed, f.Target, image),
		Name:        truncate(name, maxName),
		Description: truncate(desc, maxDescription),
		Severity:    f.Severity.GitLab(),
		Solution:    truncate(solution, maxSolution),
		Location: glLocation{
			Dependency:      glDependency{Package: glPackage{Name: f.Package}, Version: f.Installed},
			OperatingSystem: osName,
			Image:           image,
		},
		Identifiers: []glIdentifier{id},
		Links:       links,
	}
}

// identifierType is the lowercase prefix of the ID ("cve", "ghsa", "dla", ...), or
// "trivy" when the ID has no alphabetic prefix.
func identifierType(id string) string {
	prefix, _, ok := strings.Cut(id, "-")
	if !ok || prefix == "" {
		return "trivy"
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "trivy"
		}
	}
	return strings.ToLower(prefix)
}

func isWebURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) > len("https://") && !strings.ContainsAny(u, " \t\r\n")
}

// stableID is a UUID-shaped (version 8, RFC 9562) hash of what identifies a finding.
func stableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := h[:16]
	b[6] = (b[6] & 0x0f) | 0x80
	b[8] = (b[8] & 0x3f) | 0x80
	s := hex.EncodeToString(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence (the schema
// limits count characters, so a byte limit is on the safe side).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
