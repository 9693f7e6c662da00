// Command promote copies an image (or index) by digest to one or more tags, in the
// same repository, another repository or another registry, without rebuilding it and
// without re-uploading blobs the destination already has or can mount. It is a thin
// wrapper over gitlab.com/soccerpredictai/pipeline/ci/artifact/registry, built in a golang
// container so go-containerregistry never enters the Dagger module binary.
//
// Usage:
//
//	promote --src registry.example.com/group/api@sha256:<64 hex> \
//	        --dst registry.example.com/group/api:v1.4.0 [--dst registry.example.com/group/api:latest ...] \
//	        [--username-file /run/secrets/user --password-file /run/secrets/password] \
//	        [--username-env REGISTRY_USER --password-env REGISTRY_PASSWORD] \
//	        [--insecure-registry reg.local:5000 ...] [--allow-overwrite] [--timeout 10m]
//
// Credentials are read only from the files or the variables named on the command
// line; without them access is anonymous. Loopback registries (localhost, 127.0.0.0/8,
// [::1]) are reached over plain http when they have no TLS; any other registry only over
// https unless named with --insecure-registry (exactly, port included; an unused or
// loopback entry is an error). On success it prints one JSON line on stdout:
//
//	{"source":"registry.example.com/group/api@sha256:…","digest":"sha256:…","destinations":["registry.example.com/group/api:v1.4.0"]}
//
// Two subcommands serve publish (see publish.go): `promote normalize` sets the image
// config's timestamps to the commit time and writes a deterministic OCI archive, and
// `promote push` publishes such an archive under a tag that never moves.
// `promote resolve --ref repo:tag [--ref …] [credential flags] [--insecure-registry host:port ...]` prints instead
// {"repo:tag":"repo@sha256:…",…}: the digest each tag points at (registry.Resolve).
//
// Exit status: 0 success; 2 usage error or malformed reference; 3 source not found;
// 4 credentials refused; 5 tag collision (existing tag points elsewhere); 6 digest
// mismatch after the push; 7 plain-http registry without --insecure-registry; 1 anything else.
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
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !isHelp(err) {
		fmt.Fprintln(os.Stderr, "promote:", err)
	}
	os.Exit(exitCode(err))
}
