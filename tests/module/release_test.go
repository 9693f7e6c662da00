//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/soccer-predict/internal/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const (
	relCommit   = "0123456789abcdef0123456789abcdef01234567"
	relOther    = "fedcba9876543210fedcba9876543210fedcba98"
	relRegistry = "registry.example.com/soccerpredictai/soccerpredict"
	relToken    = "glpat-RELEASE-SECRET-token"
	relKube     = "apiVersion: v1\nkind: Config\nusers:\n- user:\n    token: KUBE-SECRET-token\n"
	relPassword = "REGISTRY-SECRET-password"
	relDataset  = "dvc-md5-4c2a9e"
	relModel    = "7"
)

var relServices = []string{"airflow", "api", "worker"}

func relDigest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// relDigests are the digests staging runs.
func relDigests() map[string]string {
	return map[string]string{"api": relDigest(1), "worker": relDigest(2), "airflow": relDigest(3)}
}

// domainDigests is digests as a trace record holds them.
func domainDigests(digests map[string]string) map[domain.Service]domain.Digest {
	out := map[domain.Service]domain.Digest{}
	for svc, d := range digests {
		out[domain.Service(svc)] = domain.Digest(d)
	}
	return out
}

func relRef(svc string) string { return relRegistry + "/" + svc + "@" + relDigests()[svc] }

// relPipeline is the module as a tag pipeline would construct it, pointed at the fake GitLab.
func relPipeline(t *testing.T, gitlabURL string) *SoccerPredict {
	t.Helper()
	m := fresh(t, func(a *newArgs) { a.commit, a.ref, a.registry = relCommit, "v1.4.0", relRegistry })
	m.Settings = append(m.Settings, "CI_API_V4_URL="+gitlabURL+"/api/v4", "CI_PROJECT_ID=42")
	return m
}

// fakeGitLab speaks the tags and compare endpoints of GitLab's REST API.
type fakeGitLab struct {
	mu      sync.Mutex
	tags    []map[string]any
	commits []map[string]any
	calls   []string
	tokens  []string
}

func newFakeGitLab(t *testing.T, tags ...[2]string) (*fakeGitLab, *httptest.Server) {
	t.Helper()
	f := &fakeGitLab{commits: []map[string]any{
		{"id": strings.Repeat("a", 40), "short_id": "aaaaaaaa", "title": "feat(api): serve calibrated probabilities", "message": "feat(api): serve calibrated probabilities\n", "author_name": "Ana"},
		{"id": strings.Repeat("b", 40), "short_id": "bbbbbbbb", "title": "fix: clip negative goal counts", "message": "fix: clip negative goal counts\n", "author_name": "Ben"},
	}}
	for _, tg := range tags {
		f.tags = append(f.tags, map[string]any{"name": tg[0], "target": tg[1], "commit": map[string]any{"id": tg[1]}})
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	f.tokens = append(f.tokens, r.Header.Get("PRIVATE-TOKEN"))
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("PRIVATE-TOKEN") != relToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
		return
	}
	switch r.URL.Path {
	case "/api/v4/projects/42/repository/tags":
		_ = json.NewEncoder(w).Encode(f.tags)
	case "/api/v4/projects/42/repository/compare":
		_ = json.NewEncoder(w).Encode(map[string]any{"commits": f.commits})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not Found"}`)
	}
}

func (f *fakeGitLab) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// relGateReport answers the contents of gate-report.json and returns the file.
// relGateReport puts the gate report of commit (every gate of the catalog, lint with the given
// status) in the registry as the evidence of the release images, as `oci verify` reads it
// back. A release takes no report file: it returns nil for the --gate-report argument.
func relGateReport(t *testing.T, commit string, lint gate.Status) *dagger.File {
	t.Helper()
	rep := gate.Report{
		Started: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Finished: time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC),
		Commit: commit,
	}
	for _, g := range gate.Catalog() {
		st := gate.Pass
		if g.Name == gate.Lint {
			st = lint
		}
		rep.Results = append(rep.Results, gateResult(g.Name, st, "x"))
	}
	b, err := rep.JSON()
	require.NoError(t, err)
	registryEvidence(t, string(b))
	return nil
}

// relManifest is what `helm get manifest` prints for a release deployed by the chart.
func relManifest(env, commit string, digests map[string]string) string {
	return chartManifest(env, commit, relRegistry, digests)
}

