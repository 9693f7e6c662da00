package main

import (
	"context"
	"io"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// runResolve resolves every --ref to the digest the registry serves for it.
func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return perReference[string]{
		name:     "oci resolve",
		flag:     "ref",
		noun:     "references",
		usage:    "tag reference `repo:tag` to resolve; repeat for several",
		required: "--ref is required: pass at least one tag reference, e.g. --ref registry.example.com/group/api:main-0123abcd",
		read: func(ctx context.Context, ref domain.ImageRef, opts registry.Options) (string, error) {
			got, err := registry.Resolve(ctx, ref, opts)
			return got.String(), err
		},
	}.run(ctx, args, stdout, stderr)
}
