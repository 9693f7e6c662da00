//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

var serviceDigest = map[string]string{"api": digestOf(1), "worker": digestOf(2), "airflow": digestOf(3), "base": digestOf(7)}

// cleanTrivy is a Trivy report without findings for svc.
func cleanTrivy(svc string) string {
	return `{"SchemaVersion": 2, "ArtifactName": "/images/` + svc + `-` + strings.Replace(serviceDigest[svc], ":", "-", 1) + `.tar", "ArtifactType": "container_image",
  "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}, "ImageID": "sha256:` + strings.Repeat("a", 64) + `"}, "Results": []}`
}

// serviceOf finds which service's Dockerfile a recorded chain was built from.
func serviceOf(chain string) string {
	for _, svc := range []string{"api", "worker", "airflow"} {
		if strings.Contains(chain, `dockerfile:"docker/`+svc+`.Dockerfile"`) {
			return svc
		}
	}
	if strings.Contains(chain, `value:"soccer-predict-base"`) { // publish-base
		return "base"
	}
	return ""
}

// publishWorld answers what publish asks: the normalise step prints each service's digest,
// Trivy finds nothing, and the push tool reports what it did (action).
func publishWorld(t *testing.T, action string) {
	t.Helper()
	happy(t)
	projectFiles(t)
	rec.Respond(daggertest.OnFile(".trivyignore", ""))
	evidenceTools(t)
	for _, svc := range []string{"api", "worker", "airflow"} {
		rec.Respond(daggertest.OnFile("trivy-"+svc+".json", cleanTrivy(svc)))
	}
	rec.Respond(func(c daggertest.Call) (any, bool) {
		args, ok := c.ExecArgs()
		if !ok || c.Leaf != "stdout" || len(args) < 2 || args[0] != "/usr/local/bin/oci" {
			return nil, false
		}
		switch args[1] {
		case "normalize":
			svc := serviceOf(c.Chain.String())
			require.NotEmpty(t, svc, "normalize of an unknown image: %s", c.Chain)
			return `{"digest":"` + serviceDigest[svc] + `"}` + "\n", true
		case "push":
			dst := args[indexOf(args, "--dst")+1]
			svc := dst[strings.LastIndex(dst, "/")+1 : strings.LastIndex(dst, ":")]
			repo := dst[:strings.LastIndex(dst, ":")]
			return fmt.Sprintf(`{"tag":%q,"reference":%q,"digest":%q,"action":%q}`+"\n", dst, repo+"@"+serviceDigest[svc], serviceDigest[svc], action), true
		}
		return nil, false
	})
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

// mountedSource is the chain of the file mounted at path in an exec's container.
func mountedSource(t *testing.T, e daggertest.Exec, path string) string {
	t.Helper()
	st, ok := e.Container.StepWhere("withMountedFile", "path", path)
	require.True(t, ok, "nothing mounted at %s: %s", path, e.Container)
	ref, ok := st.Ref("source")
	require.True(t, ok)
	return ref.Chain.String()
}

func execsWith(words ...string) []daggertest.Exec {
	var out []daggertest.Exec
	for _, e := range rec.Execs() {
		if strings.Contains(e.Line(), strings.Join(words, " ")) {
			out = append(out, e)
		}
	}
	return out
}

func TestPublishScansAndPushesTheVerySameImage(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	password := dag.SetSecret("registry-password", "hunter2-registry-plaintext")
	dir, err := m.Publish(context.Background(), "ci-user", password, "", nil, "", nil, nil, nil, nil)
	require.NoError(t, err)

	assert.Empty(t, rec.CallsTo("publish"), "nothing is pushed by the engine: the scanned archive is pushed by the tool")
	normalize := execsWith("/usr/local/bin/oci normalize")
	require.Len(t, normalize, 3, "each service is built once")
	pushes := execsWith("/usr/local/bin/oci push")
	require.Len(t, pushes, 3)
	var dsts []string
	for _, n := range normalize {
		assert.Equal(t, []string{"/usr/local/bin/oci", "normalize", "--in", "/in/image.tar", "--out", "/out/image.tar", "--created", commitTimeUTC}, n.Args)
		raw := mountedSource(t, n, "/in/image.tar")
		svc := serviceOf(raw)
		require.NotEmpty(t, svc)
		assert.True(t, strings.HasSuffix(raw, `asTarball(forcedCompression:"Gzip",mediaTypes:"OCIMediaTypes")`), "gzip layers, whatever the engine cached: %s", raw)
		assert.Contains(t, raw, `withLabel(name:"org.opencontainers.image.created",value:"`+commitTimeUTC+`")`)
		normalized := n.Container.String() + ".withExec(args:" + renderArgs(n.Args) + ").file(path:\"/out/image.tar\")"

		scans := 0
		for _, e := range execsWith("trivy image --input") {
			if src := mountedSource(t, e, e.Args[3]); src == normalized {
				scans++
				assert.Equal(t, "/images/"+svc+"-"+strings.Replace(serviceDigest[svc], ":", "-", 1)+".tar", e.Args[3], "the report names the scanned digest")
			}
		}
		assert.Equal(t, 2, scans, "%s: Trivy (JSON + SBOM) reads the normalised archive", svc)

		pushed := 0
		for _, p := range pushes {
			if mountedSource(t, p, "/in/image.tar") == normalized {
				pushed++
				dsts = append(dsts, p.Args[indexOf(p.Args, "--dst")+1])
				assert.Contains(t, p.Line(), "--password-file /run/secrets/registry-password")
				_, ok := p.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
				assert.True(t, ok, "the password is a mounted secret")
			}
		}
		assert.Equal(t, 1, pushed, "%s: the archive Trivy scanned is the archive pushed", svc)
	}
	assert.ElementsMatch(t, []string{registry + "/api:main-01234567", registry + "/worker:main-01234567", registry + "/airflow:main-01234567"}, dsts)

	id, err := dir.ID(context.Background())
	require.NoError(t, err)
	files := containerChain(t, string(id)).Files()
	assert.Equal(t, "API_IMAGE="+registry+"/api@"+digestOf(1)+"\nWORKER_IMAGE="+registry+"/worker@"+digestOf(2)+"\nAIRFLOW_IMAGE="+registry+"/airflow@"+digestOf(3)+"\n", files["images.env"])
	assert.Contains(t, files["images.json"], `"api": "`+registry+`/api@`+digestOf(1))
	var published []map[string]string
	require.NoError(t, json.Unmarshal([]byte(files["published.json"]), &published))
	require.Len(t, published, 3)
	assert.Equal(t, "push", published[0]["action"])
	assert.Contains(t, files["scan/gl-container-scanning-report.json"], `"type": "container_scanning"`)
	assert.Empty(t, rec.Leaked("hunter2-registry-plaintext"), "the password must never appear in a query")
}

func TestPublishRetryReusesTheTag(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "reuse")
	dir, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.NoError(t, err)
	id, _ := dir.ID(context.Background())
	files := containerChain(t, string(id)).Files()
	assert.Contains(t, files["published.json"], `"action": "reuse"`)
	assert.Contains(t, files["images.env"], "API_IMAGE="+registry+"/api@"+digestOf(1))
	for _, p := range execsWith("/usr/local/bin/oci push") {
		assert.NotContains(t, p.Line(), "--password-file", "anonymous registry: no credentials")
	}
}