// chartManifest is what `helm get manifest` prints for a release the chart deployed with the
// images <prefix>/<service>@<digest>.
func chartManifest(env, commit, prefix string, digests map[string]string) string {
	js, _ := json.Marshal(digests)
	ann := fmt.Sprintf(`    soccerpredict.io/git-commit: %q
    soccerpredict.io/image-digests: %q
    soccerpredict.io/dataset-version: %q
    soccerpredict.io/model-version: %q
    soccerpredict.io/environment: %q
`, commit, string(js), relDataset, relModel, env)
	var b strings.Builder
	fmt.Fprintf(&b, "---\n# Source: soccer-predict/templates/trace-configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: soccer-predict-trace\n  annotations:\n%sdata:\n  environment: %s\n", ann, env)
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: soccer-predict-secrets\ntype: Opaque\ndata:\n  DATABASE_URL: <redacted>\n")
	for _, svc := range relServices {
		if digests[svc] == "" {
			continue
		}
		fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: soccer-predict-%s\n  annotations:\n%sspec:\n  template:\n    spec:\n      containers:\n        - name: %s\n          image: \"%s/%s@%s\"\n",
			svc, ann, svc, prefix, svc, digests[svc])
	}
	return b.String()
}

// relLabels answers `oci labels` as the registry would: for each --image asked, the labels of
// that image's config, labels[ref] (none for an image the map does not hold), and nothing else.
func relLabels(labels map[string]map[string]string) daggertest.Responder {
	return func(c daggertest.Call) (any, bool) {
		args, ok := c.ExecArgs()
		if !ok || c.Leaf != "stdout" || len(args) < 2 || args[0] != "/usr/local/bin/oci" || args[1] != "labels" {
			return nil, false
		}
		out := map[string]map[string]string{}
		for i := 2; i+1 < len(args); i++ {
			if args[i] == "--image" {
				l := labels[args[i+1]]
				if l == nil {
					l = map[string]string{}
				}
				out[args[i+1]] = l
			}
		}
		js, err := json.Marshal(out)
		if err != nil {
			panic(err)
		}
		return string(js), true
	}
}

// relGoodLabels are the labels of images built from commit by the pipeline.
func relGoodLabels(commit string, refs map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, ref := range refs {
		out[ref] = map[string]string{trace.LabelRevision: commit, trace.LabelDatasetVersion: relDataset, trace.LabelModelVersion: relModel}
	}
	return out
}

func relRefs() map[string]string {
	out := map[string]string{}
	for _, svc := range relServices {
		out[svc] = relRef(svc)
	}
	return out
}

// relPromoter answers `oci promote` like it does: the source digest and the destinations.
func relPromoter() daggertest.Responder {
	return func(c daggertest.Call) (any, bool) {
		args, ok := c.ExecArgs()
		if !ok || len(args) < 2 || args[0] != "/usr/local/bin/oci" || args[1] != "promote" || c.Leaf != "stdout" {
			return nil, false
		}
		var src string
		var dsts []string
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "--src":
				src = args[i+1]
			case "--dst":
				dsts = append(dsts, args[i+1])
			}
		}
		_, digest, _ := strings.Cut(src, "@")
		b, _ := json.Marshal(map[string]any{"source": src, "digest": digest, "destinations": dsts})
		return string(b), true
	}
}

func relPromotions() []daggertest.Exec {
	var out []daggertest.Exec
	for _, e := range rec.Execs() {
		if len(e.Args) > 1 && e.Args[0] == "/usr/local/bin/oci" && e.Args[1] == "promote" {
			out = append(out, e)
		}
	}
	return out
}

// relNothingBuilt asserts no image was built or pushed by the module itself.
func relNothingBuilt(t *testing.T) {
	t.Helper()
	for _, q := range rec.Queries() {
		assert.NotContains(t, q, "dockerBuild", "a release never rebuilds")
	}
	for _, e := range rec.Execs() {
		assert.NotContains(t, e.Container.String(), "dockerBuild", "a release never rebuilds")
	}
	assert.Empty(t, rec.CallsTo("publish"), "a release copies by digest with the registry tool (ci/cmd/oci), it never pushes a build")
}

func relNoLeaks(t *testing.T) {
	t.Helper()
	for _, p := range []string{relToken, relKube, "KUBE-SECRET-token", relPassword} {
		assert.Empty(t, rec.Leaked(p), "secret plaintext %q reached the engine", p)
	}
}

func relDir(t *testing.T, d *dagger.Directory) map[string]string {
	t.Helper()
	id, err := d.ID(context.Background())
	require.NoError(t, err)
	chain, ok := rec.Chain(string(id))
	require.True(t, ok)
	return chain.Files()
}

