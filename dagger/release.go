package main

import (
	"context"
	"fmt"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/release"
)

// Release publishes the images that passed staging as release vX.Y.Z, without rebuilding them.
// It checks that --version is a semantic version greater than every tag of the GitLab project,
// and, from the registry (never from a file), that each image digest carries the evidence of
// the release commit (--commit): the green gate report with every blocking gate, a clean Trivy
// report and an SBOM of that very image, its SLSA provenance, each signed by the private half of
// ci/artifact/attest/trust/attestation.pub (a release refuses without it), and OCI labels
// saying it was built from that commit (see verify-evidence); then it copies every image by
// digest, with its evidence, to <repo>:vX.Y.Z, and to <repo>:latest unless it is a pre-release. The images are the digests
// given, or, without them, the ones the staging release runs (read with --kubeconfig from its
// traceability record, which must name the release commit). Nothing is promoted when a check
// fails. It returns release-notes.md (the commits since the previous release, from GitLab),
// trace.json (commit, digests, dataset and model versions, release) and release-plan.json.
//
// +cache="never"
func (m *SoccerPredict) Release(
	ctx context.Context,
	// Release version, vX.Y.Z or vX.Y.Z-rc.N (GitLab: $CI_COMMIT_TAG).
	version string,
	// GitLab token with read_api on the project, to list its tags and compare commits
	// (--gitlab-token=env:GITLAB_RELEASE_TOKEN).
	gitlabToken *dagger.Secret,
	// Refused: a release reads the gate report attached to each image in the registry (publish
	// attaches it). Kept only to say so to old callers.
	// +optional
	gateReport *dagger.File,
	// Registry user (GitLab: $CI_REGISTRY_USER). Omit for a registry without auth.
	// +optional
	username string,
	// Registry password or token, as a secret: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
	// GitLab project id (default: CI_PROJECT_ID setting).
	// +optional
	projectId string,
	// API image that passed staging, by digest: repo@sha256:… (default: read from staging).
	// +optional
	apiImage string,
	// Worker image that passed staging, by digest (default: read from staging).
	// +optional
	workerImage string,
	// Airflow image that passed staging, by digest (default: read from staging).
	// +optional
	airflowImage string,
	// Kubeconfig of the cluster, as a secret, to read the staging release's images when they
	// are not given (--kubeconfig=env:KUBECONFIG_CONTENT).
	// +optional
	kubeconfig *dagger.Secret,
	// Refused: a release is production's, and reads the staging release with the chart committed
	// with the module (charts/soccer-predict). Drop --chart.
	// +optional
	chart *dagger.Directory,
	// Registry host[:port] without TLS to reach over plain http when promoting (see promote);
	// repeat for several. Loopback registries need none.
	// +optional
	insecureRegistry []string,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	// The chart and the tool images are trust roots: production's, decided before anything runs.
	if m, chart, err = m.forEnvironment(ctx, domain.Production, chart); err != nil {
		return nil, err
	}
	if err := credentialPair(username, password); err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	req, err := release.Check(release.Flags{
		Version: version, GitLabToken: gitlabToken != nil, GateReport: gateReport != nil, Kubeconfig: kubeconfig != nil,
		ProjectID: projectId, Trust: committedTrust(),
		Images: map[domain.Service]string{domain.API: apiImage, domain.Worker: workerImage, domain.Airflow: airflowImage},
	}, s)
	if err != nil {
		return nil, err
	}
	facts, insecure, err := m.releaseFacts(ctx, s, req, gitlabToken, username, password, kubeconfig, chart, insecureRegistry)
	if err != nil {
		return nil, err
	}
	d, err := release.Decide(facts)
	if err != nil {
		return nil, err
	}
	for _, c := range d.Plan.Copies {
		res, err := m.promote(ctx, c.Source, c.Destinations, username, password, false, insecureRegistriesFor(insecure, append([]domain.ImageRef{c.Source}, c.Destinations...))...)
		if err != nil {
			return nil, c.Failed(err)
		}
		if err := c.Promoted(res.Digest); err != nil {
			return nil, err
		}
	}
	files, err := d.Files()
	if err != nil {
		return nil, err
	}
	dir := dag.Directory()
	for _, f := range files {
		dir = dir.WithNewFile(f.Name, f.Contents)
	}
	return dir, nil
}

// releaseFacts gathers what release.Decide needs, each fact after the ones it depends on: the
// images (given, or those the staging release runs, read with the kubeconfig), the registry's
// evidence of each digest (its documents read only when it counts), the images' labels, GitLab's
// tags and the commits since the previous release. It stops at the first refusal of what it has
// (release.Facts.Refusal), so a release whose evidence does not count never asks GitLab. It also
// returns the --insecure-registry opt-ins the images use, for the promotion.
func (m *SoccerPredict) releaseFacts(ctx context.Context, s configpkg.Settings, req release.Request, gitlabToken *dagger.Secret, username string, password *dagger.Secret,
	kubeconfig *dagger.Secret, chart *dagger.Directory, insecureRegistry []string) (release.Facts, []string, error) {
	f := release.Facts{Request: req, Images: req.Given}
	if req.FromStaging {
		rec, repos, err := m.liveTrace(ctx, s, domain.Staging, kubeconfig, chart)
		if err != nil {
			return f, nil, fmt.Errorf("read the images that passed staging: %w", err)
		}
		if f.Images, err = req.StagedImages(rec, repos); err != nil {
			return f, nil, err
		}
		f.Staged = &rec
	}
	insecure, err := m.insecureRegistriesOf(insecureRegistry, f.Images.References())
	if err != nil {
		return f, nil, release.Refused(err)
	}
	// The registry's evidence of each digest, Sigstore bundles under the committed policy. Its Trivy reports are
	// re-evaluated under today's scan policy, never re-made: the images are not scanned again,
	// so a vulnerability published since publish ran is not seen here.
	if f.Evidence, err = m.registryEvidence(ctx, s, f.Images, req.Trust, release.Target, username, password, insecure); err != nil {
		return f, nil, release.Refused(err)
	}
	if err := f.Refusal(); err != nil {
		return f, nil, err
	}
	var images []domain.ImageRef
	for _, svc := range domain.Services() {
		images = append(images, f.Images[svc])
	}
	read, err := m.imageLabels(ctx, images, username, password, insecure)
	if err != nil {
		return f, nil, err
	}
	f.Labels = map[domain.Service]map[string]string{}
	for _, svc := range domain.Services() {
		f.Labels[svc] = read[f.Images[svc].String()]
	}
	if err := f.Refusal(); err != nil {
		return f, nil, err
	}
	client, err := gitlabClient(ctx, s, gitlabToken)
	if err != nil {
		return f, nil, err
	}
	if f.Tags, err = client.Tags(ctx, req.Project); err != nil {
		return f, nil, fmt.Errorf("list the release tags: %w", err)
	}
	previous, err := f.Previous()
	if err != nil {
		return f, nil, err
	}
	if previous != "" {
		gc, err := client.Compare(ctx, req.Project, previous, req.Commit.String())
		if err != nil {
			return f, nil, fmt.Errorf("list the commits since %s for the release notes (nothing was promoted): %w", previous, err)
		}
		f.Commits = release.CommitsFromGitLab(gc)
	}
	return f, insecure, nil
}
