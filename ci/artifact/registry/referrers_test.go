package registry

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

const evCommit = "0123456789abcdef0123456789abcdef01234567"

// ociRegistry starts go-containerregistry's in-process registry, with or without the OCI 1.1
// referrers API (without it, GET /v2/<name>/referrers/<digest> answers 404 and clients fall
// back to the sha256-<hex> tag schema).
func ociRegistry(t *testing.T, referrersAPI bool) string {
	t.Helper()
	h := ggcrregistry.New(ggcrregistry.Logger(discardLogger()), ggcrregistry.WithReferrersSupport(referrersAPI))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

var plainHTTP = Options{} // the test registries listen on 127.0.0.1: plain http without an opt-in

// pushBuild pushes a random image labelled with commit and returns repo@digest and its config digest.
func pushBuild(t *testing.T, ref, commit string) (string, string) {
	t.Helper()
	img, err := mutate.Config(randomImage(t, 2), v1.Config{Labels: map[string]string{attest.LabelRevision: commit}})
	require.NoError(t, err)
	tag, err := name.NewTag(ref, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img))
	d, err := img.Digest()
	require.NoError(t, err)
	cfg, err := img.ConfigName()
	require.NoError(t, err)
	return tag.Context().String() + "@" + d.String(), cfg.String()
}

func gateDoc(t *testing.T, commit string) []byte {
	t.Helper()
	r := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		r.Results = append(r.Results, gate.NewResult(g.Name, gate.Pass, "ok"))
	}
	b, err := r.JSON()
	require.NoError(t, err)
	return b
}

func trivyDoc(configDigest string) []byte {
	return []byte(fmt.Sprintf(`{"SchemaVersion":2,"ArtifactName":"/tmp/image.tar","ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.5"},"ImageID":%q},"Results":[]}`, configDigest))
}

