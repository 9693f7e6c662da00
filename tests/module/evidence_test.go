//go:build daggerharness

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
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
		rep.Results = append(rep.Results, gateResult(g.Name, st, "x"))
	}
	b, err := rep.JSON()
	require.NoError(t, err)
	return string(b)
}

// registryEvidence is the registry of a pipeline whose source holds a keyed Sigstore policy and
// its key (trustKey): publish attached gateReport, signed, to every image, plus what problems
// name; the registry tool answers for it as fakeVerify says.
func registryEvidence(t *testing.T, gateReport string, problems ...string) {
	t.Helper()
	trustKey(t)
	fakeVerify(t, gateReport, problems...)
}

// fakeVerify answers `oci verify` (ci/cmd/oci) as the tool does for the request the module made,
// never for anything else: evidence.json is about that exec's --commit and its --image
// references, echoes its --env and --nonce, and names the trust of the Sigstore policy the
// module mounted at --sigstore-policy (with the key at --public-key when keyed), as the tool's
// verifier names it; no policy, no name. The
// registry holds gateReport for every image: it counts (and is written out) only when it is the
// complete green report of the requested commit (gate.VerifyReport, as the tool checks it);
// problems are the registry's other findings, "<service>: …", listed under that image. The
// attached Trivy reports are clean.
func fakeVerify(t *testing.T, gateReport string, problems ...string) {
	t.Helper()
	forgedVerify(t, gateReport, nil, problems...)
}

// forgedVerify is fakeVerify with the summary changed by forge before it is written: an
// evidence.json the tool would not write for this request (stale, another run's, tampered),
// which the module must refuse.
func forgedVerify(t *testing.T, gateReport string, forge func(*attest.Summary), problems ...string) {
	t.Helper()
	rec.Respond(func(c daggertest.Call) (any, bool) {
		req, ok := verifyRequest(c)
		if !ok || c.Leaf != "contents" {
			return nil, false
		}
		switch path := c.Chain[len(c.Chain)-1].Str("path"); path {
		case "evidence.json":
			sum := verifierSummary(t, req, gateReport, problems)
			if forge != nil {
				forge(&sum)
			}
			b, err := json.Marshal(sum)
			require.NoError(t, err)
			return string(b), true
		case gate.GateReportJSON:
			if _, err := gate.VerifyReport([]byte(gateReport), req.commit); err != nil {
				return nil, false // the tool writes no gate report that does not count
			}
			return gateReport, true
		case "trivy-api.json", "trivy-worker.json", "trivy-airflow.json":
			return `{"SchemaVersion": 2, "ArtifactName": "/tmp/image.tar", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": []}`, true
		}
		return nil, false
	})
	rec.Respond(func(c daggertest.Call) (any, bool) {
		if _, ok := verifyRequest(c); !ok || c.Leaf != "exists" {
			return nil, false
		}
		p, _ := c.LeafArgs["path"].(string)
		return strings.HasPrefix(p, "trivy-") && strings.HasSuffix(p, ".json"), true // the reports, not the project's trivy-secret.yaml
	})
}

// verification is what the module asked `oci verify` for.
type verification struct {
	commit     domain.Commit
	images     []attest.Verified // service and reference, in the order asked
	env, nonce string
	// trust is what the Sigstore policy the module mounted trusts, named as the tool names it
	// ("" without --sigstore-policy).
	trust string
}

// verifyRequest finds the `oci verify` exec a call reads the output of.
func verifyRequest(c daggertest.Call) (verification, bool) {
	for i := len(c.Chain) - 1; i >= 0; i-- {
		if c.Chain[i].Field != "withExec" {
			continue
		}
		args := c.Chain[i].Strings("args")
		if len(args) < 2 || args[0] != "/usr/local/bin/oci" || args[1] != "verify" {
			return verification{}, false
		}
		files := c.Chain[:i].NewFiles()
		var v verification
		var policyFile, keyFile string
		for j := 2; j < len(args); j++ {
			switch args[j] {
			case "--commit":
				v.commit = domain.Commit(args[j+1])
			case "--image":
				svc, ref, _ := strings.Cut(args[j+1], "=")
				img, err := domain.ParseImageRef(ref)
				if err != nil {
					return verification{}, false
				}
				v.images = append(v.images, attest.Verified{Service: domain.Service(svc), Image: img, Problems: []string{}})
			case "--env":
				v.env = args[j+1]
			case "--nonce":
				v.nonce = args[j+1]
			case "--sigstore-policy":
				policyFile = args[j+1]
			case "--public-key":
				keyFile = args[j+1]
			}
		}
		if policyFile != "" {
			v.trust = trustNamed(files[policyFile], files[keyFile])
		}
		return v, true
	}
	return verification{}, false
}

