// Package policy decides whether a deployment to an environment may proceed.
//
// # Environments and rules
//
//   - dev: from GitLab only for a push to the default branch; from a laptop only when dev is named
//     explicitly (there is no default environment). No approval.
//   - staging: the gate report is green, the scan is clean (no blocking finding), and 1 approval.
//   - production: the same, every image pinned by digest, and 2 approvals from distinct people.
//
// An approval counts only when it is "approved" and its author is none of: the commit author, the
// person deploying (the actor), or the person who triggered the GitLab deployment. Each person counts
// once. Any rejection refuses the deployment. A refusal lists every reason, never just the first.
//
// # Approvals are proven, not claimed
//
// There is no field, flag or environment variable through which a caller can state that approvals
// exist, and none that skips them. Approvals reach the policy only as an Evidence, and an Evidence
// can only be built from a GitLab deployment (EvidenceFromDeployment), normally fetched from
// GitLab's Deployments API (FetchEvidence, GET /projects/:id/deployments/:deployment_id):
//
//   - in GitLab CI, the deploy job declares `environment: <env>`, so GitLab creates a deployment
//     and, for a protected environment with required approvals, holds the job until it is approved.
//     The run is proven by GitLab, not by its flags: GET /job with the job's own $CI_JOB_TOKEN (or
//     GET /projects/:id/jobs/:id with the deploy token) must report that job, running, in the named
//     pipeline, for the commit being deployed. The deployer is the job's user as GitLab reports it,
//     and the deployment must be the one that job created (gitlab.Client.JobDeployment);
//   - from a laptop the same proof is required: the run must reference a GitLab deployment created by
//     a CI job of the same environment and the same commit (--deployment-id), fetched with the
//     user's own token. The actor of a laptop run is always the owner of that token
//     (gitlab.Client.CurrentUser): a job named by --job-id counts only when its own job token
//     proved it. Without a deployment, staging and production are refused.
//
// The deployer of staging or production is a person: a GitLab bot user (the user behind a project,
// group or service-account token) is refused. A deployment's approvals count for the job that
// created it only (DeployJob, RollbackJob), in its pipeline: a deployment without one is refused.
//
// Resolve is the one function from that evidence to the decision; --actor is display only and
// refused when it disagrees with the deployer GitLab proved. The evidence binds the approvals to one
// deployment: its environment must be the requested environment, its commit and its pipeline's
// commit the commit being deployed, and it must still be able to deploy (blocked or running): a
// deployment that already ran, failed or was canceled proves nothing.
//
// # Who is "the same person"
//
// Git commit authorship is free text (name and email) while approvals carry GitLab usernames, so the
// comparison is deliberately conservative: two identities are the same person when their usernames,
// their emails or their normalized display names match, or when a username equals the local part of
// the other's email. A false match can only discard an approval (and refuse), never allow. Beyond
// git's free text, the author is linked to GitLab users (FetchAuthorLinks: the authors of the
// commit's merge requests, the users GitLab finds by the author's email), and none of them may
// approve either.
package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// Source is where the deployment runs.
type Source string

// The sources of a deployment.
const (
	// SourceGitLab is a GitLab CI job.
	SourceGitLab Source = "gitlab"
	// SourceLocal is a run from a laptop.
	SourceLocal Source = "local"
)

// ParseSource returns the source named s ("gitlab" or "local").
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case SourceGitLab, SourceLocal:
		return Source(s), nil
	}
	return "", fmt.Errorf("unknown source %q: set it to gitlab (in GitLab CI) or local (on a laptop)", s)
}

