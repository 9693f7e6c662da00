package secretscan

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// trivysPAT is the token Trivy's secrets golden leaves in clear in a Code excerpt (see
// ci/artifact/scan/testdata/README.md), spelled in pieces so no token is committed.
var trivysPAT = "ghp_" + "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

var start = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// trivysGolden is Trivy v0.58.1's `trivy fs --scanners secret` golden output.
func trivysGolden(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../artifact/scan/testdata/trivy-secrets.json.golden")
	require.NoError(t, err)
	return []byte(strings.ReplaceAll(string(b), "{{GITHUB_PAT}}", trivysPAT))
}

func options(t *testing.T, ignore string) Options {
	t.Helper()
	sev, err := scan.ParseSeverities("")
	require.NoError(t, err)
	list, err := scan.ParseIgnore([]byte(ignore))
	require.NoError(t, err)
	b, err := os.ReadFile("../../artifact/scan/testdata/trivy-secret.yaml")
	require.NoError(t, err)
	cfg, err := scan.ParseSecretConfig(b)
	require.NoError(t, err)
	return Options{Policy: scan.Policy{Severities: sev, Ignore: list, Now: start}, Config: cfg,
		Commit: strings.Repeat("ab", 20), Run: scan.Run{ScannerVersion: "0.58.1", Start: start, End: start.Add(time.Second)}}
}

func secretDetection(t *testing.T, o Outcome) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(o.Files[gate.SecretDetection], &doc))
	return doc
}

func TestAKeyInTheFilesFailsNamingFileAndRule(t *testing.T) {
	o := Evaluate(trivysGolden(t), options(t, ""))
	r := o.Result
	assert.Equal(t, gate.SecretScan, r.Name)
	assert.Equal(t, gate.Fail, r.Status)
	assert.True(t, r.Blocks())
	assert.Equal(t, "secrets in the project's files: 2 of a blocking severity (CRITICAL,HIGH)", r.Summary)
	assert.Equal(t, []string{
		"CRITICAL aws-access-key-id in deploy.sh:3 (AWS Access Key ID)",
		"HIGH mysecret in deploy.sh:7 (My Secret)",
		"fix: " + scan.SecretFix,
		"allow-list: trivy-secret.yaml: rule github-pat is disabled",
		"allow-list: trivy-secret.yaml: custom rule mysecret (HIGH) is added",
	}, r.Details)

	require.Len(t, o.Files, 2)
	for name, b := range o.Files {
		assert.NotContains(t, string(b), trivysPAT, "%s must not carry Trivy's unmasked context line", name)
		assert.NotContains(t, string(b), `"Code"`, name)
	}
	doc := secretDetection(t, o)
	assert.Equal(t, "secret_detection", doc["scan"].(map[string]any)["type"])
	require.Len(t, doc["vulnerabilities"], 2)
	loc := doc["vulnerabilities"].([]any)[0].(map[string]any)["location"].(map[string]any)
	assert.Equal(t, "deploy.sh", loc["file"])
	assert.Equal(t, strings.Repeat("ab", 20), loc["commit"].(map[string]any)["sha"])
	redacted, err := scan.ParseTrivy(o.Files[gate.SecretScanJSON])
	require.NoError(t, err)
	assert.Len(t, scan.SecretFindings(redacted), 2)
}

func TestAnAcceptedSecretPassesAndIsShown(t *testing.T) {
	o := Evaluate(trivysGolden(t), options(t, "aws-access-key-id exp:2025-12-31\nmysecret\n"))
	r := o.Result
	assert.Equal(t, gate.Pass, r.Status)
	assert.Equal(t, "no secret of a blocking severity (CRITICAL,HIGH) in the project's files; 2 below them or accepted", r.Summary)
	assert.Contains(t, r.Details, "allow-list: .trivyignore: secret aws-access-key-id in deploy.sh:3 is accepted by line 1 until 2025-12-31")
	assert.Contains(t, r.Details, "allow-list: .trivyignore: secret mysecret in deploy.sh:7 is accepted by line 2")
	doc := secretDetection(t, o)
	assert.Empty(t, doc["vulnerabilities"], "accepted secrets are not findings")
	var notes []string
	for _, m := range doc["scan"].(map[string]any)["messages"].([]any) {
		notes = append(notes, m.(map[string]any)["value"].(string))
	}
	assert.Contains(t, notes, ".trivyignore: secret aws-access-key-id in deploy.sh:3 is accepted by line 1 until 2025-12-31")
	assert.Contains(t, notes, "trivy-secret.yaml: rule github-pat is disabled")
}

func TestASecretBelowTheSeveritiesIsReportedOnly(t *testing.T) {
	opts := options(t, "")
	opts.Policy.Severities = []scan.Severity{scan.Critical}
	o := Evaluate(trivysGolden(t), opts)
	assert.Equal(t, gate.Fail, o.Result.Status, "the AWS key is CRITICAL")
	assert.Equal(t, "HIGH mysecret in deploy.sh:7 (My Secret): below the blocking severities, reported only", o.Result.Details[1])
	assert.Len(t, secretDetection(t, o)["vulnerabilities"], 2)
}

func TestACleanProjectPasses(t *testing.T) {
	opts := options(t, "")
	opts.Config = scan.SecretConfig{}
	o := Evaluate([]byte(`{"SchemaVersion": 2, "ArtifactName": "/src", "ArtifactType": "filesystem", "Metadata": {}}`), opts)
	assert.Equal(t, gate.Pass, o.Result.Status)
	assert.Equal(t, "no secret of a blocking severity (CRITICAL,HIGH) in the project's files", o.Result.Summary)
	assert.Empty(t, o.Result.Details)
	assert.Empty(t, secretDetection(t, o)["vulnerabilities"])
}

func TestWhatIsNotATrivyReportIsAnError(t *testing.T) {
	for _, raw := range []string{"", "{}", "Fatal error: secret config error", `{"SchemaVersion": 2, "ArtifactName": "/src", "Results": [{"Target": "a", "Secrets": [{"RuleID": ""}]}]}`} {
		o := Evaluate([]byte(raw), options(t, ""))
		assert.Equal(t, gate.Error, o.Result.Status, raw)
		assert.True(t, o.Result.Blocks())
		assert.Contains(t, o.Result.Summary, "Trivy's secret scan of the project's files: trivy report")
		assert.Empty(t, o.Files)
	}
	opts := options(t, "")
	opts.Policy.Severities = nil
	o := Evaluate(trivysGolden(t), opts)
	assert.Equal(t, gate.Error, o.Result.Status)
	assert.Contains(t, o.Result.Summary, "no blocking severities configured")
}