// trustNamed names what a Sigstore policy trusts as the registry tool's verifier does
// (ci/artifact/attest/sigstore: the keyless identity and issuer, or "key sha256:<hex of the
// DER public key>"), from the files the module mounted; "unreadable" when they are not.
func trustNamed(policy, publicKey string) string {
	p, err := attest.ParseSigstorePolicy([]byte(policy))
	if err != nil {
		return "unreadable policy"
	}
	if p.Mode == attest.ModeKeyless {
		return "identity " + p.Keyless.Identity() + " issued by " + p.Keyless.Issuer()
	}
	block, _ := pem.Decode([]byte(publicKey))
	if block == nil {
		return "unreadable key"
	}
	sum := sha256.Sum256(block.Bytes)
	return "key sha256:" + hex.EncodeToString(sum[:])
}

// verifierSummary is the evidence.json the tool writes for req.
func verifierSummary(t *testing.T, req verification, gateReport string, problems []string) attest.Summary {
	t.Helper()
	for _, p := range problems {
		placed := false
		for _, v := range req.images {
			placed = placed || strings.HasPrefix(p, string(v.Service)+": ")
		}
		assert.True(t, placed, "the registry's problem %q is about no image the module asked for", p)
	}
	set := attest.Set{}
	for _, v := range req.images {
		if _, err := gate.VerifyReport([]byte(gateReport), req.commit); err != nil {
			v.Problems = append(v.Problems, fmt.Sprintf("%s: no gate report attached to %s counts (1 attached): %v", v.Service, v.Image, err))
		}
		for _, p := range problems {
			if strings.HasPrefix(p, string(v.Service)+": ") {
				v.Problems = append(v.Problems, p)
			}
		}
		set = append(set, v)
	}
	sort.Slice(set, func(i, j int) bool { return set[i].Service < set[j].Service })
	sum := attest.NewSummary(req.commit, set)
	sum.Environment, sum.Nonce, sum.SigstorePolicy = domain.Environment(req.env), req.nonce, req.trust
	return sum
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
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil,
		nil, 0, "ci-user", dag.SetSecret("registry-password", evPassword), nil, nil, false)
	refusedForApprovalsOnly(t, err, "staging") // the registry's evidence counted

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
	build := mustExec(t, "go", "build", "-o", "/out/oci")
	_, ok = build.Container.StepWhere("withWorkdir", "path", "/pipeline/ci/cmd/oci")
	assert.True(t, ok)
	assert.Empty(t, rec.Leaked(evPassword))
}

// The evidence that counts is the registry's answer about the very digests being deployed:
// with it, an approved production deploy reaches helm; an evidence.json about other digests
// (a stale or foreign answer) is refused, and nothing is deployed or promoted.
func TestDeployAndReleaseCountOnlyTheEvidenceOfTheirOwnImages(t *testing.T) {
	api, worker, airflow := deployImages()
	deployProduction := func(forge func(*attest.Summary)) (string, error) {
		srv := gitlabWithApprovals(t, "production", "bob", "carol")
		m := fresh(t, withRelease)
		asGitLabCom(t, srv)
		m.Settings = append(m.Settings, "CI_PROJECT_ID=42")
		deployHappy(t)
		trustKey(t)
		forgedVerify(t, fullGateReport(t, commitSHA, gate.Pass), forge)
		return m.Deploy(context.Background(), "production", api, worker, airflow,
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", dag.SetSecret("gitlab", gitlabTokenPln), "", 777, 0, "", "push",
			nil, nil, nil, dag.SetSecret("job", jobTokenPln), 555, "", nil, nil, nil, false)
	}
	out, err := deployProduction(nil)
	require.NoError(t, err, execsText())
	assert.Contains(t, out, "deployed soccer-predict to production")
	for _, want := range []string{"--image api=" + api, "--image worker=" + worker, "--image airflow=" + airflow, "--public-key"} {
		assert.Contains(t, evidenceExec(t).Line(), want)
	}

	stale := registry + "/worker@sha256:" + strings.Repeat("e", 64)
	aboutOthers := func(s *attest.Summary) {
		for i := range s.Images {
			if s.Images[i].Service == domain.Worker {
				s.Images[i].Image = domain.Pinned(domain.Repository(registry+"/worker"), domain.Digest("sha256:"+strings.Repeat("e", 64)))
			}
		}
	}
	_, err = deployProduction(aboutOthers)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evidence.json is not about the images being deployed")
	assert.Contains(t, err.Error(), "worker: it verified "+stale+", not "+worker)
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran, "nothing is deployed")

	// A release reads the same answer and refuses it the same way.
	_, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m := relPipeline(t, srv.URL)
	trustKey(t)
	forgedVerify(t, fullGateReport(t, relCommit, gate.Pass), func(s *attest.Summary) { s.Images = s.Images[:2] })
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())
	_, err = m.Release(context.Background(), "v2.0.0", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "release refused, nothing was promoted")
	assert.Contains(t, err.Error(), "("+relRef("worker")+") was not verified")
	assert.Empty(t, relPromotions())
}

