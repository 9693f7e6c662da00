//go:build daggerharness

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// The trusted attestation key of a keyed policy: a key made for this test run, and its key ID
// computed here by its definition (SHA-256 of the DER public key).
var testKeyPEM, testKeyID = func() (string, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "sha256:" + hex.EncodeToString(sum[:])
}()

// The secrets' plaintexts: they must never appear in a query.
const (
	signingKeyPlain      = "-----BEGIN PRIVATE KEY-----\nSIGNING-KEY-PLAINTEXT-must-never-leak\n-----END PRIVATE KEY-----\n"
	signingPasswordPlain = "COSIGN-PASSWORD-plaintext-must-never-leak"
	idTokenPlain         = "eyJhbGciOiJSUzI1NiJ9.OIDC-TOKEN-plaintext-must-never-leak.c2ln"
	keyedPolicyJSON      = `{"mode":"keyed"}`
)

// The committed policy as it is on disk (the file the repository ships, read here without the
// module's embed).
func committedPolicyOnDisk(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../" + attest.SigstorePolicyPath) // the tests run in dagger/
	require.NoError(t, err)
	return string(b)
}

// shippedIdentity is the keyless trust of the committed policy, as the tool names it.
const shippedIdentity = "identity https://gitlab.com/soccerpredictai/soccerpredict//.gitlab-ci.yml@refs/heads/main issued by https://gitlab.com"

// trustKey compiles in a keyed Sigstore policy with the test key as its public key.
func trustKey(t *testing.T) {
	t.Helper()
	setTrust(t, attest.TrustFiles{Policy: []byte(keyedPolicyJSON), PublicKey: []byte(testKeyPEM)})
}

// asShipped makes the module hold the trust the repository ships: the keyless policy.
func asShipped(t *testing.T) {
	t.Helper()
	setTrust(t, attest.CommittedTrustFiles())
}

func setTrust(t *testing.T, f attest.TrustFiles) {
	t.Helper()
	prev := committedTrust
	committedTrust = func() attest.TrustFiles { return f }
	t.Cleanup(func() { committedTrust = prev })
}

func deployTo(t *testing.T, m *SoccerPredict, env string) error {
	t.Helper()
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), env, api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	return err
}

// policyMounted asserts that e's container holds, at path, exactly the given policy.
func policyMounted(t *testing.T, e daggertest.Exec, want string) {
	t.Helper()
	step, ok := e.Container.StepWhere("withNewFile", "path", "/trust/sigstore.json")
	require.True(t, ok, "the Sigstore policy is mounted for the tool: %s", e.Line())
	assert.Equal(t, want, step.Str("contents"), "the policy is the one compiled into the module")
}

func TestPublishSignsKeylesslyWithTheTokenOnlyAsASecretFile(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	asShipped(t)
	report := dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass))
	_, err := m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "https://gitlab.com/p/-/pipelines/9",
		nil, nil, nil, dag.SetSecret("sigstore-id-token", idTokenPlain))
	require.NoError(t, err, execsText())
	for _, svc := range []string{"api", "worker", "airflow"} {
		ref := registry + "/" + svc + "@" + serviceDigest[svc]
		e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", ref, "--sigstore-policy /trust/sigstore.json", "--id-token-file /run/secrets/sigstore-id-token")
		_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/sigstore-id-token")
		assert.True(t, ok, "the OIDC token is a mounted secret file")
		policyMounted(t, e, committedPolicyOnDisk(t))
		for _, not := range []string{"--signing-key-file", "--public-key", "--trusted-root"} {
			assert.NotContains(t, e.Line(), not, "keyless on the public good: no key, no private root")
		}
	}
	// The token is checked first, by the tool, from the same mounted secret file.
	check := mustExec(t, "/usr/local/bin/oci", "check-key", "--sigstore-policy /trust/sigstore.json", "--id-token-file /run/secrets/sigstore-id-token")
	_, ok := check.Container.StepWhere("withMountedSecret", "path", "/run/secrets/sigstore-id-token")
	assert.True(t, ok, "the token is checked as a mounted secret file")
	assert.NotContains(t, check.Line(), "--signing-key-file")
	for _, p := range []string{idTokenPlain, "OIDC-TOKEN-plaintext", evPassword} {
		assert.Empty(t, rec.Leaked(p), "plaintext %q reached a query", p)
	}

	// A token the tool refuses (found by the lab: a malformed token failed only at attach, after
	// all three images were built, scanned and pushed) fails publish before anything is pushed,
	// with the tool's reason.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	asShipped(t)
	checkKeyRefuses("oci: --sigstore-id-token is not a JWT (1 dot-separated parts, not 3)")
	_, err = m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "", nil, nil, nil, dag.SetSecret("sigstore-id-token", idTokenPlain))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--sigstore-id-token (nothing was built or pushed)")
	assert.Contains(t, err.Error(), "is not a JWT")
	nothingPushed(t)

	// The keyed flag under the keyless policy: refused before anything is built or pushed,
	// naming the flag to pass.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	asShipped(t)
	_, err = m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "", dag.SetSecret("signing-key", signingKeyPlain), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was built or pushed")
	assert.Contains(t, err.Error(), "pass --sigstore-id-token=env:SIGSTORE_ID_TOKEN")
	assert.Empty(t, rec.Execs(), "nothing ran: %s", execsText())
	assert.Empty(t, rec.Leaked("SIGNING-KEY-PLAINTEXT"))

	// No signing input: the evidence is attached unsigned (dev's convenience).
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	asShipped(t)
	_, err = m.Publish(context.Background(), "", nil, "7", report, "", nil, nil, nil, nil)
	require.NoError(t, err, execsText())
	e := mustExec(t, "/usr/local/bin/oci", "attach")
	for _, not := range []string{"--sigstore-policy", "--id-token-file", "--signing-key-file"} {
		assert.NotContains(t, e.Line(), not)
	}
}

