package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Deployment statuses a deployment created through the API may take (POST and PUT
// /projects/:id/deployments).
const (
	DeploymentRunning = "running"
	DeploymentSuccess = "success"
	DeploymentFailed  = "failed"
)

// NewDeployment is a deployment recorded through the API (POST /projects/:id/deployments): a
// deploy GitLab CI did not run.
type NewDeployment struct {
	Environment string `json:"environment"`
	SHA         string `json:"sha"`
	Ref         string `json:"ref"`
	Tag         bool   `json:"tag"`
	Status      string `json:"status"`
}

// CreateDeployment records d in project (POST /projects/:id/deployments) and returns the
// deployment GitLab created. The token needs the api scope and its user the right to deploy to
// the environment (a protected environment's "allowed to deploy").
func (c *Client) CreateDeployment(ctx context.Context, project string, d NewDeployment) (*Deployment, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if d.Environment == "" || d.SHA == "" || d.Ref == "" || d.Status == "" {
		return nil, errors.New("gitlab: a deployment needs its environment, commit, ref and status")
	}
	var out Deployment
	if _, err := c.do(ctx, http.MethodPost, pp+"/deployments", nil, d, fmt.Sprintf("project %s does not exist or is not visible to the token: check --project-id", project), &out); err != nil {
		return nil, err
	}
	if out.ID <= 0 {
		return nil, errors.New("gitlab: POST /deployments answered no deployment id: check the base URL")
	}
	return &out, nil
}

// SetDeploymentStatus sets the status of a deployment created through the API (PUT
// /projects/:id/deployments/:deployment_id); GitLab refuses it for a deployment a CI job created.
func (c *Client) SetDeploymentStatus(ctx context.Context, project string, deploymentID int64, status string) (*Deployment, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	var out Deployment
	path := pp + "/deployments/" + strconv.FormatInt(deploymentID, 10)
	if _, err := c.do(ctx, http.MethodPut, path, nil, map[string]string{"status": status}, fmt.Sprintf("deployment %d does not exist in project %s", deploymentID, project), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeploymentsAfter lists the deployments of environment newer than deployment after (by id,
// newest first), as GET /projects/:id/deployments?environment=…&order_by=id&sort=desc lists them.
func (c *Client) DeploymentsAfter(ctx context.Context, project string, environment domain.Environment, after int64) ([]Deployment, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	var out []Deployment
	reached, err := c.newestDeployment(ctx, pp, project, environment, func(d Deployment) bool {
		if d.ID <= after {
			return true
		}
		out = append(out, d)
		return false
	})
	if err != nil {
		return nil, err
	}
	if reached == nil && len(out) >= maxDeploymentPages*100 {
		return nil, fmt.Errorf("gitlab: more than %d deployments of %s after deployment %d: approve the deployment of a new pipeline", maxDeploymentPages*100, environment, after)
	}
	return out, nil
}
