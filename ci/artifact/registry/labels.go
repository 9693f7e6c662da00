package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Labels returns the labels of the image config of ref, an image by digest (repo@sha256:…): what
// trace and release read of a published image (its commit, dataset and model), from the registry
// itself, so that it works wherever the registry tool reaches (a loopback registry through
// --connect-to included). An index is read for linux/amd64, the platform publish builds.
func Labels(ctx context.Context, ref domain.ImageRef, opts Options) (map[string]string, error) {
	if ref.Digest == "" {
		return nil, newError(ErrInvalidReference, nil, "%s is not an image by digest: write it as %s@sha256:<digest>", ref, ref.Repository)
	}
	host := ref.Repository.Host()
	if host == "" {
		return nil, newError(ErrInvalidReference, nil, "%s has no registry host: write it as registry.example.com/%s", ref, ref)
	}
	d, err := name.NewDigest(ref.String(), opts.names(host)...)
	if err != nil {
		return nil, newError(ErrInvalidReference, err, "%s: %v", ref, err)
	}
	img, err := remote.Image(d, opts.remote(ctx)...)
	if err != nil {
		return nil, readFailure(err, opts, d.RegistryStr(), ref.String(), ref.String(),
			fmt.Sprintf("%s does not exist in its registry: check the digest (it is the one publish printed)", ref))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, newError(ErrRegistry, err, "cannot read the config of %s: %v", ref, err)
	}
	labels := map[string]string{}
	for k, v := range cf.Config.Labels {
		labels[k] = v
	}
	return labels, nil
}
