package scan

import (
	"fmt"
	"strings"
	"time"
)

// Policy decides which findings block.
type Policy struct {
	// Severities block when found (see ParseSeverities). Required.
	Severities []Severity
	// Ignore lists accepted risks.
	Ignore IgnoreList
	// IgnoreUnfixed makes findings without a fixed version non-blocking (Trivy's
	// --ignore-unfixed); they are still reported.
	IgnoreUnfixed bool
	// Now is the scan time, used for ignore expiry. Required (never time.Now inside).
	Now time.Time
}

// Verdict sorts the findings of a report. Every list is sorted by severity (most
// severe first), then ID.
type Verdict struct {
	// Severities are the blocking severities, most severe first.
	Severities []Severity `json:"severities"`
	// Blocking findings fail the scan.
	Blocking []Finding `json:"blocking"`
	// NonBlocking findings are reported but below the threshold (or unfixed with
	// IgnoreUnfixed).
	NonBlocking []Finding `json:"non_blocking"`
	// Ignored findings matched an active ignore entry.
	Ignored []Finding `json:"ignored"`
	// ExpiredIgnores are ignore entries past their expiry; they no longer ignore.
	ExpiredIgnores []IgnoreEntry `json:"expired_ignores"`
	// BlockingSecrets are secrets of a blocking severity: they fail the scan. A secret has no
	// fixed version, so IgnoreUnfixed never applies to it.
	BlockingSecrets []SecretFinding `json:"blocking_secrets"`
	// NonBlockingSecrets are secrets below the threshold: reported only.
	NonBlockingSecrets []SecretFinding `json:"non_blocking_secrets"`
	// IgnoredSecrets matched an active ignore entry by rule ID (IgnoredBy says which).
	IgnoredSecrets []SecretFinding `json:"ignored_secrets"`
}

// Evaluate applies p to r.
func Evaluate(r Report, p Policy) (Verdict, error) {
	if len(p.Severities) == 0 {
		return Verdict{}, fmt.Errorf("no blocking severities configured: set them to e.g. %s", DefaultSeverities)
	}
	if p.Now.IsZero() {
		return Verdict{}, fmt.Errorf("scan time is not set: pass the scan start time so ignore expiries can be checked")
	}
	block := map[Severity]bool{}
	for _, s := range p.Severities {
		if s < Unknown || s > Critical {
			return Verdict{}, fmt.Errorf("invalid severity %v: use one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL", s)
		}
		block[s] = true
	}
	v := Verdict{
		Severities:     append([]Severity(nil), p.Severities...),
		Blocking:       []Finding{},
		NonBlocking:    []Finding{},
		Ignored:        []Finding{},
		ExpiredIgnores: p.Ignore.Expired(p.Now),

		BlockingSecrets:    []SecretFinding{},
		NonBlockingSecrets: []SecretFinding{},
		IgnoredSecrets:     []SecretFinding{},
	}
	for _, f := range Findings(r) {
		switch {
		case ignored(p, f):
			v.Ignored = append(v.Ignored, f)
		case block[f.Severity] && !(p.IgnoreUnfixed && f.Fixed == ""):
			v.Blocking = append(v.Blocking, f)
		default:
			v.NonBlocking = append(v.NonBlocking, f)
		}
	}
	for _, f := range SecretFindings(r) {
		if e, ok := p.Ignore.Match(f.Rule, p.Now); ok {
			f.IgnoredBy = &e
			v.IgnoredSecrets = append(v.IgnoredSecrets, f)
		} else if block[f.Severity] {
			v.BlockingSecrets = append(v.BlockingSecrets, f)
		} else {
			v.NonBlockingSecrets = append(v.NonBlockingSecrets, f)
		}
	}
	return v, nil
}

func ignored(p Policy, f Finding) bool {
	_, ok := p.Ignore.Match(f.ID, p.Now)
	return ok
}

// Passed reports whether nothing blocks: no vulnerability and no secret.
func (v Verdict) Passed() bool { return len(v.Blocking) == 0 && len(v.BlockingSecrets) == 0 }

// Reported returns every finding that was not ignored (blocking first), which is what
// the GitLab report lists.
func (v Verdict) Reported() []Finding {
	out := append(append([]Finding{}, v.Blocking...), v.NonBlocking...)
	sortFindings(out)
	return out
}

// ReportedSecrets returns every secret that was not ignored (blocking first).
func (v Verdict) ReportedSecrets() []SecretFinding {
	out := append(append([]SecretFinding{}, v.BlockingSecrets...), v.NonBlockingSecrets...)
	sortSecrets(out)
	return out
}

// Err returns nil when the scan passed, else an error listing every blocking finding: each
// secret (severity, rule, file and line: never the secret), then each vulnerability (severity,
// ID, package, installed → fixed version or "no fix yet"), and the fix for each kind.
func (v Verdict) Err() error {
	if v.Passed() {
		return nil
	}
	var b strings.Builder
	var found []string
	if n := len(v.BlockingSecrets); n > 0 {
		found = append(found, plural(n, "blocking secret", "blocking secrets"))
	}
	if n := len(v.Blocking); n > 0 {
		found = append(found, plural(n, "blocking vulnerability", "blocking vulnerabilities"))
	}
	fmt.Fprintf(&b, "image scan found %s (severities %s):", strings.Join(found, " and "), JoinSeverities(v.Severities))
	for _, f := range v.BlockingSecrets {
		fmt.Fprintf(&b, "\n  %-8s secret %s", f.Severity, f)
	}
	for _, f := range v.Blocking {
		fixed := f.Fixed
		if fixed == "" {
			fixed = "no fix yet"
		}
		fmt.Fprintf(&b, "\n  %-8s %s %s %s → %s", f.Severity, f.ID, f.Package, f.Installed, fixed)
		if f.Target != "" {
			fmt.Fprintf(&b, " (%s)", f.Target)
		}
	}
	for _, e := range v.ExpiredIgnores {
		fmt.Fprintf(&b, "\n  note: the ignore entry for %s (line %d) expired on %s and no longer applies", e.ID, e.Line, e.Expires.Format(ExpiryLayout))
	}
	if len(v.BlockingSecrets) > 0 {
		b.WriteString("\nfix: " + SecretFix)
	}
	if len(v.Blocking) > 0 {
		b.WriteString("\nfix: upgrade the packages to the fixed versions (rebuild on an updated base image or bump the Python pins), " +
			"or record an accepted risk in .trivyignore as \"<ID> exp:YYYY-MM-DD\"")
	}
	return fmt.Errorf("%s", b.String())
}

// SecretFix is what to do about a secret found in a file.
const SecretFix = "take the secret out of the file, revoke and replace it (it is in the Git history and every image built with it), " +
	"and give it to the service at run time (a Kubernetes Secret from the SOPS values); a false positive is allowed in the project's " +
	SecretConfigFile + " (allow-rules by path) or, by rule ID, in " + IgnoreFile

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
