package scan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Severity is a Trivy severity; higher values are more severe.
type Severity int

// Severities in increasing order.
const (
	Unknown Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// DefaultSeverities is the blocking set used when none is configured.
const DefaultSeverities = "HIGH,CRITICAL"

// String returns the Trivy spelling, e.g. "HIGH".
func (s Severity) String() string {
	if s < Unknown || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// GitLab returns the spelling of the GitLab security report schema, e.g. "High".
func (s Severity) GitLab() string {
	n := s.String()
	if s < Unknown || s > Critical {
		return "Unknown"
	}
	return n[:1] + strings.ToLower(n[1:])
}

// ParseSeverity parses one severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	up := strings.ToUpper(strings.TrimSpace(name))
	for i, n := range severityNames {
		if up == n {
			return Severity(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown severity %q: use one of %s", name, strings.Join(severityNames[:], ", "))
}

// ParseSeverities parses a comma-separated list such as "HIGH,CRITICAL" (the value of
// the scan severities setting). An empty or blank list means DefaultSeverities.
// The result is deduplicated and sorted from most to least severe.
func ParseSeverities(list string) ([]Severity, error) {
	if strings.TrimSpace(list) == "" {
		list = DefaultSeverities
	}
	seen := map[Severity]bool{}
	var out []Severity
	for _, item := range strings.Split(list, ",") {
		if strings.TrimSpace(item) == "" {
			return nil, fmt.Errorf("severity list %q has an empty item: write it like %s", list, DefaultSeverities)
		}
		s, err := ParseSeverity(item)
		if err != nil {
			return nil, fmt.Errorf("severity list %q: %w", list, err)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out, nil
}

// JoinSeverities renders severities as "CRITICAL,HIGH".
func JoinSeverities(ss []Severity) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.String()
	}
	return strings.Join(names, ",")
}

// Floor is what always blocks where a deployment needs approvals (staging, production): fixed in
// this package, not in a setting, so that a settings file can make the scan stricter there but
// never let a HIGH or CRITICAL finding through.
var Floor = []Severity{Critical, High}

// CheckFor refuses a policy that blocks less than Floor in env (staging, production); dev keeps
// whatever SP_SCAN_SEVERITIES says.
func (p Policy) CheckFor(env domain.Environment) error {
	if env.Approvals() == 0 {
		return nil
	}
	for _, f := range Floor {
		if !slices.Contains(p.Severities, f) {
			return fmt.Errorf("SP_SCAN_SEVERITIES=%s does not block %s, which always block in %s: remove SP_SCAN_SEVERITIES from the settings (or list them in it); nothing was changed",
				JoinSeverities(p.Severities), strings.Join([]string{High.String(), "and", Critical.String()}, " "), env)
		}
	}
	return nil
}
