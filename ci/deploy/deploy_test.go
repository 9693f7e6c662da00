package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

const (
	commit    = "0123456789abcdef0123456789abcdef01234567"
	other     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	registry  = "registry.example.com/sp"
	testAge   = "age1yugsrl9yfgduykd6xwgn6lw90dtd0qzhl9p8t5e7d4zagdxvzdfqwh03h5" // the repository's TEST key
	ownAge    = "age1productionownkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	cleanScan = `{"SchemaVersion": 2, "ArtifactName": "img", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": []}`
	dirtyScan = `{"SchemaVersion": 2, "ArtifactName": "img", "ArtifactType": "container_image", "Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "openssl", "InstalledVersion": "1", "FixedVersion": "2", "Severity": "CRITICAL"}]}]}`
)

func digest(n int) string { return "sha256:" + strings.Repeat(string(rune('0'+n)), 64) }

func givenImages() map[domain.Service]string {
	return map[domain.Service]string{
		domain.API:     registry + "/api@" + digest(1),
		domain.Worker:  registry + "/worker@" + digest(2),
		domain.Airflow: registry + "/airflow@" + digest(3),
	}
}

// trustedKey is a fresh P-256 public key as PEM, and its key ID computed here (sha256 of the
// PKIX DER), not by the code under test.
func trustedKey(t *testing.T) ([]byte, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "sha256:" + hex.EncodeToString(sum[:])
}

func flags(mode Mode, env string) Flags {
	return Flags{Mode: mode, Env: env, Images: givenImages(), Kubeconfig: true, AgeKey: true, Trust: attest.CommittedTrustFiles()}
}

func TestCheckRefusesWhatTheFlagsAloneRefuse(t *testing.T) {
	key, _ := trustedKey(t)
	cases := map[string]struct {
		refused, allowed Flags
		reason           string
	}{
		"unknown environment": {
			refused: flags(Apply, "prod"), allowed: flags(Apply, "staging"),
			reason: `unknown environment "prod": set --env to one of`,
		},
		"deploy without a cluster or a key": {
			refused: func() Flags { f := flags(Apply, "staging"); f.Kubeconfig, f.AgeKey = false, false; return f }(),
			allowed: flags(Apply, "staging"),
			reason:  "deploy to staging is missing 2 input(s); nothing was changed",
		},
		"a dry run needs neither": {
			refused: func() Flags { f := flags(Apply, "dev"); f.Kubeconfig = false; return f }(),
			allowed: func() Flags { f := flags(Preview, "dev"); f.Kubeconfig, f.AgeKey = false, false; return f }(),
			reason:  "--kubeconfig=file:$HOME/.kube/config",
		},
		"production over plain http": {
			refused: func() Flags {
				f := flags(Apply, "production")
				f.InsecureRegistries = []string{"reg.local:5000"}
				return f
			}(),
			allowed: func() Flags {
				f := flags(Apply, "staging")
				f.InsecureRegistries = []string{"reg.local:5000"}
				return f
			}(),
			reason: "--insecure-registry=reg.local:5000 is refused for production",
		},
		"production from report files": {
			refused: func() Flags { f := flags(Apply, "production"); f.GateReport = true; return f }(),
			allowed: func() Flags { f := flags(Apply, "dev"); f.GateReport = true; return f }(),
			reason:  "production reads the gate report and the scan attached to each image in the registry",
		},
		"staging's unsigned report files": {
			refused: func() Flags { f := flags(Apply, "staging"); f.ScanReport = true; return f }(),
			allowed: flags(Apply, "staging"),
			reason:  "report files are not signed",
		},
		"production without a committed Sigstore policy": {
			refused: func() Flags { f := flags(Apply, "production"); f.Trust = attest.TrustFiles{}; return f }(),
			allowed: flags(Apply, "production"),
			reason:  "deploy to production refused, nothing was changed: production counts only Sigstore-signed evidence: no Sigstore policy is committed",
		},
		"a keyed policy with a committed private key": {
			refused: func() Flags {
				f := flags(Apply, "staging")
				f.Trust = attest.TrustFiles{Policy: []byte(`{"mode":"keyed"}`), PublicKey: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}
				return f
			}(),
			allowed: func() Flags {
				f := flags(Apply, "staging")
				f.Trust = attest.TrustFiles{Policy: []byte(`{"mode":"keyed"}`), PublicKey: key}
				return f
			}(),
			reason: "commit only the public half",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Check(tc.refused)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
			_, err = Check(tc.allowed)
			assert.NoError(t, err)
		})
	}
}

