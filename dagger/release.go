package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/release"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Release publishes the images that passed staging as release vX.Y.Z, without rebuilding them.
// It checks that --version is a semantic version greater than every tag of the GitLab project,
// and, from the registry (never from a file), that each image digest carries the evidence of
// the release commit (--commit): the green gate report with every blocking gate, a clean Trivy
// report and an SBOM of that very image, its SLSA provenance, each signed by the private half of
// ci/artifact/attest/trust/attestation.pub (a release refuses without it), and OCI labels saying it was built
// from that commit (see verify-evidence); then it copies every image by digest, with its
// evidence, to
// <repo>:vX.Y.Z, and to <repo>:latest unless it is a pre-release. The images are the digests
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
	// The Helm chart.
	// +defaultPath="/charts/soccer-predict"
	chart *dagger.Directory,
	// Registry host[:port] without TLS to reach over plain http when promoting (see promote);
	// repeat for several. Loopback registries need none.
	// +optional
	insecureRegistry []string,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	v, err := domain.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	if err := credentialPair(username, password); err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	if s.Commit == "" {
		return nil, fmt.Errorf("a release needs its commit: pass --commit=<the 40-hex commit vX.Y.Z tags> to the constructor (GitLab: --commit=$CI_COMMIT_SHA)")
	}
	commit, err := settingsCommit(s)
	if err != nil {
		return nil, err
	}
	if err := attest.FileEvidence(release.Target, gateReport != nil, false); err != nil {
		return nil, fmt.Errorf("release refused, nothing was promoted: %w", err)
	}
	if gitlabToken == nil {
		return nil, fmt.Errorf("--gitlab-token is required: a GitLab token with read_api, as a secret (--gitlab-token=env:GITLAB_RELEASE_TOKEN)")
	}
	project := orDefault(projectId, s.ProjectID)
	if project == "" {
		return nil, fmt.Errorf("no GitLab project: pass --project-id=<id> (GitLab: --project-id=$CI_PROJECT_ID) or set CI_PROJECT_ID in --settings-file")
	}
	set, staged, err := m.releaseImages(ctx, s, apiImage, workerImage, airflowImage, kubeconfig, chart)
	if err != nil {
		return nil, err
	}
	insecure, err := m.insecureRegistriesOf(insecureRegistry, set.References())
	if err != nil {
		return nil, fmt.Errorf("release refused, nothing was promoted: %w", err)
	}
	green, err := m.releaseEvidence(ctx, s, set, username, password, insecure)
	if err != nil {
		return nil, err
	}
	client, err := gitlabClient(ctx, s, gitlabToken)
	if err != nil {
		return nil, err
	}
	tagList, err := client.Tags(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("list the release tags: %w", err)
	}
	previous := release.PriorTags(tagList, v, commit)
	plan, err := release.NewPlan(release.PlanRequest{Version: v, Tags: previous, Images: set, GateReportGreen: green})
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was promoted", err)
	}
	labels := map[domain.Service]map[string]string{}
	for _, c := range plan.Copies {
		if labels[c.Service], err = imageLabels(ctx, c.Source, username, password); err != nil {
			return nil, err
		}
	}
	rec := releaseRecord(s, plan, set, staged, labels)
	if err := rec.CheckLabels(labels); err != nil {
		return nil, fmt.Errorf("release refused, nothing was promoted: the images are not the build of the release commit %s:\n%w", s.Commit, err)
	}
	last := release.LastTag(previous)
	var commits []release.Commit
	if last != "" {
		gc, err := client.Compare(ctx, project, last, string(s.Commit))
		if err != nil {
			return nil, fmt.Errorf("list the commits since %s for the release notes (nothing was promoted): %w", last, err)
		}
		commits = release.CommitsFromGitLab(gc)
	}
	notes := release.Notes(plan.Version, last, commits)
	for _, c := range plan.Copies {
		res, err := m.promote(ctx, c.Source, c.Destinations, username, password, false, insecureRegistriesFor(insecure, append([]domain.ImageRef{c.Source}, c.Destinations...))...)
		if err != nil {
			return nil, fmt.Errorf("promote %s (%s): %w; copies are by digest and idempotent: fix the cause and re-run release", c.Service, c.Source, err)
		}
		if res.Digest != string(c.Digest) {
			return nil, fmt.Errorf("promote %s: the destinations resolve to %s, not %s: check the registry", c.Service, res.Digest, c.Digest)
		}
	}
	planJSON, err := plan.JSON()
	if err != nil {
		return nil, err
	}
	traceJSON, err := rec.JSON()
	if err != nil {
		return nil, err
	}
	return dag.Directory().
		WithNewFile(gate.ReleaseNotes, notes).
		WithNewFile(gate.Trace, string(traceJSON)).
		WithNewFile(gate.ReleasePlan, string(planJSON)), nil
}

