//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
	"gitlab.com/soccerpredictai/pipeline/tests/gitlabci"
)

// readmeCommands returns every `dagger call` example of README.md: inline code and the lines
// of shell blocks (continuations joined).
func readmeCommands(t *testing.T) (cmds []string, dotenv map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := string(raw)
	dotenv = map[string]string{}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1)
	for _, b := range blocks {
		body := strings.ReplaceAll(b[1], "\\\n", " ")
		isEnv := strings.HasPrefix(body, "# .env")
		for _, line := range strings.Split(body, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case isEnv && line != "" && !strings.HasPrefix(line, "#"):
				k, v, ok := strings.Cut(line, "=")
				require.True(t, ok, "README .env line %q", line)
				dotenv[k] = v
			case regexp.MustCompile(`^dagger (-m \S+ )?call `).MatchString(line):
				cmds = append(cmds, strings.Join(strings.Fields(line), " "))
			}
		}
		text = strings.Replace(text, b[0], "", 1)
	}
	for _, m := range regexp.MustCompile("`(dagger (?:-m \\S+ )?call [^`]*)`").FindAllStringSubmatch(text, -1) {
		cmds = append(cmds, m[1])
	}
	require.NotEmpty(t, dotenv, "README documents the .env user defaults")
	return cmds, dotenv
}

// placeholders are the README's elisions and shell substitutions, and what a reader types.
var placeholders = []struct{ from, to string }{
	{"$(git rev-parse HEAD)", commitSHA},
	{"$(git show -s --format=%cI HEAD)", "2025-03-01T09:00:00+01:00"},
	{"--commit-time=…", "--commit-time=2025-03-01T09:00:00+01:00"},
	{"$(git branch --show-current)", "main"},
	{"$(grep API_IMAGE images/images.env | cut -d= -f2)", registry + "/api@" + digestOf(1)},
	{"--commit=…", "--commit=" + commitSHA},
	{"--kubeconfig=…", "--kubeconfig=file:$HOME/.kube/config"},
	{"--api-image=…", "--api-image=" + registry + "/api@" + digestOf(1)},
	{"--worker-image=…", "--worker-image=" + registry + "/worker@" + digestOf(2)},
	{"--airflow-image=…", "--airflow-image=" + registry + "/airflow@" + digestOf(3)},
	{`--reason="…"`, "--reason=reviewed-in-merge-request-12"},
}

// parseExample turns a README command into a DaggerCall: placeholders filled, quotes removed,
// `-m module` dropped, a flag without a value is a boolean set to true.
func parseExample(cmd string) (gitlabci.DaggerCall, error) {
	line := cmd
	for _, p := range placeholders {
		line = strings.ReplaceAll(line, p.from, p.to)
	}
	line = regexp.MustCompile(`"([^"]*)"`).ReplaceAllStringFunc(line, func(q string) string {
		return strings.ReplaceAll(strings.Trim(q, `"`), " ", "_")
	})
	if strings.Contains(line, "…") {
		return gitlabci.DaggerCall{}, fmt.Errorf("README example %q elides something the reader cannot guess: write it out", cmd)
	}
	f := strings.Fields(line)
	if len(f) > 3 && f[1] == "-m" {
		f = append(f[:1], f[3:]...)
	}
	d := gitlabci.DaggerCall{Line: line}
	for _, tok := range f[2:] {
		if strings.HasPrefix(tok, "--") {
			name, value, ok := strings.Cut(strings.TrimPrefix(tok, "--"), "=")
			if !ok {
				value = "true"
			}
			a := gitlabci.Arg{Name: name, Value: value}
			if len(d.Chain) == 0 {
				d.Ctor = append(d.Ctor, a)
			} else {
				d.Chain[len(d.Chain)-1].Args = append(d.Chain[len(d.Chain)-1].Args, a)
			}
			continue
		}
		d.Chain = append(d.Chain, gitlabci.Call{Name: tok})
	}
	if len(d.Chain) == 0 {
		return d, fmt.Errorf("README example %q calls no function", cmd)
	}
	return d, nil
}

