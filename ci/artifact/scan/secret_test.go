package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenPAT is the GitHub token of Trivy's secrets fixture, which Trivy leaves in clear in the
// Code excerpt of the next finding (its rule is disabled by the fixture's trivy-secret.yaml).
// It is spelled here in pieces and put back into the fixture at run time (see testdata/README.md).
var goldenPAT = "ghp_" + "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// golden is Trivy v0.58.1's integration/testdata/secrets.json.golden, as Trivy wrote it.
func golden(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/trivy-secrets.json.golden")
	require.NoError(t, err)
	return []byte(strings.ReplaceAll(string(b), "{{GITHUB_PAT}}", goldenPAT))
}

func TestGoldenHoldsASecretInClearOutsideMatch(t *testing.T) {
	// The premise of Redact: Trivy's Code excerpt is not masked around the match.
	g := string(golden(t))
	require.Contains(t, g, goldenPAT)
	assert.Contains(t, g, `"Content": "export GITHUB_PAT=`+goldenPAT+`"`)
}

func TestParseTrivySecretsOfTrivysGolden(t *testing.T) {
	r, err := ParseTrivy(golden(t))
	require.NoError(t, err)
	require.Len(t, r.Results, 1)
	assert.Equal(t, "secret", r.Results[0].Class)
	require.Len(t, r.Results[0].Secrets, 2)

	got := SecretFindings(r)
	require.Len(t, got, 2)
	assert.Equal(t, SecretFinding{Rule: "aws-access-key-id", Category: "AWS", Title: "AWS Access Key ID", Severity: Critical,
		File: "deploy.sh", StartLine: 3, EndLine: 3, Match: "export AWS_ACCESS_KEY_ID=********************"}, got[0])
	assert.Equal(t, SecretFinding{Rule: "mysecret", Category: "Custom", Title: "My Secret", Severity: High,
		File: "deploy.sh", StartLine: 7, EndLine: 7, Match: "echo ********"}, got[1])
	assert.Equal(t, "deploy.sh:3", got[0].Where())
	assert.Equal(t, "f:2-30", SecretFinding{File: "f", StartLine: 2, EndLine: 30}.Where())
}

func TestParseTrivyRefusesASecretWithoutRuleOrSeverity(t *testing.T) {
	for body, want := range map[string]string{
		`{"RuleID":"","Severity":"HIGH"}`:  "has no RuleID",
		`{"RuleID":"r","Severity":"BAD"}`:  `unknown severity "BAD"`,
		`{"RuleID":"r"}`:                   `unknown severity ""`,
		`{"RuleID":" ","Severity":"LOW"}`:  "has no RuleID",
		`{"RuleID":"r","Severity":"high"}`: "",
	} {
		_, err := ParseTrivy([]byte(`{"SchemaVersion":2,"ArtifactName":"/src","Results":[{"Target":"a.py","Class":"secret","Secrets":[` + body + `]}]}`))
		if want == "" {
			assert.NoError(t, err, body)
			continue
		}
		require.Error(t, err, body)
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, err.Error(), "Results[0].Secrets[0]")
	}
}

func TestMaskedKeepsOnlyMaskedLines(t *testing.T) {
	assert.Equal(t, "key = '****************'", Masked("key = '****************'"))
	assert.Empty(t, Masked(`Binary file "/app/x.pyc" matches a rule "AWS Access Key ID"`))
	assert.Empty(t, Masked("token = abc*def"), "a lone asterisk is not a mask")
	assert.Empty(t, Masked(""))
}