// refusedForApprovalsOnly asserts that a deploy to env without any GitLab proof was refused by
// the promotion policy for that reason, and not for its evidence (which counted), and that
// nothing was deployed.
func refusedForApprovalsOnly(t *testing.T, err error, env string) {
	t.Helper()
	require.Error(t, err)
	for _, want := range []string{"deploy to " + env + " refused by the promotion policy (nothing was changed)", "approval(s) proven by GitLab and none was given"} {
		assert.Contains(t, err.Error(), want)
	}
	for _, evidence := range []string{"gate report is not green", "image scan has blocking findings", "evidence in the registry does not count", "configured key"} {
		assert.NotContains(t, err.Error(), evidence, "the evidence counted")
	}
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran, "nothing is deployed")
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
			registryEvidence(t, tc.gate, tc.problems...)
			_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
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
			registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
			rec.Respond(daggertest.OnFile("evidence.json", sum))
			_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
				dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
				"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "evidence.json")
		})
	}
	// The tool's gate report is checked again: a red one never counts, whatever evidence.json says.
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	rec.Respond(daggertest.OnFile("gate-report.json", fullGateReport(t, commitSHA, gate.Error)))
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lint (error)")
}

func TestProductionRefusesReportFiles(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "production", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", greenReport(commitSHA), nil, nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "drop --gate-report and --scan-report")
	_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read)

	// Staging refuses them too: they are not signed. Nothing is read.
	m = fresh(t, withRelease)
	deployHappy(t)
	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), dag.Directory(), nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "staging counts only evidence signed as "+attest.SigstorePolicyPath+" says, and report files are not signed")
	_, read = rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read, "refused before anything is read")

	// The twin: without the files, staging's signed registry evidence counts.
	m = fresh(t, withRelease)
	deployHappy(t)
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass))
	refusedForApprovalsOnly(t, deployTo(t, m, "staging"), "staging")

	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "ci-user", nil, nil, nil, false)
	assert.ErrorContains(t, err, "--registry-username/--registry-password")
}

func TestVerifyEvidenceAndAttest(t *testing.T) {
	m := fresh(t, withRelease)
	api, worker, airflow := deployImages()
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass), "api: no CycloneDX SBOM is attached to "+api+": run …")
	_, err := m.VerifyEvidence(context.Background(), api, worker, airflow, "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no CycloneDX SBOM is attached to "+api)

	m = fresh(t, withRelease)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	dir, err := m.VerifyEvidence(context.Background(), api, worker, airflow, "", nil, nil)
	require.NoError(t, err)
	require.NotNil(t, dir)

	// attest attaches only the complete green report of the commit.
	m = fresh(t, withRelease)
	_, err = m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, strings.Repeat("b", 40), gate.Pass)), nil, nil, "", nil, nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was attached")
	_, attached := rec.ExecWith("/usr/local/bin/oci", "attach")
	assert.False(t, attached)

	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "attach"}, map[string]any{"stdout": `{"image":"x","attached":[]}`}))
	_, err = m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), nil, nil, "ci-user", dag.SetSecret("pw", evPassword), nil, nil, nil, nil)
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
	_, err := m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "https://gitlab.com/p/-/pipelines/9", nil, nil, nil, nil)
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
	_, err = m.Publish(context.Background(), "", nil, "7", dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Fail)), "", nil, nil, nil, nil)
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
		registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
		_, err := m.Deploy(context.Background(), env, api, worker, airflow,
			dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
			"7", nil, "", 0, 0, "", "", nil, nil, nil,
			nil, 0, "", nil, nil, insecure, false)
		return err
	}

	refusedForApprovalsOnly(t, deploy("staging", []string{"REG.local:5000"}), "staging") // the evidence was read and counted
	e := evidenceExec(t)
	assert.Contains(t, e.Line(), "--insecure-registry reg.local:5000")

	refusedForApprovalsOnly(t, deploy("staging", nil), "staging")
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