// laptop is the shell a README reader runs the examples in.
func laptop() map[string]string {
	return map[string]string{
		"HOME": "/home/dev", "USER": "dev", "REGISTRY_USER": "dev",
		"API_IMAGE": registry + "/api@" + digestOf(1), "WORKER_IMAGE": registry + "/worker@" + digestOf(2), "AIRFLOW_IMAGE": registry + "/airflow@" + digestOf(3),
		"REGISTRY_PASSWORD": "registry-pw-plaintext", "SOPS_AGE_KEY": ageKeyPlain, "GITLAB_TOKEN": gitlabTokenPln,
		"MLFLOW_TOKEN": "mlflow-token-plaintext", "MLFLOW_TRACKING_TOKEN": "mlflow-token-plaintext",
		"SP_SIGNING_KEY": signingKeyPlain, "SIGSTORE_ID_TOKEN": idTokenPlain,
	}
}

// The README's world: what its reader has when they run the examples. GitLab project
// readmeProject, whose default-branch pipeline of commitSHA (by Alice Author) published the
// images under readmePrefix (the default CI_REGISTRY_IMAGE) and created the deployments listed in
// readmeDeployments, approved by bob and carol; the reader is erin, who owns GITLAB_TOKEN; the
// staging and production releases run the published images; MLflow's champion is version 12.
const (
	readmeProject   = "12345678"
	readmePrefix    = "registry.gitlab.com/soccerpredictai/soccerpredict"
	readmeBranchTag = "main-01234567"
	readmeOlderTag  = "v1.1.0"
)

// readmeDeployment is a GitLab deployment the pipeline of commitSHA created for a job.
type readmeDeployment struct {
	id        int
	env, job  string
	jobID     int
	approvers []string
}

var readmeDeployments = []readmeDeployment{
	{1234, "staging", "deploy-staging", 777, []string{"bob"}},
	{1235, "production", "deploy-production", 778, []string{"bob", "carol"}},
	{1230, "production", "rollback-model-production", 790, []string{"bob", "carol"}},
}

// readmeHistory is `helm history -o json` of the release in staging and production: revision 42
// is the bad rollout the README's rollback-service example leaves.
const readmeHistory = `[
 {"revision":40,"updated":"2025-02-20T10:00:00Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"1.1.0","description":"Upgrade complete"},
 {"revision":41,"updated":"2025-02-27T10:00:00Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"1.1.0","description":"Upgrade complete"},
 {"revision":42,"updated":"2025-03-01T10:00:00Z","status":"deployed","chart":"soccer-predict-0.1.1","app_version":"1.2.0","description":"Upgrade complete"}]`

