package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// runLabels prints, as one JSON object, the config labels of each --image (repo@sha256:…): what
// trace and release read of a published image. It reads the registry directly, so a loopback
// registry is reached through --connect-to like every other subcommand.
func runLabels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci labels", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		images listFlag
		reg    = addRegistryFlags(fs, 2*time.Minute)
	)
	fs.Var(&images, "image", "image by digest `repo@sha256:…` whose labels to print; repeat for several")
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q: pass images with --image", fs.Arg(0))}
	}
	if len(images) == 0 {
		return usageError{msg: "--image is required: pass at least one image by digest, e.g. --image registry.example.com/group/api@sha256:…"}
	}
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := map[string]map[string]string{}
	for _, image := range images {
		r, err := registry.ReferenceArg("--image", image)
		if err != nil {
			return err
		}
		if out[image], err = registry.Labels(ctx, r, opts); err != nil {
			return err
		}
	}
	return json.NewEncoder(stdout).Encode(out)
}
