package helm_test

import (
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Synthetic digests for tests (not real images).
var (
	dA = "sha256:" + strings.Repeat("a", 64)
	dB = "sha256:" + strings.Repeat("b", 64)
	dC = "sha256:" + strings.Repeat("c", 64)
)

func testRelease() helm.Release {
	return helm.Release{
		Name:        "soccer-predict",
		Namespace:   "soccerpredict-staging",
		Env:         domain.Staging,
		Chart:       "/src/charts/soccer-predict",
		SecretsFile: "{}",
		Timeout:     7 * time.Minute,
		Images: map[domain.Service]domain.ImageRef{
			domain.API:     domain.Pinned("registry.gitlab.com/sp/app/api", domain.Digest(dA)),
			domain.Worker:  domain.Pinned("registry.gitlab.com/sp/app/worker", domain.Digest(dB)),
			domain.Airflow: domain.Pinned("registry.gitlab.com/sp/app/airflow", domain.Digest(dC)),
		},
		Trace: trace.Record{
			GitCommit:      "0123456789abcdef0123456789abcdef01234567",
			DatasetVersion: "data-v12",
			ModelVersion:   "soccer-predict/7",
		},
	}
}