// readmeGitLab serves gitlab.com's API for the README's project, to GITLAB_TOKEN only.
func readmeGitLab(t *testing.T, o *outsideWorld) {
	t.Helper()
	deployment := func(d readmeDeployment) map[string]any {
		var approvals []map[string]any
		for _, a := range d.approvers {
			approvals = append(approvals, approval(a))
		}
		return map[string]any{"id": d.id, "iid": d.id - 1200, "ref": "main", "sha": commitSHA, "status": "blocked",
			"user": map[string]any{"username": "alice", "name": "Alice Author"}, "environment": map[string]any{"name": d.env},
			"deployable": map[string]any{"id": d.jobID, "name": d.job, "status": "manual",
				"pipeline": map[string]any{"id": 555, "sha": commitSHA, "ref": "main", "status": "blocked"}},
			"approvals": approvals}
	}
	project := "/api/v4/projects/" + readmeProject
	made := &apiDeployments{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.gitlab = append(o.gitlab, r.Method+" "+r.URL.RequestURI())
		o.mu.Unlock()
		if r.Header.Get("PRIVATE-TOKEN") != gitlabTokenPln {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
			return
		}
		if made.serve(w, r) || serveUser(w, r) || serveProject(w, r) {
			return
		}
		p := r.URL.Path
		switch {
		case p == "/api/v4/user":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 5, "username": "erin", "name": "Erin Engineer"})
		case p == project+"/repository/commits/"+commitSHA+"/merge_requests":
			_ = json.NewEncoder(w).Encode([]map[string]any{{"id": 31, "iid": 3, "title": "feat: model v2", "state": "merged",
				"author": map[string]any{"id": 4, "username": "alice", "name": "Alice Author", "state": "active", "bot": false}}})
		case p == "/api/v4/users":
			_, _ = w.Write([]byte(`[]`)) // the author keeps her email private
		case p == project+"/repository/commits/"+commitSHA:
			_ = json.NewEncoder(w).Encode(map[string]any{"id": commitSHA, "title": "feat: model v2", "author_name": "Alice Author", "author_email": "alice@example.com"})
		case p == project+"/deployments":
			list := made.list(r.URL.Query().Get("environment")) // newest first, as the module asks
			for i := len(readmeDeployments) - 1; i >= 0; i-- {
				if d := readmeDeployments[i]; d.env == r.URL.Query().Get("environment") {
					list = append(list, deployment(d))
				}
			}
			sort.Slice(list, func(i, j int) bool { return list[i]["id"].(int) > list[j]["id"].(int) })
			_ = json.NewEncoder(w).Encode(list)
		case strings.HasPrefix(p, project+"/deployments/"):
			for _, d := range readmeDeployments {
				if p == project+"/deployments/"+strconv.Itoa(d.id) {
					_ = json.NewEncoder(w).Encode(deployment(d))
					return
				}
			}
			http.NotFound(w, r)
		case p == project+"/repository/tags":
			_ = json.NewEncoder(w).Encode([]map[string]any{
				{"name": "v1.2.0", "target": commitSHA, "commit": map[string]any{"id": commitSHA}},
				{"name": readmeOlderTag, "target": relOther, "commit": map[string]any{"id": relOther}},
			})
		case p == project+"/repository/compare":
			_ = json.NewEncoder(w).Encode(map[string]any{"commits": []map[string]any{
				{"id": commitSHA, "short_id": commitSHA[:8], "title": "feat: model v2", "message": "feat: model v2\n", "author_name": "Alice Author"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	asGitLabCom(t, srv)
}

// readmeWorld answers, for one example, everything the README's world holds; keyed: the
// repository holds a keyed Sigstore policy and its key (docs/evidence.md "Signing") and publish
// signed the evidence with it; else the keyless policy as shipped.
func readmeWorld(t *testing.T, keyed bool) *outsideWorld {
	t.Helper()
	rec.Reset()
	artifactsOfAGreenPipeline(t)
	report := fullGateReport(t, commitSHA, gate.Pass)
	if keyed {
		registryEvidence(t, report)
	} else {
		asShipped(t) // as the repository ships (docs/evidence.md)
		fakeVerify(t, report)
	}
	world := &outsideWorld{}
	readmeGitLab(t, world)

	ml := &rbMLflow{versions: map[string]string{"11": "READY", "12": "READY"}, champion: "12", token: "mlflow-token-plaintext"}
	mlflow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		world.mu.Lock()
		world.http = append(world.http, r.Method+" "+r.URL.RequestURI())
		world.mu.Unlock()
		ml.ServeHTTP(w, r)
	}))
	t.Cleanup(mlflow.Close)
	rec.Respond(daggertest.OnFile("ci.env", "MLFLOW_TRACKING_URI="+mlflow.URL+"\n"))

	rec.Respond(daggertest.Always("commit", commitSHA))
	rec.Respond(daggertest.Always("ref", "refs/heads/main"))
	publishedFor(readmePrefix, readmeBranchTag)
	published := map[string]string{}
	refs := map[string]string{}
	for i, svc := range []string{"api", "worker", "airflow"} {
		published[svc] = digestOf(i + 1)
		refs[svc] = readmePrefix + "/" + svc + "@" + digestOf(i+1)
	}
	for _, env := range []string{"staging", "production"} {
		rec.Respond(daggertest.OnExec([]string{"helm get manifest soccer-predict --namespace soccerpredict-" + env}, map[string]any{"exitCode": 0, "stdout": chartManifest(env, commitSHA, readmePrefix, published)}))
	}
	rec.Respond(daggertest.OnExec([]string{"helm", "history"}, map[string]any{"exitCode": 0, "stdout": readmeHistory}))
	rec.Respond(daggertest.OnExec([]string{"helm", "rollback"}, map[string]any{"stdout": "Rollback was a success! Happy Helming!\n"}))
	rec.Respond(relLabels(relGoodLabels(commitSHA, refs)))
	rec.Respond(relPromoter())
	for _, svc := range []string{"api", "worker", "airflow"} {
		// The committed pins are pdm.lock's export (tests/sample checks it from the lock itself).
		rec.Respond(daggertest.OnExec([]string{"pdm", "export", "--prod", "--group", svc}, map[string]any{
			"exitCode": 0, "stdout": "# This file is @generated by PDM.\n" + fixture(t, "../tests/testdata/soccerpredict/requirements-"+svc+".txt")}))
	}
	rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "HEAD"}, map[string]any{"exitCode": 0, "stdout": rbHead + "\n"}))
	rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "--quiet"}, map[string]any{"exitCode": 0, "stdout": rbTarget + "\n"}))
	rec.Respond(daggertest.OnExec([]string{"git", "diff", "--stat"}, map[string]any{"exitCode": 0, "stdout": " " + rbProject + "/dvc.lock | 4 ++--\n 1 file changed\n"}))
	rec.Respond(daggertest.OnExec([]string{"git", "diff", "--no-renames", "--name-status"}, map[string]any{"exitCode": 0, "stdout": rbChanged}))
	return world
}

