package main

import (
	"context"
	"fmt"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// spend records, before a laptop run acts, its use of the approved GitLab deployment
// (policy.UseOf: a deployment of its own, made through the Deployments API with the caller's
// token, running until the run finishes), so that those approvals count once: every later run
// finds it (policy.FetchLater). It returns what sets the recorded deployment's status once the
// run acted (success, or failed: the approvals are then still unused). Nothing to record: a no-op.
func spend(ctx context.Context, s configpkg.Settings, token *dagger.Secret, projectID string, use *gitlab.NewDeployment) (func(context.Context, bool) error, error) {
	if use == nil {
		return func(context.Context, bool) error { return nil }, nil
	}
	client, err := gitlabClient(ctx, s, token)
	if err != nil {
		return nil, err
	}
	project := orDefault(projectID, s.ProjectID)
	d, err := client.CreateDeployment(ctx, project, *use)
	if err != nil {
		return nil, fmt.Errorf("record in GitLab that this run uses the approvals (a deployment of %s through the Deployments API, so that they count once): %w; the token needs the api scope and its user the right to deploy to %s; nothing was changed",
			use.Environment, err, use.Environment)
	}
	return func(ctx context.Context, ok bool) error {
		status := gitlab.DeploymentSuccess
		if !ok {
			status = gitlab.DeploymentFailed
		}
		if _, err := client.SetDeploymentStatus(ctx, project, d.ID, status); err != nil {
			return fmt.Errorf("GitLab deployment %d records this run's use of the approvals but could not be marked %s (%w): mark it by hand (PUT /projects/%s/deployments/%d status=%s)", d.ID, status, err, project, d.ID, status)
		}
		return nil
	}, nil
}
