package helm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

// The messages are what Helm v4.3.2 printed against the real API server of tests/cluster
// (tests/chart/live runs the same cases end to end).
func TestExplainFailure(t *testing.T) {
	cases := map[string]string{
		`Error: kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp 127.0.0.1:1: connect: connection refused`:                                    "the API server in the kubeconfig cannot be reached: check the kubeconfig's server address and that this runner can reach it",
		`Error: kubernetes cluster unreachable: invalid configuration: context was not found for specified context: production-cluster`:                                  `the kubeconfig has no context "production-cluster": pass the kubeconfig of the target cluster, with its current-context set`,
		`Error: kubernetes cluster unreachable: Get "https://127.0.0.1:16443/version": tls: failed to verify certificate: x509: certificate signed by unknown authority`: "the API server's certificate does not match the kubeconfig's certificate authority: the kubeconfig is for another cluster (check its server and certificate-authority-data)",
		`Error: unable to continue with install: could not get information about the resource PodDisruptionBudget "soccer-predict-api" in namespace "live-rbac": poddisruptionbudgets.policy "soccer-predict-api" is forbidden: User "system:serviceaccount:live-rbac:deployer" cannot get resource "poddisruptionbudgets" in API group "policy" in the namespace "live-rbac"`: "RBAC forbids system:serviceaccount:live-rbac:deployer to get poddisruptionbudgets in namespace live-rbac: grant the deploy's ServiceAccount a Role that allows it (helm needs to manage every kind the chart renders and the release's Secrets)",
		`Error: release: not found`: "the release is not installed in this namespace: deploy it first, or check SP_RELEASE, SP_NAMESPACE and --env",
		`Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress`: "another deploy or rollback of this release is running: wait for it to finish (a deploy killed half-way is recovered by the next deploy once its --timeout has passed)",
		`Error: create: failed to create: namespaces "soccerpredict-staging" not found`:      "namespace soccerpredict-staging does not exist: deploy creates it (--create-namespace), or check SP_NAMESPACE and --env",
	}
	for stderr, want := range cases {
		assert.Equal(t, want, helm.ExplainFailure(stderr), stderr)
	}
	// A failure of the release itself is not one of these: deploy reports helm's own words.
	assert.Empty(t, helm.ExplainFailure(`Error: UPGRADE FAILED: release soccer-predict failed, and has been rolled back due to rollback-on-failure being set: resource Deployment/live-gate/soccer-predict-api not ready. status: InProgress, message: Available: 0/1`))
	assert.Empty(t, helm.ExplainFailure(""))
}