func TestSecretsBlockOnTheSameSeverityRule(t *testing.T) {
	r, err := ParseTrivy(golden(t))
	require.NoError(t, err)

	v, err := Evaluate(r, Policy{Severities: []Severity{Critical, High}, Now: scanTime, IgnoreUnfixed: true})
	require.NoError(t, err)
	assert.False(t, v.Passed())
	require.Len(t, v.BlockingSecrets, 2, "a secret has no fixed version: IgnoreUnfixed does not let it through")
	assert.Empty(t, v.Blocking)
	msg := v.Err().Error()
	assert.True(t, strings.HasPrefix(msg, "image scan found 2 blocking secrets (severities CRITICAL,HIGH):"), msg)
	assert.Contains(t, msg, "CRITICAL secret aws-access-key-id in deploy.sh:3 (AWS Access Key ID)")
	assert.Contains(t, msg, "HIGH     secret mysecret in deploy.sh:7 (My Secret)")
	assert.Contains(t, msg, "revoke and replace it")
	assert.Contains(t, msg, "trivy-secret.yaml")
	assert.NotContains(t, msg, "upgrade the packages", "no vulnerability blocks")
	assert.NotContains(t, msg, "*", "the error names file and line, never the line itself")
	assert.NotContains(t, msg, goldenPAT)

	v, err = Evaluate(r, Policy{Severities: []Severity{Critical}, Now: scanTime})
	require.NoError(t, err)
	require.Len(t, v.BlockingSecrets, 1)
	assert.Equal(t, "aws-access-key-id", v.BlockingSecrets[0].Rule)
	require.Len(t, v.NonBlockingSecrets, 1)
	assert.Equal(t, "mysecret", v.NonBlockingSecrets[0].Rule)
	assert.Contains(t, v.Err().Error(), "found 1 blocking secret (severities CRITICAL)")

	// Both kinds: secrets first, each with its fix.
	both := sample(t)
	both.Results = append(both.Results, r.Results...)
	v, err = Evaluate(both, Policy{Severities: []Severity{Critical, High}, Now: scanTime})
	require.NoError(t, err)
	msg = v.Err().Error()
	assert.Contains(t, msg, "found 2 blocking secrets and 4 blocking vulnerabilities")
	assert.Less(t, strings.Index(msg, "secret aws-access-key-id"), strings.Index(msg, "CVE-"))
	assert.Contains(t, msg, "upgrade the packages")
	assert.Contains(t, msg, "revoke and replace it")
}

