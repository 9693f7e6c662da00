package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// Where publish puts the scan reports of the pushed digests in the directory it returns.
const publishScanDir = "scan"

// publishedJSON is the record publish returns of what it did per service.
const publishedJSON = "published.json"

// builtImage is one service built once, with its timestamps set to the commit time and
// scanned: the archive Trivy read is the archive that is pushed.
type builtImage struct {
	svc     domain.Service
	tag     domain.ImageRef // repo:tag to publish
	digest  domain.Digest   // manifest digest of the archive
	tarball *dagger.File
	reports *dagger.Directory
	gitlab  []byte
	verdict scan.Verdict
}

// publishedImage is what `oci push` prints (ci/artifact/registry.Published).
type publishedImage struct {
	Service   string             `json:"service"`
	Tag       string             `json:"tag"`
	Reference string             `json:"reference"`
	Digest    string             `json:"digest"`
	Action    artifact.TagAction `json:"action"`
}

// publishImages is publish: build every service once, normalise, scan, and only when no
// image has a blocking finding push them all, each under a tag that never moves.
func (m *SoccerPredict) publishImages(ctx context.Context, username string, password *dagger.Secret, modelVersion string, gateReport *dagger.File, pipeline string, signing signingKeys, insecureRegistry []string) (*dagger.Directory, error) {
	started := time.Now().UTC()
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
	created, err := s.CommitTimestamp()
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	var addresses []domain.ImageRef
	for _, svc := range domain.Services() {
		a, err := serviceImage(s, svc, tag)
		if err != nil {
			return nil, err
		}
		addresses = append(addresses, a)
	}
	insecure, err := m.insecureRegistriesOf(insecureRegistry, addresses)
	if err != nil {
		return nil, err
	}
	policy, err := m.scanPolicy(ctx, s)
	if err != nil {
		return nil, err
	}
	rules, err := m.secretRules(ctx)
	if err != nil {
		return nil, err
	}
	bin, err := m.tool(ctx, toolchain.OCI)
	if err != nil {
		return nil, err
	}

	services := domain.Services()
	built := make([]builtImage, len(services))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(publishConcurrency)
	for i, svc := range services {
		g.Go(func() error {
			address, err := serviceImage(s, svc, tag)
			if err != nil {
				return err
			}
			b, err := m.buildForPush(gctx, svc, address, modelVersion, created, policy, rules, bin)
			if err != nil {
				return fmt.Errorf("%s: %w", svc, err)
			}
			built[i] = b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var blocking []string
	for _, b := range built {
		if err := b.verdict.Err(); err != nil {
			blocking = append(blocking, fmt.Sprintf("%s image %s: %v", b.svc, b.digest, err))
		}
	}
	if len(blocking) > 0 {
		return nil, fmt.Errorf("publish: nothing was pushed: the scan of the images to push failed (fix the findings, or allow a false positive in the project's %s or %s; `dagger call scan-report` shows every finding):\n%s", scan.IgnoreFile, scan.SecretConfigFile, strings.Join(blocking, "\n"))
	}

	set := artifact.Set{}
	results := make([]publishedImage, len(built))
	var mu sync.Mutex
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(publishConcurrency)
	for i, b := range built {
		g.Go(func() error {
			res, err := m.pushImage(gctx, b, username, password, insecure)
			if err != nil {
				return fmt.Errorf("%s: %w", b.svc, err)
			}
			results[i] = res
			// The evidence of the digest just pushed: the reports of the very archive pushed.
			trivy, sbom := b.reports.File(gate.TrivyFor(b.svc)), b.reports.File(gate.SBOMFor(b.svc))
			pushed := domain.Pinned(b.tag.Repository, b.digest)
			if err := m.publishEvidence(gctx, s, b.svc, pushed, gateReport, trivy, sbom, pipeline, modelVersion, started, username, password, signing, insecure); err != nil {
				return fmt.Errorf("%s pushed as %s, but its evidence was not attached (deploys will refuse it until `attest` attaches it): %w", b.svc, pushed, err)
			}
			mu.Lock()
			defer mu.Unlock()
			return set.FromPublished(b.svc, pushed)
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
	record, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return nil, err
	}
	out := dag.Directory().
		WithNewFile(gate.ImagesEnv, set.Dotenv()).
		WithNewFile(gate.ImagesJSON, string(js)).
		WithNewFile(publishedJSON, string(record)+"\n")
	var gitlab [][]byte
	for _, b := range built {
		out = out.WithDirectory(publishScanDir, b.reports)
		gitlab = append(gitlab, b.gitlab)
	}
	merged, err := scan.MergeGitLabReports(gitlab...)
	if err != nil {
		return nil, err
	}
	return out.WithNewFile(path.Join(publishScanDir, gate.ContainerScanning), string(merged)), nil
}

// buildForPush builds the labelled service image once, exports it as an OCI archive with
// gzip layers, sets every timestamp of its config to the commit time (`oci normalize`)
// and scans that archive with Trivy (vulnerabilities and secrets).
func (m *SoccerPredict) buildForPush(ctx context.Context, svc domain.Service, address domain.ImageRef, modelVersion string, created time.Time, policy scan.Policy, rules secretRules, bin *dagger.File) (builtImage, error) {
	ctr, err := m.Build(ctx, string(svc), modelVersion)
	if err != nil {
		return builtImage{}, err
	}
	tarball, digest, err := m.normalizeImage(ctx, string(svc), ctr, created, bin)
	if err != nil {
		return builtImage{}, err
	}
	// The path names the digest, so the Trivy report's ArtifactName says what it scanned
	// (no '@' or ':': Trivy reads those in an --input path as a reference into an OCI layout).
	files, gl, verdict, err := m.scanTarball(ctx, svc, tarball, "/images/"+string(svc)+"-"+domain.DigestAlgorithm+"-"+digest.Hex()+".tar", policy, rules)
	if err != nil {
		return builtImage{}, err
	}
	return builtImage{svc: svc, tag: address, digest: digest, tarball: tarball, reports: files, gitlab: gl, verdict: verdict}, nil
}

// normalizeImage exports ctr as an OCI archive with gzip layers and sets every timestamp in it to
// the commit time (`oci normalize`): the archive that is scanned and pushed, and its digest.
func (m *SoccerPredict) normalizeImage(ctx context.Context, what string, ctr *dagger.Container, created time.Time, bin *dagger.File) (*dagger.File, domain.Digest, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, "", err
	}
	// Force gzip: otherwise a layer the engine already holds in another compression is
	// exported as it is, and the digest depends on the engine's cache.
	raw := ctr.AsTarball(dagger.ContainerAsTarballOpts{ForcedCompression: dagger.ImageLayerCompressionGzip, MediaTypes: dagger.ImageMediaTypesOci})
	norm := dag.Container().
		From(imgs.Ref(toolchain.Golang)).
		WithFile(ociBin, bin).
		WithMountedFile("/in/image.tar", raw).
		// The tool writes the archive into /out: the Go image has no such directory.
		WithDirectory("/out", dag.Directory()).
		WithExec([]string{ociBin, "normalize", "--in", "/in/image.tar", "--out", "/out/image.tar", "--created", created.Format(time.RFC3339)})
	stdout, err := norm.Stdout(ctx)
	if err != nil {
		return nil, "", toolFailure("oci normalize of "+what, err)
	}
	var res struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		return nil, "", fmt.Errorf("oci normalize printed %q: %w", strings.TrimSpace(stdout), err)
	}
	digest, err := domain.ParseDigest(res.Digest)
	if err != nil {
		return nil, "", fmt.Errorf("oci normalize: %w", err)
	}
	return norm.File("/out/image.tar"), digest, nil
}

// pushImage pushes the scanned archive with `oci push` (the password only as a mounted
// secret file) and checks that the registry holds exactly the scanned digest.
func (m *SoccerPredict) pushImage(ctx context.Context, b builtImage, username string, password *dagger.Secret, insecure []string) (publishedImage, error) {
	ctr, creds, err := m.toolContainer(ctx, toolchain.OCI, ociBin, username, password, b.tag)
	if err != nil {
		return publishedImage{}, err
	}
	ctr = ctr.WithMountedFile("/in/image.tar", b.tarball)
	args := append([]string{ociBin, "push", "--tarball", "/in/image.tar", "--dst", b.tag.String()}, creds...)
	args = append(args, insecureArgs(insecure, b.tag)...)
	// A push must reach the registry every time: never answer it from the engine's cache.
	out, err := ctr.
		WithEnvVariable("SP_PUBLISH_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(args).
		Stdout(ctx)
	if err != nil {
		return publishedImage{}, m.explainRefusedPush(ctx, b.svc, toolFailure("oci push of "+b.tag.String(), err))
	}
	var res publishedImage
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return publishedImage{}, fmt.Errorf("oci push printed %q: %w", strings.TrimSpace(out), err)
	}
	if res.Digest != string(b.digest) || res.Reference != domain.Pinned(b.tag.Repository, b.digest).String() {
		return publishedImage{}, fmt.Errorf("the registry holds %s (%s) under %s, not the scanned image %s: nothing may be deployed from this run", res.Digest, res.Reference, b.tag, b.digest)
	}
	res.Service = string(b.svc)
	return res, nil
}

// explainRefusedPush adds to a push the registry refused because the tag holds another build of
// the same commit (artifact.ErrTagImmutable) the steps of the service's Dockerfile that make
// builds differ (artifact.RebuildHint), when it has any.
func (m *SoccerPredict) explainRefusedPush(ctx context.Context, svc domain.Service, err error) error {
	if svc == "" || !strings.Contains(err.Error(), artifact.ErrTagImmutable.Error()) {
		return err
	}
	df, derr := m.project().File(svc.Dockerfile()).Contents(ctx)
	if derr != nil {
		return err
	}
	if hint := artifact.RebuildHint(svc.Dockerfile(), []byte(df)); hint != "" {
		return fmt.Errorf("%w\n%s", err, hint)
	}
	return err
}

// settingsCommit is the constructor's --commit (CI_COMMIT_SHA) as a domain.Commit.
func settingsCommit(s configpkg.Settings) (domain.Commit, error) {
	c, err := domain.ParseCommit(string(s.Commit))
	if err != nil {
		return "", fmt.Errorf("--commit: %w", err)
	}
	return c, nil
}

// serviceImage is the repository:tag service svc is published under in this run.
func serviceImage(s configpkg.Settings, svc domain.Service, tag domain.Tag) (domain.ImageRef, error) {
	repo := s.Registry
	return domain.Tagged(repo.Service(svc), tag), nil
}
