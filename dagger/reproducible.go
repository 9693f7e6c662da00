package main

import (
	"context"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// serviceBuildArgs are the build arguments of every service Dockerfile: the pinned base image
// and, when the commit time is set, SOURCE_DATE_EPOCH (configpkg.Settings.SourceDateEpoch). The
// Dockerfiles declare `ARG SOURCE_DATE_EPOCH` in each stage, which BuildKit's Dockerfile
// frontend turns into an environment variable of every later RUN of that stage: pip then
// writes hash-based .pyc files and useradd takes its day count from the commit, not the clock
// (docs/artifact.md). Gates run without a commit time and build without it.
func (m *SoccerPredict) serviceBuildArgs(ctx context.Context) ([]dagger.BuildArg, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	args := []dagger.BuildArg{{Name: "BASE_IMAGE", Value: imgs.Ref(toolchain.Python)}}
	if s.CommitTime == "" {
		return args, nil
	}
	epoch, err := s.SourceDateEpoch()
	if err != nil {
		return nil, err
	}
	return append(args, dagger.BuildArg{Name: configpkg.SourceDateEpochArg, Value: epoch}), nil
}
