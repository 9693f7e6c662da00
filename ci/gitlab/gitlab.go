// Package gitlab is a minimal client for the few GitLab REST endpoints the pipeline needs: a
// deployment and its approvals (the proof behind the promotion policy), a protected environment's
// approval rules, a commit's author and the GitLab users behind it (its merge requests' authors, the
// users of an email), the commits between two refs (release notes), the project's tags, and the
// user a token belongs to.
//
// The base URL and the token are always given explicitly (nothing is read from the environment).
// The token is only ever sent in the PRIVATE-TOKEN header (personal, project or group access token)
// or the JOB-TOKEN header (CI_JOB_TOKEN), over https (or to a loopback host) and never on a
// redirect to another host; it never appears in a URL or in an error.
package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Sentinel errors, matched with errors.Is on the errors the client returns.
var (
	// ErrUnauthorized means GitLab rejected the token (HTTP 401).
	ErrUnauthorized = errors.New("gitlab: token rejected")
	// ErrForbidden means the token is valid but may not do this (HTTP 403).
	ErrForbidden = errors.New("gitlab: access denied")
	// ErrNotFound means the project or object does not exist or is not visible to the token (HTTP 404).
	ErrNotFound = errors.New("gitlab: not found")
)

// APIError is a non-2xx answer from GitLab.
type APIError struct {
	// Method and Path identify the request (the path is relative to /api/v4 and holds no token).
	Method, Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is GitLab's message from the body, when it sent one.
	Message string
	// Hint says how to fix the problem.
	Hint string
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gitlab: %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if e.Message != "" {
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is makes errors.Is match ErrUnauthorized, ErrForbidden and ErrNotFound by status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithJobToken sends the token in the JOB-TOKEN header (for $CI_JOB_TOKEN) instead of PRIVATE-TOKEN.
func WithJobToken() Option { return func(c *Client) { c.header = "JOB-TOKEN" } }

// Client talks to one GitLab instance with one token.
type Client struct {
	api    *url.URL // …/api/v4
	token  string
	header string
	http   *http.Client
}

// New returns a client for the GitLab at baseURL ("https://gitlab.com" or the API root
// "https://gitlab.com/api/v4", i.e. $CI_API_V4_URL) authenticating with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gitlab: base URL %q is not an http(s) URL: pass the instance URL, e.g. https://gitlab.com (or $CI_API_V4_URL)", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("gitlab: base URL must not carry credentials, a query or a fragment: pass only the instance URL and give the token separately")
	}
	if token == "" {
		return nil, errors.New("gitlab: no token: pass a GitLab access token with the read_api scope (or $CI_JOB_TOKEN in CI)")
	}
	if strings.ContainsAny(token, "\r\n") {
		return nil, errors.New("gitlab: the token contains a line break: pass the token alone, without surrounding whitespace")
	}
	if domain.ClearText(u) {
		return nil, fmt.Errorf("gitlab: base URL %s is plain http: a GitLab token is sent only over https, or to a loopback host (localhost, 127.0.0.1, ::1): use the https URL of the instance", u.Redacted())
	}
	p := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(p, "/api/v4") {
		p += "/api/v4"
	}
	u.Path, u.RawPath = p, ""
	c := &Client{api: u, token: token, header: "PRIVATE-TOKEN", http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	// Go's client forwards custom headers (PRIVATE-TOKEN, JOB-TOKEN) on every redirect, to any
	// host: a redirect away from the instance is refused, never followed with the token.
	hc := *c.http
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !domain.SameOrigin(c.api, req.URL) {
			return &redirectError{from: via[0].Method + " " + via[0].URL.Path, to: req.URL.Scheme + "://" + req.URL.Host}
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	c.http = &hc
	return c, nil
}

// redirectError is a redirect to another host than the instance's.
type redirectError struct{ from, to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("GitLab redirected %s to %s: the token is never sent to another host; pass the URL it redirects to as the GitLab URL (CI_API_V4_URL) if that is the instance", e.from, e.to)
}

// projectPath renders a project id (numeric id or "group/project" path) as a path segment.
func projectPath(project string) (string, error) {
	if strings.TrimSpace(project) == "" {
		return "", errors.New("gitlab: no project: pass the numeric project id or the group/project path ($CI_PROJECT_ID)")
	}
	return "/projects/" + url.PathEscape(project), nil
}

// get performs GET path?query and decodes the JSON body into out. It returns the response headers.
func (c *Client) get(ctx context.Context, path string, query url.Values, hint404 string, out any) (http.Header, error) {
	return c.do(ctx, http.MethodGet, path, query, nil, hint404, out)
}

// do performs method path?query with body (JSON, nil for none) and decodes the JSON answer into
// out. It returns the response headers.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, hint404 string, out any) (http.Header, error) {
	// path is built from escaped segments (a project path holds %2F): keep that encoding.
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %s %s: invalid path: %w", method, path, err)
	}
	u := *c.api
	u.Path = c.api.Path + unescaped
	u.RawPath = c.api.EscapedPath() + path
	u.RawQuery = query.Encode()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("gitlab: %s %s: encode request: %w", method, path, err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %s %s: %w", method, path, err)
	}
	req.Header.Set(c.header, c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %s %s: %s: check the GitLab URL and the network", method, path, c.redact(err.Error()))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("gitlab: %s %s: reading the answer: %s", method, path, c.redact(err.Error()))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.apiError(method, path, resp.StatusCode, data, hint404)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("gitlab: %s %s: the answer is not the expected JSON (%v): check that the base URL points at a GitLab instance", method, path, err)
	}
	return resp.Header, nil
}

