//go:build daggerharness

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// The trusted attestation key of the recorded pipeline source: a key made for this test run.
var testKeyPEM, testKeyID = func() (string, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	id, err := attest.KeyID(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), id
}()

// The signing key's plaintext as the secret's value: it must never appear in a query.
const (
	signingKeyPlain      = "-----BEGIN PRIVATE KEY-----\nSIGNING-KEY-PLAINTEXT-must-never-leak\n-----END PRIVATE KEY-----\n"
	signingPasswordPlain = "COSIGN-PASSWORD-plaintext-must-never-leak"
)

// trustKey compiles the test key in as the trusted public key (attest.PublicKeyPath) for the test.
func trustKey(t *testing.T) {
	t.Helper()
	setTrustedKey(t, []byte(testKeyPEM), true)
}

// noTrustKey makes the module hold no attestation key, as the repository ships it.
func noTrustKey(t *testing.T) {
	t.Helper()
	setTrustedKey(t, nil, false)
}

func setTrustedKey(t *testing.T, pem []byte, ok bool) {
	t.Helper()
	prev := trustedPublicKey
	trustedPublicKey = func() ([]byte, bool) { return pem, ok }
	t.Cleanup(func() { trustedPublicKey = prev })
}

func deployTo(t *testing.T, m *SoccerPredict, env string) error {
	t.Helper()
	api, worker, airflow := deployImages()
	_, err := m.Deploy(context.Background(), env, api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", nil, nil, nil, nil, 0, "", nil, nil, nil, false)
	return err
}

func TestPublishSignsTheEvidenceWithTheKeyOnlyAsAMountedSecret(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	trustKey(t)
	report := dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass))
	_, err := m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "https://gitlab.com/p/-/pipelines/9",
		dag.SetSecret("signing-key", signingKeyPlain), dag.SetSecret("signing-password", signingPasswordPlain), nil)
	require.NoError(t, err, execsText())
	for _, svc := range []string{"api", "worker", "airflow"} {
		ref := registry + "/" + svc + "@" + serviceDigest[svc]
		e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", ref,
			"--signing-key-file /run/secrets/signing-key", "--signing-password-file /run/secrets/signing-key-password", "--public-key /trust/attestation.pub")
		_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key")
		assert.True(t, ok, "the signing key is a mounted secret")
		_, ok = e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key-password")
		assert.True(t, ok, "its password too")
		pub, ok := e.Container.StepWhere("withMountedFile", "path", "/trust/attestation.pub")
		require.True(t, ok, "the tool refuses a key that is not the trusted key's private half")
		src, _ := pub.Ref("source")
		assert.Contains(t, src.Chain.String(), strings.Split(testKeyPEM, "\n")[1], "the trusted key is the one compiled into the module")
	}
	check := mustExec(t, "/usr/local/bin/oci", "check-key", "--signing-key-file /run/secrets/signing-key", "--public-key /trust/attestation.pub")
	_, ok := check.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key")
	assert.True(t, ok)
	for _, p := range []string{signingKeyPlain, "SIGNING-KEY-PLAINTEXT", signingPasswordPlain, evPassword} {
		assert.Empty(t, rec.Leaked(p), "plaintext %q reached a query", p)
	}

	// A key the tool refuses (unreadable, wrong password, not the trusted key's private half)
	// fails publish before anything is built or pushed.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	trustKey(t)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "check-key"}, map[string]any{"stdout": &daggertest.ExecError{
		Cmd: []string{"/usr/local/bin/oci", "check-key"}, ExitCode: 2, Stderr: "oci: the signing key is not the private half of the trusted public key"}}))
	_, err = m.Publish(context.Background(), "ci-user", dag.SetSecret("pw", evPassword), "7", report, "", dag.SetSecret("signing-key", signingKeyPlain), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was built or pushed")
	_, pushed := rec.ExecWith("/usr/local/bin/oci", "push")
	assert.False(t, pushed)
	assert.Empty(t, rec.Leaked("SIGNING-KEY-PLAINTEXT"))

	// Without a key the evidence is attached unsigned (staging without a configured key, dev).
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	_, err = m.Publish(context.Background(), "", nil, "7", report, "", nil, nil, nil)
	require.NoError(t, err, execsText())
	e := mustExec(t, "/usr/local/bin/oci", "attach")
	assert.NotContains(t, e.Line(), "--signing-key-file")

	// A password without a key is a mistake, named before anything is attached.
	m = fresh(t, withRelease)
	publishWorld(t, "push")
	_, err = m.Publish(context.Background(), "", nil, "7", report, "", nil, dag.SetSecret("signing-password", signingPasswordPlain), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--signing-key-password needs --signing-key")
}

func TestAttestSignsWithTheKeyAsASecret(t *testing.T) {
	m := fresh(t, withRelease)
	api, _, _ := deployImages()
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "attach"}, map[string]any{"stdout": `{"image":"x","attached":[]}`}))
	_, err := m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), nil, nil, "", nil,
		dag.SetSecret("signing-key", signingKeyPlain), nil, nil)
	require.NoError(t, err)
	e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", api, "--signing-key-file /run/secrets/signing-key")
	_, ok := e.Container.StepWhere("withMountedSecret", "path", "/run/secrets/signing-key")
	assert.True(t, ok)
	assert.NotContains(t, e.Line(), "--public-key", "no key configured: nothing to compare with")
	assert.Empty(t, rec.Leaked("SIGNING-KEY-PLAINTEXT"))
}

