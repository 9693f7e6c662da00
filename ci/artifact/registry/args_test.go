package registry

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// The tests give references as text, as ci/cmd/oci receive them: these
// read them with ReferenceArg (the tools' edge) and call the functions under test.

func promoteS(ctx context.Context, src, dst string, opts Options) (string, error) {
	res, err := promoteAllS(ctx, src, []string{dst}, opts)
	return string(res.Digest), err
}

func promoteAllS(ctx context.Context, src string, dsts []string, opts Options) (Result, error) {
	s, err := ReferenceArg("--src", src)
	if err != nil {
		return Result{}, err
	}
	var ds []domain.ImageRef
	for _, d := range dsts {
		r, err := ReferenceArg("--dst", d)
		if err != nil {
			return Result{}, err
		}
		ds = append(ds, r)
	}
	return PromoteAll(ctx, s, ds, opts)
}

func publishS(ctx context.Context, img v1.Image, dst string, opts Options) (Published, error) {
	d, err := ReferenceArg("--dst", dst)
	if err != nil {
		return Published{}, err
	}
	return PublishImage(ctx, img, d, opts)
}

func resolveS(ctx context.Context, ref string, opts Options) (string, error) {
	r, err := ReferenceArg("--ref", ref)
	if err != nil {
		return "", err
	}
	got, err := Resolve(ctx, r, opts)
	if err != nil {
		return "", err
	}
	return got.String(), nil
}

func attachS(ctx context.Context, subject string, docs []Attachment, opts Options) ([]Attached, error) {
	r, err := ReferenceArg("--image", subject)
	if err != nil {
		return nil, err
	}
	return Attach(ctx, r, docs, opts)
}

func listS(ctx context.Context, image string, opts Options) ([]Attached, error) {
	r, err := ReferenceArg("--image", image)
	if err != nil {
		return nil, err
	}
	return listReferrers(ctx, r, opts)
}

// listReferrers returns the referrers of image ("repo@sha256:…") that really refer to it.
func listReferrers(ctx context.Context, image domain.ImageRef, opts Options) ([]Attached, error) {
	sub, err := parseSubject(image, opts)
	if err != nil {
		return nil, err
	}
	refs, err := referrersOf(sub, opts.remote(ctx), opts)
	if err != nil {
		return nil, err
	}
	out := make([]Attached, 0, len(refs))
	for _, r := range refs {
		out = append(out, Attached{ArtifactType: r.artifactType, Digest: r.digest.String()})
	}
	return out, nil
}

func fetchS(ctx context.Context, service, image string, opts Options) (attest.Evidence, error) {
	r, err := ReferenceArg("--image", image)
	if err != nil {
		return attest.Evidence{}, err
	}
	return FetchEvidence(ctx, domain.Service(service), r, opts)
}

func mustRef(s string) domain.ImageRef {
	r, err := domain.ParseImageRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

func mustRefs(ss ...string) []domain.ImageRef {
	out := make([]domain.ImageRef, 0, len(ss))
	for _, s := range ss {
		out = append(out, mustRef(s))
	}
	return out
}
