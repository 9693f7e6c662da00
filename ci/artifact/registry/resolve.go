package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Resolve returns the image by digest ("repo@sha256:<digest>") of the tag reference ref
// ("repo:tag"): the digest the registry serves for that tag right now, exactly what publish
// pushed under it (an image manifest or an index, never a platform-specific child). It is how a
// deploy from a checkout finds the images published for its commit (tag: artifact.BranchTag). A
// missing tag is ErrNotFound with what to do.
func Resolve(ctx context.Context, ref domain.ImageRef, opts Options) (domain.ImageRef, error) {
	if ref.Tag == "" || ref.Digest != "" {
		return domain.ImageRef{}, newError(ErrInvalidReference, nil, "%s is not a tag reference: write it as %s:<tag>", ref, ref.Repository)
	}
	host := ref.Repository.Host()
	if host == "" {
		return domain.ImageRef{}, newError(ErrInvalidReference, nil, "%s has no registry host: write it as registry.example.com/%s:%s", ref, ref.Repository, ref.Tag)
	}
	tag, err := name.NewTag(ref.String(), opts.names(host)...)
	if err != nil {
		return domain.ImageRef{}, newError(ErrInvalidReference, err, "%s: %v", ref, err)
	}
	desc, err := remote.Head(tag, opts.remote(ctx)...)
	if err != nil {
		return domain.ImageRef{}, readFailure(err, opts, tag.RegistryStr(), ref.String(), ref.String(),
			fmt.Sprintf("%s does not exist: this commit's images were not published (run the publish job, or `dagger call --commit=… --ref=… publish`), or pass the image by digest", ref))
	}
	if !desc.MediaType.IsImage() && !desc.MediaType.IsIndex() {
		return domain.ImageRef{}, newError(ErrUnsupported, nil, "%s has media type %q, which is neither an image manifest nor an index", ref, desc.MediaType)
	}
	d, err := registryDigest(desc.Digest.String(), ref.String())
	if err != nil {
		return domain.ImageRef{}, err
	}
	return domain.Pinned(ref.Repository, d), nil
}

// registryDigest reads a digest a registry answered for what (the edge: go-containerregistry
// accepts algorithms ci/domain does not).
func registryDigest(s, what string) (domain.Digest, error) {
	d, err := domain.ParseDigest(s)
	if err != nil {
		return "", newError(ErrUnsupported, err, "the registry answered %q for %s: %v", s, what, err)
	}
	return d, nil
}
