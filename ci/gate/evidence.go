package gate

import (
	"errors"
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// GateReportCommand is the command that produces the gate report a deploy or a release
// counts as evidence (every gate, no --only), for the commit given with --commit.
const GateReportCommand = "dagger call --commit=<sha> gate-report export --path=reports"

// ErrNotEvidence marks a gate report that does not count as the evidence of a commit.
var ErrNotEvidence = errors.New("gate report does not count as evidence")

// VerifyReport reads a gate report as the evidence that commit passed its quality gates.
// Stricter than ParseReport, it counts only when:
//
//   - the report names commit (a report of another commit, or of none, proves nothing);
//   - every result is a gate of the catalog, listed once, and carries the catalog's kind:
//     the kind stored in the file is never trusted (a failing api-contract relabelled
//     "signal" is refused, not excused);
//   - every blocking gate of the catalog is present (an empty results list, or a partial run
//     with --only, proves nothing) and passed (skipped is not passed).
//
// Every problem is listed in one error wrapping ErrNotEvidence, with the command that
// produces a report that counts. Signals never decide.
func VerifyReport(data []byte, commit domain.Commit) (Report, error) {
	fix := strings.Replace(GateReportCommand, "<sha>", orPlaceholder(string(commit)), 1)
	if commit == "" {
		return Report{}, fmt.Errorf("%w: the commit being deployed is unknown: pass --commit=<40-hex sha> to the constructor (GitLab: --commit=$CI_COMMIT_SHA)", ErrNotEvidence)
	}
	rep, err := ParseReport(data)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %v: produce it with `%s`", ErrNotEvidence, err, fix)
	}
	var probs []string
	if rep.Commit != string(commit) {
		c := rep.Commit
		if c == "" {
			c = "no commit"
		}
		probs = append(probs, fmt.Sprintf("it is the report of %s, not of %s", c, commit))
	}
	seen := map[string]Result{}
	for i, res := range rep.Results {
		g, err := Lookup(res.Name)
		if err != nil {
			probs = append(probs, fmt.Sprintf("result %d: %v", i, err))
			continue
		}
		if _, dup := seen[g.Name]; dup {
			probs = append(probs, fmt.Sprintf("gate %s is listed twice", g.Name))
			continue
		}
		if res.Kind != g.Kind {
			probs = append(probs, fmt.Sprintf("gate %s is labelled %q but the catalog says %q: kinds come from the catalog, never from the file", g.Name, res.Kind, g.Kind))
		}
		res.Kind = g.Kind
		seen[g.Name] = res
	}
	var missing, failed []string
	for _, g := range catalog {
		if g.Kind != Blocking {
			continue
		}
		res, ok := seen[g.Name]
		switch {
		case !ok:
			missing = append(missing, g.Name)
		case res.Status != Pass:
			failed = append(failed, fmt.Sprintf("%s (%s)", g.Name, res.Status))
		}
	}
	if len(missing) > 0 {
		probs = append(probs, fmt.Sprintf("blocking gates missing: %s", strings.Join(missing, ", ")))
	}
	if len(failed) > 0 {
		probs = append(probs, fmt.Sprintf("blocking gates not passed: %s", strings.Join(failed, ", ")))
	}
	if len(probs) > 0 {
		return Report{}, fmt.Errorf("%w: %s: run `%s` (all gates, no --only) on that commit and fix every blocking gate",
			ErrNotEvidence, strings.Join(probs, "; "), fix)
	}
	// Kinds of the returned report are the catalog's.
	out := rep
	out.Results = make([]Result, len(rep.Results))
	for i, res := range rep.Results {
		res.Kind = KindOf(res.Name)
		out.Results[i] = res
	}
	return out, nil
}

func orPlaceholder(commit string) string {
	if strings.TrimSpace(commit) == "" {
		return "<sha>"
	}
	return commit
}
