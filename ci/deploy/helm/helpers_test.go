package helm_test

import (
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
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
		Env:         helm.Staging,
		Chart:       "/src/charts/soccer-predict",
		SecretsFile: "{}",
		Timeout:     7 * time.Minute,
		Images: map[string]helm.Image{
			"api":     {Repository: "registry.gitlab.com/sp/app/api", Digest: dA},
			"worker":  {Repository: "registry.gitlab.com/sp/app/worker", Digest: dB},
			"airflow": {Repository: "registry.gitlab.com/sp/app/airflow", Digest: dC},
		},
		Trace: helm.Trace{
			GitCommit:      "0123456789abcdef0123456789abcdef01234567",
			DatasetVersion: "data-v12",
			ModelVersion:   "soccer-predict/7",
		},
	}
}
