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

// runResolve resolves every --ref to the digest the registry serves for it.
func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		refs listFlag
		reg  = addRegistryFlags(fs, 2*time.Minute)
	)
	fs.Var(&refs, "ref", "tag reference `repo:tag` to resolve; repeat for several")
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q: pass references with --ref", fs.Arg(0))}
	}
	if len(refs) == 0 {
		return usageError{msg: "--ref is required: pass at least one tag reference, e.g. --ref registry.example.com/group/api:main-0123abcd"}
	}
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := map[string]string{}
	for _, ref := range refs {
		r, err := registry.ReferenceArg("--ref", ref)
		if err != nil {
			return err
		}
		got, err := registry.Resolve(ctx, r, opts)
		if err != nil {
			return err
		}
		out[ref] = got.String()
	}
	return json.NewEncoder(stdout).Encode(out)
}