func TestCheckSaysWhatToRead(t *testing.T) {
	committed, err := attest.CommittedTrustFiles().Trust()
	require.NoError(t, err)
	cases := map[string]struct {
		flags       Flags
		evidence    EvidenceSource
		secretsFile string
	}{
		"dev reads no evidence": {flags(Apply, "dev"), EvidenceSource{From: NoEvidence}, "secrets/dev.enc.yaml"},
		"dev ignores report files": {
			func() Flags { f := flags(Apply, "dev"); f.GateReport = true; return f }(),
			EvidenceSource{From: NoEvidence}, "secrets/dev.enc.yaml",
		},
		"staging from the registry, under the committed policy":    {flags(Apply, "staging"), EvidenceSource{From: Registry, Trust: committed}, "secrets/staging.enc.yaml"},
		"production from the registry, under the committed policy": {flags(Apply, "production"), EvidenceSource{From: Registry, Trust: committed}, "secrets/production.enc.yaml"},
		"a dry run without the age key renders without secrets": {
			func() Flags { f := flags(Preview, "dev"); f.AgeKey = false; return f }(),
			EvidenceSource{From: NoEvidence}, "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := Check(tc.flags)
			require.NoError(t, err)
			assert.Equal(t, tc.evidence, req.Evidence)
			assert.Equal(t, tc.secretsFile, req.SecretsFile)
		})
	}
}

func TestRequestMissingNamesTheImagesToLookUp(t *testing.T) {
	f := flags(Apply, "staging")
	f.Images = map[domain.Service]string{domain.Worker: registry + "/worker@" + digest(2)}
	req, err := Check(f)
	require.NoError(t, err)
	assert.Equal(t, []domain.Service{domain.API, domain.Airflow}, req.Missing())
	req, err = Check(flags(Apply, "staging"))
	require.NoError(t, err)
	assert.Empty(t, req.Missing())
}

func gateReport(t *testing.T, sha string, status gate.Status) []byte {
	t.Helper()
	rep := gate.Report{Commit: sha}
	for _, g := range gate.Catalog() {
		rep.Results = append(rep.Results, gateResult(g.Name, status, "x"))
	}
	b, err := rep.JSON()
	require.NoError(t, err)
	return b
}

// gateResult is a gate's result as the module writes it: the model gate records the tolerances
// that judged it (here none).
func gateResult(name string, status gate.Status, summary string) gate.Result {
	r := gate.NewResult(name, status, summary)
	if name == gate.ModelGate {
		r.Details = []string{modelgate.RecordTolerances(nil)}
	}
	return r
}

