// Command oci is the pipeline's one registry tool: it publishes, promotes and resolves images
// and attaches, signs and verifies their evidence, with go-containerregistry. It is a thin
// wrapper over gitlab.com/soccerpredictai/pipeline/ci/artifact/registry and ci/artifact/attest,
// built in a golang container so go-containerregistry never enters the Dagger module binary.
//
// Usage:
//
//	oci normalize --in image.tar --out image.tar --created 2025-03-01T08:00:00Z
//	    sets every timestamp of the image (config, history, layer file times newer than the
//	    commit) to the commit time and writes a deterministic OCI-layout archive;
//	    prints {"digest":"sha256:…"}.
//	oci push --tarball image.tar --dst repo:tag [registry flags]
//	    pushes that archive's image under the tag unless the tag exists: the same digest is
//	    reused, another digest is refused (exit 5); prints the registry.Published JSON.
//	oci promote --src repo@sha256:<64 hex> --dst repo:tag [--dst …] [--allow-overwrite] [registry flags]
//	    copies an image (or index) by digest to tags, in the same repository, another one or
//	    another registry, without rebuilding it, with its evidence referrers; prints
//	    {"source":…,"digest":…,"destinations":[…]}.
//	oci resolve --ref repo:tag [--ref …] [registry flags]
//	    prints {"repo:tag":"repo@sha256:…",…}: the digest each tag points at now.
//	oci labels --image repo@sha256:<64 hex> [--image …] [registry flags]
//	    prints {"repo@sha256:…":{"label":"value",…},…}: the config labels of each image (what
//	    trace and release read of a published image: commit, dataset, model).
//	oci attach --image repo@sha256:<64 hex> [--gate-report F] [--trivy F] [--sbom F] [--provenance F]
//	         [--signing-key-file F [--signing-password-file F] [--public-key F]] [registry flags]
//	    attaches the evidence of an image as OCI 1.1 referrers (tag-schema fallback for
//	    registries without the referrers API); with a signing key, each document as an in-toto
//	    statement in a DSSE envelope (ci/artifact/attest/signing), refusing a key that is not
//	    the private half of --public-key; prints {"image":…,"attached":[…]}.
//	oci attach … --sigstore-policy F (--signing-key-file F --public-key F | --id-token-file F) [--trusted-root F]
//	    attaches each document as a Sigstore bundle of its in-toto statement, in the referrer
//	    layout cosign v3 writes (ci/artifact/attest/sigstore): keyed with the key, or keyless with
//	    a Fulcio certificate for the job's OIDC token and a Rekor entry, as the policy says.
//	oci check-key --signing-key-file F [--signing-password-file F] [--public-key F]
//	oci check-key --id-token-file F --sigstore-policy F   (keyless: the OIDC token can earn a certificate)
//	    checks the signing key (and that it matches the public key) and prints its key ID;
//	    publish runs it before pushing anything.
//	oci verify --commit <sha> --image service=repo@sha256:… [--image …] --out DIR [--public-key F]
//	         [--env dev|staging|production] [--nonce N] [registry flags]
//	    reads what the registry holds for every image and checks it (ci/artifact/attest.Verify,
//	    VerifySigned with --public-key); writes DIR/evidence.json and the documents that
//	    counted. Evidence that does not count is listed there, not an error of the tool. With
//	    --sigstore-policy F [--trusted-root F] [--public-key F], only Sigstore bundles that
//	    policy trusts count (attest.VerifyBundles): DSSE envelopes of the earlier format do not.
//
// Registry flags: --username-file F --password-file F (mounted secret files) or
// --username-env VAR --password-env VAR; without them access is anonymous.
// --insecure-registry host:port (repeatable): loopback registries (localhost, 127.0.0.0/8,
// [::1]) are reached over plain http when they have no TLS; any other registry only over https
// unless named here exactly (an unused or loopback entry is an error).
// --connect-to host:port=address (repeatable): connect to address for the loopback registry
// host:port (curl's --connect-to): inside a container localhost is the container itself, so the
// module binds a service forwarding to the caller's registry and names it here; the requests,
// references and digests still name the registry. --timeout D.
//
// Exit status: 0 success; 2 usage error or malformed reference; 3 source not found;
// 4 credentials refused; 5 tag collision (existing tag points elsewhere); 6 digest
// mismatch after the push; 7 plain-http registry without --insecure-registry; 1 anything else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !isHelp(err) {
		fmt.Fprintln(os.Stderr, "oci:", err)
	}
	os.Exit(exitCode(err))
}

// subcommands are the tool's modes, by their first argument.
var subcommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"normalize": func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		return runNormalize(args, stdout, stderr)
	},
	"push":    runPush,
	"promote": runPromote,
	"resolve": runResolve,
	"labels":  runLabels,
	"attach":  runAttach,
	"check-key": func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		return runCheckKey(args, stdout, stderr)
	},
	"verify": runVerify,
}

const subcommandNames = "normalize, push, promote, resolve, labels, attach, check-key or verify"

// dispatch runs the subcommand named by args[0].
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{msg: "name a subcommand: " + subcommandNames}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, "usage: oci <"+strings.ReplaceAll(strings.ReplaceAll(subcommandNames, ", ", "|"), " or ", "|")+"> [flags]; oci <subcommand> --help")
		return flag.ErrHelp
	}
	run, ok := subcommands[args[0]]
	if !ok {
		return usageError{msg: fmt.Sprintf("unknown subcommand %q: use %s", args[0], subcommandNames)}
	}
	return run(ctx, args[1:], stdout, stderr)
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// exitCode maps an error from a subcommand to the documented exit status (registry.ExitCode).
func exitCode(err error) int {
	var ue usageError
	switch {
	case isHelp(err):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return registry.ExitCode(err)
}