// expectation is what a README example must come to in the README's world.
type expectation struct {
	// reach lists the outside calls the example must make: each is words that must appear, in
	// order, in one recorded call (an exec line, "gitlab: GET /api/v4/…", "http: POST …").
	reach [][]string
	// returns lists words that must appear, in order, in the chain of what the function
	// returned: for the examples that hand it to an interactive step (terminal, up).
	returns [][]string
	// refused is the reason the example must be refused with; "" means it must succeed.
	refused string
	// changesNothing: the example must make none of the acting calls even when it succeeds (a
	// dry run); a refused example never may.
	changesNothing bool
}

// gateTools are the calls that show each gate ran its tool.
var gateTools = map[string][][]string{
	gate.Lint:          {{"ruff", "check", "--output-format=json"}, {"ruff", "format", "--check"}},
	gate.Test:          {{"python", "-m", "pytest", "--junitxml=/reports/junit.xml"}},
	gate.DataContracts: {{"python", "data_contracts/run_checkpoint.py"}},
	gate.DVCDry:        {{"dvc", "repro", "--dry"}},
	gate.Smoke:         {{"soccerpredict.pipeline.train", "--smoke"}},
	gate.APIContract:   {{"sh", "-c", "curl -fsS http://api:"}},
	gate.ModelGate:     {{"soccerpredict.pipeline.train", "--full"}},
	gate.Drift:         {{"python", "monitoring/drift.py"}},
	gate.SecretScan:    {{"trivy", "fs", "--scanners", "secret"}},
}

func gatesReach(names ...string) [][]string {
	if len(names) == 0 {
		for n := range gateTools {
			names = append(names, n)
		}
	}
	var out [][]string
	for _, n := range names {
		out = append(out, gateTools[n]...)
	}
	return out
}

