package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func runNormalize(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci normalize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "OCI image-layout archive to read (Dagger's asTarball) (required)")
	out := fs.String("out", "", "archive to write (required)")
	created := fs.String("created", "", "commit time, RFC 3339 (GitLab: $CI_COMMIT_TIMESTAMP) (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return usageError{msg: "normalize needs --in image.tar and --out image.tar"}
	}
	t, err := time.Parse(time.RFC3339, *created)
	if err != nil {
		return usageError{msg: fmt.Sprintf("--created %q: want the commit's RFC 3339 time (--commit-time=$CI_COMMIT_TIMESTAMP)", *created)}
	}
	scratch, err := os.MkdirTemp("", "normalize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	img, err := registry.ReadImageTarball(*in, filepath.Join(scratch, "in"))
	if err != nil {
		return err
	}
	norm, err := registry.Normalize(img, t, filepath.Join(scratch, "layers"))
	if err != nil {
		return err
	}
	if err := registry.WriteImageTarball(norm, *out, filepath.Join(scratch, "out"), t); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	d, err := norm.Digest()
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"digest": d.String()})
}

func runPush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tarball = fs.String("tarball", "", "OCI image-layout archive written by `oci normalize` (required)")
		dst     = fs.String("dst", "", "tag to publish, `repo:tag` (required)")
		reg     = addRegistryFlags(fs, 20*time.Minute)
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tarball == "" || *dst == "" {
		return usageError{msg: "push needs --tarball image.tar and --dst registry.example.com/group/api:<tag>"}
	}
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	img, err := registry.ReadImageTarball(*tarball, scratch)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dest, err := registry.ReferenceArg("--dst", *dst)
	if err != nil {
		return err
	}
	res, err := registry.PublishImage(ctx, img, dest, opts)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