func TestPublishPushesNothingWhenAScanBlocks(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	rec.Respond(daggertest.OnFile("trivy-worker.json", fixture(t, "../ci/artifact/scan/testdata/trivy-api.json")))
	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	assert.Contains(t, err.Error(), "worker image "+digestOf(2))
	assert.Contains(t, err.Error(), "CVE-")
	assert.Empty(t, execsWith("/usr/local/bin/oci push"), "a blocking finding in one image stops every push")
}

func TestPublishFailsWhenTheRegistryRefusesToMoveATag(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	rec.Respond(daggertest.OnExec([]string{"oci", "push", "--dst", registry + "/api:main-01234567"}, map[string]any{
		"stdout": &daggertest.ExecError{Cmd: []string{"/usr/local/bin/oci", "push"}, ExitCode: 5, Stderr: "oci: published tag holds another digest: …"},
	}))
	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api")
	assert.NotContains(t, err.Error(), "Likely cause", "the sample's Dockerfiles pass SOURCE_DATE_EPOCH to every step: no hint")
}

// A project whose Dockerfile runs pip without SOURCE_DATE_EPOCH gets the steps named when a
// rebuild of the same commit is refused.
func TestPublishNamesTheDockerfileStepsBehindARefusedRebuild(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	rec.Respond(daggertest.OnFile("docker/api.Dockerfile", "FROM python:3.11-slim\nRUN pip install -r requirements-api.txt\n"))
	rec.Respond(daggertest.OnExec([]string{"oci", "push", "--dst", registry + "/api:main-01234567"}, map[string]any{
		"stdout": &daggertest.ExecError{Cmd: []string{"/usr/local/bin/oci", "push"}, ExitCode: 5, Stderr: "oci: published tag holds another digest: …"},
	}))
	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "published tag holds another digest")
	assert.Contains(t, err.Error(), "docker/api.Dockerfile line 2 (stage 0): RUN runs pip without SOURCE_DATE_EPOCH")
}

func TestPublishRefusesAPushThatIsNotTheScannedDigest(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	rec.Respond(daggertest.OnExec([]string{"oci", "push", "--dst", registry + "/worker:main-01234567"}, map[string]any{
		"stdout": `{"tag":"x","reference":"` + registry + `/worker@` + digestOf(9) + `","digest":"` + digestOf(9) + `","action":"reuse"}`,
	}))
	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not the scanned image "+digestOf(2))
}

