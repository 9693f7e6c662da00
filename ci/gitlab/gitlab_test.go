package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const (
	testToken = "glpat-TESTTOKEN-0123456789"
	sha       = "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
)

// deploymentJSON follows the documented response of GET /projects/:id/deployments/:deployment_id.
const deploymentJSON = `{
  "id": 42,
  "iid": 2,
  "ref": "main",
  "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
  "created_at": "2016-08-11T11:32:35.444Z",
  "updated_at": "2016-08-11T11:34:01.123Z",
  "status": "blocked",
  "user": {"name": "Administrator", "username": "root", "id": 1, "state": "active",
           "avatar_url": "http://www.gravatar.com/avatar/x", "web_url": "http://localhost:3000/root"},
  "environment": {"id": 9, "name": "production", "external_url": "https://about.gitlab.com"},
  "deployable": {
    "commit": {"author_email": "admin@example.com", "author_name": "Administrator",
               "created_at": "2016-08-11T13:28:26.000+02:00", "id": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
               "message": "Merge branch 'rename-readme' into 'main'", "short_id": "a91957a8",
               "title": "Merge branch 'rename-readme' into 'main'"},
    "coverage": null, "created_at": "2016-08-11T11:32:24.456Z", "finished_at": "2016-08-11T11:32:35.145Z",
    "id": 664, "name": "deploy", "ref": "main", "runner": null, "stage": "deploy", "started_at": null,
    "status": "success", "tag": false,
    "user": {"id": 1, "name": "Administrator", "username": "root", "state": "active"},
    "pipeline": {"created_at": "2016-08-11T07:43:52.143Z", "id": 42, "ref": "main",
                 "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "status": "success",
                 "updated_at": "2016-08-11T07:43:52.143Z", "web_url": "http://gitlab.dev/root/project/pipelines/5"}
  },
  "approvals": [
    {"user": {"id": 49, "username": "alice", "name": "Alice A", "state": "active",
              "avatar_url": "x", "web_url": "http://localhost:3000/alice"},
     "status": "approved", "created_at": "2022-02-24T20:22:30.097Z", "comment": "Looks good to me"},
    {"user": {"id": 50, "username": "bob", "name": "Bob B", "state": "active"},
     "status": "rejected", "created_at": "2022-02-24T20:23:30.097Z", "comment": "not yet"}
  ],
  "pending_approval_count": 1,
  "approval_summary": {"rules": [{"user_id": null, "group_id": 134, "access_level": null,
    "access_level_description": "qa-group", "required_approvals": 2,
    "deployment_approvals": [{"user": {"id": 49, "username": "alice", "name": "Alice A"},
                              "status": "approved", "created_at": "2022-02-24T20:22:30.097Z", "comment": "Looks good to me"}]}]}
}`

const commitJSON = `{
  "id": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "short_id": "a91957a8",
  "title": "feat(api): add predictions endpoint", "author_name": "Carol C", "author_email": "carol@example.com",
  "authored_date": "2024-05-01T09:00:00.000+02:00", "committer_name": "Carol C", "committer_email": "carol@example.com",
  "committed_date": "2024-05-01T09:00:00.000+02:00", "created_at": "2024-05-01T09:00:00.000+02:00",
  "message": "feat(api): add predictions endpoint\n\nbody", "parent_ids": ["ae1d9fb46aa2b07ee9836d49862ec4e2c46fbbba"],
  "web_url": "https://gitlab.example.com/group/project/-/commit/a91957a8", "stats": {"additions": 1, "deletions": 0, "total": 1},
  "status": "running", "last_pipeline": null
}`

const compareJSON = `{
  "commit": {"id": "12d65c8dd2b2676fa3ac47d955accc085a37a9c1", "short_id": "12d65c8dd2b", "title": "JS fix", "author_name": "Example User", "author_email": "user@example.com", "created_at": "2014-02-27T10:27:00+02:00"},
  "commits": [
    {"id": "12d65c8dd2b2676fa3ac47d955accc085a37a9c1", "short_id": "12d65c8dd2b", "title": "fix: JS fix", "author_name": "Example User", "author_email": "user@example.com", "created_at": "2014-02-27T10:27:00+02:00"},
    {"id": "ae1d9fb46aa2b07ee9836d49862ec4e2c46fbbba", "short_id": "ae1d9fb46aa", "title": "feat: new thing", "author_name": "Other User", "author_email": "other@example.com", "created_at": "2014-02-28T10:27:00+02:00"}
  ],
  "diffs": [{"old_path": "files/js/application.js", "new_path": "files/js/application.js", "a_mode": null, "b_mode": "100644", "diff": "@@ -24,8 +24,7 @@", "new_file": false, "renamed_file": false, "deleted_file": false}],
  "compare_timeout": false, "compare_same_ref": false, "web_url": "https://gitlab.example.com/thedude/gitlab-foss/-/compare/ae73cb07...0b4bc9a4"
}`

