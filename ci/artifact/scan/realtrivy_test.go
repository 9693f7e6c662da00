package scan

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trivyEnv names the Trivy v0.58.1 binary the real-Trivy tests run (they are skipped without
// it); recordEnv names a directory where they write Trivy's output, which becomes the recorded
// output of the module tests (tests/module/testdata) after the test checked that it holds no key.
const (
	trivyEnv  = "SP_TRIVY"
	recordEnv = "SP_TRIVY_RECORD"
)

// plantedKeys are keys of the well-known shapes, made at run time: random (so nothing
// key-shaped is committed, and Trivy's built-in "example" allow rule does not apply) and real
// in form (the private key is a real P-256 key).
type plantedKeys struct {
	AWSKeyID, AWSSecret, GitLabPAT, PrivateKeyPEM string
}

func randomFrom(t *testing.T, alphabet string, n int) string {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		require.NoError(t, err)
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

func newPlantedKeys(t *testing.T) plantedKeys {
	t.Helper()
	const upper, lower, digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return plantedKeys{
		AWSKeyID:      "AKIA" + randomFrom(t, upper+"234567", 16),
		AWSSecret:     randomFrom(t, upper+lower+digits+"/+", 40),
		GitLabPAT:     "glpat-" + randomFrom(t, upper+lower+digits+"-_", 20),
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}
}

// values are the strings no report may hold: each key, and each line of the private key's body.
func (k plantedKeys) values() []string {
	out := []string{k.AWSKeyID, k.AWSSecret, k.GitLabPAT}
	for _, l := range strings.Split(k.PrivateKeyPEM, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

func (k plantedKeys) assertAbsent(t *testing.T, what string, data []byte) {
	t.Helper()
	for _, v := range k.values() {
		assert.NotContains(t, string(data), v, "%s holds a planted key", what)
	}
}

// The planted files: an AWS key pair in a module of the API (it enters the api image as
// /app/src/...), a GitLab token in a script and a private key that enter no image.
var planted = map[string]string{
	"src/soccerpredict/aws_settings.py": "AWS_ACCESS_KEY_ID = \"{{AWS_ID}}\"\nAWS_SECRET_ACCESS_KEY = \"{{AWS_SECRET}}\"\n",
	"scripts/release.sh":                "#!/bin/sh\nset -eu\nexport GITLAB_TOKEN={{GITLAB_PAT}}\ncurl --fail -H \"PRIVATE-TOKEN: $GITLAB_TOKEN\" \"$CI_API_V4_URL/projects\"\n",
	"deploy/ci-deploy-key.pem":          "{{PEM}}",
}

func (k plantedKeys) fill(s string) string {
	return strings.NewReplacer("{{AWS_ID}}", k.AWSKeyID, "{{AWS_SECRET}}", k.AWSSecret, "{{GITLAB_PAT}}", k.GitLabPAT, "{{PEM}}", k.PrivateKeyPEM).Replace(s)
}

// plantedProject copies the sample project into a temporary directory and plants the keys.
func plantedProject(t *testing.T, k plantedKeys) string {
	t.Helper()
	src := "../../../tests/testdata/soccerpredict"
	dst := filepath.Join(t.TempDir(), "soccerpredict")
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
	for rel, body := range planted {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dst, rel), []byte(k.fill(body)), 0o644))
	}
	return dst
}

// runTrivy runs args (a scan.*Args command line) with the real Trivy and a private cache, and
// returns the JSON report it wrote.
func runTrivy(t *testing.T, bin string, args []string) []byte {
	t.Helper()
	require.Equal(t, "trivy", args[0])
	out := args[indexOfArg(args, "--output")+1]
	cmd := exec.Command(bin, append([]string{args[1], "--cache-dir", filepath.Join(t.TempDir(), "cache")}, args[2:]...)...)
	cmd.Env = append(os.Environ(), "TRIVY_NO_PROGRESS=true")
	log, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", log)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}

func indexOfArg(args []string, a string) int {
	for i, x := range args {
		if x == a {
			return i
		}
	}
	return -1
}

// pemMarkers are spelled as placeholders in a recorded report: even masked, a key's armour lines
// look like a private key to push protection. The module tests put them back.
var pemMarkers = strings.NewReplacer("-----BEGIN PRIVATE KEY-----", "{{PEM_BEGIN}}", "-----END PRIVATE KEY", "{{PEM_END}}")

func record(t *testing.T, name string, data []byte) {
	t.Helper()
	if dir := os.Getenv(recordEnv); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(pemMarkers.Replace(string(data))), 0o644))
	}
}

