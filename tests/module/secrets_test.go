//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// recorded is a report Trivy v0.58.1 wrote in ci/artifact/scan's real-Trivy tests (see
// testdata/README.md): of the sample project (trivy-fs-clean.json), of a copy with keys planted
// at run time (trivy-fs-planted*.json) and of an image carrying one (trivy-image-planted.json).
func recorded(t *testing.T, name string) string {
	t.Helper()
	return strings.NewReplacer("{{PEM_BEGIN}}", "-----BEGIN PRIVATE KEY-----", "{{PEM_END}}", "-----END PRIVATE KEY").
		Replace(fixture(t, "../tests/module/testdata/"+name))
}

// absent answers that the project has no file at each of paths (every other `exists` is left
// to the other responders).
func absent(paths ...string) daggertest.Responder {
	return func(c daggertest.Call) (any, bool) {
		if c.Leaf != "exists" {
			return nil, false
		}
		p, _ := c.LeafArgs["path"].(string)
		for _, a := range paths {
			if p == a || strings.HasSuffix(p, "/"+a) {
				return false, true
			}
		}
		return nil, false
	}
}

// present answers that the project has a file at path, with contents.
func present(path, contents string) {
	rec.Respond(func(c daggertest.Call) (any, bool) {
		p, _ := c.LeafArgs["path"].(string)
		return true, c.Leaf == "exists" && p == path
	})
	rec.Respond(daggertest.OnFile(path, contents))
}

// trivysPAT is the GitHub token Trivy's own secrets golden leaves in clear in a Code excerpt
// (ci/artifact/scan/testdata/README.md), spelled in pieces so no token is committed.
var trivysPAT = "ghp_" + "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// trivysSecretsGolden is Trivy v0.58.1's `trivy fs --scanners secret` golden output: an AWS key
// (CRITICAL) and a custom rule's match (HIGH) in deploy.sh, and the token above in clear.
func trivysSecretsGolden(t *testing.T) string {
	t.Helper()
	return strings.ReplaceAll(fixture(t, "../ci/artifact/scan/testdata/trivy-secrets.json.golden"), "{{GITHUB_PAT}}", trivysPAT)
}

// imageWithSecrets is the image report of svc with the golden's secret results added, as
// `trivy image --scanners vuln,secret` reports a secret in one of the image's files.
func imageWithSecrets(t *testing.T, svc string) string {
	t.Helper()
	var img, fs map[string]any
	require.NoError(t, json.Unmarshal([]byte(cleanTrivy(svc)), &img))
	require.NoError(t, json.Unmarshal([]byte(trivysSecretsGolden(t)), &fs))
	img["Results"] = fs["Results"]
	b, err := json.Marshal(img)
	require.NoError(t, err)
	require.Contains(t, string(b), trivysPAT)
	return string(b)
}

func TestSecretScanFailsNamingFileAndRuleAndWritesNoSecret(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnFile("secret-scan.json", trivysSecretsGolden(t)))

	o, err := m.secretScan(context.Background())
	require.NoError(t, err)
	r := results(o)[gate.SecretScan]
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, gate.Blocking, r.Kind)
	assert.Contains(t, r.Details, "CRITICAL aws-access-key-id in deploy.sh:3 (AWS Access Key ID)")

	e := mustExec(t, "trivy", "fs")
	assert.Equal(t, []string{"trivy", "fs", "--scanners", "secret", "--secret-config", "/etc/trivy/trivy-secret.yaml",
		"--format", "json", "--output", "/raw/secret-scan.json", "--exit-code", "0", "/src"}, e.Args)
	assert.Contains(t, e.Container.String(), `from(address:"aquasec/trivy:0.58.1")`)
	_, ok := e.Container.StepWhere("withDirectory", "path", "/raw")
	assert.True(t, ok, "Trivy creates no directory for --output: %s", e.Container)
	src, ok := e.Container.StepWhere("withMountedDirectory", "path", "/src")
	require.True(t, ok, "the project's files are mounted: %s", e.Container)
	ref, _ := src.Ref("source")
	assert.Contains(t, ref.Chain.String(), `directory(path:"tests/testdata/soccerpredict")`, "the project, not only what enters an image")
	_, ok = e.Container.StepWhere("withMountedFile", "path", "/etc/trivy/trivy-secret.yaml")
	assert.False(t, ok, "the sample project has no trivy-secret.yaml")

	files := filesOf(t, o)
	require.Contains(t, files, "secret-scan.json")
	require.Contains(t, files, "gl-secret-detection-report.json")
	assert.Contains(t, files["gl-secret-detection-report.json"], `"type": "secret_detection"`)
	assert.Contains(t, files["gl-secret-detection-report.json"], `"file": "deploy.sh"`)
	assert.NotContains(t, files["secret-scan.json"], `"Code"`)
	assert.Empty(t, rec.Leaked(trivysPAT), "no report, query or log carries the token Trivy left in clear")

	err = m.SecretScan(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secret-scan FAIL: secrets in the project's files: 2 of a blocking severity (CRITICAL,HIGH)")
	assert.Contains(t, err.Error(), "HIGH mysecret in deploy.sh:7 (My Secret)")
	assert.NotContains(t, err.Error(), "****", "the error names file and line, not the line")

	err = m.Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secret-scan", "check runs the secret scan")
	dir, err := m.GateReport(context.Background(), []string{"secret-scan"})
	require.NoError(t, err)
	id, err := dir.ID(context.Background())
	require.NoError(t, err)
	report := containerChain(t, string(id)).Files()
	assert.Contains(t, report, "gl-secret-detection-report.json")
	assert.Contains(t, report["gate-report.md"], "secret-scan")
}

