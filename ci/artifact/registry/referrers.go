package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Referrers are OCI 1.1 manifests whose `subject` is an image digest (distribution-spec
// v1.1 "referrers"). go-containerregistry implements both halves of the spec:
//
//   - pushing (remote.Put/remote.Write → commitManifest): after a manifest with a subject is
//     PUT, it asks GET /v2/<repo>/referrers/<digest>; a 200 means the registry indexes
//     referrers itself, a 404 or 400 means it does not, and the client then maintains the
//     referrers tag schema: an OCI index tagged sha256-<hex> listing every referrer;
//   - listing (remote.Referrers): the referrers API when it answers 200 with an OCI index,
//     else the sha256-<hex> tag, else an empty list.
//
// Each referrer written here is an OCI image manifest with artifactType set, the empty config
// (application/vnd.oci.empty.v1+json, "{}") and one layer: the document, whose media type is
// the artifact type. Reading never trusts a listing: every referrer manifest is fetched and
// counts only when its own subject is the digest asked about (the sha256-<hex> tag is an
// ordinary tag anyone with push access can rewrite).

// emptyConfig is the OCI 1.1 empty descriptor's content.
var emptyConfig = []byte("{}")

// maxDocument bounds the size of one attached document read back (Trivy reports of big
// images reach a few MiB).
const maxDocument = 64 << 20

// maxReferrers bounds how many referrers of one digest are read.
const maxReferrers = 256

// Attachment is one document to attach to an image.
type Attachment struct {
	// ArtifactType is one of attest.Types().
	ArtifactType string
	// Data is the document.
	Data []byte
	// PredicateType is, for a Sigstore bundle (attest.TypeSigstoreBundle), the predicateType
	// of its statement: the referrer's dev.sigstore.bundle.predicateType annotation.
	PredicateType string
	// Created is, for a Sigstore bundle, the referrer's org.opencontainers.image.created
	// annotation (cosign writes the signing time; zero: now).
	Created time.Time
}

// Attached is one referrer written.
type Attached struct {
	ArtifactType string `json:"artifactType"`
	Digest       string `json:"digest"`
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// parseSubject turns an image by digest into go-containerregistry's name (its own parser, at
// the network edge): it must carry a digest and a registry host.
func parseSubject(r domain.ImageRef, opts Options) (name.Digest, error) {
	if r.Digest == "" {
		return name.Digest{}, newError(ErrNotByDigest, nil, "image %s is not pinned by digest: pass %s@sha256:<64 hex> (publish writes it to images.env)", r, r.Repository)
	}
	host := r.Repository.Host()
	if host == "" {
		return name.Digest{}, newError(ErrInvalidReference, nil, "image %s has no registry host: write it as registry.example.com/%s@%s", r, r.Repository, r.Digest)
	}
	d, err := name.NewDigest(r.ByDigest(), opts.names(host)...)
	if err != nil {
		return name.Digest{}, newError(ErrInvalidReference, err, "image %s: %v", r, err)
	}
	return d, nil
}

func registryError(err error, ref name.Reference, action string, opts Options) error {
	if perr := opts.PlainHTTP.CheckReachable(ref.Context().RegistryStr(), err); perr != nil {
		return perr
	}
	switch {
	case isUnauthorized(err):
		return authError(err, ref.Context().RegistryStr(), action, ref.String(), opts.haveCreds())
	case isNotFound(err):
		return newError(ErrNotFound, err, "%s not found: check the digest and that publish pushed it", ref.String())
	}
	return newError(ErrRegistry, err, "cannot %s %s: %v: check that the registry is reachable", action, ref.String(), err)
}

// Attach attaches every document to the image subject ("repo@sha256:…") as an OCI 1.1
// referrer in the image's repository, and returns the referrers written. The image must exist.
// Attaching the same document twice writes the same manifest (same digest): it is idempotent.
func Attach(ctx context.Context, subject domain.ImageRef, docs []Attachment, opts Options) ([]Attached, error) {
	sub, err := parseSubject(subject, opts)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, t := range attest.Attachable() {
		known[t] = true
	}
	for _, d := range docs {
		if !known[d.ArtifactType] {
			return nil, newError(ErrInvalidReference, nil, "unknown artifact type %q: use one of %v", d.ArtifactType, attest.Attachable())
		}
		if len(d.Data) == 0 {
			return nil, newError(ErrInvalidReference, nil, "the %s to attach to %s is empty: pass the file the pipeline produced", attest.Describe(d.ArtifactType), subject)
		}
	}
	ro := opts.remote(ctx)
	desc, err := remote.Head(sub, ro...)
	if err != nil {
		return nil, registryError(err, sub, "read", opts)
	}
	if desc.Digest.String() != sub.DigestStr() {
		return nil, newError(ErrDigestMismatch, nil, "registry served digest %s for %s", desc.Digest, sub)
	}
	repo := sub.Context()
	cfg := static.NewLayer(emptyConfig, types.MediaType("application/vnd.oci.empty.v1+json"))
	if err := remote.WriteLayer(repo, cfg, ro...); err != nil {
		return nil, registryError(err, sub, "push to", opts)
	}
	cfgDigest, _ := cfg.Digest()
	var out []Attached
	for _, d := range docs {
		layer := static.NewLayer(d.Data, types.MediaType(d.ArtifactType))
		if err := remote.WriteLayer(repo, layer, ro...); err != nil {
			return out, registryError(err, sub, "push to", opts)
		}
		ld, _ := layer.Digest()
		var annotations map[string]string
		cfgArtifactType := ""
		if d.ArtifactType == attest.TypeSigstoreBundle {
			// cosign v3's layout (ociremote.WriteAttestationNewBundleFormat): the artifact type on
			// the manifest and on its config, three annotations.
			created := d.Created
			if created.IsZero() {
				created = time.Now()
			}
			cfgArtifactType = d.ArtifactType
			annotations = map[string]string{
				attest.AnnotationCreated:             created.UTC().Format(time.RFC3339),
				attest.AnnotationBundleContent:       attest.BundleContentDSSE,
				attest.AnnotationBundlePredicateType: d.PredicateType,
			}
		}
		m := v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			ArtifactType:  d.ArtifactType,
			Config:        v1.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Size: int64(len(emptyConfig)), Digest: cfgDigest, Data: emptyConfig, ArtifactType: cfgArtifactType},
			Layers:        []v1.Descriptor{{MediaType: types.MediaType(d.ArtifactType), Size: int64(len(d.Data)), Digest: ld}},
			Subject:       &v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest},
			Annotations:   annotations,
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return out, err
		}
		h, _, err := v1.SHA256(bytes.NewReader(raw))
		if err != nil {
			return out, err
		}
		if err := remote.Put(repo.Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, ro...); err != nil {
			return out, registryError(err, sub, "attach a referrer to", opts)
		}
		out = append(out, Attached{ArtifactType: d.ArtifactType, Digest: h.String()})
	}
	return out, nil
}

