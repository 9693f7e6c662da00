package scan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestReportNamesItsImage(t *testing.T) {
	manifest := "sha256:" + strings.Repeat("a", 64)
	config := "sha256:" + strings.Repeat("c", 64)
	other := "sha256:" + strings.Repeat("b", 64)
	img := Image{Repository: "registry.example.com/sp/api", Digest: domain.Digest(manifest), ConfigDigest: domain.Digest(config)}

	tarball := Report{SchemaVersion: 2, ArtifactName: "/tmp/image.tar", ArtifactType: ArtifactTypeImage, Metadata: Metadata{ImageID: config}}
	require.NoError(t, tarball.Names(img), "--input tarball: bound by the config digest (ImageID)")

	pulled := Report{SchemaVersion: 2, ArtifactName: "registry.example.com/sp/api:main-0123abcd", ArtifactType: ArtifactTypeImage,
		Metadata: Metadata{ImageID: other, RepoDigests: []string{"registry.example.com/sp/api@" + manifest}}}
	require.NoError(t, pulled.Names(img), "registry pull: bound by RepoDigests")

	byDigest := Report{SchemaVersion: 2, ArtifactName: "registry.example.com/sp/api@" + manifest, ArtifactType: ArtifactTypeImage}
	require.NoError(t, byDigest.Names(img))

	layers := []string{"sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("2", 64)}
	withLayers := img
	withLayers.DiffIDs = layers
	relabelled := Report{SchemaVersion: 2, ArtifactName: "/tmp/image.tar", ArtifactType: ArtifactTypeImage, Metadata: Metadata{ImageID: other, DiffIDs: layers}}
	require.NoError(t, relabelled.Names(withLayers), "same layers, another config (timestamp, label): the filesystem scanned is the one pushed")
	swapped := relabelled
	swapped.Metadata.DiffIDs = []string{layers[1], layers[0]}
	require.Error(t, swapped.Names(withLayers), "layers in another order are another filesystem")
	require.Error(t, relabelled.Names(img), "no layers known: no binding by layers")
	fewer := relabelled
	fewer.Metadata.DiffIDs = layers[:1]
	require.Error(t, fewer.Names(withLayers))

	refused := map[string]struct {
		r    Report
		img  Image
		want string
	}{
		"{} parsed leniently":   {Report{}, img, "ArtifactType"},
		"another image's scan":  {Report{SchemaVersion: 2, ArtifactName: "/tmp/image.tar", ArtifactType: ArtifactTypeImage, Metadata: Metadata{ImageID: other}}, img, "is not the report of registry.example.com/sp/api@" + manifest},
		"another digest pulled": {Report{SchemaVersion: 2, ArtifactName: "x", ArtifactType: ArtifactTypeImage, Metadata: Metadata{RepoDigests: []string{"registry.example.com/sp/api@" + other}}}, img, "do not name that digest"},
		"no ImageID":            {Report{SchemaVersion: 2, ArtifactName: "/tmp/image.tar", ArtifactType: ArtifactTypeImage}, img, "ImageID (none)"},
		"unknown config digest": {tarball, Image{Repository: img.Repository, Digest: domain.Digest(manifest)}, "(unknown)"},
		"filesystem scan":       {Report{SchemaVersion: 2, ArtifactName: ".", ArtifactType: "filesystem", Metadata: Metadata{ImageID: config}}, img, `ArtifactType "filesystem"`},
		"no digest asked":       {tarball, Image{ConfigDigest: domain.Digest(config)}, "no image digest given"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			err := tc.r.Names(tc.img)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseTrivyFixtureNamesItsConfig(t *testing.T) {
	r, err := ParseTrivy(readFile(t, "testdata/trivy-api.json"))
	require.NoError(t, err)
	require.NoError(t, r.Names(Image{Repository: "registry.example.com/soccerpredict/api", Digest: domain.Digest("sha256:" + strings.Repeat("9", 64)), ConfigDigest: domain.Digest("sha256:" + strings.Repeat("1", 64))}))
}