func TestSecretScanPassesOnACleanProject(t *testing.T) {
	m := fresh(t)
	happy(t)
	require.NoError(t, m.SecretScan(context.Background()))
	o, err := m.secretScan(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "no secret of a blocking severity (CRITICAL,HIGH) in the project's files", results(o)[gate.SecretScan].Summary)
}

// The allow-list is the project's own: trivy-secret.yaml is mounted for Trivy, .trivyignore
// accepts by rule ID, and both show in the report.
func TestAnAllowListedSecretPassesAndIsShown(t *testing.T) {
	m := fresh(t)
	happy(t)
	present("trivy-secret.yaml", fixture(t, "../ci/artifact/scan/testdata/trivy-secret.yaml"))
	present(".trivyignore", "# deploy.sh is Trivy's own test fixture\naws-access-key-id exp:2099-12-31\nmysecret\n")
	rec.Respond(daggertest.OnFile("secret-scan.json", trivysSecretsGolden(t)))

	o, err := m.secretScan(context.Background())
	require.NoError(t, err)
	r := results(o)[gate.SecretScan]
	assert.Equal(t, gate.Pass, r.Status, r.Details)
	assert.Contains(t, r.Details, "allow-list: .trivyignore: secret aws-access-key-id in deploy.sh:3 is accepted by line 2 until 2099-12-31")
	assert.Contains(t, r.Details, "allow-list: trivy-secret.yaml: rule github-pat is disabled")

	e := mustExec(t, "trivy", "fs")
	cfg, ok := e.Container.StepWhere("withMountedFile", "path", "/etc/trivy/trivy-secret.yaml")
	require.True(t, ok, "Trivy runs with the project's trivy-secret.yaml: %s", e.Container)
	ref, _ := cfg.Ref("source")
	assert.Contains(t, ref.Chain.String(), `file(path:"trivy-secret.yaml")`)

	gl := filesOf(t, o)["gl-secret-detection-report.json"]
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(gl), &doc))
	assert.Empty(t, doc["vulnerabilities"])
	assert.Contains(t, gl, `"value": "trivy-secret.yaml: rule github-pat is disabled"`)
	assert.Contains(t, gl, `"value": ".trivyignore: secret mysecret in deploy.sh:7 is accepted by line 3"`)
	require.NoError(t, m.SecretScan(context.Background()))
}

// A trivy-secret.yaml Trivy would misread is the project's mistake: the gate errors (never a
// silent pass), and publish pushes nothing.
func TestABrokenSecretConfigStopsTheScanAndPublish(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	present("trivy-secret.yaml", "allow-rule:\n  - path: ^tests/\n")

	err := m.SecretScan(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trivy-secret.yaml")
	assert.Contains(t, err.Error(), "field allow-rule not found")
	_, ran := rec.ExecWith("trivy")
	assert.False(t, ran)

	_, err = m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "field allow-rule not found")
	assert.Empty(t, execsWith("/usr/local/bin/oci push"))
}

