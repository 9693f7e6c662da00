package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// TrivySchemaVersion is the only Trivy JSON schema version understood.
const TrivySchemaVersion = 2

// Report is the part of `trivy image --format json` output this package uses.
type Report struct {
	SchemaVersion int      `json:"SchemaVersion"`
	ArtifactName  string   `json:"ArtifactName"`
	ArtifactType  string   `json:"ArtifactType"`
	Metadata      Metadata `json:"Metadata"`
	Results       []Result `json:"Results"`
}

// Metadata describes the scanned artifact.
type Metadata struct {
	OS          *OS      `json:"OS,omitempty"`
	ImageID     string   `json:"ImageID,omitempty"`
	RepoTags    []string `json:"RepoTags,omitempty"`
	RepoDigests []string `json:"RepoDigests,omitempty"`
	DiffIDs     []string `json:"DiffIDs,omitempty"`
}

// OS is the operating system Trivy detected in the image.
type OS struct {
	Family string `json:"Family"`
	Name   string `json:"Name"`
	EOSL   bool   `json:"EOSL,omitempty"`
}

// Result is one scan target (the OS packages, a Python environment, a file with secrets, ...).
type Result struct {
	Target          string          `json:"Target"`
	Class           string          `json:"Class,omitempty"`
	Type            string          `json:"Type,omitempty"`
	Vulnerabilities []Vulnerability `json:"Vulnerabilities"`
	// Secrets are the secret scanner's findings in the file Target (Class "secret").
	Secrets []Secret `json:"Secrets,omitempty"`
}

// Vulnerability is one Trivy finding.
type Vulnerability struct {
	VulnerabilityID  string   `json:"VulnerabilityID"`
	PkgID            string   `json:"PkgID,omitempty"`
	PkgName          string   `json:"PkgName"`
	InstalledVersion string   `json:"InstalledVersion"`
	FixedVersion     string   `json:"FixedVersion,omitempty"`
	Status           string   `json:"Status,omitempty"`
	Severity         string   `json:"Severity"`
	Title            string   `json:"Title,omitempty"`
	Description      string   `json:"Description,omitempty"`
	PrimaryURL       string   `json:"PrimaryURL,omitempty"`
	References       []string `json:"References,omitempty"`
}

// OperatingSystem returns "family name" (e.g. "debian 12.5"), or "" when unknown.
func (r Report) OperatingSystem() string {
	if r.Metadata.OS == nil {
		return ""
	}
	return strings.TrimSpace(r.Metadata.OS.Family + " " + r.Metadata.OS.Name)
}

// ParseTrivy parses `trivy image --format json` (or `trivy fs`) output. It needs SchemaVersion 2
// and an ArtifactName (so `{}` is not a clean report), and, unless it is a filesystem scan, the
// OS Trivy detected or at least one Result (a report that scanned nothing is not a scan);
// vulnerability and secret lists may be absent (a clean image). Every vulnerability needs an ID, a package name and a known
// severity; every secret a rule ID and a known severity.
// Whether the report is the one of a given image is [Report.Names]'s question.
func ParseTrivy(data []byte) (Report, error) {
	const fix = "run `trivy image --format json --output trivy.json <image>` (Trivy 0.20 or later)"
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Report{}, fmt.Errorf("trivy report is empty: %s", fix)
	}
	if trimmed[0] != '{' {
		return Report{}, fmt.Errorf("trivy report is not a JSON object: %s", fix)
	}
	var r Report
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return Report{}, fmt.Errorf("trivy report is not valid JSON (%v): %s", err, fix)
	}
	if r.SchemaVersion != TrivySchemaVersion {
		return Report{}, fmt.Errorf("trivy report has SchemaVersion %d, expected %d: %s", r.SchemaVersion, TrivySchemaVersion, fix)
	}
	if strings.TrimSpace(r.ArtifactName) == "" {
		return Report{}, fmt.Errorf("trivy report names no ArtifactName, so it is not the report of any image: %s", fix)
	}
	// Trivy names the OS it detected in an image and lists a Result per target it read packages
	// (or secrets) from; a clean image still has one or the other. Only a filesystem scan of files
	// with nothing to report has neither.
	if r.ArtifactType != ArtifactTypeFilesystem && r.Metadata.OS == nil && len(r.Results) == 0 {
		return Report{}, fmt.Errorf("trivy report of %q has no Results and no OS: Trivy scanned nothing it could judge, so it is not a scan (a clean image's report names its OS or the targets read): %s", r.ArtifactName, fix)
	}
	for i, res := range r.Results {
		for j, v := range res.Vulnerabilities {
			where := fmt.Sprintf("Results[%d].Vulnerabilities[%d]", i, j)
			if strings.TrimSpace(v.VulnerabilityID) == "" {
				return Report{}, fmt.Errorf("trivy report %s has no VulnerabilityID: %s", where, fix)
			}
			if strings.TrimSpace(v.PkgName) == "" {
				return Report{}, fmt.Errorf("trivy report %s (%s) has no PkgName: %s", where, v.VulnerabilityID, fix)
			}
			if _, err := ParseSeverity(v.Severity); err != nil {
				return Report{}, fmt.Errorf("trivy report %s (%s): %w", where, v.VulnerabilityID, err)
			}
		}
		for j, sec := range res.Secrets {
			where := fmt.Sprintf("Results[%d].Secrets[%d]", i, j)
			if strings.TrimSpace(sec.RuleID) == "" {
				return Report{}, fmt.Errorf("trivy report %s (%s) has no RuleID: %s", where, res.Target, fix)
			}
			if _, err := ParseSeverity(sec.Severity); err != nil {
				return Report{}, fmt.Errorf("trivy report %s (%s): %w", where, sec.RuleID, err)
			}
		}
	}
	return r, nil
}

