package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/images"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/reports"
	"gitlab.com/soccerpredictai/pipeline/ci/tags"
	"gitlab.com/soccerpredictai/pipeline/ci/toolbox"
)

// publishConcurrency bounds simultaneous pushes.
const publishConcurrency = 3

// Publish builds every service image and pushes it as <registry>/<service>:<tag> (the branch
// tag <ref-slug>-<short-sha>, or vX.Y.Z on a tag pipeline). It returns images.env, the dotenv
// GitLab passes to later jobs (API_IMAGE=repo@sha256:…, WORKER_IMAGE, AIRFLOW_IMAGE), and
// images.json; deploys and promotions use these digests, never a rebuild. To every pushed digest
// it attaches, as OCI 1.1 referrers, the Trivy report and CycloneDX SBOM of the pushed container,
// its SLSA v1 provenance, and the gate report given with --gate-report: the evidence deploy and
// release read back (see verify-evidence).
//
// +cache="never"
func (m *SoccerPredict) Publish(
	ctx context.Context,
	// Registry user (GitLab: $CI_REGISTRY_USER). Omit for a registry without auth.
	// +optional
	username string,
	// Registry password or token, as a secret reference: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
	// Model version to record (default: model_version of metrics/champion.json, if any).
	// +optional
	modelVersion string,
	// gate-report.json of this commit (from `gate-report`, every gate), attached to each image;
	// without it staging and production refuse the images until `attest` attaches one.
	// +optional
	gateReport *dagger.File,
	// The pipeline recorded in the provenance (GitLab: $CI_PIPELINE_URL); default "local".
	// +optional
	pipeline string,
) (*dagger.Directory, error) {
	if err := credentialPair(username, password); err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	if gateReport != nil {
		if err := checkGateReport(ctx, s, gateReport); err != nil {
			return nil, err
		}
	}
	tag, err := imageTag(s)
	if err != nil {
		return nil, err
	}
	set := artifact.Set{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(publishConcurrency)
	for _, svc := range projectpkg.Services() {
		g.Go(func() error {
			address, err := tags.ServiceImage(s.Registry, string(svc), tag)
			if err != nil {
				return err
			}
			started := time.Now().UTC()
			ctr, err := m.Build(gctx, string(svc), modelVersion)
			if err != nil {
				return err
			}
			if password != nil {
				ctr = ctr.WithRegistryAuth(registryHost(s.Registry), username, password)
			}
			published, err := ctr.Publish(gctx, address)
			if err != nil {
				return fmt.Errorf("push %s: %w", address, err)
			}
			ref, err := tags.ParseDigestReference(published)
			if err != nil {
				return fmt.Errorf("push %s: the registry answered %q: %w", address, published, err)
			}
			byDigest, err := tags.DigestReference(ref.Repository, ref.Digest)
			if err != nil {
				return err
			}
			if err := m.publishEvidence(gctx, s, svc, ctr, byDigest, gateReport, nil, nil, pipeline, modelVersion, started, username, password); err != nil {
				return fmt.Errorf("%s pushed as %s, but its evidence was not attached (deploys will refuse it): %w", svc, byDigest, err)
			}
			mu.Lock()
			defer mu.Unlock()
			return set.FromPublished(string(svc), published)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	js, err := set.JSON()
	if err != nil {
		return nil, err
	}
	return dag.Directory().
		WithNewFile(reports.ImagesEnv, set.Dotenv()).
		WithNewFile(reports.ImagesJSON, string(js)), nil
}

// PublishBase builds the base stage and pushes it to <registry>/base:<tag>, returning the
// reference by digest.
//
// +cache="never"
func (m *SoccerPredict) PublishBase(
	ctx context.Context,
	// Registry user (GitLab: $CI_REGISTRY_USER).
	// +optional
	username string,
	// Registry password or token, as a secret: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
) (string, error) {
	if err := credentialPair(username, password); err != nil {
		return "", err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	tag, err := imageTag(s)
	if err != nil {
		return "", err
	}
	address, err := tags.ServiceImage(s.Registry, "base", tag)
	if err != nil {
		return "", err
	}
	ctr, err := m.Base(ctx)
	if err != nil {
		return "", err
	}
	if password != nil {
		ctr = ctr.WithRegistryAuth(registryHost(s.Registry), username, password)
	}
	published, err := ctr.Publish(ctx, address)
	if err != nil {
		return "", err
	}
	ref, err := tags.ParseDigestReference(published)
	if err != nil {
		return "", err
	}
	return tags.DigestReference(ref.Repository, ref.Digest)
}

// Promote copies an image by digest to new tags or another registry without rebuilding it or
// re-uploading layers that are already there, and verifies that each destination resolves to
// the source digest. A destination tag that already points at a different digest is refused
// unless --allow-overwrite (`latest` may always move).
//
// +cache="never"
func (m *SoccerPredict) Promote(
	ctx context.Context,
	// Image to promote, by digest: repo@sha256:….
	source string,
	// Destinations: repo:tag (same or another registry); repeat or comma-separate.
	to []string,
	// Registry user for both ends.
	// +optional
	username string,
	// Registry password or token, as a secret: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
	// Let an existing destination tag move to this digest.
	// +optional
	allowOverwrite bool,
) (string, error) {
	src, err := tags.ParseDigestReference(source)
	if err != nil {
		return "", fmt.Errorf("--source: %w", err)
	}
	if len(to) == 0 {
		return "", fmt.Errorf("--to: name at least one destination, e.g. --to=%s:v1.2.3", src.Repository)
	}
	for _, d := range to {
		if _, err := tags.ParseTagReference(d); err != nil {
			return "", fmt.Errorf("--to %q: %w", d, err)
		}
	}
	res, err := m.promote(ctx, source, to, username, password, allowOverwrite)
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	return string(b), err
}

// promoteResult is what the promote tool prints.
type promoteResult struct {
	Source       string   `json:"source"`
	Digest       string   `json:"digest"`
	Destinations []string `json:"destinations"`
}

// promote runs the promote tool (ci/cmd/promote, go-containerregistry) in a container; the
// password reaches it only as a mounted secret file.
func (m *SoccerPredict) promote(ctx context.Context, source string, to []string, username string, password *dagger.Secret, allowOverwrite bool) (promoteResult, error) {
	bin, err := m.tool(ctx, toolbox.Promote)
	if err != nil {
		return promoteResult{}, err
	}
	args := []string{"/usr/local/bin/promote", "--src", source}
	for _, d := range to {
		args = append(args, "--dst", d)
	}
	imgs, err := m.images(ctx)
	if err != nil {
		return promoteResult{}, err
	}
	// The Go image is already pulled to build the tool and carries the CA certificates.
	ctr := dag.Container().
		From(imgs.Ref(images.Golang)).
		WithFile("/usr/local/bin/promote", bin)
	if password != nil {
		if username == "" {
			return promoteResult{}, fmt.Errorf("--password needs --username")
		}
		ctr = ctr.
			WithNewFile("/run/registry/username", username).
			WithMountedSecret("/run/secrets/registry-password", password)
		args = append(args, "--username-file", "/run/registry/username", "--password-file", "/run/secrets/registry-password")
	}
	if allowOverwrite {
		args = append(args, "--allow-overwrite")
	}
	// A promotion must reach the registry every time: never answer it from the engine's cache.
	out, err := ctr.
		WithEnvVariable("SP_PROMOTE_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(args).
		Stdout(ctx)
	if err != nil {
		return promoteResult{}, err
	}
	var res promoteResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return promoteResult{}, fmt.Errorf("promote printed %q: %w", strings.TrimSpace(out), err)
	}
	return res, nil
}

// registryHost is the registry of an image repository (what registry auth is keyed on), by
// the docker rule ci/tags applies: no host component means Docker Hub.
func registryHost(repo string) string {
	if d := (tags.Reference{Repository: repo}).Domain(); d != "" {
		return d
	}
	return "docker.io"
}

// credentialPair refuses a registry user without a password or a password without a user.
func credentialPair(username string, password *dagger.Secret) error {
	if (username == "") != (password == nil) {
		return fmt.Errorf("pass both --username and --password (as a secret, e.g. --password=env:CI_REGISTRY_PASSWORD), or neither")
	}
	return nil
}
