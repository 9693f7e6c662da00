package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
)

// Resolve returns "repo@sha256:<digest>" for the tag reference ref ("repo:tag"): the digest
// the registry serves for that tag right now, exactly what publish pushed under it (an image
// manifest or an index, never a platform-specific child). It is how a deploy from a checkout
// finds the images published for its commit (tag: artifact.BranchTag). A missing tag is
// ErrNotFound with what to do.
func Resolve(ctx context.Context, ref string, opts Options) (string, error) {
	tr, err := artifact.ParseTagReference(ref)
	if err != nil {
		return "", newError(ErrInvalidReference, err, "%v", err)
	}
	if tr.Domain() == "" {
		return "", newError(ErrInvalidReference, nil, "%s has no registry host: write it as registry.example.com/%s:%s", ref, tr.Repository, tr.Tag)
	}
	tag, err := name.NewTag(ref, opts.names(tr.Domain())...)
	if err != nil {
		return "", newError(ErrInvalidReference, err, "%s: %v", ref, err)
	}
	desc, err := remote.Head(tag, opts.remote(ctx)...)
	if err != nil {
		if perr := opts.PlainHTTP.CheckReachable(tag.RegistryStr(), err); perr != nil {
			return "", perr
		}
		switch {
		case isUnauthorized(err):
			return "", authError(err, tag.RegistryStr(), "read", ref, opts.haveCreds())
		case isNotFound(err):
			return "", newError(ErrNotFound, err,
				"%s does not exist: this commit's images were not published (run the publish job, or `dagger call --commit=… --ref=… publish`), or pass the image by digest", ref)
		}
		return "", newError(ErrRegistry, err, "cannot read %s: %v: check that the registry is reachable", ref, err)
	}
	if !desc.MediaType.IsImage() && !desc.MediaType.IsIndex() {
		return "", newError(ErrUnsupported, nil, "%s has media type %q, which is neither an image manifest nor an index", ref, desc.MediaType)
	}
	return tr.Repository + "@" + desc.Digest.String(), nil
}
