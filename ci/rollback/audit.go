// Package rollback is the record of a rollback: what was rolled back (a service's Helm release, the
// model's champion alias, the dataset), where, to what, from what, why and by whom.
//
// A rollback acts only when confirmed. Review validates a request: a malformed request is an error
// and nothing acts; an unconfirmed request returns its plan with the message "nothing was changed:
// re-run with --confirm --reason=..." and nothing acts; a confirmed request with a reason of at
// least MinReasonLen characters is cleared to act. Every record says that CI must be re-run
// afterwards, because a rollback leaves the environment out of step with the default branch.
package rollback

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Action is a kind of rollback.
type Action string

// The rollback actions (their names are the module's function names).
const (
	RollbackService Action = "rollback-service"
	RollbackModel   Action = "rollback-model"
	RollbackData    Action = "rollback-data"
)

// Actions returns every action.
func Actions() []Action { return []Action{RollbackService, RollbackModel, RollbackData} }

// ParseAction returns the action named s.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions() {
		if s == string(a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown rollback action %q: use rollback-service, rollback-model or rollback-data", s)
}

// MinReasonLen is the shortest accepted reason.
const MinReasonLen = 10

// FollowUp is the instruction every record carries.
const FollowUp = "CI must be re-run after this rollback: the environment no longer matches the default branch; " +
	"revert or fix the change on the default branch and let the pipeline redeploy through the promotion policy"

// Record is the audit record of one rollback.
type Record struct {
	Action Action             `json:"action"`
	Env    domain.Environment `json:"env"`
	// Target is what is rolled back to: a Helm revision (empty: the previous one), an MLflow model
	// version, or a DVC git rev.
	Target string `json:"target"`
	// From is what was in place before (current Helm revision, current champion version, current rev).
	From string `json:"from,omitempty"`
	// Reason says why; at least MinReasonLen characters to act.
	Reason string `json:"reason"`
	// Actor is who asked for the rollback.
	Actor string `json:"actor"`
	// Confirmed is true when --confirm was given; only then does anything act.
	Confirmed bool      `json:"confirmed"`
	Time      time.Time `json:"time"`
	// Plan describes what is (or would be) done.
	Plan string `json:"plan"`
	// FollowUp is always FollowUp: CI must be re-run afterwards.
	FollowUp string `json:"follow_up"`
}

