// Command manifest-redact copies a Kubernetes manifest stream from stdin to stdout with the
// values of every Secret's data and stringData replaced (ci/deploy/helm.RedactSecrets). The pipeline
// pipes `helm get manifest` and `helm template` through it inside the helm container, so
// secret values never reach a log, a returned file or the module.
package main

import (
	"fmt"
	"io"
	"os"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "manifest-redact:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	redacted, err := helm.RedactSecrets(data)
	if err != nil {
		return fmt.Errorf("redact manifest: %w", err)
	}
	_, err = out.Write(redacted)
	return err
}
