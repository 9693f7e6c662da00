package main

import (
	"context"

	"dagger/soccer-predict/internal/dagger"

	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

const (
	chartDir       = "/chart"
	kubeconfigPath = "/run/secrets/kubeconfig"
	redactBin      = "/usr/local/bin/manifest-redact"
)

// helmContainer is the pinned Helm image with the chart at /chart, the manifest redactor, and,
// when given, the kubeconfig mounted as a secret file (never a layer, never an argument).
func (m *SoccerPredict) helmContainer(ctx context.Context, chart *dagger.Directory, kubeconfig *dagger.Secret) (*dagger.Container, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	redact, err := m.tool(ctx, toolchain.ManifestRedact)
	if err != nil {
		return nil, err
	}
	ctr := dag.Container().
		From(imgs.Ref(toolchain.Helm)).
		WithFile(redactBin, redact).
		WithDirectory(chartDir, chart).
		WithWorkdir(chartDir)
	if kubeconfig != nil {
		ctr = ctr.
			WithMountedSecret(kubeconfigPath, kubeconfig).
			WithEnvVariable("KUBECONFIG", kubeconfigPath)
	}
	return ctr, nil
}

// redacting wraps a helm command whose output is a manifest stream so that every Secret value
// is blanked inside the container, before anything reaches the module or a log; pipefail keeps
// helm's own failure.
func redacting(argv []string) []string {
	return []string{"sh", "-c", "set -o pipefail; " + projectpkg.Join(argv) + " | " + redactBin}
}

// redacted runs a manifest-printing helm command through redacting and returns its output.
func redacted(ctx context.Context, ctr *dagger.Container, argv []string) (string, error) {
	out, err := ctr.WithExec(redacting(argv)).Stdout(ctx)
	if err != nil {
		return "", toolFailure(argv[0]+" "+argv[1], err)
	}
	return out, nil
}