// referrer is one referrer manifest read back and checked.
type referrer struct {
	digest       v1.Hash
	artifactType string
	manifest     *v1.Manifest
}

// referrersOf lists the referrers of sub (API or tag fallback) and reads every manifest,
// keeping those whose own subject is sub's digest.
func referrersOf(sub name.Digest, ro []remote.Option, opts Options) ([]referrer, error) {
	idx, err := remote.Referrers(sub, ro...)
	if err != nil {
		return nil, registryError(err, sub, "list the referrers of", opts)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, newError(ErrRegistry, err, "the referrers list of %s is not an OCI index: %v", sub, err)
	}
	descs := im.Manifests
	if len(descs) > maxReferrers {
		return nil, newError(ErrRegistry, nil, "%s has %d referrers, more than the %d read: clean up the repository", sub, len(descs), maxReferrers)
	}
	sort.Slice(descs, func(i, j int) bool { return descs[i].Digest.String() < descs[j].Digest.String() })
	var out []referrer
	seen := map[v1.Hash]bool{}
	for _, d := range descs {
		if seen[d.Digest] || !d.MediaType.IsImage() {
			continue
		}
		seen[d.Digest] = true
		ref := sub.Context().Digest(d.Digest.String())
		got, err := remote.Get(ref, ro...)
		if err != nil {
			if isNotFound(err) {
				continue // listed but gone: not evidence
			}
			return nil, registryError(err, ref, "read", opts)
		}
		if got.Digest != d.Digest {
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(got.Manifest))
		if err != nil || m.Subject == nil || m.Subject.Digest.String() != sub.DigestStr() {
			continue // not a referrer of this digest, whatever the list says
		}
		at := m.ArtifactType
		if at == "" {
			at = string(m.Config.MediaType)
		}
		out = append(out, referrer{digest: d.Digest, artifactType: at, manifest: m})
	}
	return out, nil
}

