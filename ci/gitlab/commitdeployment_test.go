package gitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestCommitDeploymentPicksTheNewestDeploymentOfThatCommitAndEnvironment(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	other := "ffffffffffffffffffffffffffffffffffffffff"
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		switch r.URL.Path {
		case "/api/v4/projects/7/deployments":
			assert.Equal(t, "staging", r.URL.Query().Get("environment"))
			assert.Equal(t, "desc", r.URL.Query().Get("sort"))
			_ = json.NewEncoder(w).Encode([]map[string]any{
				{"id": 31, "sha": sha, "status": "success", "deployable": nil}, // a laptop's recorded use, made through the API
				{"id": 30, "sha": other, "status": "blocked", "deployable": map[string]any{"id": 8}},
				{"id": 29, "sha": sha, "status": "blocked", "deployable": map[string]any{"id": 7}},
				{"id": 20, "sha": sha, "status": "success", "deployable": map[string]any{"id": 6}},
			})
		case "/api/v4/projects/7/deployments/29":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 29, "sha": sha, "status": "blocked", "environment": map[string]any{"name": "staging"},
				"approvals": []map[string]any{{"user": map[string]any{"username": "bob"}, "status": "approved"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/api/v4", "glpat-x")
	require.NoError(t, err)

	d, err := c.CommitDeployment(context.Background(), "7", domain.Staging, domain.Commit(sha))
	require.NoError(t, err)
	assert.Equal(t, int64(29), d.ID, "the newest deployment a CI job created for this commit, never another commit's nor one made through the API")
	require.Len(t, d.Approvals, 1, "approvals come from the single-deployment endpoint")

	_, err = c.CommitDeployment(context.Background(), "7", "staging", "1111111111111111111111111111111111111111")
	assert.ErrorContains(t, err, "has no deployment to \"staging\"")
	assert.ErrorContains(t, err, "--deployment-id")
	_, err = c.CommitDeployment(context.Background(), "7", "staging", "")
	assert.ErrorContains(t, err, "--commit")
	_, err = c.CommitDeployment(context.Background(), "", domain.Staging, domain.Commit(sha))
	assert.Error(t, err)
}