func TestPublishSignsWithTheKeyUnderAKeyedPolicy(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	trustKey(t)
	report := dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass))
	_, err := m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "https://gitlab.com/p/-/pipelines/9",
		dag.SetSecret("signing-key", signingKeyPlain), dag.SetSecret("signing-password", signingPasswordPlain), nil, nil)
	require.NoError(t, err, execsText())
	for _, svc := range []string{"api", "worker", "airflow"} {
		ref := registry + "/" + svc + "@" + serviceDigest[svc]
		e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", ref, "--sigstore-policy /trust/sigstore.json", "--public-key /trust/attestation.pub",
			"--signing-key-file /run/secrets/signing-key", "--signing-password-file /run/secrets/signing-key-password")
		_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key")
		assert.True(t, ok, "the signing key is a mounted secret")
		_, ok = e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key-password")
		assert.True(t, ok, "its password too")
		pub, ok := e.Container.StepWhere("withNewFile", "path", "/trust/attestation.pub")
		require.True(t, ok, "the tool refuses a key that is not the trusted key's private half")
		assert.Equal(t, testKeyPEM, pub.Str("contents"), "the trusted key is the one compiled into the module")
		policyMounted(t, e, keyedPolicyJSON)
	}
	check := mustExec(t, "/usr/local/bin/oci", "check-key", "--sigstore-policy /trust/sigstore.json", "--public-key /trust/attestation.pub", "--signing-key-file /run/secrets/signing-key")
	_, ok := check.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key")
	assert.True(t, ok)
	for _, p := range []string{signingKeyPlain, "SIGNING-KEY-PLAINTEXT", signingPasswordPlain, evPassword} {
		assert.Empty(t, rec.Leaked(p), "plaintext %q reached a query", p)
	}

	// A key the tool refuses fails publish before anything is built or pushed.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	trustKey(t)
	checkKeyRefuses("oci: the signing key is not the private half of the trusted public key")
	_, err = m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "", dag.SetSecret("signing-key", signingKeyPlain), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was built or pushed")
	nothingPushed(t)

	// The keyless token under the keyed policy: refused before anything runs, naming the key flag.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	trustKey(t)
	_, err = m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "", nil, nil, nil, dag.SetSecret("sigstore-id-token", idTokenPlain))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is keyed: pass --signing-key=env:SP_SIGNING_KEY")
	assert.Empty(t, rec.Execs(), "nothing ran: %s", execsText())
	assert.Empty(t, rec.Leaked("OIDC-TOKEN-plaintext"))

	// A password without a key is a mistake, named before anything runs.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	trustKey(t)
	_, err = m.Publish(context.Background(), "", nil, "7", report, "", nil, dag.SetSecret("signing-password", signingPasswordPlain), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--signing-key-password needs --signing-key")
}

func TestAttestSignsAsThePolicySays(t *testing.T) {
	m := fresh(t, withRelease)
	asShipped(t)
	api, _, _ := deployImages()
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "attach"}, map[string]any{"stdout": `{"image":"x","attached":[]}`}))
	_, err := m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), nil, nil, "", nil,
		nil, nil, nil, dag.SetSecret("sigstore-id-token", idTokenPlain))
	require.NoError(t, err)
	e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", api, "--sigstore-policy /trust/sigstore.json", "--id-token-file /run/secrets/sigstore-id-token")
	_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/sigstore-id-token")
	assert.True(t, ok)
	assert.Empty(t, rec.Leaked("OIDC-TOKEN-plaintext"))

	// A key under the keyless policy: nothing attached, the right flag named.
	m = fresh(t, withRelease)
	asShipped(t)
	_, err = m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), nil, nil, "", nil,
		dag.SetSecret("signing-key", signingKeyPlain), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was attached")
	assert.Contains(t, err.Error(), "pass --sigstore-id-token=env:SIGSTORE_ID_TOKEN")
	_, attached := rec.ExecWith("/usr/local/bin/oci", "attach")
	assert.False(t, attached)
}

