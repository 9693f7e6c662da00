package main

import (
	"context"
	"fmt"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Base builds the shared Python base stage: the pinned Python image with a non-root user (uid
// 10001) and production Python settings. `publish-base` publishes it for Dockerfiles to start
// FROM. With --commit-time the user's entry in /etc/shadow carries the commit's day
// (SOURCE_DATE_EPOCH), not the build's.
func (m *SoccerPredict) Base(ctx context.Context) (_ *dagger.Container, err error) {
	defer surface(&err)
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	clock := ""
	if s.CommitTime != "" {
		epoch, err := s.SourceDateEpoch()
		if err != nil {
			return nil, err
		}
		clock = configpkg.SourceDateEpochArg + "=" + epoch + " "
	}
	return dag.Container().
		From(imgs.Ref(toolchain.Python)).
		WithEnvVariable("PYTHONDONTWRITEBYTECODE", "1").
		WithEnvVariable("PYTHONUNBUFFERED", "1").
		WithEnvVariable("PIP_NO_CACHE_DIR", "1").
		WithEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		WithExec([]string{"sh", "-c", "getent group app >/dev/null || " + clock + "groupadd --gid 10001 app; id -u app >/dev/null 2>&1 || " + clock + "useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin app"}).
		WithLabel("org.opencontainers.image.title", "soccer-predict-base").
		WithLabel("org.opencontainers.image.base.name", imgs.Ref(toolchain.Python)), nil
}

// Build builds one service image (api, worker or airflow) from the project's Dockerfile with
// its pinned requirements, labelled with the OCI revision/source/created/version labels, the
// dataset version (from the dataset's .dvc file, else dvc.lock) with the file it came from, and
// the model version. No secret is baked in. It needs --commit, --commit-time (and --ref or
// --tag) on the constructor. Chain it:
// `build --service=api terminal`, `build --service=api as-tarball export --path=api.tar`.
func (m *SoccerPredict) Build(
	ctx context.Context,
	// Service to build: api, worker or airflow.
	service string,
	// Model version to record (default: the champion's: MLflow alias or metrics/champion.json).
	// +optional
	modelVersion string,
) (_ *dagger.Container, err error) {
	defer surface(&err)
	svc, err := domain.ParseService(service)
	if err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	tag, err := imageTag(s)
	if err != nil {
		return nil, err
	}
	// Image timestamps come from the commit, never from the clock (reproducible builds).
	created, err := s.CommitTimestamp()
	if err != nil {
		return nil, err
	}
	dataset, model, err := m.versions(ctx, modelVersion)
	if err != nil {
		return nil, err
	}
	ds, err := m.dataset(ctx)
	if err != nil {
		return nil, err
	}
	labels, err := trace.Labels(trace.Info{
		Revision:       s.Commit,
		Source:         s.ProjectURL,
		Created:        created.Format(time.RFC3339),
		Version:        string(tag),
		Title:          "soccer-predict-" + string(svc),
		DatasetVersion: dataset,
		DatasetPointer: ds.Pointer,
		ModelVersion:   model,
	})
	if err != nil {
		return nil, err
	}
	ctr, err := m.dockerBuild(ctx, svc)
	if err != nil {
		return nil, err
	}
	for _, k := range trace.SortedKeys(labels) {
		ctr = ctr.WithLabel(k, labels[k])
	}
	return ctr, nil
}

// BuildAll builds every service image (see build).
func (m *SoccerPredict) BuildAll(
	ctx context.Context,
	// Model version to record (default: the champion's: MLflow alias or metrics/champion.json).
	// +optional
	modelVersion string,
) (_ []*dagger.Container, err error) {
	defer surface(&err)
	var out []*dagger.Container
	for _, svc := range domain.Services() {
		ctr, err := m.Build(ctx, string(svc), modelVersion)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", svc, err)
		}
		out = append(out, ctr)
	}
	return out, nil
}

// imageTag is the tag this pipeline run produces: the release tag on tag pipelines, else the
// branch tag <ref-slug>-<short-sha>.
func imageTag(s configpkg.Settings) (domain.Tag, error) {
	if s.Tag != "" {
		v, err := domain.ParseVersion(s.Tag)
		if err != nil {
			return "", fmt.Errorf("--tag: %w", err)
		}
		return artifact.ReleaseTag(v)
	}
	if s.Commit == "" || s.Ref == "" {
		return "", fmt.Errorf("naming an image needs the commit and the branch: pass --commit=$(git rev-parse HEAD) --ref=$(git branch --show-current) (GitLab: --commit=$CI_COMMIT_SHA --ref=$CI_COMMIT_REF_NAME), or --tag=vX.Y.Z for a release")
	}
	c, err := settingsCommit(s)
	if err != nil {
		return "", err
	}
	return artifact.BranchTag(s.Ref, c)
}

// versions returns the dataset version (see dataset) and the model version.
func (m *SoccerPredict) versions(ctx context.Context, modelVersion string) (string, string, error) {
	ds, err := m.dataset(ctx)
	if err != nil {
		return "", "", err
	}
	dataset := ds.Version
	model := modelVersion
	if model == "" {
		v, err := m.modelVersion(ctx)
		if err != nil {
			return "", "", err
		}
		model = v
	}
	return dataset, model, nil
}

// dockerBuild builds a service from the project's Dockerfile on the pinned base image, with
// SOURCE_DATE_EPOCH when the commit time is set (serviceBuildArgs).
func (m *SoccerPredict) dockerBuild(ctx context.Context, svc domain.Service) (*dagger.Container, error) {
	args, err := m.serviceBuildArgs(ctx)
	if err != nil {
		return nil, err
	}
	return m.project().DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: svc.Dockerfile(),
		BuildArgs:  args,
	}), nil
}