// FetchEvidence reads what the registry holds for image ("repo@sha256:…") deployed as
// service: the image's config digest and labels, and the documents of every referrer of a
// known artifact type (see attest.Verify for what counts).
func FetchEvidence(ctx context.Context, service domain.Service, image domain.ImageRef, opts Options) (attest.Evidence, error) {
	sub, err := parseSubject(image, opts)
	if err != nil {
		return attest.Evidence{}, err
	}
	ro := opts.remote(ctx)
	desc, err := remote.Get(sub, ro...)
	if err != nil {
		return attest.Evidence{}, registryError(err, sub, "read", opts)
	}
	if desc.Digest.String() != sub.DigestStr() {
		return attest.Evidence{}, newError(ErrDigestMismatch, nil, "registry served digest %s for %s", desc.Digest, sub)
	}
	if !desc.MediaType.IsImage() {
		return attest.Evidence{}, newError(ErrUnsupported, nil, "%s is a %s, not an image manifest: deploy the per-platform image publish pushed", sub, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return attest.Evidence{}, registryError(err, sub, "read", opts)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return attest.Evidence{}, registryError(err, sub, "read the config of", opts)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return attest.Evidence{}, registryError(err, sub, "read the config of", opts)
	}
	cfgDigest, err := registryDigest(cfgName.String(), "the config of "+sub.String())
	if err != nil {
		return attest.Evidence{}, err
	}
	ev := attest.Evidence{
		Service: service, Image: domain.Pinned(image.Repository, image.Digest),
		ConfigDigest: cfgDigest, Labels: map[string]string{}, Documents: map[string][][]byte{},
	}
	for _, d := range cf.RootFS.DiffIDs {
		ev.DiffIDs = append(ev.DiffIDs, d.String())
	}
	for k, v := range cf.Config.Labels {
		ev.Labels[k] = v
	}
	refs, err := referrersOf(sub, ro, opts)
	if err != nil {
		return attest.Evidence{}, err
	}
	known := map[string]bool{}
	for _, t := range attest.Attachable() {
		known[t] = true
	}
	for _, r := range refs {
		if !known[r.artifactType] || len(r.manifest.Layers) != 1 || string(r.manifest.Layers[0].MediaType) != r.artifactType {
			continue
		}
		l := r.manifest.Layers[0]
		if l.Size > maxDocument {
			continue
		}
		blob, err := remote.Layer(sub.Context().Digest(l.Digest.String()), ro...)
		if err != nil {
			return attest.Evidence{}, registryError(err, sub, "read a referrer of", opts)
		}
		rc, err := blob.Compressed()
		if err != nil {
			return attest.Evidence{}, registryError(err, sub, "read a referrer of", opts)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxDocument+1))
		rc.Close()
		if err != nil {
			return attest.Evidence{}, registryError(err, sub, "read a referrer of", opts)
		}
		if h, _, _ := v1.SHA256(bytes.NewReader(data)); h != l.Digest {
			continue // content does not match its digest
		}
		if r.artifactType == attest.TypeSigstoreBundle {
			ev.Bundles = append(ev.Bundles, data) // Sigstore bundles: attest.VerifyBundles opens them
			continue
		}
		if r.artifactType == attest.TypeDSSE {
			ev.Envelopes = append(ev.Envelopes, data) // signed statements: attest.VerifySigned opens them
			continue
		}
		ev.Documents[r.artifactType] = append(ev.Documents[r.artifactType], data)
	}
	return ev, nil
}

// copyReferrers copies every referrer of src (repo@digest) into the repository of dst, after
// the image itself was copied there; the digests do not change. Same repository: nothing to do.
func copyReferrers(src name.Digest, dst name.Repository, ro []remote.Option, opts Options) ([]string, error) {
	if src.Context().String() == dst.String() {
		return nil, nil
	}
	refs, err := referrersOf(src, ro, opts)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range refs {
		img, err := remote.Image(src.Context().Digest(r.digest.String()), ro...)
		if err != nil {
			return out, registryError(err, src, "read a referrer of", opts)
		}
		target := dst.Digest(r.digest.String())
		if err := remote.Write(target, img, ro...); err != nil {
			return out, registryError(err, target, "copy a referrer to", opts)
		}
		out = append(out, r.digest.String())
	}
	return out, nil
}
