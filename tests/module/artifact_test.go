//go:build daggerharness

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const (
	commitSHA = "0123456789abcdef0123456789abcdef01234567"
	registry  = "registry.example.com/sp"
	// commitTime is GitLab's CI_COMMIT_TIMESTAMP of commitSHA; commitTimeUTC how images carry it.
	commitTime    = "2025-03-01T09:00:00+01:00"
	commitTimeUTC = "2025-03-01T08:00:00Z"
)

func withRelease(a *newArgs) {
	a.commit, a.ref, a.registry, a.commitTime = commitSHA, "main", registry, commitTime
}

func digestOf(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// projectFiles answers file contents from the real sample project.
func projectFiles(t *testing.T) {
	t.Helper()
	rec.Respond(daggertest.OnFile("dvc.lock", fixture(t, "../tests/testdata/soccerpredict/dvc.lock")))
	rec.Respond(daggertest.OnFile("data/raw/matches.csv.dvc", fixture(t, "../tests/testdata/soccerpredict/data/raw/matches.csv.dvc")))
	for _, svc := range []string{"api", "worker", "airflow"} {
		rec.Respond(daggertest.OnFile("requirements-"+svc+".txt", fixture(t, "../tests/testdata/soccerpredict/requirements-"+svc+".txt")))
	}
}

func containerChain(t *testing.T, id string) daggertest.Chain {
	t.Helper()
	chain, ok := rec.Chain(id)
	require.True(t, ok)
	return chain
}

func TestBuildLabelsTheServiceImageBuiltFromItsDockerfile(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	projectFiles(t)
	ctr, err := m.Build(context.Background(), "worker", "7")
	require.NoError(t, err)
	id, err := ctr.ID(context.Background())
	require.NoError(t, err)
	chain := containerChain(t, string(id))
	s := chain.String()
	assert.Contains(t, s, `dockerBuild(buildArgs:[{name:"BASE_IMAGE",value:"python:3.11-slim-bookworm"},{name:"SOURCE_DATE_EPOCH",value:"1740816000"}],dockerfile:"docker/worker.Dockerfile")`)
	labels := map[string]string{}
	for _, st := range chain.Steps("withLabel") {
		labels[st.Str("name")] = st.Str("value")
	}
	assert.Equal(t, commitSHA, labels["org.opencontainers.image.revision"])
	assert.Equal(t, "main-01234567", labels["org.opencontainers.image.version"])
	assert.Equal(t, "https://gitlab.com/soccerpredictai/soccerpredict", labels["org.opencontainers.image.source"])
	assert.Equal(t, commitTimeUTC, labels["org.opencontainers.image.created"], "the created label is the commit time, never the clock")
	assert.True(t, strings.HasPrefix(labels["io.soccerpredict.dataset.version"], "md5:"), labels)
	assert.Equal(t, "7", labels["io.soccerpredict.model.version"])
	assert.NotContains(t, s, "withSecretVariable", "no secret is baked into an image")
}

func TestBuildRefusesWithoutCommitOrUnknownService(t *testing.T) {
	m := fresh(t)
	happy(t)
	_, err := m.Build(context.Background(), "api", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--commit=$CI_COMMIT_SHA")
	_, err = m.Build(context.Background(), "web", "")
	assert.ErrorContains(t, err, "use one of api, worker, airflow")
}

func TestPublishRejectsHalfCredentials(t *testing.T) {
	m := fresh(t, withRelease)
	_, err := m.Publish(context.Background(), "ci-user", nil, "", nil, "", nil, nil, nil, nil)
	assert.ErrorContains(t, err, "pass both --username and --password")
	assert.Empty(t, rec.CallsTo("publish"))
}

func TestPromoteCopiesByDigestWithTheToolAndAMountedPassword(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	src := registry + "/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": `{"source":"` + src + `","digest":"` + digestOf(1) + `","destinations":["` + registry + `/api:v1.2.3"]}`,
	}))
	password := dag.SetSecret("registry-password", "hunter2-promote-plaintext")
	out, err := m.Promote(context.Background(), src, []string{registry + "/api:v1.2.3"}, "ci-user", password, false, nil)
	require.NoError(t, err)
	assert.Contains(t, out, digestOf(1))

	e := mustExec(t, "/usr/local/bin/oci", "promote", "--src", src, "--dst", registry+"/api:v1.2.3", "--password-file", "/run/secrets/registry-password")
	_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
	assert.True(t, ok, "password must be a mounted secret: %s", e.Container)
	assert.NotContains(t, e.Line(), "--allow-overwrite")
	build := mustExec(t, "go", "build", "-o", "/out/oci")
	assert.Contains(t, build.Container.String(), `from(address:"golang:1.26")`)
	for _, cache := range []string{"soccer-predict-gomod", "soccer-predict-gobuild"} {
		assert.Contains(t, build.Container.String(), `cacheVolume(key:"`+cache+`")`)
	}
	_, ok = build.Container.StepWhere("withEnvVariable", "name", "CGO_ENABLED")
	assert.True(t, ok)
	assert.Empty(t, rec.Leaked("hunter2-promote-plaintext"))
	assert.False(t, strings.Contains(execsText(), "dockerBuild"), "promotion never rebuilds")
}

