package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// commitMergeRequestsJSON follows GET /projects/:id/repository/commits/:sha/merge_requests
// (Commits API: "List merge requests associated with a commit"), author as the MergeRequest
// entity exposes it (UserBasic plus bot).
const commitMergeRequestsJSON = `[{"id": 45, "iid": 1, "project_id": 7, "title": "Add the model v2", "state": "merged",
  "author": {"id": 12, "username": "mallory", "name": "Mallory M", "state": "active", "locked": false,
             "avatar_url": "x", "web_url": "https://gitlab.example.com/mallory", "bot": false},
  "web_url": "https://gitlab.example.com/g/p/-/merge_requests/1"}]`

// usersJSON follows GET /users?search=<email>: GitLab matches an email query exactly.
const usersJSON = `[{"id": 12, "username": "mallory", "name": "Mallory M", "state": "active", "locked": false,
  "avatar_url": "x", "web_url": "https://gitlab.example.com/mallory"}]`

func TestTheCommitsAuthorIsLinkedToGitLabUsers(t *testing.T) {
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		if r.Header.Get("PRIVATE-TOKEN") != testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/api/v4/projects/7/repository/commits/"+sha+"/merge_requests":
			fmt.Fprint(w, commitMergeRequestsJSON)
		case r.URL.Path == "/api/v4/users" && r.URL.Query().Get("search") == "m@example.org":
			fmt.Fprint(w, usersJSON)
		case r.URL.Path == "/api/v4/users":
			fmt.Fprint(w, `[]`)
		case r.URL.EscapedPath() == "/api/v4/projects/7" || r.URL.EscapedPath() == "/api/v4/projects/g%2Fp":
			fmt.Fprint(w, `{"id": 7, "name": "p", "path": "p", "path_with_namespace": "g/p", "web_url": "https://gitlab.example.com/g/p"}`)
		case r.URL.Path == "/api/v4/users/77": // the User entity: GET /users/:id says whether it is a bot
			fmt.Fprint(w, `{"id": 77, "username": "project_7_bot_3f2a", "name": "deploy-bot", "state": "active", "bot": true}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"404 Not found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken)
	require.NoError(t, err)

	mrs, err := c.CommitMergeRequests(context.Background(), "7", sha)
	require.NoError(t, err)
	require.Len(t, mrs, 1)
	assert.Equal(t, "mallory", mrs[0].Author.Username)
	assert.Equal(t, int64(1), mrs[0].IID)

	users, err := c.UsersByEmail(context.Background(), "m@example.org")
	require.NoError(t, err)
	require.Len(t, users, 1)
	assert.Equal(t, "mallory", users[0].Username)
	none, err := c.UsersByEmail(context.Background(), "private@example.org")
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Contains(t, asked, "/api/v4/users?per_page=100&search="+url.QueryEscape("m@example.org"))

	for _, id := range []string{"7", "g/p"} {
		p, err := c.Project(context.Background(), id)
		require.NoError(t, err)
		assert.Equal(t, "g/p", p.PathWithNamespace, id)
	}
	_, err = c.Project(context.Background(), "8")
	assert.ErrorContains(t, err, "project 8 does not exist")

	bot, err := c.User(context.Background(), 77)
	require.NoError(t, err)
	assert.True(t, bot.Bot)
	_, err = c.User(context.Background(), 78)
	assert.ErrorContains(t, err, "user 78 does not exist")

	_, err = c.UsersByEmail(context.Background(), "not an email")
	assert.ErrorContains(t, err, `"not an email" is not an email address`)
	_, err = c.CommitMergeRequests(context.Background(), "7", "")
	assert.ErrorContains(t, err, "no commit")
}