func (c *Client) apiError(method, path string, status int, body []byte, hint404 string) error {
	e := &APIError{Method: method, Path: path, StatusCode: status, Message: truncate(c.redact(bodyMessage(body)))}
	switch status {
	case http.StatusUnauthorized:
		e.Hint = "the token was rejected (expired, revoked or mistyped): pass a valid GitLab access token with the read_api scope"
	case http.StatusForbidden:
		e.Hint = "the token's user may not read this: grant it at least the Reporter role on the project and the read_api scope"
		if method != http.MethodGet {
			e.Hint = "the token's user may not do this: it needs the api scope and, for a protected environment, to be allowed to deploy to it"
		}
	case http.StatusNotFound:
		e.Hint = hint404
		if e.Hint == "" {
			e.Hint = "not found or not visible to the token: check the project and the id"
		}
	}
	return e
}

// bodyMessage extracts GitLab's {"message": …} or {"error": …} from an error body.
func bodyMessage(body []byte) string {
	var m struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil {
		switch v := m.Message.(type) {
		case string:
			return v
		case nil:
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
		if m.Error != "" {
			return m.Error
		}
	}
	return ""
}

func truncate(s string) string {
	const n = 300
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// redact removes the token from a string that may echo it.
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[redacted]")
}

// User is a GitLab user as embedded in other objects.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	State    string `json:"state,omitempty"`
	WebURL   string `json:"web_url,omitempty"`
	// PublicEmail is only present on /user and when the user made an email public.
	PublicEmail string `json:"public_email,omitempty"`
	// Bot is true for the bot user behind a project, group or service-account token (GitLab's
	// User entity: /user, /users/:id, a job's user, a merge request's author).
	Bot bool `json:"bot,omitempty"`
}

// Approval is one decision on a deployment.
type Approval struct {
	User User `json:"user"`
	// Status is "approved" or "rejected".
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Comment   string    `json:"comment"`
}

// Commit is a repository commit.
type Commit struct {
	ID             string    `json:"id"`
	ShortID        string    `json:"short_id"`
	Title          string    `json:"title"`
	Message        string    `json:"message"`
	AuthorName     string    `json:"author_name"`
	AuthorEmail    string    `json:"author_email"`
	AuthoredDate   time.Time `json:"authored_date"`
	CommitterName  string    `json:"committer_name"`
	CommitterEmail string    `json:"committer_email"`
	CommittedDate  time.Time `json:"committed_date"`
	ParentIDs      []string  `json:"parent_ids"`
	WebURL         string    `json:"web_url"`
}

// Environment is the environment a deployment targets.
type Environment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ExternalURL string `json:"external_url"`
}

// Deployable is the CI job behind a deployment.
type Deployable struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Ref    string  `json:"ref"`
	Status string  `json:"status"`
	Tag    bool    `json:"tag"`
	User   *User   `json:"user"`
	Commit *Commit `json:"commit"`
	// Pipeline is the pipeline the job belongs to.
	Pipeline *struct {
		ID     int64  `json:"id"`
		SHA    string `json:"sha"`
		Ref    string `json:"ref"`
		Status string `json:"status"`
	} `json:"pipeline"`
}

// ApprovalRule is one approval rule of a protected environment.
type ApprovalRule struct {
	ID                     int64  `json:"id"`
	UserID                 *int64 `json:"user_id"`
	GroupID                *int64 `json:"group_id"`
	AccessLevel            *int   `json:"access_level"`
	AccessLevelDescription string `json:"access_level_description"`
	RequiredApprovals      int    `json:"required_approvals"`
	GroupInheritanceType   int    `json:"group_inheritance_type"`
}