// releaseEvidence reads the evidence of every image digest from the registry: it must count
// for the release commit (attest.Verify), and the Trivy reports publish attached must have no
// blocking finding under the current SP_SCAN_SEVERITIES and the project's .trivyignore. Those
// reports are re-evaluated, never re-made: the images are not scanned again, so a vulnerability
// published since publish ran is not seen here. It returns whether the gate report that
// counted is green, for the release plan.
func (m *SoccerPredict) releaseEvidence(ctx context.Context, s configpkg.Settings, set artifact.Set, username string, password *dagger.Secret, insecure []string) (bool, error) {
	refused := func(err error) (bool, error) {
		return false, fmt.Errorf("release refused, nothing was promoted: %w", err)
	}
	trust, err := m.attestationTrust(ctx, domain.Production)
	if err != nil {
		return refused(err)
	}
	dir, sum, err := m.fetchEvidence(ctx, s, set, trust, username, password, insecure)
	if err != nil {
		return refused(err)
	}
	if err := sum.Err(); err != nil {
		return refused(err)
	}
	green, err := m.gateReportGreen(ctx, s, dir.File(gate.GateReportJSON))
	if err != nil {
		return refused(err)
	}
	first, err := m.gateReportFirstModel(ctx, dir.File(gate.GateReportJSON))
	if err != nil {
		return refused(err)
	}
	if err := policy.CheckFirstModel(release.Target, first); err != nil {
		return refused(err)
	}
	clean, err := m.scanClean(ctx, s, dir)
	if err != nil {
		return refused(err)
	}
	if !clean {
		return refused(fmt.Errorf("the Trivy reports attached to the images have blocking findings (%s): fix them, publish and deploy a new commit to staging, then tag it", strings.Join(s.ScanSeverities, ",")))
	}
	return green, nil
}

// releaseImages returns the images to release: the three given, or those the staging release
// runs (with its traceability record, which must name the release commit).
func (m *SoccerPredict) releaseImages(ctx context.Context, s configpkg.Settings, api, worker, airflow string, kubeconfig *dagger.Secret, chart *dagger.Directory) (artifact.Set, *trace.Record, error) {
	given := map[domain.Service]string{domain.API: api, domain.Worker: worker, domain.Airflow: airflow}
	if api != "" || worker != "" || airflow != "" {
		for _, svc := range domain.Services() {
			if given[svc] == "" {
				return nil, nil, fmt.Errorf("--%s-image is missing: pass all three images that passed staging (--api-image, --worker-image, --airflow-image), or none to read them from staging", svc)
			}
		}
		set, err := artifact.ParseSet(given)
		if err != nil {
			return nil, nil, err
		}
		return set, nil, nil
	}
	if kubeconfig == nil {
		return nil, nil, fmt.Errorf("no images: pass --api-image, --worker-image and --airflow-image (the digests that passed staging), or --kubeconfig to read them from the staging release")
	}
	rec, repos, err := m.liveTrace(ctx, s, domain.Staging, kubeconfig, chart)
	if err != nil {
		return nil, nil, fmt.Errorf("read the images that passed staging: %w", err)
	}
	if rec.GitCommit != s.Commit {
		return nil, nil, fmt.Errorf("release refused, nothing was promoted: staging runs commit %s, not the release commit %s: deploy the release commit to staging first, or pass the images", rec.GitCommit, s.Commit)
	}
	set := artifact.Set{}
	for svc, digest := range rec.ImageDigests {
		repo, ok := repos[digest]
		if !ok {
			registry := s.Registry
			repo = registry.Service(svc)
		}
		set[svc] = domain.Pinned(repo, digest)
	}
	if err := set.Validate(); err != nil {
		return nil, nil, fmt.Errorf("the staging release's images: %w", err)
	}
	return set, &rec, nil
}

// releaseRecord is the traceability record of the release: the staging record when the images
// were read from staging, else one built from the release commit and the images' labels.
func releaseRecord(s configpkg.Settings, plan release.Plan, set artifact.Set, staged *trace.Record, labels map[domain.Service]map[string]string) trace.Record {
	if staged != nil {
		rec := *staged
		rec.Release = plan.Version.String()
		return rec
	}
	rec := trace.Record{Environment: domain.Staging, GitCommit: s.Commit, ImageDigests: set.Digests(), Release: plan.Version.String()}
	services := make([]domain.Service, 0, len(labels))
	for svc := range labels {
		services = append(services, svc)
	}
	sort.Slice(services, func(i, j int) bool { return services[i] < services[j] })
	for _, svc := range services {
		if rec.DatasetVersion == "" {
			rec.DatasetVersion = labels[svc][trace.LabelDatasetVersion]
			rec.DatasetPointer = labels[svc][trace.LabelDatasetPointer]
		}
		if rec.ModelVersion == "" {
			rec.ModelVersion = labels[svc][trace.LabelModelVersion]
		}
	}
	return rec
}
