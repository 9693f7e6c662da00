package gitlab

import (
	"context"
	"errors"
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// CommitDeployment finds the newest deployment a CI job created for commit sha in an environment
// (the one the pipeline of that commit created for its deploy job, which approvers approve in GitLab) and
// returns it with its approvals. It is how a deploy from a checkout finds its evidence without
// a --deployment-id: the approvals are still GitLab's, for that exact commit and environment.
func (c *Client) CommitDeployment(ctx context.Context, project string, environment domain.Environment, sha domain.Commit) (*Deployment, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if environment == "" {
		return nil, errors.New("gitlab: no environment name: pass dev, staging or production")
	}
	if sha == "" {
		return nil, errors.New("gitlab: no commit: pass the commit sha (--commit or $CI_COMMIT_SHA)")
	}
	// Only a CI job's deployment holds approvals; one made through the API (a laptop run's
	// recorded use of them) does not.
	found, err := c.newestDeployment(ctx, pp, project, environment, func(d Deployment) bool { return d.SHA == string(sha) && d.Deployable != nil })
	if err != nil {
		return nil, err
	}
	if found != nil {
		// The list omits approvals: fetch the deployment itself.
		return c.Deployment(ctx, project, found.ID)
	}
	return nil, fmt.Errorf("gitlab: commit %s has no deployment to %q: run its pipeline on the default branch (the deploy-%s job creates the deployment approvers approve), or pass --deployment-id", sha, environment, environment)
}