const protectedEnvJSON = `{
  "name": "production",
  "deploy_access_levels": [{"id": 12, "access_level": 40, "access_level_description": "Maintainers", "user_id": null, "group_id": null, "group_inheritance_type": 0}],
  "required_approval_count": 2,
  "approval_rules": [{"id": 38, "user_id": null, "group_id": null, "access_level": 40, "access_level_description": "Maintainers", "required_approvals": 2, "group_inheritance_type": 0}]
}`

// jobJSON follows the documented response of GET /job and GET /projects/:id/jobs/:job_id.
const jobJSON = `{
  "commit": {"author_email": "admin@example.com", "author_name": "Administrator",
             "id": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "short_id": "a91957a8", "title": "x"},
  "coverage": null, "allow_failure": false, "created_at": "2015-12-24T15:51:21.880Z",
  "started_at": "2015-12-24T17:54:30.733Z", "finished_at": null, "duration": 0.465,
  "id": 664, "name": "deploy-production", "ref": "main", "stage": "deploy", "status": "running",
  "tag": false, "web_url": "https://example.com/foo/bar/-/jobs/664",
  "pipeline": {"id": 6, "project_id": 1, "ref": "main", "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "status": "running"},
  "user": {"id": 1, "name": "Dave D", "username": "dave", "state": "active"}
}`

type fakeGitLab struct {
	mu       sync.Mutex
	requests []string
	headers  []http.Header
}

func (f *fakeGitLab) handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		tok := r.Header.Get("PRIVATE-TOKEN")
		if tok == "" {
			tok = r.Header.Get("JOB-TOKEN")
		}
		w.Header().Set("Content-Type", "application/json")
		switch tok {
		case testToken:
		case "forbidden-token":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"403 Forbidden"}`)
			return
		default:
			w.WriteHeader(http.StatusUnauthorized)
			// A server that echoes the token must not leak it through the client's errors.
			fmt.Fprintf(w, `{"message":"401 Unauthorized: bad token %s"}`, tok)
			return
		}
		p := r.URL.EscapedPath()
		switch {
		case p == "/api/v4/projects/group%2Fsub%2Fproject/deployments/42" || p == "/api/v4/projects/7/deployments/42":
			fmt.Fprint(w, deploymentJSON)
		case p == "/api/v4/projects/7/deployments":
			q := r.URL.Query()
			if q.Get("environment") != "production" || q.Get("sort") != "desc" {
				fmt.Fprint(w, `[]`)
				return
			}
			switch q.Get("page") {
			case "1":
				w.Header().Set("X-Next-Page", "2")
				fmt.Fprint(w, `[{"id": 44, "iid": 4, "ref": "main", "sha": "`+sha+`", "status": "success", "user": {"username": "root"}, "environment": {"id": 9, "name": "production"}, "deployable": {"id": 700, "name": "deploy", "status": "success"}}]`)
			case "2":
				fmt.Fprint(w, `[{"id": 42, "iid": 2, "ref": "main", "sha": "`+sha+`", "status": "running", "user": {"username": "root"}, "environment": {"id": 9, "name": "production"}, "deployable": {"id": 664, "name": "deploy", "status": "running"}}]`)
			default:
				fmt.Fprint(w, `[]`)
			}
		case p == "/api/v4/projects/7/deployments/99":
			fmt.Fprint(w, strings.Replace(deploymentJSON, `"id": 42`, `"id": 41`, 1))
		case strings.HasPrefix(p, "/api/v4/projects/7/deployments/"):
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"404 Not found"}`)
		case p == "/api/v4/projects/7/repository/commits/"+sha:
			fmt.Fprint(w, commitJSON)
		case p == "/api/v4/projects/7/repository/compare":
			q := r.URL.Query()
			if q.Get("from") != "v1.0.0" || q.Get("to") != sha {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"message":"404 Ref Not Found"}`)
				return
			}
			fmt.Fprint(w, compareJSON)
		case p == "/api/v4/projects/7/repository/tags":
			page := r.URL.Query().Get("page")
			if r.URL.Query().Get("per_page") != "100" {
				t.Errorf("tags: per_page = %q", r.URL.Query().Get("per_page"))
			}
			switch page {
			case "1":
				w.Header().Set("X-Next-Page", "2")
				fmt.Fprint(w, `[{"name":"v1.1.0","message":"","target":"`+sha+`","protected":true,"commit":{"id":"`+sha+`","short_id":"a91957a8","title":"x"},"release":null}]`)
			case "2":
				w.Header().Set("X-Next-Page", "")
				fmt.Fprint(w, `[{"name":"v1.0.0","message":"first","target":"ae1d9fb46aa2b07ee9836d49862ec4e2c46fbbba","protected":false,"commit":{"id":"ae1d9fb46aa2b07ee9836d49862ec4e2c46fbbba"}}]`)
			default:
				t.Errorf("tags: unexpected page %q", page)
			}
		case p == "/api/v4/projects/7/protected_environments/production":
			fmt.Fprint(w, protectedEnvJSON)
		case p == "/api/v4/job":
			if r.Header.Get("JOB-TOKEN") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
				return
			}
			fmt.Fprint(w, jobJSON)
		case p == "/api/v4/projects/7/jobs/664":
			fmt.Fprint(w, jobJSON)
		case p == "/api/v4/projects/7/jobs/665":
			fmt.Fprint(w, strings.Replace(jobJSON, `"id": 664`, `"id": 1`, 1))
		case p == "/api/v4/user":
			fmt.Fprint(w, `{"id":1,"username":"dave","name":"Dave D","state":"active","public_email":"dave@example.com"}`)
		case p == "/api/v4/projects/7/repository/commits/htmlpage":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>sign in</html>")
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"404 Project Not Found"}`)
		}
	})
}

