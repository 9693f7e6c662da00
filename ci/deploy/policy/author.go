package policy

import (
	"context"
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// AuthorLinker is what FetchAuthorLinks asks GitLab; *gitlab.Client implements it.
type AuthorLinker interface {
	CommitMergeRequests(ctx context.Context, project string, sha domain.Commit) ([]gitlab.MergeRequest, error)
	UsersByEmail(ctx context.Context, email string) ([]gitlab.User, error)
}

// FetchAuthorLinks links the commit's author, whom git names in free text, to GitLab users: the
// authors of the merge requests the commit belongs to, and the users GitLab finds by the author's
// email. None of them may approve the commit (Proof.AuthorLinks). An author email that is not an
// address is not looked up; a GitLab error is an error (the run cannot prove who may approve).
func FetchAuthorLinks(ctx context.Context, g AuthorLinker, project string, sha domain.Commit, authorEmail string) ([]Identity, error) {
	var links []Identity
	mrs, err := g.CommitMergeRequests(ctx, project, sha)
	if err != nil {
		return nil, fmt.Errorf("link the commit's author to GitLab users (its merge requests): %w", err)
	}
	for _, mr := range mrs {
		links = append(links, identityOf(mr.Author))
	}
	if email := strings.TrimSpace(authorEmail); strings.Contains(email, "@") {
		users, err := g.UsersByEmail(ctx, email)
		if err != nil {
			return nil, fmt.Errorf("link the commit's author to GitLab users (by email): %w", err)
		}
		for _, u := range users {
			links = append(links, identityOf(u))
		}
	}
	return links, nil
}

// Approvals are used once. GitLab finishes the deployment of a CI job that ran (success, failed,
// canceled: DeployableStatus refuses it afterwards). A laptop run that used a deployment still
// blocked or running records its use as a deployment of its own through the Deployments API
// (UseOf: running before helm, success or failed after), and every later run reads the
// deployments after the one it uses (Proof.Later, FetchLater): a recorded use of the same commit,
// running or successful, spends the approvals.

// DeploymentLister is what FetchLater asks GitLab; *gitlab.Client implements it.
type DeploymentLister interface {
	DeploymentsAfter(ctx context.Context, project string, environment domain.Environment, after int64) ([]gitlab.Deployment, error)
}

// FetchLater lists the deployments of ev's environment newer than ev (nil for no evidence).
func FetchLater(ctx context.Context, g DeploymentLister, project string, ev *Evidence) ([]gitlab.Deployment, error) {
	if ev == nil {
		return nil, nil
	}
	later, err := g.DeploymentsAfter(ctx, project, domain.Environment(ev.environment), ev.deploymentID)
	if err != nil {
		return nil, fmt.Errorf("check that the approvals of deployment %d were not used already: %w", ev.deploymentID, err)
	}
	return later, nil
}

// UseOf is the deployment a laptop run records before it acts, so that the approvals of the
// deployment it used count once; false when there is none to record (a GitLab run, whose own
// deployment GitLab finishes; a refusal; a decision that counted no approvals).
func UseOf(d Decision, proof Proof) (gitlab.NewDeployment, bool) {
	ev := proof.Deployment
	if !d.Allowed || d.Source != SourceLocal || ev == nil || d.RequiredApprovals == 0 {
		return gitlab.NewDeployment{}, false
	}
	return gitlab.NewDeployment{Environment: ev.environment, SHA: ev.sha, Ref: ev.ref, Tag: ev.tag, Status: gitlab.DeploymentRunning}, true
}

// spentBy is the recorded use of ev's approvals among later: a deployment made through the API
// (no job) of the same commit, running or successful.
func spentBy(ev *Evidence, later []gitlab.Deployment) *gitlab.Deployment {
	for i, l := range later {
		if l.Deployable == nil && l.SHA == ev.sha && l.ID > ev.deploymentID &&
			(l.Status == gitlab.DeploymentRunning || l.Status == gitlab.DeploymentSuccess) {
			return &later[i]
		}
	}
	return nil
}

// UserGetter is what CheckApprovers asks GitLab; *gitlab.Client implements it.
type UserGetter interface {
	User(ctx context.Context, id int64) (*gitlab.User, error)
}

// CheckApprovers looks up each user who approved ev (GET /users/:id) to learn whether it is a
// bot: a deployment's approvals name their users without it (GitLab's UserBasic), and a bot's
// approval (a project, group or service-account token) is nobody's and does not count.
func CheckApprovers(ctx context.Context, g UserGetter, ev *Evidence) error {
	if ev == nil {
		return nil
	}
	for i, a := range ev.approvals {
		if a.Status != StatusApproved {
			continue
		}
		if a.userID <= 0 {
			return fmt.Errorf("GitLab reported no user id for approver %s of deployment %d: check the GitLab URL", orUnknown(a.User.String()), ev.deploymentID)
		}
		u, err := g.User(ctx, a.userID)
		if err != nil {
			return fmt.Errorf("look up approver %s (GitLab user %d) to know whether it is a bot: %w", orUnknown(a.User.String()), a.userID, err)
		}
		ev.approvals[i].User.Bot = u.Bot
	}
	return nil
}
