//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// laptopGitLab serves what a deploy from a checkout asks GitLab: the commit's author, the
// environment's deployments (one of them for deployedSHA, approved by approvers), that
// deployment, and the token's owner.
func laptopGitLab(t *testing.T, env, deployedSHA string, approvers ...string) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	made := &apiDeployments{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		if r.Header.Get("PRIVATE-TOKEN") != gitlabTokenPln {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if made.serve(w, r) || serveUser(w, r) || serveProject(w, r) {
			return
		}
		var approvals []map[string]any
		for _, a := range approvers {
			approvals = append(approvals, approval(a))
		}
		d := map[string]any{"id": 9001, "iid": 12, "ref": "main", "sha": deployedSHA, "status": "blocked",
			"user": map[string]any{"username": "dave", "name": "Dave Deployer"}, "environment": map[string]any{"id": 3, "name": env},
			"deployable": map[string]any{"id": 777, "name": "deploy-" + env, "status": "manual",
				"pipeline": map[string]any{"id": 555, "sha": deployedSHA, "ref": "main", "status": "blocked"}}, "approvals": approvals}
		switch r.URL.Path {
		case "/api/v4/projects/42/repository/commits/" + commitSHA + "/merge_requests":
			_ = json.NewEncoder(w).Encode([]map[string]any{{"id": 31, "iid": 3, "title": "feat: model v2", "state": "merged",
				"author": map[string]any{"id": 4, "username": "alice", "name": "Alice Author", "state": "active", "bot": false}}})
		case "/api/v4/users":
			_, _ = w.Write([]byte(`[]`)) // the author keeps her email private
		case "/api/v4/projects/42/repository/commits/" + commitSHA:
			_ = json.NewEncoder(w).Encode(map[string]any{"id": commitSHA, "author_name": "Alice Author", "author_email": "alice@example.com"})
		case "/api/v4/projects/42/deployments":
			assert.Equal(t, env, r.URL.Query().Get("environment"))
			_ = json.NewEncoder(w).Encode(append(made.list(env), map[string]any{"id": 9002, "sha": strings.Repeat("c", 40)}, d))
		case "/api/v4/projects/42/deployments/9001":
			_ = json.NewEncoder(w).Encode(d)
		case "/api/v4/user":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 5, "username": "erin", "name": "Erin Engineer"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), asked...) }
}

// checkoutHead answers the checkout's HEAD as Dagger's GitRef would.
func checkoutHead(sha, ref string) *dagger.GitRef {
	rec.Respond(daggertest.Always("commit", sha))
	rec.Respond(daggertest.Always("ref", ref))
	return dag.Git("/work/repo").Head()
}

// publishedFor answers `oci resolve` for images under prefix with the digests published
// under the branch tag.
func publishedFor(prefix, tag string) {
	out := map[string]string{}
	for i, svc := range []string{"api", "worker", "airflow"} {
		out[prefix+"/"+svc+":"+tag] = prefix + "/" + svc + "@" + digestOf(i+1)
	}
	b, _ := json.Marshal(out)
	rec.Respond(daggertest.OnExec([]string{"oci", "resolve", "--ref", prefix + "/"}, map[string]any{"stdout": string(b)}))
}

