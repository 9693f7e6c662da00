package attest

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

const (
	commit = "0123456789abcdef0123456789abcdef01234567"
	repo   = "registry.example.com/sp/api"
)

func ref(s string) domain.ImageRef {
	r, err := domain.ParseImageRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

var (
	digest    = "sha256:" + strings.Repeat("a", 64)
	config    = "sha256:" + strings.Repeat("c", 64)
	image     = repo + "@" + digest
	otherHash = "sha256:" + strings.Repeat("b", 64)
	t0        = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

func input() BuildInput {
	return BuildInput{
		Image: ref(image), Service: domain.API, Commit: commit, Ref: "main",
		SourceURL: "https://gitlab.com/soccerpredictai/soccerpredict", Pipeline: "https://gitlab.com/soccerpredictai/soccerpredict/-/pipelines/42",
		BuilderID: "https://gitlab.com/soccerpredictai/pipeline@dagger-v0.21.8", DatasetVersion: "d1", ModelVersion: "12",
		Registry: "registry.example.com/sp", BaseImages: []domain.ImageRef{ref("docker.io/library/python:3.11-slim-bookworm@" + otherHash)},
		StartedOn: t0, FinishedOn: t0.Add(time.Minute),
	}
}

func gateJSON(t *testing.T, c string) []byte {
	t.Helper()
	r := gate.Report{Commit: c}
	for _, g := range gate.Catalog() {
		r.Results = append(r.Results, gate.NewResult(g.Name, gate.Pass, "ok"))
	}
	b, err := r.JSON()
	require.NoError(t, err)
	return b
}

func trivyJSON(imageID string) []byte {
	return []byte(fmt.Sprintf(`{"SchemaVersion":2,"ArtifactName":"/tmp/image.tar","ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.5"},"ImageID":%q},"Results":[]}`, imageID))
}

func sbomJSON(imageID string) []byte {
	return []byte(fmt.Sprintf(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"x","properties":[{"name":"aquasecurity:trivy:ImageID","value":%q}]}}}`, imageID))
}

func provJSON(t *testing.T, in BuildInput) []byte {
	t.Helper()
	s, err := NewProvenance(in)
	require.NoError(t, err)
	b, err := s.JSON()
	require.NoError(t, err)
	return b
}

func goodEvidence(t *testing.T) Evidence {
	return Evidence{
		Service: domain.API, Image: ref(image), ConfigDigest: domain.Digest(config),
		Labels: map[string]string{LabelRevision: commit},
		Documents: map[string][][]byte{
			TypeGateReport: {gateJSON(t, commit)},
			TypeTrivy:      {trivyJSON(config)},
			TypeSBOM:       {sbomJSON(config)},
			TypeInToto:     {provJSON(t, input())},
		},
	}
}

func TestProvenanceIsSLSAv1(t *testing.T) {
	b := provJSON(t, input())
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "https://in-toto.io/Statement/v1", m["_type"])
	assert.Equal(t, "https://slsa.dev/provenance/v1", m["predicateType"])
	assert.Equal(t, []any{map[string]any{"name": repo, "digest": map[string]any{"sha256": strings.Repeat("a", 64)}}}, m["subject"])
	pred := m["predicate"].(map[string]any)
	bd := pred["buildDefinition"].(map[string]any)
	assert.Equal(t, BuildType, bd["buildType"])
	assert.Equal(t, map[string]any{"source": "https://gitlab.com/soccerpredictai/soccerpredict", "ref": "main", "service": "api", "datasetVersion": "d1", "modelVersion": "12"}, bd["externalParameters"])
	assert.Equal(t, []any{
		map[string]any{"name": "source", "uri": "git+https://gitlab.com/soccerpredictai/soccerpredict@main", "digest": map[string]any{"gitCommit": commit}},
		map[string]any{"name": "base-image", "uri": "docker.io/library/python:3.11-slim-bookworm@" + otherHash, "digest": map[string]any{"sha256": strings.Repeat("b", 64)}},
	}, bd["resolvedDependencies"])
	rd := pred["runDetails"].(map[string]any)
	assert.Equal(t, map[string]any{"id": "https://gitlab.com/soccerpredictai/pipeline@dagger-v0.21.8"}, rd["builder"])
	assert.Equal(t, map[string]any{"invocationId": "https://gitlab.com/soccerpredictai/soccerpredict/-/pipelines/42", "startedOn": "2026-03-01T10:00:00Z", "finishedOn": "2026-03-01T10:01:00Z"}, rd["metadata"])

	s, err := ParseStatement(b)
	require.NoError(t, err)
	assert.Equal(t, commit, s.Commit())
	assert.True(t, s.Covers(domain.Digest(digest)))
	assert.False(t, s.Covers(domain.Digest(otherHash)))
	assert.False(t, s.Covers(""))
}

func TestNewProvenanceRefusesWhatItCannotVerify(t *testing.T) {
	cases := map[string]struct {
		edit func(*BuildInput)
		want string
	}{
		"image by tag":        {func(i *BuildInput) { i.Image = ref(repo + ":main") }, "image:"},
		"no commit":           {func(i *BuildInput) { i.Commit = "" }, "commit is empty"},
		"base image by tag":   {func(i *BuildInput) { i.BaseImages = []domain.ImageRef{ref("python:3.11")} }, "not pinned by digest"},
		"no base image":       {func(i *BuildInput) { i.BaseImages = nil }, "no base image"},
		"no pipeline":         {func(i *BuildInput) { i.Pipeline = "" }, "pipeline is empty"},
		"times out of order":  {func(i *BuildInput) { i.FinishedOn = t0.Add(-time.Hour) }, "out of order"},
		"no builder identity": {func(i *BuildInput) { i.BuilderID = " " }, "builder id is empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := input()
			tc.edit(&in)
			_, err := NewProvenance(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for _, bad := range []string{`{}`, `[]`, `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{}]}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[]}`} {
		_, err := ParseStatement([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestVerifyAcceptsTheEvidenceOfTheImage(t *testing.T) {
	v := Verify(goodEvidence(t), commit)
	require.True(t, v.OK(), "%v", v.Problems)
	assert.NotEmpty(t, v.GateReport)
	assert.NotEmpty(t, v.Trivy)
	require.NoError(t, Set{v}.Err())
}

func TestVerifyRefusesEachForgery(t *testing.T) {
	otherCommit := strings.Repeat("f", 40)
	cases := map[string]struct {
		edit func(t *testing.T, ev *Evidence)
		want []string
	}{
		"missing gate report referrer": {func(t *testing.T, ev *Evidence) { delete(ev.Documents, TypeGateReport) },
			[]string{"no gate report is attached to " + image, "attest --image=" + image, "gate-report export"}},
		"missing trivy referrer":      {func(t *testing.T, ev *Evidence) { delete(ev.Documents, TypeTrivy) }, []string{"no Trivy report is attached", "publish"}},
		"missing sbom referrer":       {func(t *testing.T, ev *Evidence) { delete(ev.Documents, TypeSBOM) }, []string{"no CycloneDX SBOM is attached"}},
		"missing provenance referrer": {func(t *testing.T, ev *Evidence) { delete(ev.Documents, TypeInToto) }, []string{"no SLSA provenance is attached"}},
		"empty results": {func(t *testing.T, ev *Evidence) {
			ev.Documents[TypeGateReport] = [][]byte{[]byte(`{"schemaVersion":1,"commit":"` + commit + `","started":"","finished":"","verdict":"pass","blockingFailures":[],"signalsRaised":[],"results":[]}`)}
		}, []string{"blocking gates missing"}},
		"another commit's gate report": {func(t *testing.T, ev *Evidence) { ev.Documents[TypeGateReport] = [][]byte{gateJSON(t, otherCommit)} },
			[]string{"report of " + otherCommit}},
		"{} scan":               {func(t *testing.T, ev *Evidence) { ev.Documents[TypeTrivy] = [][]byte{[]byte(`{}`)} }, []string{"SchemaVersion 0"}},
		"scan of another image": {func(t *testing.T, ev *Evidence) { ev.Documents[TypeTrivy] = [][]byte{trivyJSON(otherHash)} }, []string{"is not the report of " + image}},
		"sbom of another image": {func(t *testing.T, ev *Evidence) { ev.Documents[TypeSBOM] = [][]byte{sbomJSON(otherHash)} }, []string{"names neither"}},
		"provenance of another image": {func(t *testing.T, ev *Evidence) {
			in := input()
			in.Image = ref(repo + "@" + otherHash)
			ev.Documents[TypeInToto] = [][]byte{provJSON(t, in)}
		}, []string{"about another image"}},
		"provenance of another commit": {func(t *testing.T, ev *Evidence) {
			in := input()
			in.Commit = domain.Commit(otherCommit)
			ev.Documents[TypeInToto] = [][]byte{provJSON(t, in)}
		},
			[]string{`says commit "` + otherCommit + `"`}},
		"revision label of another commit": {func(t *testing.T, ev *Evidence) { ev.Labels[LabelRevision] = otherCommit }, []string{"built from " + otherCommit}},
		"no revision label":                {func(t *testing.T, ev *Evidence) { delete(ev.Labels, LabelRevision) }, []string{"built from no label"}},
		"config digest unknown":            {func(t *testing.T, ev *Evidence) { ev.ConfigDigest = "" }, []string{"Trivy report attached", "SBOM attached"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := goodEvidence(t)
			tc.edit(t, &ev)
			v := Verify(ev, commit)
			require.False(t, v.OK())
			err := Set{v}.Err()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestVerifyOneGoodDocumentAmongForgeriesCounts(t *testing.T) {
	ev := goodEvidence(t)
	ev.Documents[TypeGateReport] = append([][]byte{gateJSON(t, strings.Repeat("f", 40))}, ev.Documents[TypeGateReport]...)
	ev.Documents[TypeTrivy] = append([][]byte{[]byte(`{}`)}, ev.Documents[TypeTrivy]...)
	v := Verify(ev, commit)
	require.True(t, v.OK(), "%v", v.Problems)
	assert.Equal(t, trivyJSON(config), v.Trivy)
}

func TestVerifyNeedsACommitAndADigest(t *testing.T) {
	assert.Contains(t, Verify(goodEvidence(t), "").Problems[0], "pass --commit")
	ev := goodEvidence(t)
	ev.Image = ref(repo + ":main")
	assert.False(t, Verify(ev, commit).OK())
	assert.ErrorContains(t, Set{}.Err(), "no image was verified")
}

func TestFileEvidenceOnlyInDev(t *testing.T) {
	require.NoError(t, FileEvidence(domain.Dev, true), "dev: the offline convenience")
	staged := FileEvidence(domain.Staging, true)
	require.ErrorIs(t, staged, ErrFileEvidence, "staging counts only Sigstore bundles: files are not signed")
	assert.Contains(t, staged.Error(), "drop --gate-report and --scan-report")
	assert.Contains(t, staged.Error(), SigstorePolicyPath)
	require.NoError(t, FileEvidence(domain.Staging, false))
	require.NoError(t, FileEvidence(domain.Production, false))
	err := FileEvidence(domain.Production, true)
	require.ErrorIs(t, err, ErrFileEvidence)
	assert.Contains(t, err.Error(), "drop --gate-report and --scan-report")
	assert.False(t, FromRegistry(domain.Dev))
	assert.True(t, FromRegistry(domain.Staging))
	assert.True(t, FromRegistry(domain.Production))
}

func TestSummaryRoundTrip(t *testing.T) {
	good := NewSummary(commit, Set{Verify(goodEvidence(t), commit)})
	b, err := json.Marshal(good)
	require.NoError(t, err)
	got, err := ParseSummary(b, commit)
	require.NoError(t, err)
	require.NoError(t, got.Err())

	ev := goodEvidence(t)
	delete(ev.Documents, TypeTrivy)
	bad := NewSummary(commit, Set{Verify(ev, commit)})
	b, _ = json.Marshal(bad)
	got, err = ParseSummary(b, commit)
	require.NoError(t, err)
	assert.ErrorContains(t, got.Err(), "no Trivy report is attached")

	_, err = ParseSummary(b, domain.Commit(strings.Repeat("f", 40)))
	assert.ErrorContains(t, err, "not "+strings.Repeat("f", 40))
	_, err = ParseSummary([]byte(`{"commit":"`+commit+`","ok":true,"problems":[],"images":[]}`), commit)
	assert.ErrorContains(t, err, "inconsistent", "ok with no image verified is a forgery")
	_, err = ParseSummary([]byte(`{"commit":"`+commit+`","ok":true,"problems":["x"],"images":[{}]}`), commit)
	assert.ErrorContains(t, err, "inconsistent")
	_, err = ParseSummary([]byte(`nope`), commit)
	assert.Error(t, err)
}

func TestSummaryCheckImages(t *testing.T) {
	api := ref(repo + "@" + digest)
	worker := ref("registry.example.com/sp/worker@sha256:" + strings.Repeat("b", 64))
	sum := NewSummary(commit, Set{{Service: domain.API, Image: api, Problems: []string{}}, {Service: domain.Worker, Image: worker, Problems: []string{}}})
	want := map[domain.Service]domain.ImageRef{domain.API: api, domain.Worker: worker}
	require.NoError(t, sum.CheckImages(want), "exactly the images asked for")

	other := ref(repo + "@sha256:" + strings.Repeat("c", 64))
	for name, c := range map[string]struct {
		want map[domain.Service]domain.ImageRef
		why  string
	}{
		"another digest":    {map[domain.Service]domain.ImageRef{domain.API: other, domain.Worker: worker}, "api: it verified " + api.String() + ", not " + other.String()},
		"an image left out": {map[domain.Service]domain.ImageRef{domain.API: api, domain.Worker: worker, domain.Airflow: other}, "airflow (" + other.String() + ") was not verified"},
		"one not asked for": {map[domain.Service]domain.ImageRef{domain.API: api}, "worker (" + worker.String() + ") was not asked for"},
	} {
		err := sum.CheckImages(c.want)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "evidence.json is not about the images being deployed", name)
		assert.Contains(t, err.Error(), c.why, name)
	}
	twice := NewSummary(commit, Set{{Service: domain.API, Image: api, Problems: []string{}}, {Service: domain.API, Image: api, Problems: []string{}}})
	assert.ErrorContains(t, twice.CheckImages(map[domain.Service]domain.ImageRef{domain.API: api}), "api is listed twice")
}

func FuzzParseStatement(f *testing.F) {
	s, _ := NewProvenance(input())
	b, _ := s.JSON()
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"x","digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatement(data)
		if err != nil {
			return
		}
		require.Equal(t, StatementType, st.Type)
		require.NotEmpty(t, st.Subject)
		_ = st.Covers(domain.Digest(digest))
	})
}

func FuzzParseSummary(f *testing.F) {
	f.Add([]byte(`{"commit":"` + commit + `","ok":true,"problems":[],"images":[{}]}`))
	f.Add([]byte(`{"commit":"` + commit + `","ok":true,"problems":[],"images":[]}`))
	f.Add([]byte(`{"commit":"` + commit + `","ok":false,"problems":["x"],"images":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSummary(data, commit)
		if err != nil {
			return
		}
		// A summary that parses is OK exactly when it lists no problem and some image.
		require.Equal(t, s.OK, s.Err() == nil)
		require.Equal(t, s.OK, len(s.Problems) == 0 && len(s.Images) > 0)
	})
}