func TestReleasePromotesTheStagedDigestsByDigestToTheVersionAndLatest(t *testing.T) {
	gl, srv := newFakeGitLab(t, [2]string{"v1.2.0", relOther}, [2]string{"v1.3.0", relOther}, [2]string{"v1.4.0", relCommit}, [2]string{"nightly", relOther})
	m := relPipeline(t, srv.URL)
	report := relGateReport(t, relCommit, gate.Pass)
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": relManifest("staging", relCommit, relDigests())}))
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())

	dir, err := m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), report,
		"ci-user", dag.SetSecret("registry-password", relPassword), "", "", "", "",
		dag.SetSecret("kubeconfig", relKube), nil, nil)
	require.NoError(t, err, execsText())

	// The images are the ones staging runs, read from the live release through the redactor.
	read := mustExec(t, "helm", "get", "manifest", "soccer-predict", "--namespace", "soccerpredict-staging")
	assert.Contains(t, read.Line(), "| /usr/local/bin/manifest-redact")
	mount, ok := read.Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	require.True(t, ok, "the kubeconfig must be mounted as a secret file: %s", read.Container)
	sec, _ := mount.Ref("source")
	assert.Contains(t, sec.Chain.String(), `setSecret(name:"kubeconfig"`)

	// Each service is copied by digest to vX.Y.Z and latest (a final release: domain's
	// Production.MovesLatest), with the registry tool (ci/cmd/oci), and to nothing else.
	promos := relPromotions()
	require.Len(t, promos, 3, execsText())
	for _, svc := range relServices {
		e := mustExec(t, "/usr/local/bin/oci", "promote", "--src", relRef(svc), "--dst", relRegistry+"/"+svc+":v1.4.0", "--dst", relRegistry+"/"+svc+":latest")
		assert.Equal(t, 2, strings.Count(e.Line(), "--dst "), e.Line())
		assert.Contains(t, e.Line(), "--password-file /run/secrets/registry-password")
		_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
		assert.True(t, ok, "the registry password reaches the tool only as a mounted secret")
	}
	relNothingBuilt(t)
	relNoLeaks(t)

	// The release's own tag is not "already released"; notes start at the highest earlier tag.
	assert.Contains(t, gl.Calls(), "GET /api/v4/projects/42/repository/compare?from=v1.3.0&to="+relCommit)
	for _, tok := range gl.tokens {
		assert.Equal(t, relToken, tok, "the token travels only in the PRIVATE-TOKEN header")
	}

	files := relDir(t, dir)
	require.Contains(t, files, "release-notes.md")
	notes := files["release-notes.md"]
	assert.Contains(t, notes, "# v1.4.0")
	assert.Contains(t, notes, "v1.3.0")
	assert.Contains(t, notes, "serve calibrated probabilities")
	assert.Contains(t, notes, "clip negative goal counts")

	var record trace.Record
	require.NoError(t, json.Unmarshal([]byte(files["trace.json"]), &record))
	assert.Equal(t, domain.Commit(relCommit), record.GitCommit)
	assert.Equal(t, "v1.4.0", record.Release)
	assert.Equal(t, domainDigests(relDigests()), record.ImageDigests)
	assert.Equal(t, relDataset, record.DatasetVersion)
	assert.Equal(t, relModel, record.ModelVersion)

	var plan struct {
		Version     string `json:"version"`
		MovesLatest bool   `json:"moves_latest"`
		Copies      []struct {
			Service string `json:"service"`
			Source  string `json:"source"`
		} `json:"copies"`
	}
	require.NoError(t, json.Unmarshal([]byte(files["release-plan.json"]), &plan))
	assert.Equal(t, "v1.4.0", plan.Version)
	assert.True(t, plan.MovesLatest)
	require.Len(t, plan.Copies, 3)
}

func TestReleaseRefusesARedGateReportOrTheReportOfAnotherCommitInTheRegistry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		commit string
		lint   gate.Status
		want   []string
	}{
		{"red", relCommit, gate.Fail, []string{"release refused", "blocking gates not passed: lint (fail)"}},
		{"another commit", relOther, gate.Pass, []string{"release refused", "report of " + relOther + ", not of " + relCommit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gl, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
			m := relPipeline(t, srv.URL)
			report := relGateReport(t, tc.commit, tc.lint)
			rec.Respond(relPromoter())
			_, err := m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
				relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, relPromotions(), "nothing is promoted")
			assert.Empty(t, gl.Calls(), "a refused release stops before asking GitLab")
		})
	}
}

func TestReleaseRefusesAVersionThatIsInvalidOrNotGreaterThanTheLastTag(t *testing.T) {
	for _, tc := range []struct {
		version string
		tags    [][2]string
		want    string
		asked   bool
	}{
		{"v1.4.0", [][2]string{{"v1.4.0", relOther}}, "not greater than v1.4.0", true},
		{"v1.3.9", [][2]string{{"v1.2.0", relOther}, {"v1.4.0", relOther}}, "not greater than v1.4.0", true},
		{"v1.4.0-rc.1", [][2]string{{"v1.4.0", relOther}}, "not greater", true},
		{"1.5.0", nil, `no "v" prefix: pass --version`, false},
		{"v1.5", nil, "not a strict semantic version", false},
	} {
		t.Run(tc.version, func(t *testing.T) {
			gl, srv := newFakeGitLab(t, tc.tags...)
			m := relPipeline(t, srv.URL)
			report := relGateReport(t, relCommit, gate.Pass)
			rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
			rec.Respond(relPromoter())
			_, err := m.Release(context.Background(), tc.version, dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
				relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, relPromotions(), "nothing is promoted")
			assert.Equal(t, tc.asked, len(gl.Calls()) > 0, "an invalid version is refused before any call")
		})
	}
}