func TestDeployVerifiesSignaturesAgainstTheConfiguredKey(t *testing.T) {
	m := fresh(t, withRelease)
	deployHappy(t)
	registryEvidence(t, fullGateReport(t, commitSHA, gate.Pass))
	refusedForApprovalsOnly(t, deployTo(t, m, "production"), "production") // the signed evidence counted
	e := evidenceExec(t)
	assert.Contains(t, e.Line(), "--public-key /trust/attestation.pub")
	pub, ok := e.Container.StepWhere("withMountedFile", "path", "/trust/attestation.pub")
	require.True(t, ok)
	src, _ := pub.Ref("source")
	assert.Contains(t, src.Chain.String(), strings.Split(testKeyPEM, "\n")[1], "the trusted key is the one compiled into the module")
}

// signedBy forges the key ID evidence.json says the signatures were checked against.
func signedBy(keyID string) func(*attest.Summary) { return func(s *attest.Summary) { s.KeyID = keyID } }

func TestProductionAndReleaseRefuseUnsignedEvidence(t *testing.T) {
	// An evidence.json whose signatures were checked against no key (or another key's), not
	// the one the module passed: production refuses, nothing runs.
	for name, keyID := range map[string]string{"unsigned": "", "another key": "sha256:" + strings.Repeat("0", 64)} {
		t.Run(name, func(t *testing.T) {
			m := fresh(t, withRelease)
			deployHappy(t)
			trustKey(t)
			forgedVerify(t, fullGateReport(t, commitSHA, gate.Pass), signedBy(keyID))
			err := deployTo(t, m, "production")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "not against the configured key "+testKeyID)
			_, ran := rec.ExecWith("helm", "upgrade")
			assert.False(t, ran)
		})
	}

	// No key configured: production refuses before reading the registry and says how to set one up.
	m := fresh(t, withRelease)
	deployHappy(t)
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass))
	err := deployTo(t, m, "production")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused, nothing was changed")
	assert.Contains(t, err.Error(), "no attestation public key is configured")
	assert.Contains(t, err.Error(), attest.PublicKeyPath)
	_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read)

	// A release is production's: the same refusal.
	_, srv := newFakeGitLab(t, [2]string{"v1.3.0", relOther})
	m = relPipeline(t, srv.URL)
	fakeVerify(t, fullGateReport(t, relCommit, gate.Pass))
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())
	_, err = m.Release(context.Background(), "v2.0.0-rc.1", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was promoted")
	assert.Contains(t, err.Error(), "no attestation public key is configured")
	assert.Empty(t, relPromotions())

	// Configured key, unsigned summary: the release refuses too.
	m = relPipeline(t, srv.URL)
	trustKey(t)
	forgedVerify(t, fullGateReport(t, relCommit, gate.Pass), signedBy(""))
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(relPromoter())
	_, err = m.Release(context.Background(), "v2.0.0-rc.1", dag.SetSecret("gitlab-token", relToken), nil, "", nil, "",
		relRef("api"), relRef("worker"), relRef("airflow"), nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not against the configured key")
	assert.Empty(t, relPromotions())
	assert.Contains(t, evidenceExec(t).Line(), "--public-key /trust/attestation.pub")
}

func TestStagingRequiresSignaturesOnlyOnceAKeyIsConfigured(t *testing.T) {
	// No key: unsigned evidence counts for staging, as before signing existed.
	m := fresh(t, withRelease)
	deployHappy(t)
	fakeVerify(t, fullGateReport(t, commitSHA, gate.Pass))
	refusedForApprovalsOnly(t, deployTo(t, m, "staging"), "staging") // the unsigned evidence counted
	assert.NotContains(t, evidenceExec(t).Line(), "--public-key")

	// A key: a summary whose signatures were not checked against it is refused.
	m = fresh(t, withRelease)
	deployHappy(t)
	trustKey(t)
	forgedVerify(t, fullGateReport(t, commitSHA, gate.Pass), signedBy(""))
	err := deployTo(t, m, "staging")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not against the configured key")

	_, ran := rec.ExecWith("helm", "upgrade")
	assert.False(t, ran)

	// A key: staging's unsigned report files are refused too, before anything is read.
	m = fresh(t, withRelease)
	deployHappy(t)
	trustKey(t)
	api, worker, airflow := deployImages()
	_, err = m.Deploy(context.Background(), "staging", api, worker, airflow,
		dag.SetSecret("kubeconfig", kubeconfigPlain), dag.SetSecret("age", ageKeyPlain),
		"7", nil, "", 0, 0, "", "", dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), dag.Directory(), nil, nil, 0, "", nil, nil, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "report files are not signed: drop --gate-report and --scan-report")
	_, read := rec.ExecWith("/usr/local/bin/oci", "verify")
	assert.False(t, read)

	// A configured key that is not a P-256 public key is an error that says how to fix it.
	m = fresh(t, withRelease)
	deployHappy(t)
	setTrustedKey(t, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), true)
	err = deployTo(t, m, "staging")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "commit only the public half")
}