// readmeOutcome is the expected outcome of example d; keyed as for readmeWorld. Every function
// the README shows needs a case here.
func readmeOutcome(t *testing.T, d gitlabci.DaggerCall, keyed bool) expectation {
	t.Helper()
	vars := laptop()
	expand := func(v string) string { return os.Expand(v, func(k string) string { return vars[k] }) }
	arg := func(name string) string { v, _ := d.Chain[0].Arg(name); return expand(v) }
	has := func(name string) bool { _, ok := d.Chain[0].Arg(name); return ok }
	services := []string{"api", "worker", "airflow"}
	// image is the reference deploy (dry run or not) and verify-evidence use for svc: the flag, else what
	// publish pushed for the checkout's commit.
	image := func(svc string) string {
		if v := arg(svc + "-image"); v != "" {
			return v
		}
		return readmePrefix + "/" + svc + "@" + serviceDigest[svc]
	}
	verify := func() []string {
		words := []string{"/usr/local/bin/oci", "verify", "--commit", commitSHA}
		for _, svc := range services {
			words = append(words, "--image "+svc+"="+image(svc))
		}
		words = append(words, "--sigstore-policy /trust/sigstore.json")
		if keyed {
			words = append(words, "--public-key")
		}
		return words
	}
	// signing is what attach signs with as the world's policy says, or the refusal of a flag
	// that does not fit it.
	signing := func() ([]string, string) {
		switch {
		case has("signing-key") && !keyed:
			return nil, "pass --sigstore-id-token=env:SIGSTORE_ID_TOKEN"
		case has("sigstore-id-token") && keyed:
			return nil, "is keyed: pass --signing-key=env:SP_SIGNING_KEY"
		case has("signing-key"):
			return []string{"--sigstore-policy /trust/sigstore.json", "--public-key /trust/attestation.pub", "--signing-key-file /run/secrets/signing-key"}, ""
		case has("sigstore-id-token"):
			return []string{"--sigstore-policy /trust/sigstore.json", "--id-token-file /run/secrets/sigstore-id-token"}, ""
		}
		return nil, ""
	}
	helmValues := func() []string {
		var words []string
		for _, svc := range []string{"airflow", "api", "worker"} { // the order helm is given them
			repo, digest, _ := strings.Cut(image(svc), "@")
			words = append(words, "images."+svc+".repository="+repo, "images."+svc+".digest="+digest)
		}
		return append(words, "trace.gitCommit="+commitSHA)
	}
	switch fn := d.Function(); fn {
	case "lint", "test", "data-contracts", "dvc-dry", "smoke", "api-contract", "model-gate", "secret-scan":
		return expectation{reach: gatesReach(fn)}
	case "test-reports":
		return expectation{reach: gatesReach(gate.Test)}
	case "smoke-metrics":
		return expectation{reach: gatesReach(gate.Smoke)}
	case "gate-report", "check":
		var only []string
		if has("only") {
			only = strings.Split(arg("only"), ",")
		}
		return expectation{reach: gatesReach(only...)}
	case "requirements-check":
		var reach [][]string
		for _, svc := range services {
			reach = append(reach, []string{"pdm", "export", "--prod", "--group", svc, "--without-hashes"})
		}
		return expectation{reach: reach}
	case "base":
		return expectation{returns: [][]string{{`from(address:"python:3.11-slim-bookworm")`}}}
	case "api-service":
		return expectation{returns: [][]string{{"docker/api.Dockerfile", "asService"}}}
	case "build":
		return expectation{returns: [][]string{{"docker/" + arg("service") + ".Dockerfile", "org.opencontainers.image.revision", commitSHA}}}
	case "build-all":
		var returns [][]string
		for _, svc := range services {
			returns = append(returns, []string{"docker/" + svc + ".Dockerfile", "org.opencontainers.image.revision", commitSHA})
		}
		return expectation{returns: returns}
	case "publish-base":
		return expectation{reach: [][]string{{"/usr/local/bin/oci", "push", "--dst", readmePrefix + "/base:" + readmeBranchTag}}}
	case "scan", "scan-report":
		scanned := services
		if has("service") {
			scanned = []string{arg("service")}
		}
		var reach [][]string
		for _, svc := range scanned {
			reach = append(reach, []string{"trivy", "image", "--scanners", "vuln,secret", "--format", "json", "--output", "/raw/trivy-" + svc + ".json"})
		}
		return expectation{reach: reach}
	case "publish":
		prefix := readmePrefix
		if v, ok := d.CtorArg("registry"); ok {
			prefix = expand(v)
		}
		_, viaService := d.CtorArg("local-registry")
		var reach [][]string
		for _, svc := range services {
			attach := []string{"/usr/local/bin/oci", "attach", "--image", prefix + "/" + svc + "@" + serviceDigest[svc]}
			if has("gate-report") {
				attach = append(attach, "--gate-report /in/gate-report.json")
			}
			attach = append(attach, "--trivy /in/trivy.json", "--sbom /in/sbom.cdx.json", "--provenance /in/provenance.json")
			sign, refused := signing()
			if refused != "" {
				return expectation{refused: refused}
			}
			attach = append(attach, sign...)
			push := []string{"/usr/local/bin/oci", "push", "--dst", prefix + "/" + svc + ":" + readmeBranchTag}
			if viaService { // the tool reaches the caller's registry through the service
				host := strings.SplitN(prefix, "/", 2)[0]
				push = append(push, "--connect-to "+host+"=registry-"+strings.ReplaceAll(host, ":", "-")+":"+strings.SplitN(host, ":", 2)[1])
				attach = append(attach, "--connect-to "+host)
			}
			reach = append(reach, push, attach)
		}
		return expectation{reach: reach}
	case "attest":
		sign, refused := signing()
		if refused != "" {
			return expectation{refused: refused}
		}
		return expectation{reach: [][]string{append([]string{"/usr/local/bin/oci", "attach", "--image", arg("image"), "--gate-report /in/gate-report.json"}, sign...)}}
	case "verify-evidence":
		return expectation{reach: [][]string{verify()}}
	case "promote":
		words := []string{"/usr/local/bin/oci", "promote", "--src", arg("source"), "--dst", arg("to")}
		if has("insecure-registry") {
			words = append(words, "--insecure-registry", arg("insecure-registry"))
		}
		return expectation{reach: [][]string{words}}
	case "deploy":
		env := arg("env")
		if has("dry-run") {
			return expectation{changesNothing: true, reach: [][]string{verify(),
				append([]string{"helm", "template", "soccer-predict", "/chart", "--namespace", "soccerpredict-" + env}, helmValues()...),
				{"helm", "get", "manifest", "soccer-predict", "--namespace", "soccerpredict-" + env}}}
		}
		id := arg("deployment-id")
		if id == "" {
			for _, dep := range readmeDeployments {
				if dep.env == env && dep.job == "deploy-"+env {
					id = strconv.Itoa(dep.id)
				}
			}
		}
		return expectation{reach: [][]string{verify(),
			append([]string{"helm", "upgrade", "--install", "--rollback-on-failure", "--wait=watcher", "--namespace", "soccerpredict-" + env}, helmValues()...),
			{"gitlab: GET /api/v4/projects/" + readmeProject + "/deployments/" + id}}}
	case "release":
		reach := [][]string{{"helm", "get", "manifest", "soccer-predict", "--namespace", "soccerpredict-staging"}, verify(),
			{"gitlab: GET /api/v4/projects/" + readmeProject + "/repository/tags"},
			{"gitlab: GET /api/v4/projects/" + readmeProject + "/repository/compare", "from=" + readmeOlderTag, "to=" + commitSHA}}
		for _, svc := range services {
			repo := readmePrefix + "/" + svc
			reach = append(reach, []string{"/usr/local/bin/oci", "promote", "--src", repo + "@" + serviceDigest[svc], "--dst", repo + ":" + arg("version"), "--dst", repo + ":latest"})
		}
		return expectation{reach: reach}
	case "rollback-service":
		ns := "soccerpredict-" + arg("env")
		return expectation{reach: [][]string{
			{"helm", "history", "soccer-predict", "--namespace", ns},
			{"gitlab: GET /api/v4/user"},
			{"helm", "rollback", "soccer-predict", arg("revision"), "--namespace", ns},
			{"helm", "upgrade", "--install", "soccer-predict-audit", "--namespace", ns}}}
	case "rollback-model":
		return expectation{reach: [][]string{
			{"http: GET /api/2.0/mlflow/model-versions/get", "name=soccer-predict", "version=" + arg("to-version")},
			{"gitlab: GET /api/v4/projects/" + readmeProject + "/deployments/" + arg("deployment-id")},
			{"http: POST /api/2.0/mlflow/registered-models/alias"},
			{"http: POST /api/2.0/mlflow/registered-models/set-tag"}}}
	case "rollback-data":
		return expectation{reach: [][]string{{"git", "restore", "--source=" + rbTarget}}}
	case "trace":
		return expectation{reach: [][]string{{"helm", "get", "manifest", "soccer-predict", "--namespace", "soccerpredict-" + arg("env")}}}
	case "docs":
		return expectation{returns: [][]string{{"mkdocs", "build", "--strict"}}}
	}
	t.Fatalf("README example %q has no expected outcome: add its function to readmeOutcome", d.Line)
	return expectation{}
}