// The repository ships no key (docs/evidence.md): the compiled-in trust is empty until one is
// committed, and PublicKeyPath names the embedded directory.
func TestTrustedPublicKeyIsCompiledInFromPublicKeyPath(t *testing.T) {
	_, err := os.Stat("../../../" + PublicKeyPath)
	pem, ok := TrustedPublicKey()
	assert.Equal(t, err == nil, ok, "TrustedPublicKey reads exactly the file at %s", PublicKeyPath)
	if ok {
		_, perr := ParsePublicKey(pem)
		assert.NoError(t, perr)
	}
	_, err = os.Stat("../../../" + path.Dir(PublicKeyPath) + "/README.md")
	assert.NoError(t, err, "the embedded directory always exists")
}

// A refusal of several images lists each problem once and each shared command once: the same
// publish fixes every image's missing evidence, so it is written after the list, numbered.
func TestProblemsErrorWritesASharedFixOnce(t *testing.T) {
	publish := "dagger call --commit=c publish --gate-report=reports/gate-report.json"
	attestAPI := "dagger call --commit=c attest --image=reg/api@sha256:1"
	problems := []string{
		"api: no signed gate report is attached to reg/api@sha256:1: run " + attestAPI,
		"api: no signed SBOM attached to reg/api@sha256:1 counts: 1 unsigned SBOM(s) of the earlier evidence format attached do not count: " + RepublishFix + "; run " + publish,
		"worker: no signed SBOM attached to reg/worker@sha256:2 counts: 1 unsigned SBOM(s) of the earlier evidence format attached do not count: " + RepublishFix + "; run " + publish,
		"worker: built from another commit",
	}
	msg := problemsError(problems).Error()
	lines := strings.Split(msg, "\n")
	assert.Equal(t, "evidence in the registry does not count:", lines[0])
	assert.Equal(t, 1, strings.Count(msg, publish), "the shared fix once: %s", msg)
	assert.Equal(t, 1, strings.Count(msg, RepublishFix), "the explanation once: %s", msg)
	assert.Equal(t, 1, strings.Count(msg, attestAPI), msg)
	assert.Contains(t, lines, "  - api: no signed gate report is attached to reg/api@sha256:1: run "+attestAPI, "a fix of one problem stays on its line")
	assert.Contains(t, lines, "  - worker: built from another commit")
	assert.Contains(t, lines, "  - worker: no signed SBOM attached to reg/worker@sha256:2 counts: 1 unsigned SBOM(s) of the earlier evidence format attached do not count: republish (as above) (fix 1)")
	assert.Equal(t, []string{"to fix:", "  1. run " + publish}, lines[len(lines)-2:])
	for _, p := range []string{"api: no signed SBOM", "worker: no signed SBOM", "api: no signed gate report", "worker: built from"} {
		assert.Contains(t, msg, p, "every problem is listed")
	}
}
