package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Secret is one finding of Trivy's secret scanner (`Results[].Secrets[]`, Class "secret").
// Trivy's Code excerpt is never read: the lines it shows around the match are not masked, so
// they may hold a secret in clear. Match is the matching line with every secret Trivy found in
// the file replaced by asterisks.
type Secret struct {
	RuleID    string `json:"RuleID"`
	Category  string `json:"Category,omitempty"`
	Severity  string `json:"Severity"`
	Title     string `json:"Title,omitempty"`
	StartLine int    `json:"StartLine"`
	EndLine   int    `json:"EndLine"`
	Match     string `json:"Match,omitempty"`
}

// SecretFinding is one secret in one file, as reports show it: never the secret itself.
type SecretFinding struct {
	// Rule is Trivy's rule ID (e.g. aws-access-key-id), what .trivyignore lists.
	Rule     string   `json:"rule"`
	Category string   `json:"category,omitempty"`
	Title    string   `json:"title,omitempty"`
	Severity Severity `json:"-"`
	// File is where the secret is: a path relative to the scanned directory, or the path in
	// the image.
	File      string `json:"file"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	// Match is Trivy's masked line (see Masked); empty when Trivy's line was not masked.
	Match string `json:"match,omitempty"`
	// IgnoredBy is the .trivyignore entry that accepted the finding (Verdict.IgnoredSecrets only).
	IgnoredBy *IgnoreEntry `json:"ignored_by,omitempty"`
}

// MarshalJSON adds the severity name to the JSON form.
func (f SecretFinding) MarshalJSON() ([]byte, error) {
	type plain SecretFinding
	return json.Marshal(struct {
		plain
		Severity string `json:"severity"`
	}{plain(f), f.Severity.String()})
}

// Where is "file:line" (or "file:first-last" for a secret over several lines).
func (f SecretFinding) Where() string {
	if f.EndLine > f.StartLine {
		return fmt.Sprintf("%s:%d-%d", f.File, f.StartLine, f.EndLine)
	}
	return fmt.Sprintf("%s:%d", f.File, f.StartLine)
}

// String names the finding by rule, place and title: "aws-access-key-id in deploy.sh:3 (AWS
// Access Key ID)". Never the secret, nor its masked line.
func (f SecretFinding) String() string {
	s := f.Rule + " in " + f.Where()
	if f.Title != "" {
		s += " (" + f.Title + ")"
	}
	return s
}

func (f SecretFinding) key() string {
	return f.Rule + "\x00" + f.File + "\x00" + strconv.Itoa(f.StartLine) + "\x00" + strconv.Itoa(f.EndLine)
}

// less orders by severity (most severe first), then file, line and rule.
func (f SecretFinding) less(g SecretFinding) bool {
	if f.Severity != g.Severity {
		return f.Severity > g.Severity
	}
	if f.File != g.File {
		return f.File < g.File
	}
	if f.StartLine != g.StartLine {
		return f.StartLine < g.StartLine
	}
	return f.Rule < g.Rule
}

func sortSecrets(fs []SecretFinding) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].less(fs[j]) })
}

// maskRun is the run of asterisks a masked line holds: Trivy replaces every character of a
// secret by "*", and no secret worth a rule is shorter than this.
const maskRun = "****"

// Masked returns match when it is masked, i.e. holds a run of asterisks where Trivy replaced the
// secret, else "". A line without the mask (Trivy's note on a binary file, or output of a
// scanner that does not mask) is never passed on: it may be the secret.
func Masked(match string) string {
	if strings.Contains(match, maskRun) {
		return match
	}
	return ""
}

// SecretFindings returns every secret of r, deduplicated on (rule, file, lines) and sorted by
// severity, then file and line. Match is kept only when masked.
func SecretFindings(r Report) []SecretFinding {
	seen := map[string]bool{}
	var out []SecretFinding
	for _, res := range r.Results {
		for _, s := range res.Secrets {
			sev, err := ParseSeverity(s.Severity)
			if err != nil {
				sev = Unknown
			}
			f := SecretFinding{
				Rule:      strings.TrimSpace(s.RuleID),
				Category:  s.Category,
				Title:     s.Title,
				Severity:  sev,
				File:      res.Target,
				StartLine: s.StartLine,
				EndLine:   s.EndLine,
				Match:     Masked(s.Match),
			}
			if seen[f.key()] {
				continue
			}
			seen[f.key()] = true
			out = append(out, f)
		}
	}
	sortSecrets(out)
	return out
}

// Redact returns Trivy's JSON report without what may hold a secret in clear, for every report
// the pipeline exports or attaches: every Code excerpt (a secret's context lines are not
// masked), a secret's Match that is not masked, every layer's CreatedBy (the Dockerfile step,
// which may carry a token in a RUN or ENV line) and Metadata.ImageConfig (the image's
// environment and history). Everything else is kept as Trivy wrote it.
func Redact(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimSpace(data)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, fmt.Errorf("trivy report is not a JSON object (%v): pass the output of `trivy … --format json`", err)
	}
	if results, ok := doc["Results"].([]any); ok {
		for _, r := range results {
			res, _ := r.(map[string]any)
			secrets, _ := res["Secrets"].([]any)
			for _, s := range secrets {
				sec, ok := s.(map[string]any)
				if !ok {
					continue
				}
				if m, _ := sec["Match"].(string); Masked(m) == "" {
					delete(sec, "Match")
				}
			}
		}
	}
	for _, key := range []string{"Code", "CreatedBy", "ImageConfig"} {
		dropKey(doc, key)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the redacted trivy report: %w", err)
	}
	return append(b, '\n'), nil
}

// dropKey deletes key from every object in v.
func dropKey(v any, key string) {
	switch t := v.(type) {
	case map[string]any:
		delete(t, key)
		for _, x := range t {
			dropKey(x, key)
		}
	case []any:
		for _, x := range t {
			dropKey(x, key)
		}
	}
}