// returnedChains renders the chain of each object a function returned (a Container, a list
// of them, a Directory, a File, a Service): what an interactive step would act on.
func returnedChains(t *testing.T, v any) []string {
	t.Helper()
	objects := []any{v}
	if list, ok := v.([]*dagger.Container); ok {
		objects = objects[:0]
		for _, c := range list {
			objects = append(objects, c)
		}
	}
	var out []string
	for _, o := range objects {
		id := reflect.ValueOf(o).MethodByName("ID")
		if !id.IsValid() {
			continue // a value, not an object
		}
		res := id.Call([]reflect.Value{reflect.ValueOf(context.Background())})
		err, _ := res[1].Interface().(error)
		require.NoError(t, err)
		c, ok := rec.Chain(res[0].String())
		require.True(t, ok, "the returned object's ID was handed out by the recorder")
		out = append(out, c.String())
	}
	return out
}

// acting are the calls that change the cluster, a registry or the model registry.
var acting = [][]string{{"helm", "upgrade"}, {"helm", "rollback"}, {"/usr/local/bin/oci", "promote"}, {"/usr/local/bin/oci", "push"}, {"/usr/local/bin/oci", "attach"}, {"http: POST"}}

// runExample runs example d in the README's world (keyed as for readmeWorld) with the .env
// user defaults dotenv, and returns every way it missed its expected outcome, with the outside
// calls it made.
func runExample(t *testing.T, d gitlabci.DaggerCall, dotenv map[string]string, keyed bool) (problems, reached []string) {
	t.Helper()
	want := readmeOutcome(t, d, keyed)
	outside := readmeWorld(t, keyed)
	result, err := callEnv{vars: laptop(), userDefaults: dotenv}.call(t, d)
	reached = outside.reached()
	var chains []string
	if err == nil && len(want.returns) > 0 {
		chains = returnedChains(t, result)
	}
	return missed(want, err, reached, chains), reached
}