func TestTrivyignoreAcceptsASecretByRuleIDAndSaysSo(t *testing.T) {
	r, err := ParseTrivy(golden(t))
	require.NoError(t, err)
	ignore, err := ParseIgnore([]byte("# the test fixture's custom rule\nmysecret exp:2025-06-30\naws-access-key-id exp:2025-01-31\n"))
	require.NoError(t, err)
	v, err := Evaluate(r, Policy{Severities: []Severity{Critical, High}, Ignore: ignore, Now: scanTime})
	require.NoError(t, err)
	require.Len(t, v.IgnoredSecrets, 1)
	assert.Equal(t, "mysecret", v.IgnoredSecrets[0].Rule)
	require.NotNil(t, v.IgnoredSecrets[0].IgnoredBy)
	assert.Equal(t, 2, v.IgnoredSecrets[0].IgnoredBy.Line)
	require.Len(t, v.BlockingSecrets, 1, "an expired entry no longer accepts the AWS key")
	assert.Equal(t, []string{
		".trivyignore: secret mysecret in deploy.sh:7 is accepted by line 2 until 2025-06-30",
		".trivyignore: line 3 (aws-access-key-id) expired on 2025-01-31 and no longer applies",
	}, v.IgnoredNotes())
	assert.Empty(t, v.ReportedSecrets()[1:], "ignored secrets are not reported as findings")

	b, err := json.Marshal(v.IgnoredSecrets[0])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"severity":"HIGH"`)
	assert.Contains(t, string(b), `"ignored_by":{"id":"mysecret"`)
}

// redactedKeys are the keys Redact removes; none may appear in its output.
var redactedKeys = regexp.MustCompile(`"(Code|CreatedBy|ImageConfig)"\s*:`)

func TestRedactDropsWhatMayHoldTheSecretInClear(t *testing.T) {
	out, err := Redact(golden(t))
	require.NoError(t, err)
	s := string(out)
	assert.NotContains(t, s, goldenPAT, "Trivy's unmasked context line is gone")
	assert.NotRegexp(t, redactedKeys, s)
	assert.Contains(t, s, `"Match": "export AWS_ACCESS_KEY_ID=********************"`, "the masked line stays")

	r, err := ParseTrivy(out)
	require.NoError(t, err, "the redacted report is still a Trivy report")
	orig, err := ParseTrivy(golden(t))
	require.NoError(t, err)
	assert.Equal(t, SecretFindings(orig), SecretFindings(r))
	assert.Equal(t, orig.ArtifactName, r.ArtifactName)
}

func TestRedactDropsUnmaskedMatchesLayerHistoryAndImageConfig(t *testing.T) {
	const token = "glpat-" + "zz11yy22xx33ww44vv55"
	in := `{"SchemaVersion":2,"ArtifactName":"/images/api.tar","ArtifactType":"container_image",
 "Metadata":{"ImageID":"sha256:` + strings.Repeat("a", 64) + `","DiffIDs":["sha256:` + strings.Repeat("b", 64) + `"],
  "ImageConfig":{"config":{"Env":["GITLAB_TOKEN=` + token + `"]},"history":[{"created_by":"ENV GITLAB_TOKEN=` + token + `"}]}},
 "Results":[
  {"Target":"/app/x.bin","Class":"secret","Secrets":[{"RuleID":"gitlab-pat","Severity":"CRITICAL","StartLine":1,"EndLine":1,
    "Match":"Binary file \"/app/x.bin\" matches ` + token + `","Layer":{"DiffID":"sha256:1","CreatedBy":"COPY x.bin /app/ # ` + token + `"}}]},
  {"Target":"debian","Class":"os-pkgs","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","Severity":"LOW",
    "Layer":{"DiffID":"sha256:2","CreatedBy":"RUN curl -H 'PRIVATE-TOKEN: ` + token + `' …"},"CVSS":{"nvd":{"V3Score":9.8}}}]}]}`
	out, err := Redact([]byte(in))
	require.NoError(t, err)
	s := string(out)
	assert.NotContains(t, s, token)
	assert.NotRegexp(t, redactedKeys, s)
	assert.NotContains(t, s, `"Match"`, "an unmasked match is dropped")
	assert.Contains(t, s, `"DiffID": "sha256:1"`, "layers keep their digests")
	assert.Contains(t, s, `"V3Score": 9.8`, "numbers are kept as written")
	r, err := ParseTrivy(out)
	require.NoError(t, err)
	assert.Equal(t, []string{"sha256:" + strings.Repeat("b", 64)}, r.Metadata.DiffIDs, "what binds the report to the image stays")

	for _, bad := range []string{"", "[]", "null", "{"} {
		_, err := Redact([]byte(bad))
		assert.ErrorContains(t, err, "not a JSON object", bad)
	}
}

// checkSecretDetectionReport asserts the constraints of GitLab's secret detection schema
// (15.0.7) this report relies on: a location needs a commit.
func checkSecretDetectionReport(t *testing.T, b []byte, wantVulns int) map[string]any {
	t.Helper()
	doc := checkSecurityReport(t, b, "secret_detection", wantVulns, func(loc map[string]any) {
		require.NotEmpty(t, loc["commit"].(map[string]any)["sha"])
		require.IsType(t, "", loc["file"])
		require.IsType(t, float64(0), loc["start_line"])
		require.IsType(t, float64(0), loc["end_line"])
	})
	require.Equal(t, "15.0.7", doc["version"])
	return doc
}

func TestSecretDetectionReportOfTrivysGolden(t *testing.T) {
	r, err := ParseTrivy(golden(t))
	require.NoError(t, err)
	v, err := Evaluate(r, Policy{Severities: []Severity{Critical, High}, Now: scanTime})
	require.NoError(t, err)
	cfg, err := ParseSecretConfig(readFile(t, "testdata/trivy-secret.yaml"))
	require.NoError(t, err)
	opts := SecretDetectionOptions{
		Commit: "0123456789abcdef0123456789abcdef01234567",
		Run:    Run{ScannerVersion: "0.58.1", Start: scanTime, End: scanTime.Add(3 * time.Second), Notes: cfg.Describe()},
	}
	b, err := SecretDetectionReport(v.ReportedSecrets(), opts)
	require.NoError(t, err)
	doc := checkSecretDetectionReport(t, b, 2)
	assert.NotContains(t, string(b), goldenPAT)

	first := doc["vulnerabilities"].([]any)[0].(map[string]any)
	assert.Equal(t, "AWS Access Key ID", first["name"])
	assert.Equal(t, "Critical", first["severity"])
	assert.Equal(t, map[string]any{"file": "deploy.sh", "start_line": float64(3), "end_line": float64(3),
		"commit": map[string]any{"sha": opts.Commit}}, first["location"])
	assert.Equal(t, []any{map[string]any{"type": "trivy_secret_rule", "name": "Trivy secret rule aws-access-key-id", "value": "aws-access-key-id"}}, first["identifiers"])
	assert.Contains(t, first["description"], "deploy.sh line 3")
	assert.Contains(t, first["description"], "`export AWS_ACCESS_KEY_ID=********************`")
	assert.Contains(t, first["solution"], "Take the secret out of the file")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, first["id"])

	var notes []string
	for _, m := range doc["scan"].(map[string]any)["messages"].([]any) {
		notes = append(notes, m.(map[string]any)["value"].(string))
	}
	assert.Equal(t, []string{"trivy-secret.yaml: rule github-pat is disabled", "trivy-secret.yaml: custom rule mysecret (HIGH) is added"}, notes,
		"the report shows what the project's allow-list turns off")

	// No commit given (a local run): the schema still gets one.
	opts.Commit, opts.Notes = "", nil
	b, err = SecretDetectionReport(nil, opts)
	require.NoError(t, err)
	doc = checkSecretDetectionReport(t, b, 0)
	assert.NotContains(t, doc["scan"], "messages")
	b, err = SecretDetectionReport(v.ReportedSecrets(), opts)
	require.NoError(t, err)
	doc = checkSecretDetectionReport(t, b, 2)
	assert.Equal(t, UnknownCommit, doc["vulnerabilities"].([]any)[0].(map[string]any)["location"].(map[string]any)["commit"].(map[string]any)["sha"])

	_, err = SecretDetectionReport(nil, SecretDetectionOptions{Run: Run{Start: scanTime, End: scanTime}})
	assert.ErrorContains(t, err, "Trivy version")
}

func TestContainerReportLocatesSecretsInTheImage(t *testing.T) {
	r, err := ParseTrivy(golden(t))
	require.NoError(t, err)
	api := sample(t)
	api.Results = append(api.Results, r.Results...)
	v, err := Evaluate(api, Policy{Severities: []Severity{Critical, High}, Now: scanTime})
	require.NoError(t, err)
	image := "registry.example.com/soccerpredict/api@sha256:" + strings.Repeat("1", 64)
	b, err := GitLabReport(v.Reported(), v.ReportedSecrets(), GitLabOptions{Image: image, OperatingSystem: api.OperatingSystem(),
		Run: Run{ScannerVersion: "0.58.1", Start: scanTime, End: scanTime, Notes: []string{"trivy-secret.yaml: rule github-pat is disabled"}}})
	require.NoError(t, err)
	assert.NotContains(t, string(b), goldenPAT)
	doc := checkGitLabReport(t, b, 9)
	first := doc["vulnerabilities"].([]any)[0].(map[string]any)
	assert.Equal(t, "AWS Access Key ID", first["name"], "secrets come first")
	assert.Equal(t, map[string]any{
		"dependency":       map[string]any{"package": map[string]any{"name": "deploy.sh:3"}, "version": ""},
		"operating_system": "debian 12.5",
		"image":            image,
	}, first["location"])
	assert.Contains(t, first["solution"], "Rebuild the image without the secret")
	assert.Equal(t, []any{map[string]any{"level": "info", "value": "trivy-secret.yaml: rule github-pat is disabled"}}, doc["scan"].(map[string]any)["messages"])
	third := doc["vulnerabilities"].([]any)[2].(map[string]any)
	assert.Equal(t, "Critical", third["severity"])
	assert.Equal(t, "openssl: sample critical issue", third["name"], "then the vulnerabilities")
}

func TestMergeKeepsEveryImagesMessagesOnce(t *testing.T) {
	opts := func(image string, notes ...string) GitLabOptions {
		return GitLabOptions{Image: image, Run: Run{ScannerVersion: "0.58.1", Start: scanTime, End: scanTime, Notes: notes}}
	}
	a, err := GitLabReport(nil, nil, opts("api", "trivy-secret.yaml: rule x is disabled"))
	require.NoError(t, err)
	w, err := GitLabReport(nil, nil, opts("worker", "trivy-secret.yaml: rule x is disabled", ".trivyignore: secret y in /app/z:1 is accepted by line 1"))
	require.NoError(t, err)
	n, err := GitLabReport(nil, nil, opts("airflow"))
	require.NoError(t, err)
	m, err := MergeGitLabReports(n, a, w)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(m, &doc))
	assert.Equal(t, []any{
		map[string]any{"level": "info", "value": "trivy-secret.yaml: rule x is disabled"},
		map[string]any{"level": "info", "value": ".trivyignore: secret y in /app/z:1 is accepted by line 1"},
	}, doc["scan"].(map[string]any)["messages"])
}

func TestParseSecretConfigOfTrivysFixtures(t *testing.T) {
	c, err := ParseSecretConfig(readFile(t, "testdata/trivy-secret.yaml"))
	require.NoError(t, err)
	require.Len(t, c.Rules, 1)
	assert.Equal(t, "mysecret", c.Rules[0].ID)
	assert.Equal(t, []string{"github-pat"}, c.DisableRules)

	files, err := filepath.Glob("testdata/secret-config/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		_, err := ParseSecretConfig(readFile(t, f))
		if filepath.Base(f) == "config-with-incorrect-severity.yaml" {
			require.Error(t, err, "Trivy turns severity \"bad\" into UNKNOWN with a warning; the pipeline refuses it")
			assert.Contains(t, err.Error(), `rule rule1: unknown severity "bad"`)
			continue
		}
		assert.NoError(t, err, f)
	}

	c, err = ParseSecretConfig(readFile(t, "testdata/secret-config/allow-path.yaml"))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"trivy-secret.yaml: built-in allow rule tests is disabled (more is scanned)",
		"trivy-secret.yaml: custom rule rule1 (HIGH) is added",
		`trivy-secret.yaml: rule rule1 allow-rules[0] allows files whose path matches .*\.txt (skip text files)`,
	}, c.Describe())
	c, err = ParseSecretConfig(readFile(t, "testdata/secret-config/config-enable-ghp.yaml"))
	require.NoError(t, err)
	assert.Contains(t, c.Describe(), "trivy-secret.yaml: only the built-in rules github-pat are enabled; every other built-in rule is off")
	c, err = ParseSecretConfig(readFile(t, "testdata/secret-config/exclude-block.yaml"))
	require.NoError(t, err)
	assert.Contains(t, c.Describe(), "trivy-secret.yaml: rule rule1 skips the blocks 1 exclude-block regex matches (exclude blocks)")
}

func TestSecretConfigShowsAllowedPathsButNeverATextRegex(t *testing.T) {
	value := "AKIA" + "Q7ZL2M4N6P8R0T2V"
	c, err := ParseSecretConfig([]byte(`allow-rules:
  - id: fixtures
    description: recorded test fixtures
    path: ^tests/fixtures/
  - id: old-key
    regex: ` + value + `
