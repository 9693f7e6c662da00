package registry

import (
	"context"
	"errors"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Published is what PublishImage did; it marshals to the JSON `oci push` prints.
type Published struct {
	// Tag is the "repo:tag" published.
	Tag domain.ImageRef `json:"tag"`
	// Reference is the image by digest, "repo@sha256:…", what images.env carries.
	Reference domain.ImageRef `json:"reference"`
	// Digest is the manifest digest the tag resolves to.
	Digest domain.Digest `json:"digest"`
	// Action is "push" (the tag was created) or "reuse" (it already held this image).
	Action artifact.TagAction `json:"action"`
}

// PublishImage pushes img under dst ("repo:tag") unless the tag already exists. A tag that
// holds the same digest is reused (nothing is written); a tag that holds another digest is
// refused (ErrTagCollision) and nothing is written: a published tag never moves
// (artifact.DecideTag). The image is uploaded by digest first and the tag written last,
// after a second look at it, so the window in which a concurrent publish could interleave
// is one manifest PUT; the tag is read back and must resolve to the image's digest.
func PublishImage(ctx context.Context, img v1.Image, dst domain.ImageRef, opts Options) (Published, error) {
	if dst.Tag == "" || dst.Digest != "" {
		return Published{}, newError(ErrInvalidReference, nil, "destination %s: a destination is a tag, write it as %s:<tag>", dst, dst.Repository)
	}
	if dst.Repository.Host() == "" {
		return Published{}, newError(ErrInvalidReference, nil, "destination %s has no registry host: write it as registry.example.com/%s:%s", dst, dst.Repository, dst.Tag)
	}
	tag, err := name.NewTag(dst.String(), opts.names(dst.Repository.Host())...)
	if err != nil {
		return Published{}, newError(ErrInvalidReference, err, "destination %s: %v", dst, err)
	}
	h, err := img.Digest()
	if err != nil {
		return Published{}, newError(ErrBadTarball, err, "digest of the image: %v", err)
	}
	digest, err := registryDigest(h.String(), "the image to publish")
	if err != nil {
		return Published{}, err
	}
	ro := opts.remote(ctx)
	res := Published{Tag: dst, Digest: digest, Reference: domain.Pinned(dst.Repository, digest)}

	decide := func() (artifact.TagAction, error) {
		existing, err := headDigest(tag, ro, opts)
		if err != nil {
			return "", err
		}
		action, err := artifact.DecideTag(dst, existing, digest)
		if errors.Is(err, artifact.ErrTagImmutable) {
			return "", newError(ErrTagCollision, err, "%v", err)
		}
		if err != nil {
			return "", newError(ErrInvalidReference, err, "%v", err)
		}
		return action, nil
	}
	action, err := decide()
	if err != nil {
		return Published{}, err
	}
	res.Action = action
	if action == artifact.TagReuse {
		return res, nil
	}
	byDigest := tag.Context().Digest(string(digest))
	if err := remote.Write(byDigest, img, ro...); err != nil {
		if perr := opts.PlainHTTP.CheckReachable(tag.RegistryStr(), err); perr != nil {
			return Published{}, perr
		}
		if isUnauthorized(err) {
			return Published{}, authError(err, tag.RegistryStr(), "push", dst.String(), opts.haveCreds())
		}
		return Published{}, newError(ErrRegistry, err, "cannot push %s: %v", res.Reference, err)
	}
	// Look again right before writing the tag: a publish that finished meanwhile wins.
	if action, err = decide(); err != nil {
		return Published{}, err
	}
	res.Action = action
	if action == artifact.TagPush {
		if err := remote.Tag(tag, img, ro...); err != nil {
			if isUnauthorized(err) {
				return Published{}, authError(err, tag.RegistryStr(), "push", dst.String(), opts.haveCreds())
			}
			return Published{}, newError(ErrRegistry, err, "cannot tag %s as %s: %v", res.Reference, dst, err)
		}
	}
	got, err := headDigest(tag, ro, opts)
	if err != nil {
		return Published{}, err
	}
	if got != digest {
		return Published{}, newError(ErrDigestMismatch, nil,
			"%s resolves to %s after the push, expected %s: another publish of this commit wrote the tag at the same time; "+
				"use the digest the tag holds (%s@%s) and serialise publish jobs of one commit (resource_group in .gitlab-ci.yml)",
			dst, got, digest, dst.Repository, got)
	}
	return res, nil
}

// headDigest is the digest tag resolves to, "" when it does not exist.
func headDigest(tag name.Tag, ro []remote.Option, opts Options) (domain.Digest, error) {
	d, err := remote.Head(tag, ro...)
	if perr := opts.PlainHTTP.CheckReachable(tag.RegistryStr(), err); perr != nil {
		return "", perr
	}
	switch {
	case err == nil:
		return registryDigest(d.Digest.String(), tag.String())
	case isNotFound(err):
		return "", nil
	case isUnauthorized(err):
		return "", authError(err, tag.RegistryStr(), "read", tag.String(), opts.haveCreds())
	}
	return "", newError(ErrRegistry, err, "cannot read %s: %v: check that the registry is reachable", tag.String(), err)
}