// missed lists how a run (its error, the outside calls it made, the chains of what it
// returned) misses the outcome want; empty when it came to it.
func missed(want expectation, err error, reached, chains []string) []string {
	var out []string
	switch {
	case want.refused == "" && err != nil:
		out = append(out, "failed: "+err.Error())
	case want.refused != "" && err == nil:
		out = append(out, fmt.Sprintf("succeeded, but must be refused with %q", want.refused))
	case want.refused != "" && !strings.Contains(err.Error(), want.refused):
		out = append(out, fmt.Sprintf("refused with %q, not with %q", err.Error(), want.refused))
	}
	if want.refused != "" || want.changesNothing {
		for _, a := range acting {
			for _, r := range reached {
				if daggertest.ContainsInOrder(r, a) {
					out = append(out, "changed something although it must change nothing: "+r)
				}
			}
		}
	}
	if err == nil || want.refused == "" {
		for _, words := range want.reach {
			if !anyInOrder(reached, words) {
				out = append(out, fmt.Sprintf("never made the call %q", strings.Join(words, " ")))
			}
		}
	}
	if err == nil {
		for _, words := range want.returns {
			if !anyInOrder(chains, words) {
				out = append(out, fmt.Sprintf("does not return %q (returned: %s)", strings.Join(words, " "), strings.Join(chains, "; ")))
			}
		}
	}
	return out
}

func anyInOrder(lines, words []string) bool {
	for _, l := range lines {
		if daggertest.ContainsInOrder(l, words) {
			return true
		}
	}
	return false
}

// Every `dagger call` example of the README, run as its reader would (the .env example applied
// as Dagger's user defaults) in the README's world, must come to its expected outcome
// (readmeOutcome): make the calls to the cluster, registry, GitLab, MLflow or tool it exists
// for, with the arguments the example gives, and succeed, or be refused with the expected
// reason and change nothing. It runs as the repository ships (the keyless Sigstore policy) and
// as an air-gapped operator has it with a keyed policy and its key (docs/evidence.md "Signing").
func TestReadmeExamplesRun(t *testing.T) {
	cmds, dotenv := readmeCommands(t)
	ran := map[string]bool{}
	for _, keyed := range []bool{false, true} {
		world := "as shipped"
		if keyed {
			world = "with a keyed policy"
		}
		for _, cmd := range cmds {
			if strings.Contains(cmd, "--help") {
				continue // the CLI's help, not a call
			}
			t.Run(world+"/"+cmd, func(t *testing.T) {
				d, err := parseExample(cmd)
				require.NoError(t, err)
				problems, reached := runExample(t, d, dotenv, keyed)
				assert.Empty(t, problems, "README example misses its expected outcome:\n%s\nreached:\n  %s", d.Line, strings.Join(reached, "\n  "))
				ran[d.Function()] = true
				for _, p := range []string{ageKeyPlain, gitlabTokenPln, "registry-pw-plaintext", "mlflow-token-plaintext", "SIGNING-KEY-PLAINTEXT", "OIDC-TOKEN-plaintext"} {
					assert.Empty(t, rec.Leaked(p))
				}
			})
		}
	}
	assert.True(t, ran["deploy"] && ran["gate-report"], "the README's two main commands are among the examples")
}