exclude-block:
  regexes: ["BEGIN-EXAMPLE(.|\\s)*END-EXAMPLE"]
`))
	require.NoError(t, err)
	d := strings.Join(c.Describe(), "\n")
	assert.Equal(t, "trivy-secret.yaml: allow rule fixtures allows files whose path matches ^tests/fixtures/ (recorded test fixtures)\n"+
		"trivy-secret.yaml: allow rule old-key allows any match of its text regex\n"+
		"trivy-secret.yaml: text inside the blocks 1 exclude-block regex matches is skipped", d)
	assert.NotContains(t, d, value)
}

func TestParseSecretConfigRefusesWhatTrivyWouldMisread(t *testing.T) {
	for in, want := range map[string]string{
		"":                                  "trivy-secret.yaml is empty",
		"# only a comment\n":                "trivy-secret.yaml is empty",
		"allow-rule:\n  - path: x\n":        "field allow-rule not found",
		"disable-rules: [\"\"]\n":           "disable-rules[0] is empty",
		"rules:\n  - regex: x\n":            "rules[0] has no id",
		"rules:\n  - id: r\n":               "rule r has no regex",
		"rules:\n  - id: r\n    regex: x\n": `rule r: unknown severity ""`,
		"rules:\n  - {id: r, regex: x, severity: high}\n  - {id: r, regex: y, severity: low}\n": "rule r is defined twice",
		"rules:\n  - {id: r, regex: '(x', severity: HIGH}\n":                                    "rule r regex does not compile",
		"rules:\n  - {id: r, regex: '(?P<s>x)', severity: HIGH, secret-group-name: secret}\n":   `secret-group-name "secret" is not a named group`,
		"rules:\n  - {id: r, regex: x, severity: HIGH, path: '['}\n":                            "rule r path does not compile",
		"allow-rules:\n  - id: a\n    description: nothing\n":                                   "allow rule a has neither path nor regex",
		"allow-rules:\n  - path: '(['\n":                                                        "allow-rules[0] path does not compile",
		"exclude-block:\n  regexes: ['(']\n":                                                    "exclude-block regexes[0] does not compile",
		"rules:\n  - {id: r, regex: x, severity: HIGH, allow-rules: [{id: a}]}\n":               "rule r allow rule a has neither path nor regex",
	} {
		_, err := ParseSecretConfig([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.True(t, strings.HasPrefix(err.Error(), "trivy-secret.yaml"), err.Error())
	}
}

func TestTrivyCommandLines(t *testing.T) {
	assert.Equal(t, []string{"trivy", "image", "--input", "/images/api.tar", "--scanners", "vuln,secret", "--secret-config", "/config/trivy-secret.yaml",
		"--format", "json", "--output", "/out/trivy-api.json", "--exit-code", "0"},
		ImageScanArgs("/images/api.tar", "/out/trivy-api.json", "/config/trivy-secret.yaml"))
	assert.Equal(t, []string{"trivy", "fs", "--scanners", "secret", "--secret-config", "/config/trivy-secret.yaml",
		"--format", "json", "--output", "/out/secret-scan.json", "--exit-code", "0", "/src"},
		SourceScanArgs("/src", "/out/secret-scan.json", "/config/trivy-secret.yaml"))
}

func FuzzRedact(f *testing.F) {
	f.Add(golden(f))
	f.Add(readFileF(f, "testdata/trivy-api.json"))
	f.Add([]byte(`{"Results":[{"Secrets":[{"Match":"a","Code":{"Lines":[]}}]}],"Metadata":{"ImageConfig":{}}}`))
	f.Add([]byte(`{"a":[{"CreatedBy":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Redact(data)
		if err != nil {
			return
		}
		var doc map[string]any
		require.NoError(t, json.Unmarshal(out, &doc))
		require.NotRegexp(t, redactedKeys, string(out))
		if r, err := ParseTrivy(out); err == nil {
			for _, s := range SecretFindings(r) {
				if s.Match != "" {
					require.Contains(t, s.Match, maskRun)
				}
			}
		}
	})
}