// The design card's `dagger call deploy --env=staging`: what the engine passes once .env holds
// the user defaults (kubeconfig, age key, GitLab token, project, registry login), and nothing
// else: no commit, no branch, no image, no deployment id, no report file (the gate report and
// scan are the ones publish attached to each image). The model version is given here; the
// literal line without it is TestReadmeExamplesRun's.
func TestDeployStagingLiterallyFromACheckout(t *testing.T) {
	gl, asked := laptopGitLab(t, "staging", commitSHA, "bob")
	m := fresh(t, func(a *newArgs) { a.registry = registry })
	asGitLabCom(t, gl)
	deployHappy(t)
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass)) // no attestation key, as shipped
	head := checkoutHead(commitSHA, "refs/heads/main")
	publishedFor(registry, "main-01234567")

	out, err := m.Deploy(context.Background(), "staging", "", "", "",
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "42", 0, 0, "", "", nil, nil,
		nil, nil, 0, "me", dag.SetSecret("registry", "registry-plaintext-pw"), head, nil, false)
	require.NoError(t, err, execsText())
	assert.Contains(t, out, "deployed soccer-predict to staging")
	verify := mustExec(t, "/usr/local/bin/oci", "verify", "--commit", commitSHA, "--image", "api="+registry+"/api@"+digestOf(1), "--password-file", "/run/secrets/registry-password")
	_, ok := verify.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
	assert.True(t, ok, "the evidence is read with the registry login of .env, as a mounted secret")

	resolve := mustExec(t, "/usr/local/bin/oci", "resolve", "--ref", registry+"/api:main-01234567", "--ref", registry+"/worker:main-01234567", "--ref", registry+"/airflow:main-01234567", "--password-file", "/run/secrets/registry-password")
	_, ok = resolve.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
	assert.True(t, ok, "the registry password is a mounted secret")
	up := mustExec(t, "helm", "upgrade", "--namespace", "soccerpredict-staging")
	for _, want := range []string{"images.api.digest=" + digestOf(1), "images.worker.digest=" + digestOf(2), "images.airflow.digest=" + digestOf(3), "trace.gitCommit=" + commitSHA} {
		assert.Contains(t, up.Line(), want)
	}
	assert.Contains(t, strings.Join(asked(), "\n"), "/api/v4/projects/42/deployments/9001", "the approvals are GitLab's, of this commit's deployment")
	for _, p := range []string{kubeconfigPlain, ageKeyPlain, gitlabTokenPln, "registry-plaintext-pw"} {
		assert.Empty(t, rec.Leaked(p))
	}

	// The deploy recorded its use of deployment 9001's approvals in GitLab: the same approvals,
	// still blocked there, do not deploy a second time.
	_, err = m.Deploy(context.Background(), "staging", "", "", "",
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", dag.SetSecret("gitlab", gitlabTokenPln), "42", 0, 0, "", "", nil, nil,
		nil, nil, 0, "me", dag.SetSecret("registry", "registry-plaintext-pw"), head, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deployment 9001's approvals were already used by the deploy mallory recorded as deployment 9501 (success): approvals are used once")
}

// `dagger call deploy --env=staging --dry-run` from a checkout shows what that deploy would install: HEAD's
// commit, with the images publish pushed for it, resolved to digests.
func TestDryRunStagingFromACheckout(t *testing.T) {
	gl, _ := laptopGitLab(t, "staging", commitSHA, "bob")
	m := fresh(t, func(a *newArgs) { a.registry = registry })
	asGitLabCom(t, gl)
	deployHappy(t)
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass)) // the signed evidence publish attached
	head := checkoutHead(commitSHA, "refs/heads/main")
	publishedFor(registry, "main-01234567")

	_, err := m.Deploy(context.Background(), "staging", "", "", "", dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain), "7",
		dag.SetSecret("gitlab", gitlabTokenPln), "42", 0, 0, "", "", nil, nil,
		nil, nil, 0, "me", dag.SetSecret("registry", "registry-plaintext-pw"), head, nil, true)
	require.NoError(t, err, execsText())
	mustExec(t, "/usr/local/bin/oci", "resolve", "--ref", registry+"/api:main-01234567")
	tmpl := mustExec(t, "helm", "template")
	for _, want := range []string{"images.api.digest=" + digestOf(1), "images.airflow.digest=" + digestOf(3), "trace.gitCommit=" + commitSHA} {
		assert.Contains(t, tmpl.Line(), want)
	}
	_, upgraded := rec.ExecWith("helm", "upgrade")
	assert.False(t, upgraded, "a dry run applies nothing")
}

func TestDeployFromACheckoutRefusesWhatItCannotProve(t *testing.T) {
	run := func(t *testing.T, gl *httptest.Server, headRef string, gateReport string, token *dagger.Secret) error {
		m := fresh(t, func(a *newArgs) { a.registry = registry })
		asGitLabCom(t, gl)
		deployHappy(t)
		if gateReport != "" {
			fakeVerify(t, gateReport) // the signed evidence publish attached
		}
		head := checkoutHead(commitSHA, headRef)
		publishedFor(registry, "main-01234567")
		_, err := m.Deploy(context.Background(), "staging", "", "", "",
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", token, "42", 0, 0, "", "", nil, nil,
			nil, nil, 0, "", nil, head, nil, false)
		return err
	}
	token := func() *dagger.Secret { return dag.SetSecret("gitlab", gitlabTokenPln) }

	t.Run("approvals of another commit", func(t *testing.T) {
		gl, _ := laptopGitLab(t, "staging", strings.Repeat("d", 40), "bob")
		err := run(t, gl, "refs/heads/main", fullGateReport(t, commitSHA, gate.Pass), token())
		assert.ErrorContains(t, err, "has no deployment to \"staging\"")
		_, ran := rec.ExecWith("helm", "upgrade")
		assert.False(t, ran)
	})
	t.Run("no approval", func(t *testing.T) {
		gl, _ := laptopGitLab(t, "staging", commitSHA)
		err := run(t, gl, "refs/heads/main", fullGateReport(t, commitSHA, gate.Pass), token())
		assert.ErrorContains(t, err, "refused by the promotion policy")
		_, ran := rec.ExecWith("helm", "upgrade")
		assert.False(t, ran)
	})
	t.Run("no token: the refusal says how to provide it", func(t *testing.T) {
		gl, _ := laptopGitLab(t, "staging", commitSHA, "bob")
		err := run(t, gl, "refs/heads/main", fullGateReport(t, commitSHA, gate.Pass), nil)
		require.Error(t, err)
		for _, want := range []string{"refused by the promotion policy", "DEPLOY_GITLABTOKEN=env://GITLAB_TOKEN"} {
			assert.Contains(t, err.Error(), want)
		}
		assert.NotContains(t, err.Error(), "DEPLOY_PROJECTID", "the project id was given")
	})
	t.Run("detached HEAD: the branch tag is unknown", func(t *testing.T) {
		gl, _ := laptopGitLab(t, "staging", commitSHA, "bob")
		err := run(t, gl, commitSHA, fullGateReport(t, commitSHA, gate.Pass), token())
		assert.ErrorContains(t, err, "pass --ref=")
		_, looked := rec.ExecWith("oci", "resolve")
		assert.False(t, looked)
	})
}