// A fresh clone deploys to production under the committed keyless policy: no key to manage. The
// tool is asked to verify bundles under that policy, for this environment and this run.
func TestDeployVerifiesBundlesUnderTheCommittedPolicy(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t) // the trust as shipped
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass))
	refusedForApprovalsOnly(t, deployTo(t, m, "production"), "production") // the signed evidence counted
	e := evidenceExec(t)
	assert.Contains(t, e.Line(), "--sigstore-policy /trust/sigstore.json")
	assert.Contains(t, e.Line(), "--env production")
	assert.Regexp(t, regexp.MustCompile(`--nonce [0-9a-f]{32}( |$)`), e.Line())
	assert.NotContains(t, e.Line(), "--public-key", "keyless: no key is trusted")
	policyMounted(t, e, committedPolicyOnDisk(t))
	first := nonceOf(t, e)

	// Each run its own nonce.
	m = fresh(t, withRelease)
	deployHappy(t)
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass))
	refusedForApprovalsOnly(t, deployTo(t, m, "staging"), "staging")
	e = evidenceExec(t)
	assert.Contains(t, e.Line(), "--env staging")
	assert.NotEqual(t, first, nonceOf(t, e))

	// Keyed: the key compiled in is given to the tool.
	m = fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	refusedForApprovalsOnly(t, deployTo(t, m, "production"), "production")
	e = evidenceExec(t)
	assert.Contains(t, e.Line(), "--public-key /trust/attestation.pub")
	pub, ok := e.Container.StepWhere("withNewFile", "path", "/trust/attestation.pub")
	require.True(t, ok)
	assert.Equal(t, testKeyPEM, pub.Str("contents"))
}

func nonceOf(t *testing.T, e daggertest.Exec) string {
	t.Helper()
	for i, a := range e.Args {
		if a == "--nonce" && i+1 < len(e.Args) {
			return e.Args[i+1]
		}
	}
	t.Fatalf("no --nonce in %s", e.Line())
	return ""
}

// The verifier's answer must be the answer to this run's question: a summary of another
// environment, another run (nonce), checked against another policy or none, or about other
// digests is refused, and nothing is deployed. The honest answer counts (the twin).
func TestDeployRefusesAnAnswerThatIsNotItsOwn(t *testing.T) {
	for name, tc := range map[string]struct {
		forge func(*attest.Summary)
		want  string
	}{
		"another environment's answer": {func(s *attest.Summary) { s.Environment = domain.Staging }, `environment "staging", not production`},
		"a stale nonce":                {func(s *attest.Summary) { s.Nonce = strings.Repeat("0", 32) }, `nonce "` + strings.Repeat("0", 32) + `", not this run's`},
		"an answer without a nonce":    {func(s *attest.Summary) { s.Nonce = "" }, `nonce "", not this run's`},
		"signatures unchecked":         {func(s *attest.Summary) { s.SigstorePolicy = "" }, "checked against no Sigstore policy (signatures unchecked)"},
		"another identity trusted": {func(s *attest.Summary) {
			s.SigstorePolicy = "identity https://gitlab.com/mallory/fork//.gitlab-ci.yml@refs/heads/main issued by https://gitlab.com"
		}, "not against the committed policy " + attest.SigstorePolicyPath},
		"other digests": {func(s *attest.Summary) {
			s.Images[0].Image = domain.Pinned(s.Images[0].Image.Repository, domain.Digest("sha256:"+strings.Repeat("e", 64)))
		}, "evidence.json is not about the images being deployed"},
	} {
		t.Run(name, func(t *testing.T) {
			m := fresh(t, withRelease)
			deployHappy(t)
			forgedVerify(t, fullGateReport(t, commitSHA, gate.Pass), tc.forge)
			err := deployTo(t, m, "production")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			_, ran := rec.ExecWith("helm", "upgrade")
			assert.False(t, ran)
		})
	}
	// The twin: the tool's honest answer to this question counts.
	m := fresh(t, withRelease)
	deployHappy(t)
	forgedVerify(t, fullGateReport(t, commitSHA, gate.Pass), func(s *attest.Summary) {
		assert.Equal(t, shippedIdentity, s.SigstorePolicy, "the oracle names the committed identity")
	})
	refusedForApprovalsOnly(t, deployTo(t, m, "production"), "production")
}

