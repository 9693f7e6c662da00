package release

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

const (
	relCommit  = "0123456789abcdef0123456789abcdef01234567"
	relOther   = "fedcba9876543210fedcba9876543210fedcba98"
	relPrefix  = "registry.gitlab.com/sp"
	cleanTrivy = `{"SchemaVersion": 2, "ArtifactName": "x", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": []}`
	redTrivy   = `{"SchemaVersion": 2, "ArtifactName": "x", "ArtifactType": "container_image", "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}}, "Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "openssl", "InstalledVersion": "1", "FixedVersion": "2", "Severity": "CRITICAL"}]}]}`
)

func publicKeyPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func relSettings() config.Settings {
	return config.Settings{Commit: relCommit, ProjectID: "42", Registry: relPrefix, ScanSeverities: []string{"HIGH", "CRITICAL"}}
}

func relImages() map[domain.Service]string {
	out := map[domain.Service]string{}
	for _, svc := range domain.Services() {
		out[svc] = relPrefix + "/" + string(svc) + "@" + fakeDigest(string(svc))
	}
	return out
}

// relFlags are a tag pipeline's flags: the version, the token, the three images, the committed
// trust.
func relFlags(t *testing.T) Flags {
	return Flags{Version: "v1.4.0", GitLabToken: true, Images: relImages(), Trust: attest.CommittedTrustFiles()}
}

func TestCheckRefusesWithTheReasonAndAcceptsItsTwin(t *testing.T) {
	for name, c := range map[string]struct {
		refused, allowed func(*Flags, *config.Settings)
		why              string
	}{
		"a version that is not vX.Y.Z": {
			func(f *Flags, _ *config.Settings) { f.Version = "1.4.0" }, func(f *Flags, _ *config.Settings) { f.Version = "v1.4.0-rc.1" },
			`no "v" prefix`},
		"no release commit": {
			func(_ *Flags, s *config.Settings) { s.Commit = "" }, func(*Flags, *config.Settings) {},
			"a release needs its commit: pass --commit="},
		"a report file": {
			func(f *Flags, _ *config.Settings) { f.GateReport = true }, func(*Flags, *config.Settings) {},
			"release refused, nothing was promoted: report files are not evidence here: production reads the gate report and the scan attached to each image in the registry"},
		"no GitLab token": {
			func(f *Flags, _ *config.Settings) { f.GitLabToken = false }, func(*Flags, *config.Settings) {},
			"--gitlab-token is required"},
		"no GitLab project": {
			func(_ *Flags, s *config.Settings) { s.ProjectID = "" }, func(f *Flags, s *config.Settings) { s.ProjectID, f.ProjectID = "", "42" },
			"no GitLab project: pass --project-id"},
		"two images of three": {
			func(f *Flags, _ *config.Settings) { f.Images[domain.Worker] = "" }, func(*Flags, *config.Settings) {},
			"--worker-image is missing"},
		"no images and no cluster to read them from": {
			func(f *Flags, _ *config.Settings) { f.Images = nil }, func(f *Flags, _ *config.Settings) { f.Images, f.Kubeconfig = nil, true },
			"no images: pass --api-image, --worker-image and --airflow-image"},
		"no committed Sigstore policy": {
			func(f *Flags, _ *config.Settings) { f.Trust = attest.TrustFiles{} }, func(*Flags, *config.Settings) {},
			"release refused, nothing was promoted: production counts only Sigstore-signed evidence: no Sigstore policy is committed"},
		"a keyed policy without its public key": {
			func(f *Flags, _ *config.Settings) { f.Trust = attest.TrustFiles{Policy: []byte(`{"mode":"keyed"}`)} },
			func(f *Flags, _ *config.Settings) {
				f.Trust = attest.TrustFiles{Policy: []byte(`{"mode":"keyed"}`), PublicKey: publicKeyPEM(t)}
			},
			"says keyed and no public key is committed"},
	} {
		t.Run(name, func(t *testing.T) {
			f, s := relFlags(t), relSettings()
			c.refused(&f, &s)
			_, err := Check(f, s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.why)

			f, s = relFlags(t), relSettings()
			c.allowed(&f, &s)
			req, err := Check(f, s)
			require.NoError(t, err)
			assert.Equal(t, domain.Commit(relCommit), req.Commit)
			assert.Equal(t, "42", req.Project)
			assert.Equal(t, req.Given == nil, req.FromStaging)
			assert.NotEmpty(t, req.Trust.Name, "a release's evidence counts only signed under the committed policy")
		})
	}
	req, err := Check(relFlags(t), relSettings())
	require.NoError(t, err)
	assert.Equal(t, relImages()[domain.Worker], req.Given[domain.Worker].String())
}