func rulesAt(fs []SecretFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Where())
	}
	sort.Strings(out)
	return out
}

func trivyBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(trivyEnv)
	if bin == "" {
		t.Skip("set " + trivyEnv + "=<path to trivy 0.58.1> to run Trivy itself on planted keys")
	}
	v, err := exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err, "%s", v)
	require.Contains(t, string(v), "0.58.1", "the pipeline pins Trivy 0.58.1 (ci/toolchain)")
	return bin
}

// Trivy itself finds the planted keys in the project's files, files that enter no image
// included, and everything the pipeline writes about them names file and rule, never the key.
func TestRealTrivyFindsKeysPlantedInTheSampleProject(t *testing.T) {
	bin := trivyBinary(t)
	keys := newPlantedKeys(t)
	dir := plantedProject(t, keys)
	work := t.TempDir()

	raw := runTrivy(t, bin, SourceScanArgs(dir, filepath.Join(work, "fs.json"), filepath.Join(work, "no-"+SecretConfigFile)))
	r, err := ParseTrivy(raw)
	require.NoError(t, err)
	assert.Equal(t, "filesystem", r.ArtifactType)
	found := SecretFindings(r)
	assert.Equal(t, []string{
		"aws-access-key-id src/soccerpredict/aws_settings.py:1",
		"aws-secret-access-key src/soccerpredict/aws_settings.py:2",
		"gitlab-pat scripts/release.sh:3",
		// Trivy masks the key's line breaks too, so the whole key is reported as line 1.
		"private-key deploy/ci-deploy-key.pem:1",
	}, rulesAt(found))
	for _, res := range r.Results {
		for _, s := range res.Secrets {
			assert.NotEmpty(t, Masked(s.Match), "Trivy masks the line of %s in %s", s.RuleID, res.Target)
		}
	}
	keys.assertAbsent(t, "Trivy's own report (every planted line is a match, so masked)", raw)
	record(t, "trivy-fs-planted.json", raw)

	v, err := Evaluate(r, Policy{Severities: []Severity{Critical, High}, Now: time.Now()})
	require.NoError(t, err)
	require.Len(t, v.BlockingSecrets, 4, "AWS keys and tokens are CRITICAL, a private key HIGH: all block")
	keys.assertAbsent(t, "the error", []byte(v.Err().Error()))
	redacted, err := Redact(raw)
	require.NoError(t, err)
	keys.assertAbsent(t, "the redacted report", redacted)
	sd, err := SecretDetectionReport(v.ReportedSecrets(), SecretDetectionOptions{Run: Run{ScannerVersion: "0.58.1", Start: time.Now(), End: time.Now()}})
	require.NoError(t, err)
	keys.assertAbsent(t, "the secret detection report", sd)
	checkSecretDetectionReport(t, sd, 4)

	// The project's allow-list: a path allowed in trivy-secret.yaml is not reported by Trivy; a rule
	// in .trivyignore is reported and accepted.
	cfgPath := filepath.Join(dir, SecretConfigFile)
	cfgText := "allow-rules:\n  - id: deploy-keys\n    description: keys of the deploy fixtures\n    path: ^deploy/\n"
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfgText), 0o644))
	cfg, err := ParseSecretConfig([]byte(cfgText))
	require.NoError(t, err)
	raw = runTrivy(t, bin, SourceScanArgs(dir, filepath.Join(work, "fs-allowed.json"), cfgPath))
	r, err = ParseTrivy(raw)
	require.NoError(t, err)
	assert.NotContains(t, rulesAt(SecretFindings(r)), "private-key deploy/ci-deploy-key.pem:1")
	assert.Len(t, SecretFindings(r), 3)
	assert.Equal(t, []string{"trivy-secret.yaml: allow rule deploy-keys allows files whose path matches ^deploy/ (keys of the deploy fixtures)"}, cfg.Describe())
	ignore, err := ParseIgnore([]byte("gitlab-pat\n"))
	require.NoError(t, err)
	v, err = Evaluate(r, Policy{Severities: []Severity{Critical, High}, Ignore: ignore, Now: time.Now()})
	require.NoError(t, err)
	assert.Equal(t, []string{"gitlab-pat scripts/release.sh:3"}, rulesAt(v.IgnoredSecrets))
	assert.Len(t, v.BlockingSecrets, 2)
	record(t, "trivy-fs-planted-allowed.json", raw)

	// The clean sample project has no secret.
	raw = runTrivy(t, bin, SourceScanArgs("../../../tests/testdata/soccerpredict", filepath.Join(work, "clean.json"), filepath.Join(work, "none.yaml")))
	r, err = ParseTrivy(raw)
	require.NoError(t, err)
	assert.Empty(t, SecretFindings(r))
	record(t, "trivy-fs-clean.json", raw)
}