func TestPromoteRejectsBadInputBeforeDoingAnything(t *testing.T) {
	m := fresh(t, withRelease)
	for _, tc := range []struct {
		src  string
		to   []string
		want string
	}{
		{registry + "/api:main", []string{registry + "/api:v1"}, "--source"},
		{registry + "/api@" + digestOf(1), nil, "--to: name at least one destination"},
		{registry + "/api@" + digestOf(1), []string{"Bad Ref"}, `--to "Bad Ref"`},
		// latest moves only with a final release (domain.Environment.MovesLatest), never by hand.
		{registry + "/api@" + digestOf(1), []string{registry + "/api:v1.2.3", registry + "/api:latest"}, "dagger call release --version=vX.Y.Z"},
	} {
		_, err := m.Promote(context.Background(), tc.src, tc.to, "", nil, false, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	assert.Empty(t, rec.Execs(), "nothing may run on bad input")
}

func TestScanBlocksOnHighFindingsAndReportsAnyway(t *testing.T) {
	m := fresh(t) // no --commit: scan is a check that runs with no arguments
	happy(t)
	projectFiles(t)
	rec.Respond(daggertest.Always("exists", false)) // no .trivyignore
	rec.Respond(daggertest.OnFile("trivy-api.json", fixture(t, "../ci/artifact/scan/testdata/trivy-api.json")))
	err := m.Scan(context.Background(), "api")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api image")
	assert.Contains(t, err.Error(), "CVE-")

	e := mustExec(t, "trivy", "image", "--input", "/tmp/image.tar", "--format", "json")
	assert.Contains(t, e.Container.String(), `from(address:"aquasec/trivy:0.58.1")`)
	assert.Contains(t, e.Container.String(), `cacheVolume(key:"soccer-predict-trivy")`)
	tar, ok := e.Container.StepWhere("withMountedFile", "path", "/tmp/image.tar")
	require.True(t, ok)
	src, _ := tar.Ref("source")
	assert.Contains(t, src.Chain.String(), `dockerfile:"docker/api.Dockerfile"`)
	assert.True(t, strings.HasSuffix(src.Chain.String(), "asTarball"), "Trivy scans the built image as a tarball, nothing is pushed")
	mustExec(t, "trivy", "image", "--format", "cyclonedx")

	dir, err := m.ScanReport(context.Background(), "api")
	require.NoError(t, err, "scan-report never fails on findings")
	id, _ := dir.ID(context.Background())
	files := containerChain(t, string(id)).Files()
	assert.Contains(t, files, "gl-container-scanning-report.json")
	assert.Contains(t, files["gl-container-scanning-report.json"], `"type": "container_scanning"`)
	assert.Contains(t, files["gl-container-scanning-report.json"], `"image": "api"`)

	err = m.Scan(context.Background(), "web")
	assert.ErrorContains(t, err, "use one of api, worker, airflow")
}

func TestRequirementsCheckComparesPdmExportWithThePins(t *testing.T) {
	m := fresh(t)
	happy(t)
	projectFiles(t)
	for _, svc := range []string{"api", "worker", "airflow"} {
		rec.Respond(daggertest.OnExec([]string{"pdm", "export", "--prod", "--group", svc}, map[string]any{
			"exitCode": 0, "stdout": "# This file is @generated by PDM.\n" + fixture(t, "../tests/testdata/soccerpredict/requirements-"+svc+".txt"),
		}))
	}
	require.NoError(t, m.RequirementsCheck(context.Background()))
	e := mustExec(t, "pdm", "export", "--prod", "--group", "api", "--without-hashes")
	assert.Contains(t, e.Container.String(), `"pdm==`)

	rec.Respond(daggertest.OnExec([]string{"pdm", "export", "--prod", "--group", "worker"}, map[string]any{"exitCode": 0, "stdout": "celery==9.9.9\n"}))
	err := m.RequirementsCheck(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "worker")
	assert.Contains(t, err.Error(), "+celery==9.9.9")
	assert.Contains(t, err.Error(), "pdm export --prod -G worker --without-hashes -o requirements-worker.txt")
}

func TestPromotePassesThePlainHTTPOptInToTheTool(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	src := "reg.local:5000/sp/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": `{"source":"` + src + `","digest":"` + digestOf(1) + `","destinations":["reg.local:5000/sp/api:v1.2.3"]}`,
	}))
	_, err := m.Promote(context.Background(), src, []string{"reg.local:5000/sp/api:v1.2.3"}, "", nil, false, []string{"REG.local:5000"})
	require.NoError(t, err)
	e := mustExec(t, "/usr/local/bin/oci", "promote", "--src", src, "--dst", "reg.local:5000/sp/api:v1.2.3", "--insecure-registry", "reg.local:5000")
	assert.Equal(t, 1, strings.Count(e.Line(), "--insecure-registry"))

	// Without the flag, nothing is added: the tool reaches reg.local:5000 over https only.
	rec.Reset()
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": `{"source":"` + src + `","digest":"` + digestOf(1) + `","destinations":["reg.local:5000/sp/api:v1.2.3"]}`,
	}))
	_, err = m.Promote(context.Background(), src, []string{"reg.local:5000/sp/api:v1.2.3"}, "", nil, false, nil)
	require.NoError(t, err)
	e = mustExec(t, "/usr/local/bin/oci", "promote", "--src", src)
	assert.NotContains(t, e.Line(), "--insecure-registry")
}

