package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/registry"
)

// ResolveCommand is the first argument that selects the resolve mode:
//
//	promote resolve --ref repo:tag [--ref repo:tag ...] [credential flags] [--insecure-registry host:port ...]
//
// prints one JSON object {"repo:tag": "repo@sha256:…", …}: the digest each tag points at now.
const ResolveCommand = "resolve"

// runResolve resolves every --ref to the digest the registry serves for it.
func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("promote resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		refs               listFlag
		userFile, passFile = fs.String("username-file", "", "file holding the registry username"), fs.String("password-file", "", "file holding the registry password or token")
		userEnv, passEnv   = fs.String("username-env", "", "name of the variable holding the registry username"), fs.String("password-env", "", "name of the variable holding the registry password or token")
		insecureRegs       listFlag
		timeout            = fs.Duration("timeout", 2*time.Minute, "give up after this long")
	)
	fs.Var(&insecureRegs, "insecure-registry", "reach this registry `host[:port]` over plain http (no TLS; never for production); loopback registries need no flag")
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
	if *timeout <= 0 {
		return usageError{msg: "--timeout must be positive, e.g. --timeout 2m"}
	}
	creds, err := credentials(*userFile, *passFile, *userEnv, *passEnv)
	if err != nil {
		return err
	}
	plain, err := registry.ParseInsecureRegistries(insecureRegs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	out := map[string]string{}
	for _, ref := range refs {
		got, err := registry.Resolve(ctx, ref, registry.Options{Auth: creds.Authenticator(), PlainHTTP: plain})
		if err != nil {
			return err
		}
		out[ref] = got
	}
	return json.NewEncoder(stdout).Encode(out)
}