// No setting widens the allow-list: it is read from the project's committed files only.
func TestNoSettingAddsToTheAllowList(t *testing.T) {
	for _, key := range []string{"TRIVY_SECRET_CONFIG", "TRIVY_IGNOREFILE", "SP_TRIVY_IGNORE", "SP_SECRET_ALLOW"} {
		rec.Reset()
		rec.Respond(daggertest.OnFile("/work/prod.env", key+"=/tmp/allow-everything.yaml\n"))
		_, err := New(context.Background(), dag.Host().Directory("/work/repo"), "", dag.Host().File("/work/prod.env"), "", "", "", "",
			"", "", "", "", "", "", "", "", nil, nil, nil)
		require.Error(t, err, key)
		assert.Contains(t, err.Error(), "unknown setting(s) "+key)
	}
}

func TestPublishPushesNothingWhenAnImageHoldsASecret(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	rec.Respond(daggertest.OnFile("trivy-api.json", imageWithSecrets(t, "api")))

	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	assert.Contains(t, err.Error(), "api image "+digestOf(1)+": image scan found 2 blocking secrets")
	assert.Contains(t, err.Error(), "CRITICAL secret aws-access-key-id in deploy.sh:3 (AWS Access Key ID)")
	assert.Contains(t, err.Error(), "revoke and replace it")
	assert.Empty(t, execsWith("/usr/local/bin/oci push"), "one image with a secret stops every push")
	assert.Empty(t, rec.CallsTo("publish"))
	assert.Empty(t, rec.Leaked(trivysPAT))

	for _, e := range execsWith("trivy image --input") {
		if strings.Contains(e.Line(), "--format json") {
			assert.Contains(t, e.Line(), "--scanners vuln,secret --secret-config /etc/trivy/trivy-secret.yaml")
		}
	}
}

func TestScanReportShowsSecretsMaskedAndExportsRedactedReports(t *testing.T) {
	m := fresh(t)
	happy(t)
	projectFiles(t)
	rec.Respond(absent(".trivyignore"))
	rec.Respond(daggertest.OnFile("trivy-api.json", imageWithSecrets(t, "api")))

	err := m.Scan(context.Background(), "api")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "secret aws-access-key-id in deploy.sh:3")

	dir, err := m.ScanReport(context.Background(), "api")
	require.NoError(t, err)
	id, _ := dir.ID(context.Background())
	files := containerChain(t, string(id)).Files()
	require.Contains(t, files, "trivy-api.json")
	assert.NotContains(t, files["trivy-api.json"], trivysPAT, "the exported Trivy report is the redacted one")
	assert.NotContains(t, files["trivy-api.json"], `"Code"`)
	assert.Contains(t, files["trivy-api.json"], `"RuleID": "aws-access-key-id"`)
	cs := files["gl-container-scanning-report.json"]
	assert.Contains(t, cs, `"name": "deploy.sh:3"`, "the secret is located by file and line in the image")
	assert.Contains(t, cs, "export AWS_ACCESS_KEY_ID=********************")
	assert.Empty(t, rec.Leaked(trivysPAT))

	e := mustExec(t, "trivy", "image", "--input", "/tmp/image.tar", "--scanners", "vuln,secret")
	assert.Contains(t, e.Line(), "--output /raw/trivy-api.json", "Trivy's own report stays outside the exported directory")
	_, ok := e.Container.StepWhere("withDirectory", "path", "/raw")
	assert.True(t, ok, "Trivy creates no directory for --output: %s", e.Container)
}

// A Trivy report given to attest by hand is attached redacted: the registry never gets Trivy's
// code excerpts.
func TestAttestAttachesAHandGivenTrivyReportRedacted(t *testing.T) {
	m := fresh(t, withRelease)
	api, _, _ := deployImages()
	raw := imageWithSecrets(t, "api")
	rec.Respond(func(c daggertest.Call) (any, bool) { // the contents of a file made with dag.File
		if c.Leaf != "contents" || len(c.Chain) == 0 {
			return nil, false
		}
		last := c.Chain[len(c.Chain)-1]
		return last.Str("contents"), last.Field == "file" && last.Str("name") == "trivy-api.json"
	})
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "attach"}, map[string]any{"stdout": `{"image":"x","attached":[]}`}))
	_, err := m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), dag.File("trivy-api.json", raw), nil, "", nil, nil, nil, nil, nil)
	require.NoError(t, err)
	e := mustExec(t, "/usr/local/bin/oci", "attach", "--image", api, "--trivy", "/in/trivy.json")
	attached := mountedSource(t, e, "/in/trivy.json")
	assert.NotContains(t, attached, trivysPAT)
	assert.NotContains(t, attached, `\"Code\"`)
	assert.Contains(t, attached, `\"RuleID\": \"aws-access-key-id\"`)

	_, err = m.Attest(context.Background(), api, dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), dag.File("trivy-api.json", "not json"), nil, "", nil, nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--trivy: trivy report is not a JSON object")
}

