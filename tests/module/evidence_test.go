//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

const evPassword = "REGISTRY-evidence-password-plaintext"

// fullGateReport is what `gate-report` writes for commit: every gate of the catalog, the
// blocking ones with status blocking.
func fullGateReport(t *testing.T, commit string, blocking gate.Status) string {
	t.Helper()
	rep := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		st := gate.Pass
		if g.Name == gate.Lint {
			st = blocking
		}
		rep.Results = append(rep.Results, gate.NewResult(g.Name, st, "x"))
	}
	b, err := rep.JSON()
	require.NoError(t, err)
	return string(b)
}

// registryEvidence answers what `oci verify` writes: evidence.json (the problems the tool
// found, computed here with ci/gate as the tool does), and the documents that counted. The
// pipeline source holds a trusted attestation key (trustKey) and the tool checked the
// signatures against it; unsignedRegistryEvidence is the same without a configured key.
func registryEvidence(t *testing.T, commit, gateReport string, problems ...string) {
	t.Helper()
	trustKey(t)
	answerEvidence(t, commit, testKeyID, gateReport, problems...)
}

func answerEvidence(t *testing.T, commit, keyID, gateReport string, problems ...string) {
	t.Helper()
	if _, err := gate.VerifyReport([]byte(gateReport), domain.Commit(commit)); err != nil {
		problems = append(problems, "api: no gate report attached counts: "+err.Error())
	} else {
		rec.Respond(daggertest.OnFile("evidence/"+"gate-report.json", gateReport))
		rec.Respond(daggertest.OnFile("gate-report.json", gateReport))
	}
	var images []attest.Verified
	for _, svc := range domain.Services() {
		img := domain.Pinned(domain.Repository("registry.example.com/sp/"+string(svc)), domain.Digest("sha256:"+strings.Repeat("e", 64)))
		images = append(images, attest.Verified{Service: svc, Image: img, Problems: []string{}})
	}
	sum := attest.Summary{Commit: domain.Commit(commit), OK: len(problems) == 0, Problems: append([]string{}, problems...), Images: images, KeyID: keyID}
	b, err := json.Marshal(sum)
	require.NoError(t, err)
	rec.Respond(daggertest.OnFile("evidence.json", string(b)))
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if c.Leaf != "exists" {
			return nil, false
		}
		p, _ := c.LeafArgs["path"].(string)
		return true, strings.HasPrefix(p, "trivy-") && strings.HasSuffix(p, ".json") // the reports, not the project's trivy-secret.yaml
	})
	for _, svc := range []string{"api", "worker", "airflow"} {
		rec.Respond(daggertest.OnFile("trivy-"+svc+".json", `{"SchemaVersion": 2, "ArtifactName": "/tmp/image.tar", "ArtifactType": "container_image", "Results": []}`))
	}
}

func evidenceExec(t *testing.T) daggertest.Exec {
	t.Helper()
	e, ok := rec.ExecWith("/usr/local/bin/oci", "verify")
	require.True(t, ok, "the evidence is read from the registry with the registry tool (ci/cmd/oci):\n%s", execsText())
	return e
}

func TestDeployStagingReadsEachDigestsEvidenceFromTheRegistry(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, commitSHA, fullGateReport(t, commitSHA, gate.Pass))
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"),
		nil, 0, "ci-user", dag.SetSecret("registry-password", evPassword), nil, nil)
	require.Error(t, err, "no approvals were proven")
	assert.Contains(t, err.Error(), "approval")
	assert.NotContains(t, err.Error(), "gate report is not green", "the registry's gate report counts")

	e := evidenceExec(t)
	line := e.Line()
	for _, want := range []string{"verify --commit " + commitSHA, "--out /out/evidence", "--image api=" + api, "--image worker=" + worker, "--image airflow=" + airflow,
		"--username-file /run/registry/username --password-file /run/secrets/registry-password"} {
		assert.Contains(t, line, want)
	}
	_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
	assert.True(t, ok, "the registry password is a mounted secret")
	_, ok = e.Container.StepWhere("withEnvVariable", "name", "SP_EVIDENCE_AT")
	assert.True(t, ok, "the registry is read every time, never from the cache")
	build := mustExec(t, "go", "build", "./ci/cmd/oci")
	_, ok = build.Container.StepWhere("withWorkdir", "path", "/pipeline")
	assert.True(t, ok)
	assert.Empty(t, rec.Leaked(evPassword))
}