func TestStagedImagesAreStagingsOnlyWhenItRunsTheReleaseCommit(t *testing.T) {
	f := relFlags(t)
	f.Images, f.Kubeconfig = nil, true
	req, err := Check(f, relSettings())
	require.NoError(t, err)
	digests := map[domain.Service]domain.Digest{}
	for _, svc := range domain.Services() {
		digests[svc] = domain.Digest(fakeDigest(string(svc)))
	}
	rec := trace.Record{Environment: domain.Staging, GitCommit: relOther, ImageDigests: digests}
	_, err = req.StagedImages(rec, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "release refused, nothing was promoted: staging runs commit "+relOther+", not the release commit "+relCommit)

	rec.GitCommit = relCommit
	mirror := domain.Repository("mirror.example.com/sp/api")
	set, err := req.StagedImages(rec, map[domain.Digest]domain.Repository{digests[domain.API]: mirror})
	require.NoError(t, err)
	assert.Equal(t, "mirror.example.com/sp/api@"+fakeDigest("api"), set[domain.API].String(), "the repository the live manifest names")
	assert.Equal(t, relPrefix+"/worker@"+fakeDigest("worker"), set[domain.Worker].String(), "else the registry's repository of the service")
}

func relReport(t *testing.T, commit string, status gate.Status, modelSummary string) []byte {
	t.Helper()
	rep := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		summary := "x"
		if g.Name == gate.ModelGate && modelSummary != "" {
			summary = modelSummary
		}
		st := gate.Pass
		if g.Name == gate.Lint {
			st = status
		}
		rep.Results = append(rep.Results, gate.NewResult(g.Name, st, summary))
	}
	b, err := rep.JSON()
	require.NoError(t, err)
	return b
}

