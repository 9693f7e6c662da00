package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// lookupEnv reads the variables named by --username-env/--password-env; tests replace it.
var lookupEnv = os.LookupEnv

// transport is the HTTP transport to the registries (nil: go-containerregistry's default);
// tests replace it to reach the in-process registry under a non-loopback name.
var transport http.RoundTripper

// runPromote parses args, promotes and prints the JSON result on stdout.
func runPromote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci promote", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dsts           listFlag
		src            = fs.String("src", "", "source image pinned by digest: `repo@sha256:<64 hex>` (required)")
		allowOverwrite = fs.Bool("allow-overwrite", false, "move destination tags that already point at another digest (latest always moves)")
		reg            = addRegistryFlags(fs, 10*time.Minute)
	)
	fs.Var(&dsts, "dst", "destination `repo:tag`; repeat for several")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: oci promote --src repo@sha256:<digest> --dst repo:tag [--dst repo:tag ...] [--username-file f --password-file f | --username-env VAR --password-env VAR] [--insecure-registry host:port ...] [--allow-overwrite]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q: pass destinations with --dst", fs.Arg(0))}
	}
	if *src == "" {
		return usageError{msg: "--src is required: pass the image digest reference from images.env, e.g. --src registry.example.com/group/api@sha256:…"}
	}
	if len(dsts) == 0 {
		return usageError{msg: "--dst is required: pass at least one destination, e.g. --dst registry.example.com/group/api:v1.4.0"}
	}
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	opts.AllowOverwrite = *allowOverwrite

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	source, err := registry.ReferenceArg("--src", *src)
	if err != nil {
		return err
	}
	var dests []domain.ImageRef
	for _, d := range dsts {
		r, err := registry.ReferenceArg("--dst", d)
		if err != nil {
			return err
		}
		dests = append(dests, r)
	}
	res, err := registry.PromoteAll(ctx, source, dests, opts)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// registryFlags are the flags every mode of the tool takes to reach registries: credentials
// (files or variables), the plain-HTTP opt-in and a timeout.
type registryFlags struct {
	userFile, passFile, userEnv, passEnv *string
	insecure                             listFlag
	connectTo                            listFlag
	timeout                              *time.Duration
	defaultTimeout                       time.Duration
}

func addRegistryFlags(fs *flag.FlagSet, timeout time.Duration) *registryFlags {
	f := &registryFlags{
		userFile: fs.String("username-file", "", "file holding the registry username"),
		passFile: fs.String("password-file", "", "file holding the registry password or token"),
		userEnv:  fs.String("username-env", "", "name of the variable holding the registry username"),
		passEnv:  fs.String("password-env", "", "name of the variable holding the registry password or token"),
		timeout:  fs.Duration("timeout", timeout, "give up after this long"),

		defaultTimeout: timeout,
	}
	fs.Var(&f.insecure, "insecure-registry", "reach this registry `host[:port]` over plain http (it has no TLS; never for production); repeat for several; loopback registries need no flag")
	fs.Var(&f.connectTo, "connect-to", "for the loopback registry `host:port` (as images name it), connect to ADDRESS instead, written host:port=address (curl's --connect-to): a container reaches a registry of the caller's machine through a bound service; references and digests are unchanged; repeat for several")
	return f
}

// options validates the flags into registry options and the timeout.
func (f *registryFlags) options() (registry.Options, time.Duration, error) {
	if *f.timeout <= 0 {
		return registry.Options{}, 0, usageError{msg: fmt.Sprintf("--timeout must be positive, e.g. --timeout %dm", int(f.defaultTimeout.Minutes()))}
	}
	plain, err := registry.ParseInsecureRegistries(f.insecure)
	if err != nil {
		return registry.Options{}, 0, err
	}
	creds, err := credentials(*f.userFile, *f.passFile, *f.userEnv, *f.passEnv)
	if err != nil {
		return registry.Options{}, 0, err
	}
	connect, err := registry.ParseConnectTo(f.connectTo)
	if err != nil {
		return registry.Options{}, 0, err
	}
	rt, err := connect.Transport(transport)
	if err != nil {
		return registry.Options{}, 0, err
	}
	return registry.Options{Auth: creds.Authenticator(), PlainHTTP: plain, Transport: rt}, *f.timeout, nil
}

// credentials picks the explicit credential source: files, variables or none.
func credentials(userFile, passFile, userEnv, passEnv string) (registry.Credentials, error) {
	files := userFile != "" || passFile != ""
	vars := userEnv != "" || passEnv != ""
	switch {
	case files && vars:
		return registry.Credentials{}, usageError{msg: "give credentials either as files (--username-file/--password-file) or as variables (--username-env/--password-env), not both"}
	case files:
		if userFile == "" || passFile == "" {
			return registry.Credentials{}, usageError{msg: "give both --username-file and --password-file"}
		}
		c, err := registry.LoadCredentials(userFile, passFile)
		if err != nil {
			return registry.Credentials{}, usageError{msg: err.Error()}
		}
		return c, nil
	case vars:
		if userEnv == "" || passEnv == "" {
			return registry.Credentials{}, usageError{msg: "give both --username-env and --password-env"}
		}
		c, err := registry.CredentialsFromEnv(lookupEnv, userEnv, passEnv)
		if err != nil {
			return registry.Credentials{}, usageError{msg: err.Error()}
		}
		return c, nil
	}
	return registry.Credentials{}, nil
}
