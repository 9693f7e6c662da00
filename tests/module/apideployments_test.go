//go:build daggerharness

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
)

// apiDeployments answers what GitLab's Deployments API answers for deployments made outside CI
// (POST /projects/:id/deployments, PUT /projects/:id/deployments/:id): the use of approvals a
// laptop run records. They are listed, newest first, before the fake's own deployments.
type apiDeployments struct {
	mu   sync.Mutex
	made []map[string]any // newest first
	next int
}

// serve answers r when it is such a call; false otherwise.
func (a *apiDeployments) serve(w http.ResponseWriter, r *http.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/deployments"):
		var in struct {
			Environment, SHA, Ref, Status string
			Tag                           *bool
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Environment == "" || in.SHA == "" || in.Ref == "" || in.Tag == nil || in.Status == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"environment, sha, ref, tag, status are missing"}`))
			return true
		}
		if a.next == 0 {
			a.next = 9500
		}
		a.next++
		d := map[string]any{"id": a.next, "iid": a.next - 9000, "ref": in.Ref, "sha": in.SHA, "status": in.Status,
			"user": map[string]any{"username": "mallory", "name": "Mallory"}, "environment": map[string]any{"name": in.Environment}, "deployable": nil}
		a.made = append([]map[string]any{d}, a.made...)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(d)
		return true
	case r.Method == http.MethodGet:
		for _, d := range a.made {
			if strings.HasSuffix(r.URL.Path, fmt.Sprintf("/deployments/%d", d["id"])) {
				_ = json.NewEncoder(w).Encode(d)
				return true
			}
		}
		return false
	case r.Method == http.MethodPut:
		for _, d := range a.made {
			if strings.HasSuffix(r.URL.Path, fmt.Sprintf("/deployments/%d", d["id"])) {
				var in map[string]string
				_ = json.NewDecoder(r.Body).Decode(&in)
				d["status"] = in["status"]
				_ = json.NewEncoder(w).Encode(d)
				return true
			}
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"message":"Deployments created using GitLab CI can't be updated using the API"}`))
		return true
	}
	return false
}

// list is the recorded deployments of env, newest first.
func (a *apiDeployments) list(env string) []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []map[string]any
	for _, d := range a.made {
		if d["environment"].(map[string]any)["name"] == env {
			out = append(out, d)
		}
	}
	return out
}

// statuses are the recorded deployments' statuses, newest first.
func (a *apiDeployments) statuses() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, d := range a.made {
		out = append(out, d["status"].(string))
	}
	return out
}

// approverIDs are the GitLab user ids of the people who approve in the fakes.
var approverIDs = map[string]int{"alice": 101, "bob": 102, "carol": 103, "erin": 104, "aauthor": 105, "dave": 106}

// approval is name's approval as a deployment lists it (the user as GitLab's UserBasic: no bot).
func approval(name string) map[string]any {
	return map[string]any{"user": map[string]any{"id": approverIDs[name], "username": name, "name": name, "state": "active"}, "status": "approved"}
}

// serveUser answers GET /users/:id for the approvers (GitLab's User entity, which says bot).
func serveUser(w http.ResponseWriter, r *http.Request) bool {
	for name, id := range approverIDs {
		if r.Method == http.MethodGet && r.URL.Path == fmt.Sprintf("/api/v4/users/%d", id) {
			_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "username": name, "name": name, "state": "active", "bot": false})
			return true
		}
	}
	return false
}

// serveProject answers GET /projects/:id for the fake's one project: the project the policy
// trusts (policy.TrustedProject), as GitLab names it.
func serveProject(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v4/projects/")
	if r.Method != http.MethodGet || !ok || rest == "" || strings.Contains(rest, "/") {
		return false
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"id": 42, "name": "soccerpredict", "path_with_namespace": policy.TrustedProject,
		"web_url": "https://gitlab.com/" + policy.TrustedProject})
	return true
}