func TestReleaseOfGivenDigestsChecksTheyWereBuiltFromTheReleaseCommit(t *testing.T) {
	_, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m := relPipeline(t, srv.URL)
	report := relGateReport(t, relCommit, gate.Pass)
	labels := relGoodLabels(relCommit, relRefs())
	labels[relRef("worker")][trace.LabelRevision] = relOther
	rec.Respond(relLabels(labels))
	rec.Respond(relPromoter())
	_, err := m.Release(context.Background(), "v2.0.0-rc.1", dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was promoted")
	assert.Contains(t, err.Error(), "worker")
	assert.Empty(t, relPromotions())
	_, pulled := rec.ExecWith("helm")
	assert.False(t, pulled, "given digests need no cluster")

	// With the right labels, a pre-release gets its version tag and not latest.
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	dir, err := m.Release(context.Background(), "v2.0.0-rc.1", dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.NoError(t, err, execsText())
	require.Len(t, relPromotions(), 3)
	for _, svc := range relServices {
		// Exactly one destination: the version tag (domain: Production.MovesLatest(pre-release) is false).
		e := mustExec(t, "/usr/local/bin/oci", "promote", "--src", relRef(svc), "--dst", relRegistry+"/"+svc+":v2.0.0-rc.1")
		assert.Equal(t, 1, strings.Count(e.Line(), "--dst "), e.Line())
	}
	for _, e := range relPromotions() {
		assert.Contains(t, e.Line(), ":v2.0.0-rc.1")
		assert.NotContains(t, e.Line(), ":latest", "a pre-release never moves latest")
		assert.Contains(t, e.Line(), "--src "+relRegistry)
		assert.Contains(t, e.Line(), "@sha256:")
	}
	relNothingBuilt(t)
	var record trace.Record
	require.NoError(t, json.Unmarshal([]byte(relDir(t, dir)["trace.json"]), &record))
	assert.Equal(t, relModel, record.ModelVersion, "versions come from the images' labels")

	// Half the images is a usage error.
	_, err = m.Release(context.Background(), "v2.0.0", dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
		relRef("api"), "", "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--worker-image is missing")
}

func TestReleaseRefusesWhenStagingRunsAnotherCommit(t *testing.T) {
	_, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m := relPipeline(t, srv.URL)
	report := relGateReport(t, relCommit, gate.Pass)
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": relManifest("staging", relOther, relDigests())}))
	rec.Respond(relPromoter())
	_, err := m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), report, "", nil, "", "", "", "",
		dag.SetSecret("kubeconfig", relKube), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "staging runs commit "+relOther)
	assert.Empty(t, relPromotions())

	// Without images nor a kubeconfig there is nothing to release.
	_, err = m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), report, "", nil, "", "", "", "",
		nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--kubeconfig")
	relNoLeaks(t)
}

func TestReleasePassesThePlainHTTPOptInAndRefusesAnUnneededOne(t *testing.T) {
	gl, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m := relPipeline(t, srv.URL)
	report := relGateReport(t, relCommit, gate.Pass)
	host := strings.SplitN(relRegistry, "/", 2)[0]

	// A host no image is on: refused before GitLab is asked or anything is promoted.
	_, err := m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, []string{"reg.local:5000"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--insecure-registry=reg.local:5000 is not needed")
	assert.Contains(t, err.Error(), "nothing was promoted")
	assert.Empty(t, relPromotions())
	assert.Empty(t, gl.Calls(), "a bad flag is refused before any API call")

	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())
	_, err = m.Release(context.Background(), "v1.4.0", dag.SetSecret("gitlab-token", relToken), report, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, []string{host})
	require.NoError(t, err, execsText())
	promos := relPromotions()
	require.Len(t, promos, 3, execsText())
	for _, e := range promos {
		assert.Contains(t, e.Line(), "--insecure-registry "+host)
	}
	verify, ok := rec.ExecWith("/usr/local/bin/oci", "verify")
	require.True(t, ok, "release reads the evidence from the registry")
	assert.Contains(t, verify.Line(), "--insecure-registry "+host, "the evidence read takes the same opt-in")
}