func TestPromoteRefusesABadOrUnneededPlainHTTPOptInBeforeDoingAnything(t *testing.T) {
	m := fresh(t, withRelease)
	src := "reg.local:5000/sp/api@" + digestOf(1)
	to := []string{"reg.local:5000/sp/api:v1.2.3"}
	for _, tc := range []struct {
		hosts []string
		want  string
	}{
		{[]string{"http://reg.local:5000"}, "has a scheme"},
		{[]string{"reg.local:5000/sp"}, "has a path"},
		{[]string{"reg.local:0"}, "invalid port"},
		{[]string{"localhost:5000"}, "loopback registries"},
		{[]string{"reg.local:5001"}, "--insecure-registry=reg.local:5001 is not needed"},
		{[]string{"reg.local"}, "port included"},
		{[]string{"reg.local:5000", "reg.local:5000"}, "listed twice"},
	} {
		_, err := m.Promote(context.Background(), src, to, "", nil, false, tc.hosts)
		require.Error(t, err, tc.hosts)
		assert.Contains(t, err.Error(), tc.want)
	}
	assert.Empty(t, rec.Execs(), "nothing may run on a bad opt-in")
}

// The engine's error for a failed exec is only "exit code: N": the tool's own words (its
// stderr) must reach the user, or a refused promotion reads like an engine fault.
func TestPromoteSurfacesTheToolsOwnWordsWhenItFails(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	src := registry + "/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": &daggertest.ExecError{Cmd: []string{"/usr/local/bin/oci", "promote"}, ExitCode: 5,
			Stderr: "oci: " + registry + "/api:v1.2.3 already points at " + digestOf(2) + ": pass --allow-overwrite to move it"},
	}))
	_, err := m.Promote(context.Background(), src, []string{registry + "/api:v1.2.3"}, "", nil, false, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "oci promote of "+src+" failed: `/usr/local/bin/oci promote` exited 5")
	assert.Contains(t, err.Error(), "already points at "+digestOf(2)+": pass --allow-overwrite to move it")
}

// The command the engine reports is named, also when it is a lazy input of the step (here the
// tool's own go build), with its output.
func TestToolFailureNamesTheStepThatFailedFirst(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	src := registry + "/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": &daggertest.ExecError{Cmd: []string{"go", "build", "-o", "/out/oci", "./ci/cmd/oci"}, ExitCode: 1,
			Stderr: "ci/cmd/oci/main.go:3:1: syntax error"},
	}))
	_, err := m.Promote(context.Background(), src, []string{registry + "/api:v1.2.3"}, "", nil, false, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "oci promote of "+src+" failed: `go build -o /out/oci ./ci/cmd/oci` exited 1")
	assert.Contains(t, err.Error(), "syntax error")
}