func scanDir(t *testing.T, reports map[domain.Service]string) *Scan {
	t.Helper()
	sev, err := scan.ParseSeverities("HIGH,CRITICAL")
	require.NoError(t, err)
	s := &Scan{Reports: map[domain.Service][]byte{}, Policy: scan.Policy{Severities: sev, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	for svc, r := range reports {
		s.Reports[svc] = []byte(r)
	}
	return s
}

func cleanDir(t *testing.T) *Scan {
	return scanDir(t, map[domain.Service]string{domain.API: cleanScan, domain.Worker: cleanScan, domain.Airflow: cleanScan})
}

func sops(recipient string) []byte {
	return []byte("data: ENC[AES256_GCM,data:xx]\nsops:\n  age:\n    - recipient: " + recipient + "\n      enc: x\n")
}

// approvedDeployment is GitLab's answer for the blocked deployment of commit to env, created by
// job 777 of pipeline 555, with approvers.
func approvedDeployment(t *testing.T, env string, approvers ...string) *policy.Evidence {
	t.Helper()
	var approvals []map[string]any
	for _, a := range approvers {
		approvals = append(approvals, map[string]any{"user": map[string]any{"username": a, "name": a}, "status": "approved"})
	}
	raw, err := json.Marshal(map[string]any{
		"id": 9001, "sha": commit, "status": "blocked",
		"user":        map[string]any{"username": "dave", "name": "Dave"},
		"environment": map[string]any{"name": env},
		"deployable":  map[string]any{"id": 777, "name": "deploy-" + env, "pipeline": map[string]any{"id": 555, "sha": commit}},
		"approvals":   approvals,
	})
	require.NoError(t, err)
	var d gitlab.Deployment
	require.NoError(t, json.Unmarshal(raw, &d))
	return policy.EvidenceFromDeployment(&d)
}

// allowed is a deploy of commit to env that every rule allows: a laptop run by erin (the token's
// owner), approved by enough others, with the registry's green, clean, counting evidence.
func allowed(t *testing.T, mode Mode, env string) (Flags, Facts) {
	t.Helper()
	f := flags(mode, env)
	f.GitLabToken, f.ProjectID = true, "42"
	set, err := artifact.ParseSet(givenImages())
	require.NoError(t, err)
	summary := attest.Summary{Commit: commit, OK: true, Problems: []string{}, Images: []attest.Verified{{}}}
	return f, Facts{
		Settings: config.Settings{
			Commit: commit, Ref: "main", DefaultBranch: "main", Namespace: "soccerpredict", Release: "soccer-predict", HelmTimeout: 10 * time.Minute,
		},
		Images:       set,
		Dataset:      dvc.Dataset{Version: "md5:" + strings.Repeat("a", 32), Pointer: "data/raw/matches.csv.dvc"},
		ModelVersion: "7",
		Evidence:     Evidence{Registry: &summary, GateReport: gateReport(t, commit, gate.Pass), Scan: cleanDir(t)},
		GitLab: policy.Proof{Source: policy.ProofSource{API: policy.TrustedGitLabAPI, Project: policy.TrustedProject},
			TokenOwner: &gitlab.User{Username: "erin", Name: "Erin"}, Deployment: approvedDeployment(t, env, "bob", "carol")},
		Author:   policy.Identity{Name: "Alice Author", Email: "alice@example.com"},
		Secrets:  sops(ownAge),
		ChartDir: "/chart",
	}
}

func decide(t *testing.T, f Flags, facts Facts) (Plan, error) {
	t.Helper()
	req, err := Check(f)
	require.NoError(t, err)
	facts.Request = req
	return Decide(facts)
}

func TestDecideRefusesWithTheReason(t *testing.T) {
	cases := map[string]struct {
		mode   Mode
		env    string
		change func(*Flags, *Facts)
		reason string
	}{
		"a record without the model version": {Apply, "staging", func(_ *Flags, f *Facts) { f.ModelVersion = "" }, "traceability record for staging: model version"},
		"a record without the commit":        {Apply, "production", func(_ *Flags, f *Facts) { f.Settings.Commit = "" }, "traceability record for production: git commit is empty"},
		"registry evidence that does not count": {Apply, "staging", func(_ *Flags, f *Facts) {
			f.Evidence.Registry = &attest.Summary{Commit: commit, Problems: []string{"worker: no Trivy report is attached"}}
		}, "deploy to staging refused, nothing was changed: evidence in the registry does not count:\n  - worker: no Trivy report is attached"},
		"the registry's gate report of another commit": {Apply, "production", func(_ *Flags, f *Facts) { f.Evidence.GateReport = gateReport(t, other, gate.Pass) },
			"gate report: gate report does not count as evidence: it is the report of " + other + ", not of " + commit},
		"a gate report judged with tolerances beyond the bounds": {Apply, "staging", func(_ *Flags, f *Facts) {
			rep := gate.Report{Commit: commit}
			for _, g := range gate.Catalog() {
				rep.Results = append(rep.Results, gate.NewResult(g.Name, gate.Pass, "x", modelgate.TolerancesDetail+"accuracy=1"))
			}
			f.Evidence.GateReport, _ = rep.JSON()
		}, "gate report: the gate report's model gate was judged with tolerances this module refuses: tolerance accuracy=1 is above its bound 0.05"},
		"a blocking finding in production": {Apply, "production", func(_ *Flags, f *Facts) {
			f.Evidence.Scan = scanDir(t, map[domain.Service]string{domain.API: dirtyScan, domain.Worker: cleanScan, domain.Airflow: cleanScan})
		}, "refused by the promotion policy (nothing was changed): deployment to production refused:\n  - the image scan has blocking findings"},
		"a blocking finding in staging": {Apply, "staging", func(_ *Flags, f *Facts) {
			f.Evidence.Scan = scanDir(t, map[domain.Service]string{domain.API: dirtyScan, domain.Worker: cleanScan, domain.Airflow: cleanScan})
		}, "refused by the promotion policy (nothing was changed): deployment to staging refused:\n  - the image scan has blocking findings"},
		"a settings file whose severities let a CRITICAL finding through": {Apply, "production", func(_ *Flags, f *Facts) {
			f.Evidence.Scan = scanDir(t, map[domain.Service]string{domain.API: dirtyScan, domain.Worker: cleanScan, domain.Airflow: cleanScan})
			f.Evidence.Scan.Policy.Severities = []scan.Severity{scan.Unknown}
		}, "SP_SCAN_SEVERITIES=UNKNOWN does not block HIGH and CRITICAL, which always block in production"},
		"one approval short in production": {Apply, "production", func(_ *Flags, f *Facts) { f.GitLab.Deployment = approvedDeployment(t, "production", "bob") },
			"production needs 2 approval(s) from distinct people other than the commit author and the person deploying; deployment 9001 has 1 (bob)"},
		"the author's own approval": {Apply, "staging", func(_ *Flags, f *Facts) { f.GitLab.Deployment = approvedDeployment(t, "staging", "alice") },
			"not counted: alice (commit author)"},
		"no GitLab token: the refusal says how to give one": {Apply, "staging", func(fl *Flags, f *Facts) { fl.GitLabToken = false; f.GitLab = policy.Proof{} },
			"DEPLOY_GITLABTOKEN=env://GITLAB_TOKEN"},
		"no encrypted secrets in the chart": {Apply, "staging", func(_ *Flags, f *Facts) { f.Secrets = nil },
			"no encrypted secrets for staging: create secrets/staging.enc.yaml in the chart"},
		"production secrets the test key opens": {Apply, "production", func(_ *Flags, f *Facts) { f.Secrets = sops(testAge) },
			"secrets/production.enc.yaml can be decrypted with the repository's TEST key"},
		"a dry run of staging without the age key": {Preview, "staging", func(fl *Flags, f *Facts) { fl.AgeKey = false },
			"a dry run for staging renders the chart with its secrets, like deploy: pass --age-key=env:SOPS_AGE_KEY"},
		"a dry run of production secrets the test key opens": {Preview, "production", func(_ *Flags, f *Facts) { f.Secrets = sops(testAge) },
			"repository's TEST key"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fl, facts := allowed(t, tc.mode, tc.env)
			p, err := decide(t, fl, facts)
			require.NoError(t, err, "the positive twin")
			assert.NotEmpty(t, p.Helm)

			fl, facts = allowed(t, tc.mode, tc.env)
			tc.change(&fl, &facts)
			_, err = decide(t, fl, facts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
}

func TestDecideDeployRunsHelmUpgradeUnderSops(t *testing.T) {
	fl, facts := allowed(t, Apply, "production")
	p, err := decide(t, fl, facts)
	require.NoError(t, err)
	assert.True(t, p.Policy.Allowed)
	assert.Equal(t, []string{"bob", "carol"}, p.Policy.ValidApprovals)
	assert.Equal(t, "erin", p.Policy.Actor, "the deployer is the token's owner")
	line := strings.Join(p.Helm, " ")
	assert.True(t, strings.HasPrefix(line, "/usr/local/bin/sops-decrypt exec-file --identity /run/secrets/age.key --refuse-identity /run/refused/test-age.key --file /chart/secrets/production.enc.yaml --tmpdir /run/decrypted -- helm upgrade --install --rollback-on-failure --wait=watcher"), line)
	for _, want := range []string{"--namespace soccerpredict-production", "-f {}", "images.api.digest=" + digest(1), "trace.gitCommit=" + commit, "trace.modelVersion=7"} {
		assert.Contains(t, line, want)
	}
	assert.Equal(t, &Secrets{Tool: "/usr/local/bin/sops-decrypt", AgeKey: "/run/secrets/age.key", Decrypted: "/run/decrypted", RefusedKey: "/run/refused/test-age.key"}, p.Secrets,
		"production's secrets must not open with the repository's test key: sops-decrypt tries it")
	assert.Nil(t, p.ReadDeployed, "deploy reads nothing back")
	assert.Equal(t, domain.Digest(digest(2)), p.Record.ImageDigests[domain.Worker])

	out := p.Deployed(time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC), "line 1\nRelease \"soccer-predict\" has been upgraded.\n")
	assert.True(t, strings.HasPrefix(out, "deployed soccer-predict to production (namespace soccerpredict-production)\n"), out)
	assert.Contains(t, out, "2025-05-01T12:00:00Z")
	assert.Contains(t, out, "has been upgraded")
	err = p.UpgradeFailed(1, "Error: UPGRADE FAILED: context deadline exceeded")
	assert.EqualError(t, err, "helm upgrade of soccer-predict in soccerpredict-production failed (exit 1); --rollback-on-failure rolled it back, the previous release is still serving:\nError: UPGRADE FAILED: context deadline exceeded")
}

// TestDecideOnlyProductionRefusesTheTestKey: staging may use the repository's test key (its
// shipped secrets are encrypted to it), so only production's plan carries --refuse-identity.
func TestDecideOnlyProductionRefusesTheTestKey(t *testing.T) {
	fl, facts := allowed(t, Apply, "staging")
	p, err := decide(t, fl, facts)
	require.NoError(t, err)
	require.NotNil(t, p.Secrets)
	assert.Empty(t, p.Secrets.RefusedKey)
	assert.NotContains(t, p.Helm, "--refuse-identity")
}

func TestUpgradeFailedNamesTheFixWhenHelmCouldNotReachTheCluster(t *testing.T) {
	p := Plan{Release: helm.Release{Name: "soccer-predict", Namespace: "soccerpredict-staging"}}
	err := p.UpgradeFailed(1, `Error: kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": dial tcp 10.0.0.1:6443: connect: connection refused`)
	assert.EqualError(t, err, "helm upgrade of soccer-predict in soccerpredict-staging failed (exit 1): the API server in the kubeconfig cannot be reached: check the kubeconfig's server address and that this runner can reach it:\n"+
		`Error: kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": dial tcp 10.0.0.1:6443: connect: connection refused`)
	assert.NotContains(t, err.Error(), "rolled it back")
}

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: soccer-predict-trace\n"

func TestDecidePlanCarriesTheRefusalAndComparesWithTheCluster(t *testing.T) {
	fl, facts := allowed(t, Preview, "production")
	facts.GitLab.Deployment = approvedDeployment(t, "production", "bob")
	p, err := decide(t, fl, facts)
	require.NoError(t, err, "a dry run shows a refusal, it does not fail on it")
	assert.False(t, p.Policy.Allowed)
	assert.Equal(t, []string{"helm", "get", "manifest", "soccer-predict", "--namespace", "soccerpredict-production"}, p.ReadDeployed)
	assert.Contains(t, strings.Join(p.Helm, " "), "-- helm template soccer-predict /chart")

	out, err := p.DryRun(configMap, "")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "dry run of deploy soccer-predict to production (namespace soccerpredict-production): nothing was applied\n"+
		"promotion policy: deploy would be refused:\n  - "), out)
	assert.Contains(t, out, "\ndiff with the deployed release: 0 changed, 1 added, 0 removed\n")
	names := dryRunDocuments(t, out)
	assert.Equal(t, []string{"policy.json", "trace.json", "diff.txt", "manifests.yaml"}, names.order)
	assert.Equal(t, configMap, names.docs["manifests.yaml"])
	assert.NotContains(t, names.docs["diff.txt"], "no --kubeconfig")
	assert.Contains(t, names.docs["diff.txt"], "+  name: soccer-predict-trace")
	var decision struct {
		Allowed bool     `json:"allowed"`
		Reasons []string `json:"reasons"`
	}
	require.NoError(t, json.Unmarshal([]byte(names.docs["policy.json"]), &decision))
	assert.False(t, decision.Allowed)
	require.Len(t, decision.Reasons, 1)
	assert.Contains(t, decision.Reasons[0], "deployment 9001 has 1 (bob)")
	assert.Contains(t, names.docs["trace.json"], commit)

	// Without a kubeconfig nor an age key, dev renders without secrets and compares with nothing.
	fl, facts = allowed(t, Preview, "dev")
	fl.Kubeconfig, fl.AgeKey = false, false
	p, err = decide(t, fl, facts)
	require.NoError(t, err)
	assert.Nil(t, p.Secrets)
	assert.Nil(t, p.ReadDeployed)
	assert.Equal(t, "helm", p.Helm[0])
	assert.Contains(t, strings.Join(p.Helm, " "), "-f /dev/null")
	out, err = p.DryRun(configMap, configMap)
	require.NoError(t, err)
	diff := dryRunDocuments(t, out).docs["diff.txt"]
	assert.True(t, strings.HasPrefix(diff, "no --kubeconfig: compared with an empty cluster\n0 changed, 0 added, 0 removed\n"), diff)
	assert.Contains(t, out, "promotion policy: deploy would be allowed\n")
}

// documents are the documents of a dry run's answer, by name, and their order.
type documents struct {
	docs  map[string]string
	order []string
}

// dryRunDocuments splits a dry run's answer at its `==> name <==` headers, independently of
// how DryRun writes them.
func dryRunDocuments(t *testing.T, out string) documents {
	t.Helper()
	d := documents{docs: map[string]string{}}
	parts := regexp.MustCompile(`(?m)^==> (\S+) <==\n`).Split(out, -1)
	names := regexp.MustCompile(`(?m)^==> (\S+) <==\n`).FindAllStringSubmatch(out, -1)
	require.Len(t, parts, len(names)+1)
	for i, n := range names {
		d.order = append(d.order, n[1])
		doc := parts[i+1]
		if i+1 < len(names) {
			doc = strings.TrimSuffix(doc, "\n") // the blank line before the next header
		}
		d.docs[n[1]] = doc
	}
	return d
}

func TestDecideFirstModelIsRefusedInProductionOnly(t *testing.T) {
	first := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		summary := "x"
		if g.Name == gate.ModelGate {
			summary = "first model (SP_FIRST_MODEL): no champion to compare with"
		}
		first.Results = append(first.Results, gateResult(g.Name, gate.Pass, summary))
	}
	raw, err := first.JSON()
	require.NoError(t, err)

	fl, facts := allowed(t, Apply, "production")
	facts.Evidence.GateReport = raw
	_, err = decide(t, fl, facts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the gate report's model gate ran as the first model")

	fl, facts = allowed(t, Apply, "staging")
	facts.Evidence.GateReport = raw
	_, err = decide(t, fl, facts)
	assert.NoError(t, err, "staging accepts the first model")
}
