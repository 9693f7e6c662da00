// Command testregistry serves an in-memory OCI registry (go-containerregistry's pkg/registry,
// with the OCI 1.1 referrers API) on a loopback port, for the module tests that run the
// registry tool for real (tests/module/toolfs_test.go). go-containerregistry must stay out of
// the Dagger module's build graph (docs/architecture.md), so those tests start this program
// instead of importing the registry.
//
// Usage: testregistry [-log FILE]
//
// It prints the registry's host:port on the first line of stdout once it accepts connections,
// and serves until its standard input is closed (the test that started it ended) or it is
// interrupted. Requests are logged to FILE (default: discarded).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testregistry:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("testregistry", flag.ContinueOnError)
	logPath := fs.String("log", "", "file to log every request to (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logOut := io.Discard
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut = f
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{
		Handler:           registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(logOut, "", log.LstdFlags))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	if _, err := fmt.Fprintln(stdout, l.Addr().String()); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(closed)
	}()
	select {
	case <-ctx.Done():
	case <-closed:
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