func TestPublishAndBuildRefuseWithoutTheCommitTime(t *testing.T) {
	m := fresh(t, func(a *newArgs) { a.commit, a.ref, a.registry = commitSHA, "main", registry })
	// A previous test's cancelled requests may still reach the recorder: let them land first.
	time.Sleep(300 * time.Millisecond)
	rec.Reset()
	happy(t)
	projectFiles(t)
	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--commit-time=$CI_COMMIT_TIMESTAMP")
	assert.Empty(t, rec.Execs(), "nothing is built without the commit time")
	_, err = m.Build(context.Background(), "api", "7")
	assert.ErrorContains(t, err, "--commit-time=$CI_COMMIT_TIMESTAMP")

	_, err = New(context.Background(), dag.Host().Directory("/work/repo"), "", nil, commitSHA, "main", "", "2025-03-01 09:00",
		registry, "", "", "", "", "", "", "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CI_COMMIT_TIMESTAMP=")
}

func TestBuildLabelsNeverCarryTheClock(t *testing.T) {
	label := func(commitTime string) string {
		m := fresh(t, withRelease, func(a *newArgs) { a.commitTime = commitTime })
		happy(t)
		projectFiles(t)
		ctr, err := m.Build(context.Background(), "api", "7")
		require.NoError(t, err)
		id, err := ctr.ID(context.Background())
		require.NoError(t, err)
		st, ok := containerChain(t, string(id)).StepWhere("withLabel", "name", "org.opencontainers.image.created")
		require.True(t, ok)
		return st.Str("value")
	}
	assert.Equal(t, commitTimeUTC, label(commitTime))
	assert.Equal(t, "2001-02-03T04:05:06Z", label("2001-02-03T04:05:06Z"), "whatever the commit time, that is the label")
	assert.Equal(t, label(commitTime), label(commitTime), "two builds of one commit label alike")
}

// renderArgs renders exec args as the recorder does.
func renderArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		b, _ := json.Marshal(a)
		q[i] = string(b)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// publish-base publishes like publish: the commit time in every timestamp (useradd included),
// `oci normalize`, then `oci push` under a tag that never moves; never the engine's own push.
func TestPublishBaseNormalizesAndPushesUnderATagThatNeverMoves(t *testing.T) {
	m := fresh(t, withRelease)
	happy(t)
	base := digestOf(7)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "normalize"}, map[string]any{"stdout": `{"digest":"` + base + `"}`}))
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "push"}, map[string]any{
		"stdout": `{"tag":"` + registry + `/base:main-01234567","reference":"` + registry + `/base@` + base + `","digest":"` + base + `","action":"push"}`,
	}))
	out, err := m.PublishBase(context.Background(), "ci-user", dag.SetSecret("pw", "base-push-plaintext"), nil)
	require.NoError(t, err, execsText())
	assert.Equal(t, registry+"/base@"+base, out)
	norm := mustExec(t, "/usr/local/bin/oci", "normalize", "--created", "2025-03-01T08:00:00Z")
	assert.Contains(t, mountedSource(t, norm, "/in/image.tar"), "SOURCE_DATE_EPOCH=1740816000 useradd", "useradd writes the commit's day")
	push := mustExec(t, "/usr/local/bin/oci", "push", "--dst", registry+"/base:main-01234567", "--password-file", "/run/secrets/registry-password")
	assert.NotNil(t, push)
	assert.Empty(t, rec.CallsTo("publish"), "never the engine's own push, which would move the tag")
	assert.Empty(t, rec.Leaked("base-push-plaintext"))

	// A retry whose build differs is refused by the tool, with its own words.
	m = fresh(t, withRelease)
	happy(t)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "normalize"}, map[string]any{"stdout": `{"digest":"` + digestOf(8) + `"}`}))
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "push"}, map[string]any{
		"stdout": &daggertest.ExecError{Cmd: []string{"/usr/local/bin/oci", "push"}, ExitCode: 5, Stderr: "oci: published tag holds another digest: " + registry + "/base:main-01234567 already holds " + base},
	}))
	_, err = m.PublishBase(context.Background(), "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already holds "+base)

	// Without the commit time nothing is built or pushed: no timestamp comes from the clock.
	m = fresh(t, func(a *newArgs) { a.commit, a.ref, a.registry = commitSHA, "main", registry })
	time.Sleep(300 * time.Millisecond) // let cancelled requests of the previous run land
	rec.Reset()
	happy(t)
	_, err = m.PublishBase(context.Background(), "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--commit-time=$CI_COMMIT_TIMESTAMP")
	assert.Empty(t, rec.Execs(), "nothing runs without the commit time")
}