// Finding is one vulnerable package in one scan target.
type Finding struct {
	ID          string   `json:"id"`
	Package     string   `json:"package"`
	Installed   string   `json:"installed"`
	Fixed       string   `json:"fixed,omitempty"`
	Severity    Severity `json:"-"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"-"`
	URL         string   `json:"url,omitempty"`
	References  []string `json:"-"`
	Target      string   `json:"target,omitempty"`
}

// MarshalJSON adds the severity name to the JSON form.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	return json.Marshal(struct {
		plain
		Severity string `json:"severity"`
	}{plain(f), f.Severity.String()})
}

func (f Finding) key() string {
	return f.ID + "\x00" + f.Package + "\x00" + f.Installed + "\x00" + f.Target
}

// less orders by severity (most severe first), then ID, package, installed version, target.
func (f Finding) less(g Finding) bool {
	if f.Severity != g.Severity {
		return f.Severity > g.Severity
	}
	if f.ID != g.ID {
		return f.ID < g.ID
	}
	if f.Package != g.Package {
		return f.Package < g.Package
	}
	if f.Installed != g.Installed {
		return f.Installed < g.Installed
	}
	return f.Target < g.Target
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].less(fs[j]) })
}

// Findings returns every finding of r, deduplicated on (ID, package, installed
// version, target) and sorted by severity, then ID.
func Findings(r Report) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			sev, err := ParseSeverity(v.Severity)
			if err != nil {
				sev = Unknown
			}
			f := Finding{
				ID:          strings.TrimSpace(v.VulnerabilityID),
				Package:     strings.TrimSpace(v.PkgName),
				Installed:   v.InstalledVersion,
				Fixed:       v.FixedVersion,
				Severity:    sev,
				Title:       v.Title,
				Description: v.Description,
				URL:         v.PrimaryURL,
				References:  v.References,
				Target:      res.Target,
			}
			if seen[f.key()] {
				continue
			}
			seen[f.key()] = true
			out = append(out, f)
		}
	}
	sortFindings(out)
	return out
}

// Scanners is what every image scan looks for: known vulnerabilities and secrets in the image's
// files (Trivy's secret scanner, the same severity rule).
const Scanners = "vuln,secret"

// ImageScanArgs is the `trivy image` command line that scans the OCI archive at input for
// vulnerabilities and secrets and writes the JSON report to output, never failing on findings
// (the verdict is Evaluate's). secretConfig is where the project's trivy-secret.yaml is mounted;
// with no file there Trivy uses its built-in rules only.
func ImageScanArgs(input, output, secretConfig string) []string {
	return []string{"trivy", "image", "--input", input, "--scanners", Scanners, "--secret-config", secretConfig,
		"--format", "json", "--output", output, "--exit-code", "0"}
}

// SourceScanArgs is the `trivy fs` command line that scans the directory dir (the project's
// files, what enters no image too) for secrets only and writes the JSON report to output,
// never failing on findings. secretConfig is as for ImageScanArgs.
func SourceScanArgs(dir, output, secretConfig string) []string {
	return []string{"trivy", "fs", "--scanners", "secret", "--secret-config", secretConfig,
		"--format", "json", "--output", output, "--exit-code", "0", dir}
}

// ParseImageReport is ParseTrivy for a report that must be an image's scan (`trivy image`): its
// ArtifactType is ArtifactTypeImage (a filesystem scan has no OS to name, so it would pass the
// "not a scan" rule where an image's scan is asked for).
func ParseImageReport(data []byte) (Report, error) {
	r, err := ParseTrivy(data)
	if err != nil {
		return Report{}, err
	}
	if r.ArtifactType != ArtifactTypeImage {
		return Report{}, fmt.Errorf("trivy report of %q has ArtifactType %q, not %q: it is not an image scan: run `trivy image --format json` on the image", r.ArtifactName, r.ArtifactType, ArtifactTypeImage)
	}
	return r, nil
}