// oldFormatVerify answers `oci verify` as the tool does for images published in the earlier
// format (every document unsigned under the project's artifact types, and DSSE envelopes): the
// tool's own rule, attest.VerifyBundles, decides; no bundle is ever checked.
func oldFormatVerify(t *testing.T, gateReport string) {
	t.Helper()
	rec.Respond(func(c daggertest.Call) (any, bool) {
		req, ok := verifyRequest(c)
		if !ok || c.Leaf != "contents" || c.Chain[len(c.Chain)-1].Str("path") != "evidence.json" {
			return nil, false
		}
		set := attest.Set{}
		for _, v := range req.images {
			ev := attest.Evidence{Service: v.Service, Image: v.Image, Labels: map[string]string{attest.LabelRevision: string(req.commit)},
				Documents: map[string][][]byte{attest.TypeGateReport: {[]byte(gateReport)}},
				Envelopes: [][]byte{[]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"c2ln"}]}`)}}
			set = append(set, attest.VerifyBundles(ev, req.commit, noBundleChecked{t}))
		}
		sum := attest.NewSummary(req.commit, set)
		sum.Environment, sum.Nonce, sum.SigstorePolicy = domain.Environment(req.env), req.nonce, req.trust
		b, err := json.Marshal(sum)
		require.NoError(t, err)
		return string(b), true
	})
}

// noBundleChecked fails the test if a bundle is checked: there is none in the earlier format.
type noBundleChecked struct{ t *testing.T }

func (n noBundleChecked) VerifyBundle([]byte, string) ([]byte, error) {
	n.t.Error("no bundle is attached in the earlier format")
	return nil, assert.AnError
}
func (noBundleChecked) Policy() string { return shippedIdentity }

func TestProductionAndReleaseRefuseTheEarlierFormatWithRepublish(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	oldFormatVerify(t, fullGateReport(t, commitSHA, gate.Pass))
	err := deployTo(t, m, "production")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deploy to production refused, nothing was changed")
	assert.Contains(t, err.Error(), "republish the images with this version's publish (or attach the evidence with `attest`)")
	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)

	// A release is production's: the same refusal.
	_, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m = relPipeline(t, srv.URL)
	asShipped(t)
	oldFormatVerify(t, fullGateReport(t, relCommit, gate.Pass))
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())
	_, err = m.Release(context.Background(), "v2.0.0", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was promoted")
	assert.Contains(t, err.Error(), "republish the images with this version's publish")
	assert.Empty(t, relPromotions())
	assert.Contains(t, evidenceExec(t).Line(), "--sigstore-policy /trust/sigstore.json")

	// The twin: bundles under the committed policy count for the same release.
	m = relPipeline(t, srv.URL)
	asShipped(t)
	fakeVerify(t, fullGateReport(t, relCommit, gate.Pass))
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())
	_, err = m.Release(context.Background(), "v2.0.0", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.NoError(t, err, execsText())
	assert.NotEmpty(t, relPromotions())
}

func TestStagingAndProductionRefuseWithoutACommittedPolicy(t *testing.T) {
	for _, env := range []string{"staging", "production"} {
		m := fresh(t, withRelease)
		deployHappy(t)
		setTrust(t, attest.TrustFiles{})
		fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass))
		err := deployTo(t, m, env)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refused, nothing was changed")
		assert.Contains(t, err.Error(), "no Sigstore policy is committed at "+attest.SigstorePolicyPath)
		_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
		assert.False(t, read, "refused before reading the registry")
	}

	// Staging's unsigned report files are refused too, before anything is read.
	m := fresh(t, withRelease)
	deployHappy(t)
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), dag.Directory(), nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "report files are not signed: drop --gate-report and --scan-report")
	_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read)

	// A keyed policy whose committed key is not a P-256 public key is an error that says how to fix it.
	m = fresh(t, withRelease)
	deployHappy(t)
	setTrust(t, attest.TrustFiles{Policy: []byte(keyedPolicyJSON), PublicKey: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")})
	err = deployTo(t, m, "staging")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "commit only the public half")
}

// checkKeyRefuses makes `oci check-key` fail as the tool does for a credential it refuses.
func checkKeyRefuses(stderr string) {
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "check-key"}, map[string]any{"stdout": &daggertest.ExecError{
		Cmd: []string{"/usr/local/bin/oci", "check-key"}, ExitCode: 2, Stderr: stderr}}))
}

// nothingPushed asserts that no image reached the registry.
func nothingPushed(t *testing.T) {
	t.Helper()
	_, pushed := rec.ExecWith("/usr/local/bin/oci", "push")
	assert.False(t, pushed, "nothing was pushed: %s", execsText())
}
