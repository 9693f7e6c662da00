package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// publishConcurrency bounds simultaneous pushes.
const publishConcurrency = 3

// Publish builds every service image once, sets every timestamp in it to the commit time
// (--commit-time), scans that very image with Trivy (blocking on SP_SCAN_SEVERITIES: one
// blocking finding and nothing is pushed) and pushes it as <registry>/<service>:<tag> (the
// branch tag <ref-slug>-<short-sha>, or vX.Y.Z on a tag pipeline). A tag that already exists
// never moves: a retry of the same build reuses it, a different build is refused.
// It returns images.env, the dotenv GitLab passes to later jobs (API_IMAGE=repo@sha256:…,
// WORKER_IMAGE, AIRFLOW_IMAGE), images.json, published.json (tag, digest, push or reuse per
// service) and scan/ (trivy-<service>.json, sbom-<service>.cdx.json and the GitLab
// container-scanning report of the pushed digests); deploys and promotions use these
// digests, never a rebuild. It needs --commit, --ref (or --tag) and --commit-time.
// To every pushed digest it attaches, as OCI 1.1 referrers, the Trivy report and CycloneDX
// SBOM of the pushed image, its SLSA v1 provenance, and the gate report given with
// --gate-report, each signed as a Sigstore bundle under the committed policy (keyless with
// --sigstore-id-token; keyed with --signing-key): the evidence deploy and release read back
// (see verify-evidence).
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
	// Model version to record (default: the version behind MLflow's champion alias when MLFLOW_TRACKING_URI is set, else model_version of metrics/champion.json).
	// +optional
	modelVersion string,
	// gate-report.json of this commit (from `gate-report`, every gate), attached to each image;
	// without it staging and production refuse the images until `attest` attaches one.
	// +optional
	gateReport *dagger.File,
	// The pipeline recorded in the provenance (GitLab: $CI_PIPELINE_URL); default "local".
	// +optional
	pipeline string,
	// Private key that signs the evidence as Sigstore bundles when the committed policy
	// (ci/artifact/attest/trust/sigstore.json) says keyed (air-gapped), as a secret:
	// --signing-key=env:SP_SIGNING_KEY (ECDSA P-256, PEM, or cosign.key), the private half of
	// ci/artifact/attest/trust/attestation.pub. Refused under the committed keyless policy.
	// +optional
	signingKey *dagger.Secret,
	// Password of a cosign encrypted signing key, as a secret: --signing-key-password=env:COSIGN_PASSWORD.
	// +optional
	signingKeyPassword *dagger.Secret,
	// Registry host[:port] without TLS (a dev k3s registry, an air-gapped mirror) to reach over
	// plain http; repeat for several. Exact host, port included; loopback registries need none;
	// never for production.
	// +optional
	insecureRegistry []string,
	// The CI job's OIDC token, as a secret (GitLab: --sigstore-id-token=env:SIGSTORE_ID_TOKEN from
	// `id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`): signs every document keylessly as a
	// Sigstore bundle (Fulcio certificate for the pipeline, Rekor entry) under the committed
	// keyless policy, the default. Without it (or --signing-key under a keyed policy) the
	// evidence is attached unsigned: dev's convenience, which staging and production refuse.
	// +optional
	sigstoreIdToken *dagger.Secret,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	signing := signingKeys{sigstoreIdToken, signingKey, signingKeyPassword}
	if err := m.checkSigning(ctx, signing); err != nil {
		return nil, err
	}
	return m.publishImages(ctx, username, password, modelVersion, gateReport, pipeline, signing, insecureRegistry)
}

// PublishBase builds the base stage and publishes it the way publish does a service image: every
// timestamp from --commit-time, exported as a deterministic archive (`oci normalize`) and pushed
// to <registry>/base:<tag> (the branch tag, or vX.Y.Z on a tag pipeline) by `oci push`, under a
// tag that never moves: a retry of the same build reuses it, another build is refused. It
// returns the reference by digest. Nothing is deployed from the base itself, so it carries no
// scan or attestation; the service images publish builds are scanned and attested.
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
	// Registry host[:port] without TLS (a dev k3s registry, an air-gapped mirror) to reach over
	// plain http; repeat for several. Exact host, port included; loopback registries need none;
	// never for production.
	// +optional
	insecureRegistry []string,
) (_ string, err error) {
	defer surface(&err)
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
	registry := s.Registry
	baseRepo, err := domain.ParseRepository(string(registry) + "/base")
	if err != nil {
		return "", fmt.Errorf("--registry: %w", err)
	}
	address := domain.Tagged(baseRepo, tag)
	insecure, err := m.insecureRegistriesOf(insecureRegistry, []domain.ImageRef{address})
	if err != nil {
		return "", err
	}
	created, err := s.CommitTimestamp()
	if err != nil {
		return "", fmt.Errorf("publish-base: %w", err)
	}
	ctr, err := m.Base(ctx)
	if err != nil {
		return "", err
	}
	bin, err := m.tool(ctx, toolchain.OCI)
	if err != nil {
		return "", err
	}
	tarball, digest, err := m.normalizeImage(ctx, "base", ctr, created, bin)
	if err != nil {
		return "", err
	}
	res, err := m.pushImage(ctx, builtImage{tag: address, digest: digest, tarball: tarball}, username, password, insecure)
	if err != nil {
		return "", err
	}
	return res.Reference, nil
}