// JSON renders the record as indented JSON.
func (r Record) JSON() ([]byte, error) {
	out := r
	out.Time = out.Time.UTC()
	out.FollowUp = FollowUp
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render audit record as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// Request is a rollback as asked for.
type Request struct {
	Action  Action
	Env     domain.Environment
	Target  string
	From    string
	Reason  string
	Actor   string
	Confirm bool
	// Plan describes what would be done (e.g. "helm rollback soccer-predict 4 -n production").
	Plan string
	// Now is the time of the record; zero means time.Now().
	Now time.Time
}

// Outcome is the answer of Review.
type Outcome struct {
	// Record is the audit record, always filled for a well-formed request.
	Record Record
	// Act is true only for a confirmed request with a valid reason.
	Act bool
	// Message tells the user what happens next (for an unconfirmed request: how to confirm).
	Message string
}

// Review validates req. A malformed request (unknown action or environment, invalid target, no
// actor, no plan) is an error. An unconfirmed request returns its record with Act false and a
// message saying how to confirm. A confirmed request needs a reason of at least MinReasonLen
// characters; with one, Act is true.
func Review(req Request) (Outcome, error) {
	var errs []error
	if _, err := ParseAction(string(req.Action)); err != nil {
		errs = append(errs, err)
	}
	if _, err := domain.ParseEnvironment(string(req.Env)); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateTarget(req.Action, req.Target); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(req.Actor) == "" {
		errs = append(errs, errors.New("no actor: the record must say who rolls back ($GITLAB_USER_LOGIN in CI, the GitLab token's user or $USER on a laptop)"))
	}
	if strings.TrimSpace(req.Plan) == "" {
		errs = append(errs, errors.New("no plan: describe what the rollback does before asking for confirmation"))
	}
	if len(errs) > 0 {
		return Outcome{}, fmt.Errorf("rollback request rejected, nothing was changed: %w", errors.Join(errs...))
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	reason := strings.TrimSpace(req.Reason)
	rec := Record{
		Action: req.Action, Env: req.Env, Target: req.Target, From: req.From, Reason: reason,
		Actor: strings.TrimSpace(req.Actor), Confirmed: req.Confirm, Time: now.UTC(), Plan: req.Plan, FollowUp: FollowUp,
	}
	reasonErr := ValidateReason(reason)
	if !req.Confirm {
		reasonArg := "\"<why, at least 10 characters>\""
		if reasonErr == nil {
			reasonArg = strconv.Quote(reason)
		}
		msg := fmt.Sprintf("nothing was changed (plan: %s): re-run with --confirm --reason=%s to act", req.Plan, reasonArg)
		return Outcome{Record: rec, Act: false, Message: msg}, nil
	}
	if reasonErr != nil {
		return Outcome{}, fmt.Errorf("rollback not confirmed, nothing was changed: %w", reasonErr)
	}
	return Outcome{Record: rec, Act: true, Message: "confirmed: " + req.Plan + "; " + FollowUp}, nil
}

// ValidateReason requires at least MinReasonLen characters (ignoring surrounding whitespace).
func ValidateReason(reason string) error {
	if n := len([]rune(strings.TrimSpace(reason))); n < MinReasonLen {
		return fmt.Errorf("a reason of at least %d characters is required (got %d): pass --reason=\"why this rollback is needed\" (in the GitLab rollback-* jobs: set the variable ROLLBACK_REASON when running the job)", MinReasonLen, n)
	}
	return nil
}

// ValidateTarget checks the target of an action: a Helm revision for rollback-service, an MLflow
// model version for rollback-model, a git rev for rollback-data.
func ValidateTarget(a Action, target string) error {
	switch a {
	case RollbackService:
		return ValidateHelmRevision(target)
	case RollbackModel:
		return ValidateModelVersion(target)
	case RollbackData:
		return ValidateDVCRev(target)
	}
	return nil // the action itself is reported as unknown
}

// positiveInt reports whether s is a positive decimal integer without sign or leading zero.
func positiveInt(s string) bool {
	if s == "" || s[0] == '0' || len(s) > 18 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ValidateHelmRevision accepts a positive integer, or empty for the previous revision.
func ValidateHelmRevision(rev string) error {
	if rev == "" || positiveInt(rev) {
		return nil
	}
	return fmt.Errorf("helm revision %q is not a positive integer: pass --revision=<n> from `helm history` (or omit it for the previous revision)", rev)
}

// ValidateModelVersion accepts a positive integer MLflow model version.
func ValidateModelVersion(v string) error {
	if positiveInt(v) {
		return nil
	}
	return fmt.Errorf("model version %q is not a positive integer: pass --to-version=<n> of a registered MLflow model version (in the GitLab job rollback-model-production: set the variable ROLLBACK_MODEL_VERSION when running it)", v)
}

var hexRev = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// ValidateDVCRev accepts a git rev: an abbreviated or full hex sha (7 to 40 characters) or a tag or
// branch name following git's ref-name rules (git check-ref-format), never starting with "-".
func ValidateDVCRev(rev string) error {
	if hexRev.MatchString(rev) {
		return nil
	}
	if err := checkRefName(rev); err != nil {
		return fmt.Errorf("data rev %q is not a commit sha (7-40 hex) or a valid tag/branch name (%v): pass --rev=<sha|tag|branch>", rev, err)
	}
	return nil
}

// checkRefName applies git check-ref-format's rules to a short ref name.
func checkRefName(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case name == "@":
		return errors.New(`"@" alone`)
	case strings.HasPrefix(name, "-"):
		return errors.New("starts with -")
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return errors.New("starts or ends with /")
	case strings.HasSuffix(name, "."):
		return errors.New("ends with .")
	case strings.Contains(name, ".."):
		return errors.New("contains ..")
	case strings.Contains(name, "//"):
		return errors.New("contains //")
	case strings.Contains(name, "@{"):
		return errors.New("contains @{")
	case len(name) > 255:
		return errors.New("longer than 255 characters")
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return fmt.Errorf("contains %q", c)
		}
	}
	for _, comp := range strings.Split(name, "/") {
		if strings.HasPrefix(comp, ".") {
			return errors.New("a component starts with .")
		}
		if strings.HasSuffix(comp, ".lock") {
			return errors.New("a component ends with .lock")
		}
	}
	return nil
}
