package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// MergeRequest is a merge request as GET /projects/:id/repository/commits/:sha/merge_requests
// lists it.
type MergeRequest struct {
	ID     int64  `json:"id"`
	IID    int64  `json:"iid"`
	Title  string `json:"title"`
	State  string `json:"state"`
	Author User   `json:"author"`
	WebURL string `json:"web_url"`
}

// CommitMergeRequests lists the merge requests associated with commit sha (Commits API): their
// authors are GitLab accounts behind a commit whose git author is free text.
func (c *Client) CommitMergeRequests(ctx context.Context, project string, sha domain.Commit) ([]MergeRequest, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if sha == "" {
		return nil, errors.New("gitlab: no commit: pass the commit sha (--commit or $CI_COMMIT_SHA)")
	}
	var out []MergeRequest
	path := pp + "/repository/commits/" + url.PathEscape(string(sha)) + "/merge_requests"
	if _, err := c.get(ctx, path, url.Values{"per_page": {"100"}}, fmt.Sprintf("commit %s is not in project %s: push it first or check --commit", sha, project), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// UsersByEmail lists the GitLab users GET /users?search=<email> finds for email: GitLab matches
// an email query exactly (against public emails, and every verified email for an administrator).
func (c *Client) UsersByEmail(ctx context.Context, email string) ([]User, error) {
	email = strings.TrimSpace(email)
	if at := strings.LastIndex(email, "@"); at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " \t") {
		return nil, fmt.Errorf("gitlab: %q is not an email address: pass the commit author's email", email)
	}
	var out []User
	if _, err := c.get(ctx, "/users", url.Values{"search": {email}, "per_page": {"100"}}, "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// User fetches one user (GET /users/:id): GitLab's User entity, which says whether it is a bot.
func (c *Client) User(ctx context.Context, id int64) (*User, error) {
	if id <= 0 {
		return nil, fmt.Errorf("gitlab: user id %d is not positive", id)
	}
	var u User
	if _, err := c.get(ctx, "/users/"+strconv.FormatInt(id, 10), nil, fmt.Sprintf("user %d does not exist (or is not visible to the token)", id), &u); err != nil {
		return nil, err
	}
	if u.ID != id {
		return nil, fmt.Errorf("gitlab: asked for user %d but GitLab answered with user %d: check the base URL", id, u.ID)
	}
	return &u, nil
}

// Project is a project as GET /projects/:id answers it (the fields the pipeline reads).
type Project struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
}

// Project fetches project (a numeric id or the group/project path): the path GitLab names it by.
func (c *Client) Project(ctx context.Context, project string) (*Project, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	var p Project
	if _, err := c.get(ctx, pp, nil, fmt.Sprintf("project %s does not exist or is not visible to the token: check --project-id", project), &p); err != nil {
		return nil, err
	}
	if p.PathWithNamespace == "" {
		return nil, fmt.Errorf("gitlab: project %s: the answer names no path_with_namespace: check that the base URL points at a GitLab instance", project)
	}
	return &p, nil
}
