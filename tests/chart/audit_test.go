package chart_test

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
)

// The audit release rollback-service installs renders, with the Helm SDK, to one ConfigMap whose
// audit.json is exactly the record (quotes, newlines and non-ASCII included), and refuses to render
// without one.
func TestAuditChartKeepsTheRecordVerbatim(t *testing.T) {
	files := rollback.StoreChart()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var bf []*archive.BufferedFile
	for _, n := range names {
		bf = append(bf, &archive.BufferedFile{Name: n, Data: []byte(files[n])})
	}
	ch, err := loader.LoadFiles(bf)
	require.NoError(t, err)

	out, err := rollback.Review(rollback.Request{Action: rollback.RollbackService, Env: "production", Target: "41", From: "42",
		Reason: "bad rollout: \"5xx\" on /predict — ünïcode\nsecond line", Actor: "dave", Confirm: true,
		Plan: "helm rollback soccer-predict 41 --namespace soccerpredict-production", Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	record, err := out.Record.JSON()
	require.NoError(t, err)

	opts := common.ReleaseOptions{Name: domain.AuditRelease("soccer-predict"), Namespace: "soccerpredict-production", Revision: 3, IsUpgrade: true}
	rv, err := chartutil.ToRenderValues(ch, map[string]any{"record": string(record)}, opts, common.DefaultCapabilities)
	require.NoError(t, err)
	rendered, err := engine.Render(ch, rv)
	require.NoError(t, err)
	var cm corev1.ConfigMap
	require.NoError(t, yaml.UnmarshalStrict([]byte(rendered["soccer-predict-audit/templates/configmap.yaml"]), &cm))
	assert.Equal(t, "soccer-predict-audit", cm.Name)
	assert.Equal(t, "rollback", cm.Labels["soccerpredict.io/audit"])
	assert.Equal(t, string(record), cm.Data["audit.json"])

	values, err := json.Marshal(map[string]any{"record": cm.Data["audit.json"]})
	require.NoError(t, err)
	back, err := rollback.ParseLast(values)
	require.NoError(t, err)
	assert.Equal(t, out.Record, back)

	rv, err = chartutil.ToRenderValues(ch, map[string]any{}, opts, common.DefaultCapabilities)
	require.NoError(t, err)
	_, err = engine.Render(ch, rv)
	assert.ErrorContains(t, err, "pass --set-file record=")
}
