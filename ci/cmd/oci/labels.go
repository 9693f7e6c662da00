package main

import (
	"context"
	"io"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// runLabels prints, as one JSON object, the config labels of each --image (repo@sha256:…): what
// trace and release read of a published image. It reads the registry directly, so a loopback
// registry is reached through --connect-to like every other subcommand.
func runLabels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return perReference[map[string]string]{
		name:     "oci labels",
		flag:     "image",
		noun:     "images",
		usage:    "image by digest `repo@sha256:…` whose labels to print; repeat for several",
		required: "--image is required: pass at least one image by digest, e.g. --image registry.example.com/group/api@sha256:…",
		read:     registry.Labels,
	}.run(ctx, args, stdout, stderr)
}
