// Command sops-decrypt decrypts a SOPS file with an age identity file and
// either checks it or hands a short-lived plaintext copy to a command, like
// `sops exec-file`. It is built statically (CGO_ENABLED=0) in a golang
// container and copied next to helm, so the SOPS library never enters the
// Dagger module binary.
//
// Usage:
//
//	sops-decrypt exec-file --identity /run/secrets/age.key --file charts/soccer-predict/secrets/staging.enc.yaml [--tmpdir DIR] [--placeholder {}] -- helm upgrade ... -f {}
//	sops-decrypt check --identity /run/secrets/age.key --file charts/soccer-predict/secrets/staging.enc.yaml
//
// exec-file writes the plaintext (mode 0600) into --tmpdir (default /dev/shm
// when it exists, else the system temp dir), replaces {} in the command's
// arguments with its path, runs the command and removes the file afterwards,
// even on failure. Its exit status is the command's.
//
// check verifies that the file decrypts and passes its integrity checks and
// prints the names of its keys, one per line on stdout, never their values.
//
// Exit status: 0 success; the command's status for exec-file; 2 usage
// errors; 3 missing file; 4 malformed file; 5 wrong or unusable key;
// 6 integrity check failed (tampered); 1 anything else.
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
	if err != nil {
		fmt.Fprintln(os.Stderr, "sops-decrypt:", err)
	}
	os.Exit(exitCode(err))
}