// Deployment is GET /projects/:id/deployments/:deployment_id.
type Deployment struct {
	ID          int64       `json:"id"`
	IID         int64       `json:"iid"`
	Ref         string      `json:"ref"`
	SHA         string      `json:"sha"`
	Status      string      `json:"status"` // created, running, success, failed, canceled, skipped, blocked
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	User        User        `json:"user"` // who triggered the deployment
	Environment Environment `json:"environment"`
	Deployable  *Deployable `json:"deployable"`
	// Approvals are present on GitLab Premium/Ultimate; absent means no approval was recorded.
	Approvals            []Approval `json:"approvals"`
	PendingApprovalCount int        `json:"pending_approval_count"`
	ApprovalSummary      *struct {
		Rules []struct {
			ApprovalRule
			DeploymentApprovals []Approval `json:"deployment_approvals"`
		} `json:"rules"`
	} `json:"approval_summary"`
}

// Deployment fetches one deployment with its approvals.
func (c *Client) Deployment(ctx context.Context, project string, deploymentID int64) (*Deployment, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if deploymentID <= 0 {
		return nil, fmt.Errorf("gitlab: deployment id %d is not positive: pass the id shown in Operate > Environments > the deployment (--deployment-id)", deploymentID)
	}
	var d Deployment
	path := fmt.Sprintf("%s/deployments/%d", pp, deploymentID)
	if _, err := c.get(ctx, path, nil, fmt.Sprintf("deployment %d does not exist in project %s (or the token cannot see it): check --deployment-id and the project", deploymentID, project), &d); err != nil {
		return nil, err
	}
	if d.ID != deploymentID {
		return nil, fmt.Errorf("gitlab: asked for deployment %d but GitLab answered with deployment %d: check the base URL", deploymentID, d.ID)
	}
	return &d, nil
}

// maxDeploymentPages bounds the search for a job's deployment (100 per page, newest first).
const maxDeploymentPages = 5

// JobDeployment finds the deployment a CI job created for an environment (GitLab exposes no
// deployment id variable; the job id is $CI_JOB_ID) and returns it with its approvals. It lists the
// environment's deployments newest first and matches deployable.id.
func (c *Client) JobDeployment(ctx context.Context, project string, environment domain.Environment, jobID int64) (*Deployment, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if environment == "" {
		return nil, errors.New("gitlab: no environment name: pass dev, staging or production")
	}
	if jobID <= 0 {
		return nil, fmt.Errorf("gitlab: job id %d is not positive: pass $CI_JOB_ID", jobID)
	}
	found, err := c.newestDeployment(ctx, pp, project, environment, func(d Deployment) bool { return d.Deployable != nil && d.Deployable.ID == jobID })
	if err != nil || found == nil {
		if err == nil {
			err = fmt.Errorf("gitlab: no deployment of environment %q was created by job %d: give the deploy job `environment: %s` in .gitlab-ci.yml, or pass --deployment-id", environment, jobID, environment)
		}
		return nil, err
	}
	// The list omits approvals: fetch the deployment itself.
	return c.Deployment(ctx, project, found.ID)
}

// newestDeployment walks the deployments of environment newest first (at most
// maxDeploymentPages pages of 100) and returns the first that match accepts, nil when none does.
func (c *Client) newestDeployment(ctx context.Context, pp, project string, environment domain.Environment, match func(Deployment) bool) (*Deployment, error) {
	for page := 1; page <= maxDeploymentPages; page++ {
		var list []Deployment
		q := url.Values{"environment": {string(environment)}, "order_by": {"id"}, "sort": {"desc"}, "per_page": {"100"}, "page": {strconv.Itoa(page)}}
		h, err := c.get(ctx, pp+"/deployments", q, fmt.Sprintf("project %s does not exist or is not visible to the token: check the project id (--project-id, $CI_PROJECT_ID)", project), &list)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if match(list[i]) {
				return &list[i], nil
			}
		}
		if h.Get("X-Next-Page") == "" || len(list) == 0 {
			return nil, nil
		}
	}
	return nil, nil
}

// Commit fetches one commit (its author is the commit author the policy keeps away from approvals).
func (c *Client) Commit(ctx context.Context, project string, sha domain.Commit) (*Commit, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if sha == "" {
		return nil, errors.New("gitlab: no commit: pass the commit sha (--commit or $CI_COMMIT_SHA)")
	}
	var cm Commit
	path := pp + "/repository/commits/" + url.PathEscape(string(sha))
	if _, err := c.get(ctx, path, nil, fmt.Sprintf("commit %s is not in project %s: push it first or check --commit", sha, project), &cm); err != nil {
		return nil, err
	}
	return &cm, nil
}

// Compare lists the commits reachable from to but not from from (GET …/repository/compare), in the
// order GitLab returns them (oldest first).
func (c *Client) Compare(ctx context.Context, project, from, to string) ([]Commit, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if from == "" || to == "" {
		return nil, errors.New("gitlab: compare needs both refs: pass the previous release tag and the new commit")
	}
	var out struct {
		Commits []Commit `json:"commits"`
	}
	q := url.Values{"from": {from}, "to": {to}}
	if _, err := c.get(ctx, pp+"/repository/compare", q, fmt.Sprintf("ref %s or %s is not in project %s: push the tag/commit or check the names", from, to, project), &out); err != nil {
		return nil, err
	}
	return out.Commits, nil
}

