package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// CommitDeployment finds the newest deployment of commit sha to an environment (the one the
// pipeline of that commit created for its deploy job, which approvers approve in GitLab) and
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
	for page := 1; page <= maxDeploymentPages; page++ {
		var list []Deployment
		q := url.Values{"environment": {string(environment)}, "order_by": {"id"}, "sort": {"desc"}, "per_page": {"100"}, "page": {strconv.Itoa(page)}}
		h, err := c.get(ctx, pp+"/deployments", q, fmt.Sprintf("project %s does not exist or is not visible to the token: check --project-id", project), &list)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			if d.SHA == string(sha) {
				// The list omits approvals: fetch the deployment itself.
				return c.Deployment(ctx, project, d.ID)
			}
		}
		if h.Get("X-Next-Page") == "" || len(list) == 0 {
			break
		}
	}
	return nil, fmt.Errorf("gitlab: commit %s has no deployment to %q: run its pipeline on the default branch (the deploy-%s job creates the deployment approvers approve), or pass --deployment-id", sha, environment, environment)
}
