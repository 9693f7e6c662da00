package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// perReference is a read-only subcommand that reads one answer from the registry for each
// repeated flag value and prints them as one JSON object keyed by the value as given: what
// `oci resolve` and `oci labels` share (flags, registry options, timeout, output).
type perReference[T any] struct {
	name     string // "oci resolve"
	flag     string // "ref"
	noun     string // "references": what the flag's values are
	usage    string // the flag's help text
	required string // the usage error when no value is given
	read     func(context.Context, domain.ImageRef, registry.Options) (T, error)
}

func (p perReference[T]) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(p.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		values listFlag
		reg    = addRegistryFlags(fs, 2*time.Minute)
	)
	fs.Var(&values, p.flag, p.usage)
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q: pass %s with --%s", fs.Arg(0), p.noun, p.flag)}
	}
	if len(values) == 0 {
		return usageError{msg: p.required}
	}
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := map[string]T{}
	for _, v := range values {
		r, err := registry.ReferenceArg("--"+p.flag, v)
		if err != nil {
			return err
		}
		if out[v], err = p.read(ctx, r, opts); err != nil {
			return err
		}
	}
	return json.NewEncoder(stdout).Encode(out)
}