func trivy(t *testing.T, api string) *deploy.Scan {
	t.Helper()
	sev, err := scan.ParseSeverities("HIGH,CRITICAL")
	require.NoError(t, err)
	return &deploy.Scan{
		Reports: map[domain.Service][]byte{domain.API: []byte(api), domain.Worker: []byte(cleanTrivy), domain.Airflow: []byte(cleanTrivy)},
		Policy:  scan.Policy{Severities: sev, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
}

// releasable are the facts of a release that may go: counting evidence, the green report of the
// commit, clean scans, labels of the release commit, tags below the version.
func releasable(t *testing.T) Facts {
	t.Helper()
	req, err := Check(relFlags(t), relSettings())
	require.NoError(t, err)
	sum := attest.Summary{Commit: relCommit, OK: true, Problems: []string{}, SigstorePolicy: req.Trust.Name, Images: []attest.Verified{{}}}
	labels := map[domain.Service]map[string]string{}
	for _, svc := range domain.Services() {
		labels[svc] = map[string]string{trace.LabelRevision: relCommit, trace.LabelDatasetVersion: "md5:abc", trace.LabelModelVersion: "7"}
	}
	return Facts{
		Request:  req,
		Images:   req.Given,
		Evidence: deploy.Evidence{Registry: &sum, GateReport: relReport(t, relCommit, gate.Pass, ""), Scan: trivy(t, cleanTrivy)},
		Labels:   labels,
		Tags:     []gitlab.Tag{{Name: "v1.3.0", Target: relOther}, {Name: "v1.4.0", Target: relCommit}, {Name: "nightly", Target: relOther}},
		Commits:  []Commit{{SHA: strings.Repeat("a", 40), Title: "feat(api): serve calibrated probabilities", Author: "Ana"}},
	}
}

func TestDecideRefusesWithTheReasonAndAllowsItsTwin(t *testing.T) {
	for name, c := range map[string]struct {
		change func(*Facts)
		why    string
		// early: the refusal is known before GitLab is asked (Refusal).
		early bool
	}{
		"evidence not read": {func(f *Facts) { f.Evidence.Registry = nil }, "the evidence of the images was not read from the registry", true},
		"evidence that does not count": {func(f *Facts) {
			f.Evidence.Registry.OK, f.Evidence.Registry.Problems = false, []string{"worker: no signed provenance"}
		}, "evidence in the registry does not count:\n  - worker: no signed provenance", true},
		"a red gate report":                 {func(f *Facts) { f.Evidence.GateReport = relReport(t, relCommit, gate.Fail, "") }, "blocking gates not passed: lint (fail)", true},
		"the gate report of another commit": {func(f *Facts) { f.Evidence.GateReport = relReport(t, relOther, gate.Pass, "") }, "report of " + relOther + ", not of " + relCommit, true},
		"a first model": {func(f *Facts) {
			f.Evidence.GateReport = relReport(t, relCommit, gate.Pass, modelgate.FirstModelSummary+": candidate accepted")
		}, "first model", true},
		"a blocking finding":                    {func(f *Facts) { f.Evidence.Scan = trivy(t, redTrivy) }, "blocking findings (HIGH,CRITICAL)", true},
		"an image of another commit":            {func(f *Facts) { f.Labels[domain.Worker][trace.LabelRevision] = relOther }, "image worker was built from commit " + relOther, true},
		"a version already released":            {func(f *Facts) { f.Tags = append(f.Tags, gitlab.Tag{Name: "v1.5.0", Target: relOther}) }, "not greater than v1.5.0", false},
		"this version tagged on another commit": {func(f *Facts) { f.Tags[1].Target = relOther }, "not greater than v1.4.0", false},
	} {
		t.Run(name, func(t *testing.T) {
			f := releasable(t)
			c.change(&f)
			_, err := Decide(f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.why)
			assert.Contains(t, err.Error(), "nothing was promoted")
			if c.early {
				early := f
				early.Labels, early.Tags, early.Commits = nil, nil, nil
				if strings.Contains(c.why, "built from commit") {
					early.Labels = f.Labels
				}
				assert.ErrorContains(t, early.Refusal(), c.why, "known before GitLab is asked")
			} else {
				assert.NoError(t, f.Refusal())
				_, err := f.Previous()
				assert.ErrorContains(t, err, c.why, "known before the commits are compared")
			}
		})
	}

	// The twin: every fact as a release needs it.
	f := releasable(t)
	require.NoError(t, f.Refusal())
	prev, err := f.Previous()
	require.NoError(t, err)
	assert.Equal(t, "v1.3.0", prev, "the release's own tag is not a previous release")
	d, err := Decide(f)
	require.NoError(t, err)
	require.Len(t, d.Plan.Copies, 3)
	for _, c := range d.Plan.Copies {
		repo := relPrefix + "/" + string(c.Service)
		assert.Equal(t, repo+"@"+fakeDigest(string(c.Service)), c.Source.String())
		assert.Equal(t, []string{repo + ":v1.4.0", repo + ":latest"}, []string{c.Destinations[0].String(), c.Destinations[1].String()})
		assert.NoError(t, c.Promoted(fakeDigest(string(c.Service))))
		assert.ErrorContains(t, c.Promoted(fakeDigest("other")), "the destinations resolve to "+fakeDigest("other"))
	}
	assert.Equal(t, domain.Commit(relCommit), d.Record.GitCommit)
	assert.Equal(t, "v1.4.0", d.Record.Release)
	assert.Equal(t, "7", d.Record.ModelVersion, "versions come from the images' labels")
	assert.Contains(t, d.Notes, "v1.3.0")
	assert.Contains(t, d.Notes, "serve calibrated probabilities")
	files, err := d.Files()
	require.NoError(t, err)
	var names []string
	for _, file := range files {
		names = append(names, file.Name)
	}
	assert.Equal(t, []string{"release-notes.md", "trace.json", "release-plan.json"}, names)
}

// The gate report's verdict is computed from the evidence that counted, never assumed: without
// a gate report the release is refused, and a plan asked with a red verdict refuses.
func TestDecideComputesTheGateVerdictFromTheEvidence(t *testing.T) {
	f := releasable(t)
	f.Evidence.GateReport = nil
	_, err := Decide(f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gate report")

	_, err = NewPlan(PlanRequest{Version: f.Request.Version, Images: f.Images, GateReportGreen: false})
	assert.ErrorContains(t, err, "the gate report is not green")
}

// Staged images carry the staging record, which must agree with the images' labels.
func TestDecideOfStagedImagesKeepsTheStagingRecord(t *testing.T) {
	f := releasable(t)
	staged := trace.Record{Environment: domain.Staging, GitCommit: relCommit, ImageDigests: f.Images.Digests(), DatasetVersion: "md5:abc", ModelVersion: "7"}
	f.Staged = &staged
	d, err := Decide(f)
	require.NoError(t, err)
	assert.Equal(t, "md5:abc", d.Record.DatasetVersion)
	assert.Equal(t, "v1.4.0", d.Record.Release)

	staged.ModelVersion = "6"
	_, err = Decide(f)
	assert.ErrorContains(t, err, "image api carries model version 7 but the deployment records 6")
}

func TestAPreReleaseKeepsLatest(t *testing.T) {
	fl := relFlags(t)
	fl.Version = "v2.0.0-rc.1"
	req, err := Check(fl, relSettings())
	require.NoError(t, err)
	f := releasable(t)
	f.Request = req
	f.Evidence.Registry.SigstorePolicy = req.Trust.Name
	d, err := Decide(f)
	require.NoError(t, err)
	for _, c := range d.Plan.Copies {
		require.Len(t, c.Destinations, 1)
		assert.Equal(t, "v2.0.0-rc.1", string(c.Destinations[0].Tag))
	}
}
