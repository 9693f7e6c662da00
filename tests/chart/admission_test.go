package chart_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// The cluster-setup chart lints and renders with the Helm 4 SDK too (tests/chart/live installs it
// with the CLI against a real API server and checks what it refuses).
func TestAdmissionChartLintsAndRendersWithTheSDK(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "charts", "soccer-predict-admission")
	for _, m := range lint.RunAll(dir, nil, "default").Messages {
		assert.Less(t, m.Severity, support.WarningSev, "%s", m.Err)
	}
	ch, err := loader.Load(dir)
	require.NoError(t, err)
	opts := common.ReleaseOptions{Name: "soccer-predict-admission", Namespace: "default", Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, map[string]any{"namespaces": []any{"sp-dev", "sp-production"}}, opts, common.DefaultCapabilities)
	require.NoError(t, err)
	out, err := engine.Render(ch, rv)
	require.NoError(t, err)
	docs := strings.Split(out["soccer-predict-admission/templates/policy.yaml"], "\n---\n")
	require.Len(t, docs, 2)
	var policy admissionv1.ValidatingAdmissionPolicy
	require.NoError(t, yaml.UnmarshalStrict([]byte(docs[0]), &policy))
	var binding admissionv1.ValidatingAdmissionPolicyBinding
	require.NoError(t, yaml.UnmarshalStrict([]byte(docs[1]), &binding))
	assert.Equal(t, policy.Name, binding.Spec.PolicyName)
	assert.Equal(t, []admissionv1.ValidationAction{admissionv1.Deny}, binding.Spec.ValidationActions)
	assert.Equal(t, []string{"sp-dev", "sp-production"}, binding.Spec.MatchResources.NamespaceSelector.MatchExpressions[0].Values)
	assert.Contains(t, out["soccer-predict-admission/templates/policy.yaml"], `registry\.gitlab\.com/soccerpredictai/soccerpredict/`)
}