// Promote copies an image by digest to new tags or another registry without rebuilding it or
// re-uploading layers that are already there, and verifies that each destination resolves to
// the source digest. A destination tag that already points at a different digest is refused
// unless --allow-overwrite. `latest` is refused: only a final release moves it. A loopback registry (localhost:5000,
// 127.0.0.1:5000, [::1]:5000) without TLS is reached over plain http like publish reaches it;
// any other registry only over https unless named with --insecure-registry.
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
	// Registry host[:port] without TLS (a dev k3s registry, an air-gapped mirror) to reach over
	// plain http; repeat for several. Exact host, port included; loopback registries need none;
	// never for production.
	// +optional
	insecureRegistry []string,
) (_ string, err error) {
	defer surface(&err)
	src, err := domain.ParsePinnedRef(source)
	if err != nil {
		return "", fmt.Errorf("--source: %w", err)
	}
	if len(to) == 0 {
		return "", fmt.Errorf("--to: name at least one destination, e.g. --to=%s:v1.2.3", src.Repository)
	}
	dsts := make([]domain.ImageRef, 0, len(to))
	for _, d := range to {
		dst, err := domain.ParseTaggedRef(d)
		if err != nil {
			return "", fmt.Errorf("--to %q: %w", d, err)
		}
		if err := artifact.CheckPromotion(dst); err != nil {
			return "", err
		}
		dsts = append(dsts, dst)
	}
	insecure, err := m.insecureRegistriesOf(insecureRegistry, append([]domain.ImageRef{src}, dsts...))
	if err != nil {
		return "", err
	}
	res, err := m.promote(ctx, src, dsts, username, password, allowOverwrite, insecure...)
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	return string(b), err
}

// promoteResult is what the registry tool (ci/cmd/oci) prints.
type promoteResult struct {
	Source       string   `json:"source"`
	Digest       string   `json:"digest"`
	Destinations []string `json:"destinations"`
}

// promote runs the registry tool (ci/cmd/oci) (ci/cmd/oci, go-containerregistry) in a container; the
// password reaches it only as a mounted secret file. insecureRegistries are passed as
// --insecure-registry (the tool applies the plain-HTTP rule of ci/artifact/registry).
func (m *SoccerPredict) promote(ctx context.Context, source domain.ImageRef, to []domain.ImageRef, username string, password *dagger.Secret, allowOverwrite bool, insecureRegistries ...string) (promoteResult, error) {
	ctr, creds, err := m.toolContainer(ctx, toolchain.OCI, ociBin, username, password, append([]domain.ImageRef{source}, to...)...)
	if err != nil {
		return promoteResult{}, err
	}
	args := []string{ociBin, "promote", "--src", source.String()}
	for _, d := range to {
		args = append(args, "--dst", d.String())
	}
	args = append(args, creds...)
	if allowOverwrite {
		args = append(args, "--allow-overwrite")
	}
	for _, h := range insecureRegistries {
		args = append(args, "--insecure-registry", h)
	}
	// A promotion must reach the registry every time: never answer it from the engine's cache.
	out, err := ctr.
		WithEnvVariable("SP_PROMOTE_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(args).
		Stdout(ctx)
	if err != nil {
		return promoteResult{}, toolFailure("oci promote of "+source.String(), err)
	}
	var res promoteResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return promoteResult{}, fmt.Errorf("promote printed %q: %w", strings.TrimSpace(out), err)
	}
	return res, nil
}

// registryHost is the registry of an image repository (what registry auth is keyed on), by
// the docker rule of domain.Repository.Host: no host component means Docker Hub.
func registryHost(repo domain.Repository) string {
	if d := repo.Host(); d != "" {
		return d
	}
	return "docker.io"
}

// insecureRegistriesOf checks, before anything runs, how the registries of refs will be reached:
// the --insecure-registry values with the rule the registry tool applies
// (domain.ParseInsecureRegistries), each naming the host of one of refs, returned lower-cased
// (production refuses any: policy.CheckInsecureRegistries); and a loopback registry among refs
// needs --local-registry.
func (m *SoccerPredict) insecureRegistriesOf(hosts []string, refs []domain.ImageRef) ([]string, error) {
	if err := m.checkLocalRegistry(refs); err != nil {
		return nil, err
	}
	valid, err := domain.ParseInsecureRegistries(hosts)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, r := range refs {
		used[strings.ToLower(registryHost(r.Repository))] = true
	}
	for i, h := range valid {
		if !used[h] {
			return nil, fmt.Errorf("%s=%s is not needed: no image given is on that registry (the host must match exactly, port included); remove it", domain.InsecureRegistryFlag, hosts[i])
		}
	}
	return valid, nil
}

// insecureArgs are the registry tool's --insecure-registry flags for the hosts of insecure that
// one of refs is on (the tool refuses an opt-in it does not use).
func insecureArgs(insecure []string, refs ...domain.ImageRef) []string {
	var args []string
	for _, h := range insecureRegistriesFor(insecure, refs) {
		args = append(args, domain.InsecureRegistryFlag, strings.ToLower(h))
	}
	return args
}

// insecureRegistriesFor returns the hosts of insecure that one of refs is on.
func insecureRegistriesFor(insecure []string, refs []domain.ImageRef) []string {
	var out []string
	for _, h := range insecure {
		for _, r := range refs {
			if strings.EqualFold(registryHost(r.Repository), h) {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// credentialPair refuses a registry user without a password or a password without a user.
func credentialPair(username string, password *dagger.Secret) error {
	if (username == "") != (password == nil) {
		return fmt.Errorf("pass both --username and --password (as a secret, e.g. --password=env:CI_REGISTRY_PASSWORD), or neither")
	}
	return nil
}