// A refusal's hints never suggest what the environment would refuse: production (and staging
// once the attestation key is committed) reads the gate report from the registry, so a report
// file, or DEPLOY_GATEREPORT, is never proposed there.
func TestDeployRefusalHintsNameOnlyInputsThatCount(t *testing.T) {
	for _, env := range []string{"production", "staging"} {
		t.Run(env, func(t *testing.T) {
			gl, _ := laptopGitLab(t, env, commitSHA, "bob", "carol")
			m := fresh(t, func(a *newArgs) { a.registry = registry })
			asGitLabCom(t, gl)
			deployHappy(t)
			registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass)) // the key is committed
			head := checkoutHead(commitSHA, "refs/heads/main")
			publishedFor(registry, "main-01234567")
			_, err := m.Deploy(context.Background(), env, "", "", "",
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "42", 0, 0, "", "", nil, nil,
				nil, nil, 0, "", nil, head, nil, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refused by the promotion policy")
			assert.Contains(t, err.Error(), "DEPLOY_GITLABTOKEN=env://GITLAB_TOKEN", "the missing token is named with its .env line")
			assert.NotContains(t, err.Error(), "--gate-report", "a report file would be refused in "+env)
			assert.NotContains(t, err.Error(), "DEPLOY_GATEREPORT")
			_, ran := rec.ExecWith("helm", "upgrade")
			assert.False(t, ran)
		})
	}
}

func TestDeployWithoutClusterOrKeyNamesTheUserDefaults(t *testing.T) {
	m := fresh(t)
	_, err := m.Deploy(context.Background(), "staging", "", "", "", nil, nil, "", nil, "", 0, 0, "", "", nil, nil,
		nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	for _, want := range []string{"missing 2 input(s); nothing was changed", "--kubeconfig=file:$HOME/.kube/config", "DEPLOY_KUBECONFIG=file://${HOME}/.kube/config", "--age-key=env:SOPS_AGE_KEY", "DEPLOY_AGEKEY=env://SOPS_AGE_KEY"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, rec.Execs(), "nothing runs")
}

// The images published on a registry without TLS are looked up only with the explicit opt-in,
// and production refuses it before anything is read (issue 13).
func TestDeployFromACheckoutLooksUpAPlainHTTPRegistryOnlyWhenOptedIn(t *testing.T) {
	const prefix = "reg.local:5000/sp"
	deploy := func(env string, insecure []string) error {
		m := fresh(t, func(a *newArgs) { a.registry = prefix })
		deployHappy(t)
		head := checkoutHead(commitSHA, "refs/heads/main")
		publishedFor(prefix, "main-01234567")
		_, err := m.Deploy(context.Background(), env, "", "", "",
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", nil, "42", 0, 0, "", "", nil, nil,
			nil, nil, 0, "", nil, head, insecure, false)
		return err
	}
	_ = deploy("staging", []string{"REG.local:5000"})
	e := mustExec(t, "/usr/local/bin/oci", "resolve")
	assert.Contains(t, e.Line(), "--insecure-registry reg.local:5000")

	_ = deploy("staging", nil)
	e = mustExec(t, "/usr/local/bin/oci", "resolve")
	assert.NotContains(t, e.Line(), "--insecure-registry")

	err := deploy("production", []string{"reg.local:5000"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "production")
	_, looked := rec.ExecWith("/usr/local/bin/oci", "resolve")
	assert.False(t, looked, "production refuses the opt-in before reading the registry")
}