func setup(t *testing.T, token string, opts ...Option) (*Client, *fakeGitLab) {
	t.Helper()
	f := &fakeGitLab{}
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, token, append([]Option{WithHTTPClient(srv.Client())}, opts...)...)
	require.NoError(t, err)
	return c, f
}

func TestNew(t *testing.T) {
	for _, base := range []string{"https://gitlab.example.com", "https://gitlab.example.com/", "https://gitlab.example.com/api/v4", "https://gitlab.example.com/api/v4/"} {
		c, err := New(base, "t")
		require.NoError(t, err, base)
		assert.Equal(t, "https://gitlab.example.com/api/v4", c.api.String(), base)
	}
	c, err := New("https://example.com/gitlab", "t")
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/gitlab/api/v4", c.api.String(), "relative URL root")

	for _, bad := range []string{"", "gitlab.com", "ftp://gitlab.com", "https://user:pw@gitlab.com", "https://gitlab.com?private_token=x"} {
		_, err := New(bad, "t")
		assert.Error(t, err, bad)
	}
	_, err = New("https://gitlab.com", "")
	assert.ErrorContains(t, err, "no token")
	_, err = New("https://gitlab.com", "tok\nX-Evil: 1")
	assert.ErrorContains(t, err, "line break")
}

func TestDeployment(t *testing.T) {
	c, f := setup(t, testToken)
	d, err := c.Deployment(context.Background(), "group/sub/project", 42)
	require.NoError(t, err)
	assert.Equal(t, int64(42), d.ID)
	assert.Equal(t, sha, d.SHA)
	assert.Equal(t, "blocked", d.Status)
	assert.Equal(t, "production", d.Environment.Name)
	assert.Equal(t, "root", d.User.Username)
	require.Len(t, d.Approvals, 2)
	assert.Equal(t, "alice", d.Approvals[0].User.Username)
	assert.Equal(t, "approved", d.Approvals[0].Status)
	assert.Equal(t, "bob", d.Approvals[1].User.Username)
	assert.Equal(t, "rejected", d.Approvals[1].Status)
	assert.Equal(t, 1, d.PendingApprovalCount)
	require.NotNil(t, d.Deployable)
	require.NotNil(t, d.Deployable.Commit)
	assert.Equal(t, "Administrator", d.Deployable.Commit.AuthorName)
	assert.Equal(t, "admin@example.com", d.Deployable.Commit.AuthorEmail)
	require.NotNil(t, d.ApprovalSummary)
	assert.Equal(t, 2, d.ApprovalSummary.Rules[0].RequiredApprovals)

	require.Len(t, f.requests, 1)
	assert.Equal(t, "GET /api/v4/projects/group%2Fsub%2Fproject/deployments/42?", f.requests[0])
	assert.Equal(t, testToken, f.headers[0].Get("PRIVATE-TOKEN"))
	assert.Empty(t, f.headers[0].Get("JOB-TOKEN"))

	_, err = c.Deployment(context.Background(), "7", 0)
	assert.ErrorContains(t, err, "--deployment-id")
	_, err = c.Deployment(context.Background(), "", 42)
	assert.ErrorContains(t, err, "project")
	_, err = c.Deployment(context.Background(), "7", 99)
	assert.ErrorContains(t, err, "answered with deployment 41")
}