// The check above can fail: the README's examples as they were before issue 20 each miss
// their outcome, for the reason the issue names.
func TestReadmeExamplesThatMissTheirOutcomeAreCaught(t *testing.T) {
	oldDotenv := map[string]string{"DEPLOY_KUBECONFIG": "file://${HOME}/.kube/config", "DEPLOY_AGEKEY": "env://SOPS_AGE_KEY",
		"DEPLOY_GITLABTOKEN": "env://GITLAB_TOKEN", "DEPLOY_PROJECTID": readmeProject, "DEPLOY_GATEREPORT": "reports/gate-report.json",
		"DEPLOY_REGISTRYUSERNAME": "your-gitlab-username", "DEPLOY_REGISTRYPASSWORD": "env://GITLAB_TOKEN"}
	for _, c := range []struct {
		line  string
		keyed bool
		why   string
	}{
		{`dagger call rollback-service --env=staging --revision=41 --kubeconfig=… --gitlab-token=env:GITLAB_TOKEN --confirm --reason="bad rollout of 42"`, false,
			"proving approvals needs the GitLab project"},
		{"dagger call deploy --env=production", true, "drop --gate-report and --scan-report"},
		{"dagger call deploy --env=production", false, "drop --gate-report and --scan-report"},
		{"dagger call deploy --env=staging", true, "report files are not signed"},
		{`dagger call --settings-file=ci.env --commit=… rollback-model --to-version=11 --mlflow-token=env:MLFLOW_TOKEN --gitlab-token=env:GITLAB_TOKEN --deployment-id=1234 --confirm --reason="…"`, true,
			"proving approvals needs the GitLab project"},
	} {
		t.Run(c.line, func(t *testing.T) {
			d, err := parseExample(c.line)
			require.NoError(t, err)
			problems, _ := runExample(t, d, oldDotenv, c.keyed)
			require.NotEmpty(t, problems, "the old example must be caught")
			assert.Contains(t, strings.Join(problems, "\n"), c.why)
		})
	}
	// And the check's own rules: a refusal for another reason, a success where a refusal is
	// expected, a call never made, a refusal that changed something.
	want := expectation{reach: [][]string{{"helm", "upgrade", "--namespace", "soccerpredict-staging"}}}
	assert.Empty(t, missed(want, nil, []string{"exec: helm upgrade --install --namespace soccerpredict-staging x"}, nil))
	assert.NotEmpty(t, missed(want, nil, []string{"exec: helm upgrade --install --namespace soccerpredict-dev x"}, nil))
	assert.NotEmpty(t, missed(want, fmt.Errorf("boom"), []string{"exec: helm upgrade --install --namespace soccerpredict-staging x"}, nil))
	refusal := expectation{refused: "no attestation public key"}
	assert.Empty(t, missed(refusal, fmt.Errorf("refused: no attestation public key is configured"), nil, nil))
	assert.NotEmpty(t, missed(refusal, nil, nil, nil))
	assert.NotEmpty(t, missed(refusal, fmt.Errorf("refused: drop --gate-report"), nil, nil))
	assert.NotEmpty(t, missed(refusal, fmt.Errorf("refused: no attestation public key is configured"), []string{"exec: helm upgrade --install"}, nil))
	dryRun := expectation{changesNothing: true, reach: [][]string{{"helm", "template"}}}
	assert.Empty(t, missed(dryRun, nil, []string{"exec: helm template soccer-predict /chart"}, nil))
	assert.NotEmpty(t, missed(dryRun, nil, []string{"exec: helm template soccer-predict /chart", "exec: helm upgrade --install soccer-predict"}, nil))
	assert.NotEmpty(t, missed(expectation{returns: [][]string{{"docker/api.Dockerfile"}}}, nil, nil, []string{"container.from(python)"}))
}
