package chart_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// lintMessages runs `helm lint` (the SDK behind it) and returns messages at
// warning level or above.
func lintMessages(t *testing.T, vals map[string]any, namespace string) []support.Message {
	t.Helper()
	linter := lint.RunAll(chartDir(t), vals, namespace)
	var out []support.Message
	for _, m := range linter.Messages {
		if m.Severity >= support.WarningSev {
			out = append(out, m)
		}
	}
	return out
}

func TestHelmLintPassesForEveryEnvironment(t *testing.T) {
	for _, env := range domain.Environments() {
		t.Run(string(env), func(t *testing.T) {
			msgs := lintMessages(t, envValues(t, env, nil), "soccerpredict-"+string(env))
			assert.Empty(t, msgs, "helm lint must report no warning or error")
		})
	}
}

func TestHelmLintPassesForALocalTagRender(t *testing.T) {
	// `helm lint charts/soccer-predict --set global.allowTags=true`
	msgs := lintMessages(t, map[string]any{"global": map[string]any{"allowTags": true}}, "default")
	assert.Empty(t, msgs)
}

func TestHelmLintReportsSchemaViolations(t *testing.T) {
	// helm lint renders in lint mode, where the chart's `fail` calls are only
	// logged; the values schema is what makes lint fail on a bad digest.
	vals := envValues(t, domain.Staging, nil)
	vals["images"].(map[string]any)["api"].(map[string]any)["digest"] = "latest"
	msgs := lintMessages(t, vals, "soccerpredict-staging")
	require.NotEmpty(t, msgs)
	var text []string
	for _, m := range msgs {
		assert.Equal(t, support.ErrorSev, m.Severity)
		text = append(text, m.Err.Error())
	}
	assert.Contains(t, strings.Join(text, "\n"), "/images/api/digest")
}

func TestHelmLintWithChartDefaultsHasNoErrors(t *testing.T) {
	// `helm lint charts/soccer-predict` with no values: the missing digests
	// are reported by rendering (TestMissingDigestFailsWithAClearMessage),
	// lint itself only logs them.
	assert.Empty(t, lintMessages(t, nil, "default"))
}