func TestJobToken(t *testing.T) {
	c, f := setup(t, testToken, WithJobToken())
	_, err := c.Deployment(context.Background(), "7", 42)
	require.NoError(t, err)
	assert.Equal(t, testToken, f.headers[0].Get("JOB-TOKEN"))
	assert.Empty(t, f.headers[0].Get("PRIVATE-TOKEN"))
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("401", func(t *testing.T) {
		c, _ := setup(t, "wrong-token-SECRET")
		_, err := c.Deployment(ctx, "7", 42)
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrUnauthorized))
		assert.False(t, errors.Is(err, ErrNotFound))
		assert.Contains(t, err.Error(), "401")
		assert.Contains(t, err.Error(), "valid GitLab access token")
		assert.NotContains(t, err.Error(), "wrong-token-SECRET")
		assert.Contains(t, err.Error(), "[redacted]")
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 401, apiErr.StatusCode)
	})
	t.Run("403", func(t *testing.T) {
		c, _ := setup(t, "forbidden-token")
		_, err := c.Commit(ctx, "7", domain.Commit(sha))
		assert.True(t, errors.Is(err, ErrForbidden))
		assert.Contains(t, err.Error(), "Reporter")
	})
	t.Run("404 deployment", func(t *testing.T) {
		c, _ := setup(t, testToken)
		_, err := c.Deployment(ctx, "7", 5)
		assert.True(t, errors.Is(err, ErrNotFound))
		assert.Contains(t, err.Error(), "deployment 5 does not exist")
		assert.Contains(t, err.Error(), "--deployment-id")
	})
	t.Run("404 compare", func(t *testing.T) {
		c, _ := setup(t, testToken)
		_, err := c.Compare(ctx, "7", "v0.0.1", sha)
		assert.True(t, errors.Is(err, ErrNotFound))
		assert.Contains(t, err.Error(), "v0.0.1")
	})
	t.Run("not json", func(t *testing.T) {
		c, _ := setup(t, testToken)
		_, err := c.Commit(ctx, "7", "htmlpage")
		assert.ErrorContains(t, err, "not the expected JSON")
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c, err := New(url, testToken)
		require.NoError(t, err)
		_, err = c.Deployment(ctx, "7", 42)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testToken)
		assert.Contains(t, err.Error(), "network")
	})
}

func TestCommit(t *testing.T) {
	c, f := setup(t, testToken)
	cm, err := c.Commit(context.Background(), "7", sha)
	require.NoError(t, err)
	assert.Equal(t, "Carol C", cm.AuthorName)
	assert.Equal(t, "carol@example.com", cm.AuthorEmail)
	assert.Equal(t, "feat(api): add predictions endpoint", cm.Title)
	assert.Equal(t, "GET /api/v4/projects/7/repository/commits/"+sha+"?", f.requests[0])
}

func TestCompare(t *testing.T) {
	c, f := setup(t, testToken)
	commits, err := c.Compare(context.Background(), "7", "v1.0.0", sha)
	require.NoError(t, err)
	require.Len(t, commits, 2)
	assert.Equal(t, "fix: JS fix", commits[0].Title)
	assert.Equal(t, "Other User", commits[1].AuthorName)
	assert.Contains(t, f.requests[0], "from=v1.0.0")
	assert.Contains(t, f.requests[0], "to="+sha)
	_, err = c.Compare(context.Background(), "7", "", sha)
	assert.Error(t, err)
}