// Trivy finds a key that a module of the API carries into the image. The image is an archive
// made here with the planted file in /app/src (as the api Dockerfile copies src/). Only the
// secret scanner runs: the vulnerability scanner needs Trivy's database, which is not here.
func TestRealTrivyFindsAKeyInAnImage(t *testing.T) {
	bin := trivyBinary(t)
	keys := newPlantedKeys(t)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, f := range []struct{ name, body string }{
		{"app/src/soccerpredict/__init__.py", ""},
		{"app/src/soccerpredict/aws_settings.py", keys.fill(planted["src/soccerpredict/aws_settings.py"])},
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(1740816000, 0)}))
		_, err := io.WriteString(tw, f.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer.Bytes())), nil })
	require.NoError(t, err)
	img, err := mutate.AppendLayers(empty.Image, l)
	require.NoError(t, err)
	tag, err := name.NewTag("registry.example.com/sp/api:planted")
	require.NoError(t, err)
	work := t.TempDir()
	archive := filepath.Join(work, "api.tar")
	require.NoError(t, tarball.WriteToFile(archive, tag, img))

	args := ImageScanArgs(archive, filepath.Join(work, "trivy-api.json"), filepath.Join(work, "none.yaml"))
	args[indexOfArg(args, "--scanners")+1] = "secret"
	raw := runTrivy(t, bin, args)
	r, err := ParseTrivy(raw)
	require.NoError(t, err)
	assert.Equal(t, ArtifactTypeImage, r.ArtifactType)
	assert.Equal(t, []string{
		"aws-access-key-id /app/src/soccerpredict/aws_settings.py:1",
		"aws-secret-access-key /app/src/soccerpredict/aws_settings.py:2",
	}, rulesAt(SecretFindings(r)))
	keys.assertAbsent(t, "Trivy's own report", raw)
	record(t, "trivy-image-planted.json", raw)

	v, err := Evaluate(r, Policy{Severities: []Severity{Critical, High}, Now: time.Now()})
	require.NoError(t, err)
	assert.False(t, v.Passed())
	gl, err := GitLabReport(v.Reported(), v.ReportedSecrets(), GitLabOptions{Image: "api", Run: Run{ScannerVersion: "0.58.1", Start: time.Now(), End: time.Now()}})
	require.NoError(t, err)
	keys.assertAbsent(t, "the container scanning report", gl)
	checkGitLabReport(t, gl, 2)
}
