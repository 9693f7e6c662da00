package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deploymentsAPI answers the Deployments API as GitLab does for deployments created through it:
// POST creates one (deployable null), PUT changes the status of one it created and refuses a CI
// job's ("Deployments created using GitLab CI can't be updated using the API").
type deploymentsAPI struct {
	list []map[string]any // newest first
}

func (d *deploymentsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("PRIVATE-TOKEN") != testToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v4/projects/7/deployments":
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["environment"] == nil || in["sha"] == nil || in["ref"] == nil || in["tag"] == nil || in["status"] == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"environment is missing"}`)
			return
		}
		dep := map[string]any{"id": 50 + len(d.list), "iid": 9, "ref": in["ref"], "sha": in["sha"], "status": in["status"],
			"user": map[string]any{"username": "erin"}, "environment": map[string]any{"name": in["environment"]}, "deployable": nil}
		d.list = append([]map[string]any{dep}, d.list...)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(dep)
	case r.Method == http.MethodPut:
		for _, dep := range d.list {
			if r.URL.Path == fmt.Sprintf("/api/v4/projects/7/deployments/%v", dep["id"]) {
				if dep["deployable"] != nil {
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprint(w, `{"message":"Deployments created using GitLab CI can't be updated using the API"}`)
					return
				}
				var in map[string]string
				_ = json.NewDecoder(r.Body).Decode(&in)
				dep["status"] = in["status"]
				_ = json.NewEncoder(w).Encode(dep)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v4/projects/7/deployments":
		_ = json.NewEncoder(w).Encode(d.list)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
	}
}

func TestRecordingADeploymentMadeOutsideCI(t *testing.T) {
	api := &deploymentsAPI{list: []map[string]any{{"id": 42, "sha": sha, "status": "blocked", "environment": map[string]any{"name": "production"},
		"deployable": map[string]any{"id": 664, "name": "deploy-production"}}}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken)
	require.NoError(t, err)

	d, err := c.CreateDeployment(context.Background(), "7", NewDeployment{Environment: "production", SHA: sha, Ref: "main", Status: DeploymentRunning})
	require.NoError(t, err)
	assert.Equal(t, int64(50+1), d.ID)
	assert.Nil(t, d.Deployable, "a deployment recorded through the API has no job")
	d, err = c.SetDeploymentStatus(context.Background(), "7", d.ID, DeploymentSuccess)
	require.NoError(t, err)
	assert.Equal(t, DeploymentSuccess, d.Status)

	_, err = c.SetDeploymentStatus(context.Background(), "7", 42, DeploymentSuccess)
	assert.ErrorContains(t, err, "Deployments created using GitLab CI can't be updated using the API")
	_, err = c.CreateDeployment(context.Background(), "7", NewDeployment{Environment: "production", SHA: sha})
	assert.ErrorContains(t, err, "needs its environment, commit, ref and status")

	later, err := c.DeploymentsAfter(context.Background(), "7", "production", 42)
	require.NoError(t, err)
	require.Len(t, later, 1)
	assert.Equal(t, int64(51), later[0].ID)
	none, err := c.DeploymentsAfter(context.Background(), "7", "production", 51)
	require.NoError(t, err)
	assert.Empty(t, none)
}