// Tag is a repository tag.
type Tag struct {
	Name      string  `json:"name"`
	Message   string  `json:"message"`
	Target    string  `json:"target"`
	Protected bool    `json:"protected"`
	Commit    *Commit `json:"commit"`
}

// maxPages bounds tag pagination (100 per page).
const maxPages = 100

// Tags lists every tag of the project, following pagination (X-Next-Page).
func (c *Client) Tags(ctx context.Context, project string) ([]Tag, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	var all []Tag
	page := "1"
	for range maxPages {
		var tags []Tag
		q := url.Values{"per_page": {"100"}, "page": {page}}
		h, err := c.get(ctx, pp+"/repository/tags", q, fmt.Sprintf("project %s does not exist or is not visible to the token: check the project path or id", project), &tags)
		if err != nil {
			return nil, err
		}
		all = append(all, tags...)
		next := h.Get("X-Next-Page")
		if next == "" {
			return all, nil
		}
		if n, err := strconv.Atoi(next); err != nil || n <= 0 {
			return nil, fmt.Errorf("gitlab: tags: invalid X-Next-Page %q in the answer: check the base URL", next)
		}
		page = next
	}
	return nil, fmt.Errorf("gitlab: tags: more than %d pages: the project has too many tags to list", maxPages)
}

// CurrentUser returns the user the token belongs to (GET /user). A laptop run uses it as the actor:
// who deploys is who owns the token, not what a flag claims.
func (c *Client) CurrentUser(ctx context.Context) (*User, error) {
	var u User
	if _, err := c.get(ctx, "/user", nil, "the token has no user: use a personal access token for laptop runs", &u); err != nil {
		return nil, err
	}
	if u.Username == "" {
		return nil, errors.New("gitlab: /user returned no username: use a personal access token for laptop runs")
	}
	return &u, nil
}

// JobPipeline is the pipeline a job belongs to, as embedded in a job.
type JobPipeline struct {
	ID     int64  `json:"id"`
	SHA    string `json:"sha"`
	Ref    string `json:"ref"`
	Status string `json:"status"`
	Source string `json:"source,omitempty"`
}

// Job is a CI job as GET /job (with its own JOB-TOKEN) or GET /projects/:id/jobs/:job_id returns it.
type Job struct {
	ID       int64        `json:"id"`
	Name     string       `json:"name"`
	Stage    string       `json:"stage"`
	Status   string       `json:"status"` // created, pending, running, failed, success, canceled, skipped, manual…
	Ref      string       `json:"ref"`
	Tag      bool         `json:"tag"`
	User     *User        `json:"user"` // who runs the job (for a manual job: who played it)
	Commit   *Commit      `json:"commit"`
	Pipeline *JobPipeline `json:"pipeline"`
	WebURL   string       `json:"web_url"`
}

// TokenJob returns the job the client's job token belongs to (GET /job). Only a client created
// with WithJobToken and $CI_JOB_TOKEN can call it: GitLab answers for the job that is running with
// that token, so nothing the caller states is involved.
func (c *Client) TokenJob(ctx context.Context) (*Job, error) {
	if c.header != "JOB-TOKEN" {
		return nil, errors.New("gitlab: GET /job needs the job's own token: pass --job-token=env:CI_JOB_TOKEN")
	}
	var j Job
	if _, err := c.get(ctx, "/job", nil, "the job token belongs to no running job: pass the token of this job ($CI_JOB_TOKEN)", &j); err != nil {
		return nil, err
	}
	if j.ID <= 0 {
		return nil, errors.New("gitlab: GET /job returned no job id: check that the base URL points at GitLab ($CI_API_V4_URL)")
	}
	return &j, nil
}

// ProjectJob fetches one job of a project (GET /projects/:id/jobs/:job_id).
func (c *Client) ProjectJob(ctx context.Context, project string, jobID int64) (*Job, error) {
	pp, err := projectPath(project)
	if err != nil {
		return nil, err
	}
	if jobID <= 0 {
		return nil, fmt.Errorf("gitlab: job id %d is not positive: pass $CI_JOB_ID", jobID)
	}
	var j Job
	path := fmt.Sprintf("%s/jobs/%d", pp, jobID)
	if _, err := c.get(ctx, path, nil, fmt.Sprintf("job %d is not in project %s (or the token cannot see it): check --job-id and --project-id", jobID, project), &j); err != nil {
		return nil, err
	}
	if j.ID != jobID {
		return nil, fmt.Errorf("gitlab: asked for job %d but GitLab answered with job %d: check the base URL", jobID, j.ID)
	}
	return &j, nil
}
