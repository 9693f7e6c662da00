// Command evidence attaches the evidence of an image to it in its registry and reads it back
// for a deploy or a release, with go-containerregistry (OCI 1.1 referrers, with the
// sha256-<hex> tag fallback for registries without the referrers API). It is a thin wrapper
// over ci/artifact/registry and ci/artifact/attest, built in a golang container so go-containerregistry never
// enters the Dagger module binary.
//
// Usage:
//
//	evidence attach --image registry.example.com/group/api@sha256:<64 hex> \
//	         [--gate-report gate-report.json] [--trivy trivy-api.json] [--sbom sbom-api.cdx.json] \
//	         [--provenance provenance.json] [--signing-key-file F [--signing-password-file F] [--public-key F]] \
//	         [credentials] [--insecure-registry host:port ...]
//	evidence check-key --signing-key-file F [--signing-password-file F] [--public-key F]
//	evidence verify --commit <40 hex> --image api=registry.example.com/group/api@sha256:… \
//	         [--image worker=… ...] --out DIR [--public-key F] [credentials] [--insecure-registry host:port ...]
//
// With --signing-key-file (a mounted secret file: PKCS#8 or SEC 1 PEM, or cosign's encrypted key
// with --signing-password-file), attach attaches each document as an in-toto statement about the
// image signed in a DSSE envelope (ci/attest/signing), and refuses a key that is not the private
// half of --public-key; check-key does only that check (publish runs it before pushing) and
// prints the key ID. With --public-key, verify counts only statements signed by that key
// (ci/attest.VerifySigned) and records its key ID in evidence.json.
//
// credentials: --username-file F --password-file F (mounted secret files); without them
// access is anonymous.
//
// attach prints {"image":…,"attached":[{"artifactType":…,"digest":…}]}. verify fetches what
// the registry holds for every image and checks it (ci/artifact/attest.Verify); it writes DIR/evidence.json
// ({"commit","ok","problems":[…],"images":[{"service","image","problems"}]}), and, for the
// documents that counted, DIR/gate-report.json and DIR/trivy-<service>.json. Evidence that does
// not count is not an error of the tool: it is listed in evidence.json, and the caller decides.
//
// Exit status: 0 success; 2 usage error or malformed reference; otherwise registry.ExitCode
// (3 image not found; 4 credentials refused; 6 digest mismatch; 7 plain-http registry without
// --insecure-registry; 1 anything else).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !isHelp(err) {
		fmt.Fprintln(os.Stderr, "evidence:", err)
	}
	os.Exit(exitCode(err))
}
