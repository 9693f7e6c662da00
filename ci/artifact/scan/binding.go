package scan

import (
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// ArtifactTypeImage is Trivy's ArtifactType for `trivy image`, also with --input <tarball>.
const ArtifactTypeImage = "container_image"

// ArtifactTypeFilesystem is Trivy's ArtifactType for `trivy fs` (the secret scan of the project).
const ArtifactTypeFilesystem = "filesystem"

// isDigest applies domain's digest rule to a digest read from a document or a registry.
func isDigest(s string) bool { _, err := domain.ParseDigest(s); return err == nil }

// Image identifies the image a scan report must be the report of.
type Image struct {
	// Repository is the image's repository, e.g. registry.example.com/group/api.
	Repository domain.Repository
	// Digest is the manifest digest the image is pushed and deployed by (sha256:…).
	Digest domain.Digest
	// ConfigDigest is the digest of the image's config blob, read from the registry
	// (the manifest's config.digest). Trivy reports it as Metadata.ImageID.
	ConfigDigest domain.Digest
	// DiffIDs are the image's layer diff IDs (config rootfs.diff_ids), read from the registry.
	// Trivy reports them as Metadata.DiffIDs.
	DiffIDs []string
}

// SameLayers reports whether got lists exactly the layers of want, in order (and want is not empty).
func SameLayers(got, want []string) bool {
	if len(want) == 0 || len(got) != len(want) {
		return false
	}
	for i := range want {
		if got[i] != want[i] || !isDigest(want[i]) {
			return false
		}
	}
	return true
}

// Names checks that r is the Trivy report of img. What Trivy writes for an image input:
//
//   - `trivy image <repo>@sha256:…` (a registry pull): ArtifactName is the reference given and
//     Metadata.RepoDigests lists "<repo>@<manifest digest>";
//   - `trivy image --input image.tar` (how the pipeline scans the container before and as it is
//     pushed): ArtifactName is the tarball's path and RepoDigests is empty — the manifest digest
//     does not exist yet when the tarball is scanned;
//   - in both cases Metadata.ImageID is the image ID, i.e. the digest of the image config
//     (Trivy's pkg/fanal/image.ID returns img.ConfigName()), and Metadata.DiffIDs lists the
//     layers' diff IDs (the digests of the uncompressed layers, config rootfs.diff_ids).
//
// So the report names the image when RepoDigests (or ArtifactName) carries the manifest digest,
// when its ImageID equals the config digest the registry serves for that manifest, or when its
// DiffIDs are exactly the image's layers: a vulnerability scan reads the filesystem, and the
// layers survive an export whose config (a timestamp, a label) differs between the tarball
// Trivy read and the manifest pushed, where the ImageID would not. The
// manifest digest itself is bound by the attestation: the report is attached to the image as
// an OCI referrer whose subject is that digest (see ci/artifact/attest), so a report moved onto another
// image fails the ImageID check and a report lifted from another image fails both. A report
// that names neither is refused, whatever its findings.
func (r Report) Names(img Image) error {
	const fix = "attach the Trivy report of this very image: publish scans each image and attaches its report (dagger call … publish)"
	if img.Digest == "" {
		return fmt.Errorf("no image digest given: pass the digest the image is deployed by")
	}
	if r.ArtifactType != ArtifactTypeImage {
		return fmt.Errorf("trivy report of %q has ArtifactType %q, not %q: it is not an image scan: %s", r.ArtifactName, r.ArtifactType, ArtifactTypeImage, fix)
	}
	for _, rd := range r.Metadata.RepoDigests {
		if strings.HasSuffix(rd, "@"+string(img.Digest)) {
			return nil
		}
	}
	if strings.HasSuffix(r.ArtifactName, "@"+string(img.Digest)) {
		return nil
	}
	if img.ConfigDigest != "" && r.Metadata.ImageID == string(img.ConfigDigest) {
		return nil
	}
	if SameLayers(r.Metadata.DiffIDs, img.DiffIDs) {
		return nil
	}
	id := r.Metadata.ImageID
	if id == "" {
		id = "none"
	}
	return fmt.Errorf("trivy report of %q is not the report of %s@%s: its RepoDigests %v do not name that digest, its ImageID (%s) is not the image's config %s and its %d DiffIDs are not the image's %d layers: %s",
		r.ArtifactName, img.Repository, img.Digest, r.Metadata.RepoDigests, id, orNone(string(img.ConfigDigest)), len(r.Metadata.DiffIDs), len(img.DiffIDs), fix)
}

func orNone(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
