// The CI/CD pipeline of SoccerPredictAI as typed Dagger functions.
//
// Every stage runs in containers, so the same graph runs on a laptop
// (`dagger call deploy --env=staging`) and in GitLab CI, whose `.gitlab-ci.yml` only calls
// these functions. Quality gates (ruff, pytest with Hypothesis, Great Expectations, `dvc repro
// --dry`, the smoke training run, the API contract test, the model gate) are `dagger check`
// checks; `gate-report` runs them all and returns the reports. Images are built once, scanned,
// published and promoted by digest; deploys use Helm with SOPS-encrypted values under the
// environments' promotion policy.
//
// Decisions live in the plain-Go packages under ci/; this module only builds containers and
// hands their outputs to them.
package main

import (
	"context"
	"fmt"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// SoccerPredict is the pipeline, configured for one source tree.
type SoccerPredict struct {
	// The repository the pipeline runs on.
	Source *dagger.Directory
	// Directory of the Python project inside Source.
	Project string

	// Settings as sorted KEY=VALUE lines (see ci/config).
	// +private
	Settings []string
	// Tool image overrides as tool=reference lines.
	// +private
	ImageOverrides []string
	// Token for the MLflow tracking server, if it needs one.
	// +private
	MlflowToken *dagger.Secret
	// Password for an MLflow server with HTTP Basic login (MLFLOW_TRACKING_USERNAME).
	// +private
	MlflowPassword *dagger.Secret
	// The loopback registry of the images on the caller's machine, as a service.
	// +private
	LocalRegistry *dagger.Service
}

// New configures the pipeline. Every option is optional: with none, it runs on the bundled
// sample project with the documented defaults.
func New(
	ctx context.Context,
	// The repository to run on; defaults to the repository holding this module.
	// +defaultPath="/"
	// +ignore=[".git", ".env", "**/__pycache__", "**/.venv", "**/.pytest_cache", "**/.ruff_cache", "**/.hypothesis", "**/node_modules", "**/.dvc/cache", "**/.dvc/tmp", "dagger/internal", "dagger/dagger.gen.go", "reports", "public", "site"]
	source *dagger.Directory,
	// Directory of the Python project inside the source. Default: "." when the source has a
	// pyproject.toml at its root, else the bundled sample (tests/testdata/soccerpredict).
	// +optional
	project string,
	// Settings as a .env-format file of KEY=VALUE lines (see the README's settings table);
	// flags below win over it.
	// +optional
	settingsFile *dagger.File,
	// Commit being built, its full id: 40 (or 64) lowercase hex characters (GitLab: $CI_COMMIT_SHA).
	// +optional
	commit string,
	// Branch or tag name (GitLab: $CI_COMMIT_REF_NAME).
	// +optional
	ref string,
	// Release tag vX.Y.Z when building a tag (GitLab: $CI_COMMIT_TAG).
	// +optional
	tag string,
	// Commit time, RFC 3339 (GitLab: $CI_COMMIT_TIMESTAMP; locally
	// $(git show -s --format=%cI HEAD)): every timestamp in a built image comes from it.
	// build and publish need it.
	// +optional
	commitTime string,
	// Image repository prefix services are pushed under (GitLab: $CI_REGISTRY_IMAGE).
	// +optional
	registry string,
	// Prefix every tool image is pulled through, e.g. GitLab's
	// $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX or an air-gapped mirror. Staging and production
	// (deploy, rollbacks, release) accept only the prefix committed in ci/toolchain/pins.go
	// (gitlab.com:443/soccerpredictai/dependency_proxy/containers) or none.
	// +optional
	registryMirror string,
	// Override the Python image (pin by tag, or tag@sha256:digest).
	// +optional
	pythonImage string,
	// Override the Go image the pipeline's helper tools (verify, decrypt, redact) are built and
	// run in. Staging and production (deploy, rollbacks, release) refuse it (commit a pin in
	// ci/toolchain/pins.go).
	// +optional
	golangImage string,
	// Override the Trivy image. Staging and production (deploy, rollbacks, release) refuse it
	// (commit a pin in ci/toolchain/pins.go).
	// +optional
	trivyImage string,
	// Override the Helm image. Staging and production (deploy, rollbacks, release) refuse it
	// (commit a pin in ci/toolchain/pins.go).
	// +optional
	helmImage string,
	// Override the curl image used by the API contract test.
	// +optional
	curlImage string,
	// Override the MkDocs image used by docs.
	// +optional
	mkdocsImage string,
	// Token for the MLflow tracking server (MLFLOW_TRACKING_URI), as a secret:
	// --mlflow-token=env:MLFLOW_TRACKING_TOKEN.
	// +optional
	mlflowToken *dagger.Secret,
	// Password for an MLflow server with HTTP Basic login, with MLFLOW_TRACKING_USERNAME
	// (--settings-file), as a secret: --mlflow-password=env:MLFLOW_TRACKING_PASSWORD.
	// +optional
	mlflowPassword *dagger.Secret,
	// The registry on the machine running dagger call that the images are on
	// (--registry=localhost:5000/…, kind's localhost:5001), as a service:
	// --local-registry=tcp://localhost:5000. Inside a container localhost is the container
	// itself: the registry tools reach this service instead, and references and digests keep
	// naming localhost:5000. Needed whenever an image is on a loopback registry.
	// +optional
	localRegistry *dagger.Service,
) (_ *SoccerPredict, err error) {
	defer surface(&err)
	fileValues := map[string]string{}
	if settingsFile != nil {
		content, err := settingsFile.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("read --settings-file: %w", err)
		}
		if fileValues, err = configpkg.ParseDotenv(content); err != nil {
			return nil, err
		}
	}
	values := configpkg.Merge(fileValues, map[string]string{
		"CI_COMMIT_SHA":      commit,
		"CI_COMMIT_REF_NAME": ref,
		"CI_COMMIT_TAG":      tag,
		"CI_REGISTRY_IMAGE":  registry,
		"SP_REGISTRY_MIRROR": registryMirror,
	}, map[string]string{"CI_COMMIT_TIMESTAMP": commitTime})
	settings, err := configpkg.Load(ctx, values)
	if err != nil {
		return nil, err
	}
	overrides := map[toolchain.Image]string{
		toolchain.Python: pythonImage, toolchain.Golang: golangImage, toolchain.Trivy: trivyImage,
		toolchain.Helm: helmImage, toolchain.Curl: curlImage, toolchain.MkDocs: mkdocsImage,
	}
	if _, err := toolchain.NewSet(overrides, settings.RegistryMirror); err != nil {
		return nil, err
	}
	var imageLines []string
	for t, ref := range overrides {
		if ref != "" {
			imageLines = append(imageLines, string(t)+"="+ref)
		}
	}
	hasPyproject := false
	if project == "" {
		if hasPyproject, err = source.Exists(ctx, projectpkg.Pyproject); err != nil {
			return nil, fmt.Errorf("inspect --source: %w", err)
		}
	}
	dir, err := projectpkg.Resolve(project, hasPyproject)
	if err != nil {
		return nil, err
	}
	return &SoccerPredict{
		Source:         source,
		Project:        dir,
		Settings:       configpkg.Environ(values),
		ImageOverrides: configpkg.Environ(configpkg.FromEnviron(imageLines)),
		MlflowToken:    mlflowToken,
		MlflowPassword: mlflowPassword,
		LocalRegistry:  localRegistry,
	}, nil
}

// settings decodes and validates the module's settings.
func (m *SoccerPredict) settings(ctx context.Context) (configpkg.Settings, error) {
	return configpkg.Load(ctx, configpkg.FromEnviron(m.Settings))
}

// images resolves tool images with the overrides and the registry mirror.
func (m *SoccerPredict) images(ctx context.Context) (toolchain.Set, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return toolchain.Set{}, err
	}
	over := map[toolchain.Image]string{}
	for k, v := range configpkg.FromEnviron(m.ImageOverrides) {
		over[toolchain.Image(k)] = v
	}
	return toolchain.NewSet(over, s.RegistryMirror)
}

// project returns the Python project's directory.
func (m *SoccerPredict) project() *dagger.Directory {
	if m.Project == "." || m.Project == "" {
		return m.Source
	}
	return m.Source.Directory(m.Project)
}