// Identity is what is known of a person: a GitLab username, a display name, an email. Any may be
// empty; at least one must be set for the identity to be known.
type Identity struct {
	Username string `json:"username,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	// Bot is GitLab's word that the user is the bot of a project, group or service-account token.
	Bot bool `json:"bot,omitempty"`
}

// Known reports whether at least one field is set.
func (i Identity) Known() bool {
	return strings.TrimSpace(i.Username) != "" || strings.TrimSpace(i.Name) != "" || strings.TrimSpace(i.Email) != ""
}

// String renders the most specific field set ("" when unknown).
func (i Identity) String() string {
	switch {
	case i.Username != "":
		return i.Username
	case i.Name != "":
		return i.Name
	}
	return i.Email
}

func norm(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func localPart(email string) string {
	if at := strings.LastIndex(email, "@"); at > 0 {
		return norm(email[:at])
	}
	return ""
}

// SamePerson reports whether i and o may be the same person (see the package documentation: the
// comparison errs on the side of "same").
func (i Identity) SamePerson(o Identity) bool {
	eq := func(a, b string) bool { a, b = norm(a), norm(b); return a != "" && a == b }
	return eq(i.Username, o.Username) || eq(i.Email, o.Email) || eq(i.Name, o.Name) ||
		(norm(i.Username) != "" && norm(i.Username) == localPart(o.Email)) ||
		(norm(o.Username) != "" && norm(o.Username) == localPart(i.Email))
}

// Approval statuses as GitLab reports them.
const (
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// Approval is one decision recorded on a GitLab deployment.
type Approval struct {
	User    Identity `json:"user"`
	Status  string   `json:"status"`
	Comment string   `json:"comment,omitempty"`
	// userID is the approver's GitLab user id (CheckApprovers looks it up).
	userID int64
}

// Evidence is the proof of approvals: one GitLab deployment as the Deployments API returned it. Its
// fields are unexported so that approvals cannot be claimed: build it with EvidenceFromDeployment or
// FetchEvidence.
type Evidence struct {
	deploymentID int64
	environment  string
	sha          string
	status       string
	triggeredBy  Identity
	approvals    []Approval
	// deployableID and pipelineID are the job and pipeline that created the deployment (0 when
	// GitLab reported none); pipelineSHA is that pipeline's commit.
	deployableID int64
	pipelineID   int64
	pipelineSHA  string
	// jobName is the name of that job: a deploy job's approvals are not a rollback job's.
	jobName string
	// ref and tag are the deployment's ref (a branch, or a tag when tag is true).
	ref string
	tag bool
}

// DeploymentID is the GitLab deployment the approvals belong to.
func (e *Evidence) DeploymentID() int64 { return e.deploymentID }

// Environment is the environment of the deployment.
func (e *Evidence) Environment() string { return e.environment }

// SHA is the commit of the deployment.
func (e *Evidence) SHA() string { return e.sha }

// Status is the deployment's status as GitLab reported it.
func (e *Evidence) Status() string { return e.status }

// JobID is the CI job that created the deployment (0 when none).
func (e *Evidence) JobID() int64 { return e.deployableID }

// PipelineID is the pipeline of the job that created the deployment (0 when none).
func (e *Evidence) PipelineID() int64 { return e.pipelineID }

// JobName is the name of the CI job that created the deployment ("" when none).
func (e *Evidence) JobName() string { return e.jobName }

// Approvals returns a copy of the approvals recorded on the deployment.
func (e *Evidence) Approvals() []Approval { return append([]Approval(nil), e.approvals...) }

// EvidenceFromDeployment turns a deployment returned by GitLab's Deployments API into evidence.
func EvidenceFromDeployment(d *gitlab.Deployment) *Evidence {
	if d == nil {
		return nil
	}
	ev := &Evidence{
		deploymentID: d.ID,
		environment:  d.Environment.Name,
		sha:          d.SHA,
		ref:          d.Ref,
		status:       d.Status,
		triggeredBy:  Identity{Username: d.User.Username, Name: d.User.Name},
	}
	if d.Deployable != nil {
		ev.deployableID, ev.jobName, ev.tag = d.Deployable.ID, d.Deployable.Name, d.Deployable.Tag
		if d.Deployable.Pipeline != nil {
			ev.pipelineID = d.Deployable.Pipeline.ID
			ev.pipelineSHA = d.Deployable.Pipeline.SHA
		}
	}
	for _, a := range d.Approvals {
		ev.approvals = append(ev.approvals, Approval{
			User:    Identity{Username: a.User.Username, Name: a.User.Name, Email: a.User.PublicEmail},
			Status:  a.Status,
			Comment: a.Comment,
			userID:  a.User.ID,
		})
	}
	return ev
}

// DeploymentGetter fetches a deployment with its approvals; *gitlab.Client implements it.
type DeploymentGetter interface {
	Deployment(ctx context.Context, project string, deploymentID int64) (*gitlab.Deployment, error)
}

// FetchEvidence fetches deployment deploymentID of project from GitLab and returns it as evidence.
func FetchEvidence(ctx context.Context, g DeploymentGetter, project string, deploymentID int64) (*Evidence, error) {
	if deploymentID <= 0 {
		return nil, fmt.Errorf("no GitLab deployment given: pass --deployment-id=<id> of the approved deployment (Operate > Environments)")
	}
	d, err := g.Deployment(ctx, project, deploymentID)
	if err != nil {
		return nil, fmt.Errorf("fetch the approvals of deployment %d: %w", deploymentID, err)
	}
	return EvidenceFromDeployment(d), nil
}

// Request is everything the policy looks at.
type Request struct {
	// Env is the target environment.
	Env domain.Environment
	// Source is where the deployment runs (gitlab or local).
	Source Source
	// Commit is the commit being deployed ("" when unknown: staging and production refuse it).
	Commit domain.Commit
	// Author is the commit author (GitLab commit API: author_name, author_email).
	Author Identity
	// Actor is who deploys: the job's user as GitLab reports it in CI, the token's owner on a laptop.
	// Resolve sets it from GitLab's answers; never from a flag.
	Actor Identity
	// PipelineSource is $CI_PIPELINE_SOURCE (gitlab source only).
	PipelineSource string
	// Branch is $CI_COMMIT_BRANCH (empty for tag and merge-request pipelines).
	Branch string
	// DefaultBranch is $CI_DEFAULT_BRANCH.
	DefaultBranch string
	// Images maps a service to the image reference deployed.
	Images map[domain.Service]domain.ImageRef
	// GateReportGreen is true when every blocking gate of the gate report passed.
	GateReportGreen bool
	// ScanClean is true when the image scan has no blocking finding.
	ScanClean bool
	// FirstModel is true when the gate report's model gate accepted the candidate as the first
	// model, without a champion (SP_FIRST_MODEL): production refuses it.
	FirstModel bool
	// Evidence is the GitLab deployment proving the approvals; nil when none was given.
	Evidence *Evidence
	// Job is the GitLab CI job whose deployment's approvals count: DeployJob(Env) for a deploy
	// (Resolve sets it), RollbackJob(action, Env) for a rollback (its caller sets it).
	Job string
	// authorLinks are the GitLab users linked to the commit's author (Proof.AuthorLinks).
	authorLinks []Identity
	// later are the deployments after Evidence's (Proof.Later).
	later []gitlab.Deployment
}

// DeployJob is the name of the GitLab CI job that deploys to env (.gitlab-ci.yml; tests/gitlabci
// holds the file to it): its deployment holds the approvals of a deploy.
func DeployJob(env domain.Environment) string { return "deploy-" + string(env) }

// RollbackJob is the name of the GitLab CI job that runs rollback action ("rollback-service",
// "rollback-model") in env (.gitlab-ci.yml; tests/gitlabci holds the file to it).
func RollbackJob(action string, env domain.Environment) string { return action + "-" + string(env) }

// Decision is the verdict. Allowed is true exactly when Reasons is empty.
type Decision struct {
	Env               domain.Environment `json:"env"`
	Allowed           bool               `json:"allowed"`
	Reasons           []string           `json:"reasons"`
	RequiredApprovals int                `json:"required_approvals"`
	// ValidApprovals are the usernames whose approvals counted, sorted.
	ValidApprovals []string `json:"valid_approvals"`
	// IgnoredApprovals explain the approvals that did not count ("carol (commit author)").
	IgnoredApprovals []string `json:"ignored_approvals,omitempty"`
	// DeploymentID is the GitLab deployment whose approvals were checked, 0 when none.
	DeploymentID int64 `json:"deployment_id,omitempty"`
	// Source is where the run was established to come from (Resolve), and Actor the deployer GitLab
	// proved ("" when unknown).
	Source Source `json:"source,omitempty"`
	Actor  string `json:"actor,omitempty"`
	// Use is the deployment a laptop run records in GitLab before it acts, so that the approvals
	// it used count once (UseOf); nil when there is none to record.
	Use *gitlab.NewDeployment `json:"use,omitempty"`
}

// Err returns nil when the deployment is allowed, and otherwise an error listing every reason.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return fmt.Errorf("deployment to %s refused:\n  - %s", d.Env, strings.Join(d.Reasons, "\n  - "))
}

// JSON renders the decision as indented JSON (the policy.json report).
func (d Decision) JSON() ([]byte, error) {
	out := d
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	if out.ValidApprovals == nil {
		out.ValidApprovals = []string{}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render policy decision as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// Decide applies the rules of req.Env to req and lists every reason to refuse.
func Decide(req Request) Decision {
	d := Decision{Env: req.Env, RequiredApprovals: req.Env.Approvals(), ValidApprovals: []string{}}
	refuse := func(format string, args ...any) { d.Reasons = append(d.Reasons, fmt.Sprintf(format, args...)) }

	env := req.Env
	req.Job = DeployJob(env) // a deploy counts only the approvals of its environment's deploy job
	if _, err := ParseSource(string(req.Source)); err != nil {
		refuse("%v", err)
	}

	switch env {
	case domain.Dev:
		if req.Source == SourceGitLab {
			switch {
			case req.DefaultBranch == "":
				refuse("the default branch is unknown: pass $CI_DEFAULT_BRANCH; dev deploys from GitLab only run for a push to it")
			case req.PipelineSource != "push" || req.Branch != req.DefaultBranch:
				refuse("dev deploys from GitLab only run for a push to the default branch %s, not for a %s pipeline on %s: merge first, or run it from a laptop with --env=dev",
					req.DefaultBranch, orUnknown(req.PipelineSource), orUnknown(branchOrTag(req.Branch)))
			}
		}
	case domain.Staging, domain.Production:
		if !req.GateReportGreen {
			refuse("the gate report is not green: run `check`, fix every failing blocking gate, and deploy the commit whose pipeline passed")
		}
		if !req.ScanClean {
			refuse("the image scan has blocking findings (HIGH or CRITICAL): fix them (update the base image or dependencies) and re-run `scan`")
		}
		if env.IsProduction() {
			if err := CheckFirstModel(env, req.FirstModel); err != nil {
				refuse("%v", err)
			}
			checkImages(req.Images, refuse)
		}
		checkApprovals(&d, env, req, refuse)
	default:
		refuseUnknownEnv(env, refuse)
	}

	d.Allowed = len(d.Reasons) == 0
	return d
}

// refuseUnknownEnv refuses a Request whose Env did not come from domain.ParseEnvironment (the
// zero value, or a conversion of an unchecked string), with the parser's own message.
func refuseUnknownEnv(env domain.Environment, refuse func(string, ...any)) {
	if _, err := domain.ParseEnvironment(string(env)); err != nil {
		refuse("%v", err)
		return
	}
	refuse("environment %q has no rules: set --env to one of dev, staging, production", env)
}

func orUnknown[S ~string](s S) string {
	if s == "" {
		return "unknown"
	}
	return string(s)
}

func branchOrTag(branch string) string {
	if branch == "" {
		return "a tag or merge request"
	}
	return "branch " + branch
}

func checkImages(images map[domain.Service]domain.ImageRef, refuse func(string, ...any)) {
	if len(images) == 0 {
		refuse("no images given: production deploys the images publish pinned by digest (images.env: API_IMAGE=repo@sha256:…)")
		return
	}
	services := make([]domain.Service, 0, len(images))
	for s := range images {
		services = append(services, s)
	}
	sort.Slice(services, func(i, j int) bool { return services[i] < services[j] })
	for _, s := range services {
		if images[s].Digest == "" {
			refuse("image %s: %s is not pinned by digest: deploy %s@sha256:<digest> (%s from publish's images.env)", s, images[s], images[s].Repository, s.ImageVar())
		}
	}
}

func checkApprovals(d *Decision, env domain.Environment, req Request, refuse func(string, ...any)) {
	need := env.Approvals()
	if req.Commit == "" {
		refuse("the commit is unknown: pass --commit=$CI_COMMIT_SHA; approvals are bound to one commit")
	}
	if !req.Author.Known() {
		refuse("the commit author is unknown: it is read from GitLab's commit API so that the author cannot approve their own change")
	}
	if !req.Actor.Known() {
		refuse("the person deploying is unknown: GitLab must prove it; in GitLab CI pass --job-token=env:CI_JOB_TOKEN with --job-id=$CI_JOB_ID --pipeline-id=$CI_PIPELINE_ID, on a laptop pass --gitlab-token with your own personal access token")
	}
	ev := req.Evidence
	if ev == nil {
		refuse("%s needs %d approval(s) proven by GitLab and none was given: approve the GitLab deployment of %s for %s, then pass --deployment-id=<id> (in CI the job's own deployment is used); approvals cannot be skipped",
			env, need, orUnknown(req.Commit), env)
		return
	}
	d.DeploymentID = ev.deploymentID
	if ev.environment != string(env) {
		refuse("deployment %d is for environment %q, not %q: pass the id of a deployment of %s", ev.deploymentID, ev.environment, env, env)
	}
	if ev.sha != string(req.Commit) {
		refuse("deployment %d is for commit %s, not %s: approvals apply to one commit; approve a deployment of %s", ev.deploymentID, orUnknown(ev.sha), orUnknown(req.Commit), orUnknown(req.Commit))
	}
	if !DeployableStatus(ev.status) {
		refuse("deployment %d is %s, not blocked or running: a deployment that already ran, failed or was canceled cannot be reused; run the deploy job of a new pipeline (or pass --deployment-id of a deployment that is waiting for its job)", ev.deploymentID, orUnknown(ev.status))
	}
	switch {
	case ev.deployableID != 0 && ev.pipelineID == 0:
		refuse("deployment %d was created by job %d of no pipeline: approvals are bound to a pipeline of the commit; approve the deployment its pipeline created", ev.deploymentID, ev.deployableID)
	case ev.pipelineSHA != string(req.Commit):
		refuse("deployment %d was created by a pipeline of commit %s, not %s: approve the deployment of this commit's pipeline", ev.deploymentID, orUnknown(ev.pipelineSHA), orUnknown(req.Commit))
	}
	if used := spentBy(ev, req.later); used != nil {
		refuse("deployment %d's approvals were already used by the deploy %s recorded as deployment %d (%s): approvals are used once; approve the deployment of a new pipeline",
			ev.deploymentID, orUnknown(used.User.Username), used.ID, used.Status)
	}
	switch {
	case req.Job == "":
		refuse("no rollback job named: the approvals of a rollback are those of its GitLab job's deployment (policy.RollbackJob)")
	case ev.jobName != req.Job:
		refuse("deployment %d was created by job %s, not %s: its approvals are for that job; approve the deployment of %s", ev.deploymentID, orUnknown(ev.jobName), req.Job, req.Job)
	}

	counted := map[string]bool{}
	for _, a := range ev.approvals {
		who := a.User.String()
		key := norm(a.User.Username)
		switch {
		case a.Status == StatusRejected:
			refuse("%s rejected deployment %d: resolve the objection and get a new deployment approved", orUnknown(who), ev.deploymentID)
		case a.Status != StatusApproved:
			d.IgnoredApprovals = append(d.IgnoredApprovals, fmt.Sprintf("%s (status %q)", orUnknown(who), a.Status))
		case key == "":
			d.IgnoredApprovals = append(d.IgnoredApprovals, fmt.Sprintf("%s (no GitLab username)", orUnknown(who)))
		case a.User.Bot:
			d.IgnoredApprovals = append(d.IgnoredApprovals, who+" (a bot user: approvals are given by people)")
		case a.User.SamePerson(req.Author):
			d.IgnoredApprovals = append(d.IgnoredApprovals, who+" (commit author)")
		case linked(a.User, req.authorLinks):
			d.IgnoredApprovals = append(d.IgnoredApprovals, who+" (linked to the commit's author in GitLab)")
		case a.User.SamePerson(req.Actor):
			d.IgnoredApprovals = append(d.IgnoredApprovals, who+" (the person deploying)")
		case a.User.SamePerson(ev.triggeredBy):
			d.IgnoredApprovals = append(d.IgnoredApprovals, who+" (triggered the deployment)")
		case counted[key]:
			d.IgnoredApprovals = append(d.IgnoredApprovals, who+" (already counted)")
		default:
			counted[key] = true
			d.ValidApprovals = append(d.ValidApprovals, a.User.Username)
		}
	}
	sort.Strings(d.ValidApprovals)
	if len(d.ValidApprovals) < need {
		msg := fmt.Sprintf("%s needs %d approval(s) from distinct people other than the commit author and the person deploying; deployment %d has %d",
			env, need, ev.deploymentID, len(d.ValidApprovals))
		if len(d.ValidApprovals) > 0 {
			msg += " (" + strings.Join(d.ValidApprovals, ", ") + ")"
		}
		if len(d.IgnoredApprovals) > 0 {
			msg += "; not counted: " + strings.Join(d.IgnoredApprovals, ", ")
		}
		refuse("%s: ask another eligible reviewer to approve deployment %d in GitLab", msg, ev.deploymentID)
	}
}

// linked reports whether u may be one of the GitLab users linked to the commit's author.
func linked(u Identity, links []Identity) bool {
	for _, l := range links {
		if u.SamePerson(l) {
			return true
		}
	}
	return false
}

// DeployableStatus reports whether a GitLab deployment in this status may still deploy: blocked
// (waiting for its approvals or its manual job) or running (its job is running). A created, finished
// (success, failed), canceled or skipped deployment proves nothing about this run.
func DeployableStatus(status string) bool { return status == "blocked" || status == "running" }

// CheckFirstModel refuses, for production (a production deploy or a release), a gate report whose
// model gate accepted its candidate as the first model (SP_FIRST_MODEL / --first-model), i.e.
// without comparing it with a champion.
func CheckFirstModel(env domain.Environment, firstModel bool) error {
	if env.IsProduction() && firstModel {
		return fmt.Errorf("the gate report's model gate ran as the first model (SP_FIRST_MODEL / --first-model), without a champion: production needs a candidate compared with a champion; register the champion (MLflow alias or metrics/champion.json), re-run `check` without it")
	}
	return nil
}