func sbomDoc(configDigest string) []byte {
	return []byte(fmt.Sprintf(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"properties":[{"name":"aquasecurity:trivy:ImageID","value":%q}]}}}`, configDigest))
}

func provDoc(t *testing.T, image, commit string) []byte {
	t.Helper()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s, err := attest.NewProvenance(attest.BuildInput{
		Image: mustRef(image), Service: domain.API, Commit: domain.Commit(commit), Ref: "main", SourceURL: "https://gitlab.com/soccerpredictai/soccerpredict",
		Pipeline: "42", BuilderID: "https://gitlab.com/soccerpredictai/pipeline", BaseImages: mustRefs("docker.io/library/python@sha256:" + strings.Repeat("b", 64)),
		StartedOn: now, FinishedOn: now.Add(time.Minute),
	})
	require.NoError(t, err)
	b, err := s.JSON()
	require.NoError(t, err)
	return b
}

// allDocs is what publish attaches to one image.
func allDocs(t *testing.T, image, configDigest, commit string) []Attachment {
	return []Attachment{
		{ArtifactType: attest.TypeGateReport, Data: gateDoc(t, commit)},
		{ArtifactType: attest.TypeTrivy, Data: trivyDoc(configDigest)},
		{ArtifactType: attest.TypeSBOM, Data: sbomDoc(configDigest)},
		{ArtifactType: attest.TypeInToto, Data: provDoc(t, image, commit)},
	}
}

func verify(t *testing.T, image string) attest.Verified {
	t.Helper()
	ev, err := fetchS(ctx(t), "api", image, plainHTTP)
	require.NoError(t, err)
	return attest.Verify(ev, evCommit)
}

func fallbackTagExists(t *testing.T, image string) bool {
	t.Helper()
	d, err := name.NewDigest(image, name.Insecure)
	require.NoError(t, err)
	tag := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1))
	_, err = remote.Head(tag)
	return err == nil
}

// publish → attach → promote (to another registry, with and without the referrers API) → verify.
func TestEvidenceRoundTrip(t *testing.T) {
	for _, api := range []struct{ src, dst bool }{{true, true}, {false, false}, {true, false}, {false, true}} {
		t.Run(fmt.Sprintf("source API %v, destination API %v", api.src, api.dst), func(t *testing.T) {
			src, dst := ociRegistry(t, api.src), ociRegistry(t, api.dst)
			image, cfg := pushBuild(t, src+"/sp/api:main-01234567", evCommit)

			att, err := attachS(ctx(t), image, allDocs(t, image, cfg, evCommit), plainHTTP)
			require.NoError(t, err)
			require.Len(t, att, 4)
			assert.Equal(t, !api.src, fallbackTagExists(t, image), "the sha256-<hex> tag exists exactly when the registry has no referrers API")

			listed, err := listS(ctx(t), image, plainHTTP)
			require.NoError(t, err)
			assert.ElementsMatch(t, att, listed)

			// Attaching again (a retried publish) writes the same referrers: nothing new.
			again, err := attachS(ctx(t), image, allDocs(t, image, cfg, evCommit), plainHTTP)
			require.NoError(t, err)
			assert.Equal(t, att, again)
			listed, err = listS(ctx(t), image, plainHTTP)
			require.NoError(t, err)
			assert.Len(t, listed, 4)

			v := verify(t, image)
			require.True(t, v.OK(), "%v", v.Problems)

			res, err := promoteAllS(ctx(t), image, []string{dst + "/prod/api:v1.2.0"}, plainHTTP)
			require.NoError(t, err)
			assert.Len(t, res.Referrers, 4)
			promoted := dst + "/prod/api@" + string(res.Digest)
			assert.Equal(t, !api.dst, fallbackTagExists(t, promoted))
			v = verify(t, promoted)
			require.True(t, v.OK(), "the evidence travelled with the image: %v", v.Problems)

			// Promoting again copies the same referrers, idempotently.
			res2, err := promoteAllS(ctx(t), image, []string{dst + "/prod/api:v1.2.0"}, plainHTTP)
			require.NoError(t, err)
			assert.ElementsMatch(t, res.Referrers, res2.Referrers)
			listed, err = listS(ctx(t), promoted, plainHTTP)
			require.NoError(t, err)
			assert.Len(t, listed, 4)
		})
	}
}

func TestPromoteWithoutEvidenceCopiesNothing(t *testing.T) {
	reg := ociRegistry(t, false)
	image, _ := pushBuild(t, reg+"/sp/api:main-01234567", evCommit)
	res, err := promoteAllS(ctx(t), image, []string{reg + "/prod/api:v1.0.0"}, plainHTTP)
	require.NoError(t, err)
	assert.Empty(t, res.Referrers)
	v := verify(t, reg+"/prod/api@"+string(res.Digest))
	assert.False(t, v.OK())
	assert.Len(t, v.Problems, 4, "one missing referrer of each kind: %v", v.Problems)
}

func TestEvidenceForgeriesInTheRegistryAreRefused(t *testing.T) {
	other := strings.Repeat("f", 40)
	n := 0
	for _, api := range []bool{true, false} {
		reg := ociRegistry(t, api)
		cases := map[string]struct {
			docs func(t *testing.T, image, cfg, otherImage, otherCfg string) []Attachment
			want string
		}{
			"missing referrer": {func(t *testing.T, image, cfg, _, _ string) []Attachment {
				return allDocs(t, image, cfg, evCommit)[1:]
			}, "no gate report is attached"},
			"a scan report of another digest": {func(t *testing.T, image, cfg, otherImage, otherCfg string) []Attachment {
				d := allDocs(t, image, cfg, evCommit)
				d[1].Data = trivyDoc(otherCfg)
				return d
			}, "is not the report of"},
			"{} scan": {func(t *testing.T, image, cfg, _, _ string) []Attachment {
				d := allDocs(t, image, cfg, evCommit)
				d[1].Data = []byte(`{}`)
				return d
			}, "SchemaVersion 0"},
			"another commit's gate report": {func(t *testing.T, image, cfg, _, _ string) []Attachment {
				d := allDocs(t, image, cfg, evCommit)
				d[0].Data = gateDoc(t, other)
				return d
			}, "report of " + other},
			"provenance of another image": {func(t *testing.T, image, cfg, otherImage, _ string) []Attachment {
				d := allDocs(t, image, cfg, evCommit)
				d[3].Data = provDoc(t, otherImage, evCommit)
				return d
			}, "about another image"},
		}
		for name, tc := range cases {
			t.Run(fmt.Sprintf("%s (referrers API %v)", name, api), func(t *testing.T) {
				n++
				repo := fmt.Sprintf("%s/case%d", reg, n)
				image, cfg := pushBuild(t, repo+"/api:main-01234567", evCommit)
				otherImage, otherCfg := pushBuild(t, repo+"/api:main-fedcba98", evCommit)
				_, err := attachS(ctx(t), image, tc.docs(t, image, cfg, otherImage, otherCfg), plainHTTP)
				require.NoError(t, err)
				v := verify(t, image)
				require.False(t, v.OK())
				assert.Contains(t, strings.Join(v.Problems, "\n"), tc.want)
			})
		}
	}
}

// The image built from another commit carries its label: its evidence never counts for this commit.
func TestEvidenceOfAnImageOfAnotherCommit(t *testing.T) {
	reg := ociRegistry(t, true)
	image, cfg := pushBuild(t, reg+"/sp/api:main-fedcba98", strings.Repeat("f", 40))
	_, err := attachS(ctx(t), image, allDocs(t, image, cfg, evCommit), plainHTTP)
	require.NoError(t, err)
	v := verify(t, image)
	require.False(t, v.OK())
	assert.Contains(t, strings.Join(v.Problems, "\n"), "built from "+strings.Repeat("f", 40))
}

// A moved tag carries no evidence: evidence belongs to a digest, and the image the tag now
// names has none.
func TestMovedTagHasNoEvidence(t *testing.T) {
	reg := ociRegistry(t, true)
	image, cfg := pushBuild(t, reg+"/sp/api:main-01234567", evCommit)
	_, err := attachS(ctx(t), image, allDocs(t, image, cfg, evCommit), plainHTTP)
	require.NoError(t, err)
	moved, _ := pushBuild(t, reg+"/sp/api:main-01234567", evCommit) // someone force-pushes the tag
	require.NotEqual(t, image, moved)
	v := verify(t, moved)
	require.False(t, v.OK())
	assert.Len(t, v.Problems, 4)
	require.True(t, verify(t, image).OK())
}

// The sha256-<hex> fallback tag is an ordinary tag: rewriting it to list a referrer of another
// image does not make that referrer evidence for this one.
func TestForgedFallbackIndexIsNotTrusted(t *testing.T) {
	reg := ociRegistry(t, false)
	image, cfg := pushBuild(t, reg+"/sp/api:main-01234567", evCommit)
	otherImage, otherCfg := pushBuild(t, reg+"/sp/api:main-fedcba98", evCommit)
	_, err := attachS(ctx(t), otherImage, allDocs(t, otherImage, otherCfg, evCommit), plainHTTP)
	require.NoError(t, err)
	_ = cfg

	// Copy otherImage's referrers index onto image's fallback tag.
	od, err := name.NewDigest(otherImage, name.Insecure)
	require.NoError(t, err)
	idx, err := remote.Referrers(od)
	require.NoError(t, err)
	raw, err := idx.RawManifest()
	require.NoError(t, err)
	d, err := name.NewDigest(image, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Put(d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1)), rawManifest{raw, types.OCIImageIndex}))

	listed, err := listS(ctx(t), image, plainHTTP)
	require.NoError(t, err)
	assert.Empty(t, listed, "every listed manifest's subject is another digest")
	v := verify(t, image)
	require.False(t, v.OK())
	assert.Len(t, v.Problems, 4)
}

func TestAttachRefusesBadInput(t *testing.T) {
	reg := ociRegistry(t, true)
	image, cfg := pushBuild(t, reg+"/sp/api:main-01234567", evCommit)
	_, err := attachS(ctx(t), reg+"/sp/api:main-01234567", allDocs(t, image, cfg, evCommit), plainHTTP)
	assert.ErrorIs(t, err, ErrNotByDigest)
	_, err = attachS(ctx(t), image, []Attachment{{ArtifactType: "application/json", Data: []byte("{}")}}, plainHTTP)
	assert.ErrorContains(t, err, "unknown artifact type")
	_, err = attachS(ctx(t), image, []Attachment{{ArtifactType: attest.TypeTrivy}}, plainHTTP)
	assert.ErrorContains(t, err, "is empty")
	missing := reg + "/sp/api@sha256:" + strings.Repeat("e", 64)
	_, err = attachS(ctx(t), missing, allDocs(t, missing, cfg, evCommit), plainHTTP)
	assert.ErrorIs(t, err, ErrNotFound)
	listed, err := listS(ctx(t), image, plainHTTP)
	require.NoError(t, err)
	assert.Empty(t, listed, "nothing was attached")
}

func TestReferrerManifestIsOCI11(t *testing.T) {
	reg := ociRegistry(t, true)
	image, cfg := pushBuild(t, reg+"/sp/api:main-01234567", evCommit)
	att, err := attachS(ctx(t), image, allDocs(t, image, cfg, evCommit)[:1], plainHTTP)
	require.NoError(t, err)
	d, err := name.NewDigest(image, name.Insecure)
	require.NoError(t, err)
	got, err := remote.Get(d.Context().Digest(att[0].Digest))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(got.Manifest, &m))
	assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", m["mediaType"])
	assert.Equal(t, attest.TypeGateReport, m["artifactType"])
	assert.Equal(t, "application/vnd.oci.empty.v1+json", m["config"].(map[string]any)["mediaType"])
	assert.Equal(t, d.DigestStr(), m["subject"].(map[string]any)["digest"])
	assert.Equal(t, attest.TypeGateReport, m["layers"].([]any)[0].(map[string]any)["mediaType"])
}

// The scanned tarball and the pushed manifest may differ in their config (an export timestamp,
// a label) while their layers are the same: the reports then bind by the layers' DiffIDs.
func TestEvidenceBindsScansByLayersWhenTheConfigDiffers(t *testing.T) {
	reg := ociRegistry(t, false)
	image, _ := pushBuild(t, reg+"/sp/api:main-01234567", evCommit)
	d, err := name.NewDigest(image, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(d)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	var ids []string
	for _, h := range cf.RootFS.DiffIDs {
		ids = append(ids, fmt.Sprintf("%q", h.String()))
	}
	tarballConfig := "sha256:" + strings.Repeat("9", 64)
	trivy := fmt.Sprintf(`{"SchemaVersion":2,"ArtifactName":"/tmp/image.tar","ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.5"},"ImageID":%q,"DiffIDs":[%s]}}`, tarballConfig, strings.Join(ids, ","))
	var props []string
	for _, id := range ids {
		props = append(props, `{"name":"aquasecurity:trivy:DiffID","value":`+id+`}`)
	}
	sbom := `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"properties":[` + strings.Join(props, ",") + `]}}}`
	docs := allDocs(t, image, tarballConfig, evCommit)
	docs[1].Data, docs[2].Data = []byte(trivy), []byte(sbom)
	_, err = attachS(ctx(t), image, docs, plainHTTP)
	require.NoError(t, err)
	v := verify(t, image)
	require.True(t, v.OK(), "%v", v.Problems)

	// The same reports on an image with other layers do not count.
	other, _ := pushBuild(t, reg+"/sp/api:main-fedcba98", evCommit)
	docs = allDocs(t, other, tarballConfig, evCommit)
	docs[1].Data, docs[2].Data = []byte(trivy), []byte(sbom)
	_, err = attachS(ctx(t), other, docs, plainHTTP)
	require.NoError(t, err)
	v = verify(t, other)
	require.False(t, v.OK())
	assert.Len(t, v.Problems, 2, "%v", v.Problems)
}