func TestDeployRefusesWhatTheRegistryDoesNotProve(t *testing.T) {
	api, worker, airflow := deployImages()
	other := strings.Repeat("b", 40)
	cases := map[string]struct {
		gate     string
		problems []string
		want     string
	}{
		"missing referrer":             {fullGateReport(t, commitSHA, gate.Pass), []string{"worker: no Trivy report is attached to " + worker + ": run dagger call … publish"}, "no Trivy report is attached"},
		"another commit's gate report": {fullGateReport(t, other, gate.Pass), nil, "report of " + other},
		"red gate report":              {fullGateReport(t, commitSHA, gate.Fail), nil, "blocking gates not passed: lint (fail)"},
		"empty results": {`{"schemaVersion":1,"commit":"` + commitSHA + `","started":"","finished":"","verdict":"pass","blockingFailures":[],"signalsRaised":[],"results":[]}`, nil,
			"blocking gates missing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := fresh(t, withRelease)
			deployHappy(t)
			registryEvidence(t, commitSHA, tc.gate, tc.problems...)
			_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refused, nothing was changed")
			assert.Contains(t, err.Error(), tc.want)
			_, ran := rec.ExecWith("helm", "upgrade")
			assert.False(t, ran)
		})
	}
}

func TestDeployDoesNotTrustAForgedSummary(t *testing.T) {
	api, worker, airflow := deployImages()
	for name, sum := range map[string]string{
		"ok without images":  `{"commit":"` + commitSHA + `","ok":true,"problems":[],"images":[]}`,
		"another commit":     `{"commit":"` + strings.Repeat("c", 40) + `","ok":true,"problems":[],"images":[{}]}`,
		"not JSON":           `{}{`,
		"ok despite problem": `{"commit":"` + commitSHA + `","ok":true,"problems":["x"],"images":[{}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := fresh(t, withRelease)
			deployHappy(t)
			registryEvidence(t, commitSHA, fullGateReport(t, commitSHA, gate.Pass))
			rec.Respond(daggertest.OnFile("evidence.json", sum))
			_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "evidence.json")
		})
	}
	// The tool's gate report is checked again: a red one never counts, whatever evidence.json says.
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, commitSHA, fullGateReport(t, commitSHA, gate.Pass))
	rec.Respond(daggertest.OnFile("gate-report.json", fullGateReport(t, commitSHA, gate.Error)))
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint (error)")
}

func TestProductionRefusesReportFiles(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", greenReport(commitSHA), nil, dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "drop --gate-report and --scan-report")
	_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read)

	// Staging may still use the files offline, checked as strictly.
	m = fresh(t, withRelease)
	deployHappy(t)
	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), dag.Directory(), dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "", nil, nil, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "gate report is not green")
	_, read = rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read, "files given: the registry is not read")

	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/c"), nil, 0, "ci-user", nil, nil, nil)
	assert.ErrorContains(t, err, "--registry-username/--registry-password")
}

func TestVerifyEvidenceAndAttest(t *testing.T) {
	m := fresh(t, withRelease)
	api, worker, airflow := deployImages()
	registryEvidence(t, commitSHA, fullGateReport(t, commitSHA, gate.Pass), "api: no CycloneDX SBOM is attached to "+api+": run …")
	_, err := m.VerifyEvidence(context.Background(), api, worker, airflow, "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no CycloneDX SBOM is attached to "+api)

	m = fresh(t, withRelease)
	registryEvidence(t, commitSHA, fullGateReport(t, commitSHA, gate.Pass))
	dir, err := m.VerifyEvidence(context.Background(), api, worker, airflow, "", nil, nil)
	require.NoError(t, err)
	require.NotNil(t, dir)

	// attest attaches only the complete green report of the commit.
	m = fresh(t, withRelease)
	_, err = m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, strings.Repeat("b", 40), gate.Pass)), nil, nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was attached")
	_, attached := rec.ExecWith("/usr/local/bin/oci", "attach")
	assert.False(t, attached)

	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "attach"}, map[string]any{"stdout": `{"image":"x","attached":[]}`}))
	_, err = m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), nil, nil, "ci-user", dag.SetSecret("pw", evPassword), nil, nil, nil)
	require.NoError(t, err)
	e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", api, "--gate-report", "/in/gate-report.json")
	_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/registry-password")
	assert.True(t, ok)
	assert.Empty(t, rec.Leaked(evPassword))
}

// evidenceTools answers what publish's evidence step asks: the Dockerfiles (for the base
// images of the provenance), the engine's digest of each base image, and the registry tool (ci/cmd/oci).
func evidenceTools(t *testing.T) {
	t.Helper()
	for _, svc := range []string{"api", "worker", "airflow"} {
		rec.Respond(daggertest.OnFile("docker/"+svc+".Dockerfile", fixture(t, "../tests/testdata/soccerpredict/docker/"+svc+".Dockerfile")))
	}
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if c.Leaf != "imageRef" || len(c.Chain) == 0 {
			return nil, false
		}
		return "docker.io/library/" + c.Chain[len(c.Chain)-1].Str("address") + "@sha256:" + strings.Repeat("e", 64), true
	})
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "attach"}, map[string]any{"stdout": `{"attached":[]}`}))
}

func TestPublishAttachesTheEvidenceOfEveryPushedDigest(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	report := dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass))
	_, err := m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "https://gitlab.com/p/-/pipelines/9", nil, nil, nil)
	require.NoError(t, err, execsText())
	for _, svc := range []string{"api", "worker", "airflow"} {
		ref := registry + "/" + svc + "@" + serviceDigest[svc]
		e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", ref, "--gate-report /in/gate-report.json", "--trivy /in/trivy.json", "--sbom /in/sbom.cdx.json", "--provenance /in/provenance.json",
			"--password-file /run/secrets/registry-password")
		trivy, ok := e.Container.StepWhere("withMountedFile", "path", "/in/trivy.json")
		require.True(t, ok)
		src, _ := trivy.Ref("source")
		assert.Contains(t, src.Chain.String(), "trivy-"+svc+".json", "the report is the scan of the archive that was pushed")
		prov, ok := e.Container.StepWhere("withNewFile", "path", "/in/provenance.json")
		require.True(t, ok)
		st, err := attest.ParseStatement([]byte(prov.Str("contents")))
		require.NoError(t, err)
		assert.True(t, st.Covers(domain.Digest(serviceDigest[svc])))
		assert.Equal(t, commitSHA, st.Commit())
		assert.Equal(t, "https://gitlab.com/p/-/pipelines/9", st.Predicate.RunDetails.Metadata.InvocationID)
		assert.Equal(t, "7", st.Predicate.BuildDefinition.ExternalParameters.ModelVersion)
		assert.Contains(t, prov.Str("contents"), "@sha256:"+strings.Repeat("e", 64), "base images by the digest the engine resolved")
	}
	assert.Empty(t, rec.Leaked(evPassword))

	// A gate report that does not count is refused before anything is built or pushed.
	m = fresh(t, withRelease)
	_, err = m.Publish(context.Background(), "", nil, "7", dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Fail)), "", nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint (fail)")
	assert.Empty(t, rec.CallsTo("publish"))
}

// The evidence of images on a registry without TLS is read only with the explicit opt-in, which
// must name a registry the images are on, and which production refuses (issue 13).
func TestDeployEvidenceReadsTakeThePlainHTTPOptIn(t *testing.T) {
	const host = "reg.local:5000"
	api, worker, airflow := host+"/sp/api@"+digestOf(1), host+"/sp/worker@"+digestOf(2), host+"/sp/airflow@"+digestOf(3)
	deploy := func(env string, insecure []string) error {
		m := fresh(t, withRelease)
		deployHappy(t)
		registryEvidence(t, commitSHA, fullGateReport(t, commitSHA, gate.Pass))
		_, err := m.Deploy(context.Background(), env, api, worker, airflow,
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", nil, "", 0, 0, "", "", nil, nil, dag.Host().Directory("/work/repo/charts/soccer-predict"),
			nil, 0, "", nil, nil, insecure)
		return err
	}

	require.Error(t, deploy("staging", []string{"REG.local:5000"}), "no approvals were proven")
	e := evidenceExec(t)
	assert.Contains(t, e.Line(), "--insecure-registry reg.local:5000")

	require.Error(t, deploy("staging", nil))
	assert.NotContains(t, evidenceExec(t).Line(), "--insecure-registry", "no opt-in, none passed: the tool reaches reg.local over https only")

	err := deploy("staging", []string{"other.local:5000"})
	assert.ErrorContains(t, err, "--insecure-registry=other.local:5000 is not needed")
	_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read, "a bad opt-in reads nothing")

	err = deploy("production", []string{host})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "production")
	_, read = rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read, "production refuses the opt-in before reading anything")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)
}