func TestTagsPagination(t *testing.T) {
	c, f := setup(t, testToken)
	tags, err := c.Tags(context.Background(), "7")
	require.NoError(t, err)
	require.Len(t, tags, 2)
	assert.Equal(t, "v1.1.0", tags[0].Name)
	assert.Equal(t, "v1.0.0", tags[1].Name)
	assert.Len(t, f.requests, 2)
}

func TestCurrentUser(t *testing.T) {
	c, _ := setup(t, testToken)
	u, err := c.CurrentUser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "dave", u.Username)
	assert.Equal(t, "dave@example.com", u.PublicEmail)
}

func TestAPIErrorMessageShapes(t *testing.T) {
	assert.Equal(t, "403 Forbidden", bodyMessage([]byte(`{"message":"403 Forbidden"}`)))
	assert.Equal(t, `{"name":["is invalid"]}`, bodyMessage([]byte(`{"message":{"name":["is invalid"]}}`)))
	assert.Equal(t, "insufficient_scope", bodyMessage([]byte(`{"error":"insufficient_scope"}`)))
	assert.Equal(t, "", bodyMessage([]byte(`<html>`)))
	long := strings.Repeat("x", 1000)
	b, _ := json.Marshal(map[string]string{"message": long})
	assert.Less(t, len(truncate(bodyMessage(b))), 400)
}

func FuzzAPIError(f *testing.F) {
	f.Add(401, `{"message":"401 Unauthorized"}`)
	f.Add(404, `{"message":{"base":["x"]}}`)
	f.Add(403, `{"error":"insufficient_scope","message":null}`)
	f.Add(500, "\xff\xfe")
	f.Add(401, `{"message":"`+strings.Repeat("é", 149)+`glpat-TESTTOKEN-0123456789"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		c := &Client{token: testToken}
		err := c.apiError("GET", "/projects/7", status, []byte(body), "")
		if err == nil || err.Error() == "" {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), testToken) {
			t.Fatalf("token leaked: %v", err)
		}
	})
}

func TestJobDeployment(t *testing.T) {
	c, f := setup(t, testToken)
	d, err := c.JobDeployment(context.Background(), "7", "production", 664)
	require.NoError(t, err)
	assert.Equal(t, int64(42), d.ID)
	require.Len(t, d.Approvals, 2, "approvals come from the single-deployment endpoint")
	require.Len(t, f.requests, 3)
	assert.Contains(t, f.requests[0], "environment=production")
	assert.Contains(t, f.requests[2], "/deployments/42")

	_, err = c.JobDeployment(context.Background(), "7", "production", 12345)
	assert.ErrorContains(t, err, "no deployment of environment \"production\" was created by job 12345")
	_, err = c.JobDeployment(context.Background(), "7", "production", 0)
	assert.ErrorContains(t, err, "CI_JOB_ID")
}

func TestJobs(t *testing.T) {
	ctx := context.Background()
	jc, f := setup(t, testToken, WithJobToken())
	j, err := jc.TokenJob(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(664), j.ID)
	assert.Equal(t, "running", j.Status)
	assert.Equal(t, "dave", j.User.Username)
	assert.Equal(t, int64(6), j.Pipeline.ID)
	assert.Equal(t, sha, j.Pipeline.SHA)
	assert.Equal(t, sha, j.Commit.ID)
	assert.Equal(t, testToken, f.headers[0].Get("JOB-TOKEN"))
	assert.Empty(t, f.headers[0].Get("PRIVATE-TOKEN"))

	pc, _ := setup(t, testToken)
	_, err = pc.TokenJob(ctx)
	assert.ErrorContains(t, err, "--job-token=env:CI_JOB_TOKEN", "a private token cannot ask whose job it is")
	j, err = pc.ProjectJob(ctx, "7", 664)
	require.NoError(t, err)
	assert.Equal(t, "dave", j.User.Username)
	_, err = pc.ProjectJob(ctx, "7", 665)
	assert.ErrorContains(t, err, "answered with job 1")
	_, err = pc.ProjectJob(ctx, "7", 0)
	assert.ErrorContains(t, err, "CI_JOB_ID")
	_, err = pc.ProjectJob(ctx, "7", 12)
	assert.ErrorIs(t, err, ErrNotFound)

	bad, _ := setup(t, "expired-job-token", WithJobToken())
	_, err = bad.TokenJob(ctx)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.NotContains(t, err.Error(), "expired-job-token")
}