// Trivy's report of the sample project with an AWS key pair planted in a module of the API, a
// GitLab token in a script and a private key in a file no image gets: the gate fails naming each
// by file and rule.
func TestSecretScanFailsOnKeysPlantedInTheSampleProject(t *testing.T) {
	m := fresh(t)
	happy(t)
	rec.Respond(daggertest.OnFile("secret-scan.json", recorded(t, "trivy-fs-planted.json")))
	o, err := m.secretScan(context.Background())
	require.NoError(t, err)
	r := results(o)[gate.SecretScan]
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, "secrets in the project's files: 4 of a blocking severity (CRITICAL,HIGH)", r.Summary)
	assert.Equal(t, []string{
		"CRITICAL gitlab-pat in scripts/release.sh:3 (GitLab Personal Access Token)",
		"CRITICAL aws-access-key-id in src/soccerpredict/aws_settings.py:1 (AWS Access Key ID)",
		"CRITICAL aws-secret-access-key in src/soccerpredict/aws_settings.py:2 (AWS Secret Access Key)",
		"HIGH private-key in deploy/ci-deploy-key.pem:1 (Asymmetric Private Key)",
	}, r.Details[:4])
	gl := filesOf(t, o)["gl-secret-detection-report.json"]
	for _, f := range []string{"scripts/release.sh", "src/soccerpredict/aws_settings.py", "deploy/ci-deploy-key.pem"} {
		assert.Contains(t, gl, `"file": "`+f+`"`)
	}

	// The project allows its deploy fixtures by path and accepts the script's token by rule: the
	// AWS keys in the API's source still block, and the report shows what was allowed.
	present("trivy-secret.yaml", "allow-rules:\n  - id: deploy-keys\n    description: keys of the deploy fixtures\n    path: ^deploy/\n")
	present(".trivyignore", "gitlab-pat exp:2099-01-01\n")
	rec.Respond(daggertest.OnFile("secret-scan.json", recorded(t, "trivy-fs-planted-allowed.json")))
	o, err = m.secretScan(context.Background())
	require.NoError(t, err)
	r = results(o)[gate.SecretScan]
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, "secrets in the project's files: 2 of a blocking severity (CRITICAL,HIGH)", r.Summary)
	assert.Contains(t, r.Details, "allow-list: trivy-secret.yaml: allow rule deploy-keys allows files whose path matches ^deploy/ (keys of the deploy fixtures)")
	assert.Contains(t, r.Details, "allow-list: .trivyignore: secret gitlab-pat in scripts/release.sh:3 is accepted by line 1 until 2099-01-01")

	present(".trivyignore", "gitlab-pat exp:2099-01-01\naws-access-key-id\naws-secret-access-key\n")
	require.NoError(t, m.SecretScan(context.Background()), "what the project allows passes")
}

// Trivy's report of an image whose API module carries an AWS key pair: publish pushes nothing.
func TestPublishPushesNothingWhenTheAPIModuleCarriesAKey(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	rec.Respond(daggertest.OnFile("trivy-api.json", recorded(t, "trivy-image-planted.json")))
	_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	assert.Contains(t, err.Error(), "CRITICAL secret aws-access-key-id in /app/src/soccerpredict/aws_settings.py:1 (AWS Access Key ID)")
	assert.Contains(t, err.Error(), "CRITICAL secret aws-secret-access-key in /app/src/soccerpredict/aws_settings.py:2")
	assert.Empty(t, execsWith("/usr/local/bin/oci push"))
	assert.Empty(t, execsWith("/usr/local/bin/oci attach"), "no evidence of an image that was not pushed")
}
