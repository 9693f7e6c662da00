package chart_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	cihelm "gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	citrace "gitlab.com/soccerpredictai/pipeline/ci/trace"
)

func TestTheDatasetPointerIsAnOptionalPartOfTheRecord(t *testing.T) {
	for _, pointer := range []string{"data/raw/matches.csv.dvc", "dvc.lock"} {
		m, err := renderWith(t, domain.Production, false, set("trace.datasetPointer", pointer))
		require.NoError(t, err, pointer)
		assert.Equal(t, 5, strings.Count(m, "soccerpredict.io/dataset-pointer: \""+pointer+"\""), "on the trace ConfigMap and every workload:\n%s", m)
		got, err := parseTrace([]byte(m), "")
		require.NoError(t, err)
		assert.Equal(t, pointer, got.DatasetPointer)
		ann := got.Annotations()
		assert.Equal(t, pointer, ann[citrace.AnnotationDatasetPointer])
	}

	// Without it (releases made before it existed), no annotation and the record still parses.
	m, err := renderWith(t, domain.Production, false)
	require.NoError(t, err)
	assert.NotContains(t, m, "soccerpredict.io/dataset-pointer")
	got, err := parseTrace([]byte(m), "")
	require.NoError(t, err)
	assert.Empty(t, got.DatasetPointer)

	// A pointer that is not a DVC file is refused by the schema and by ci/deploy/helm.
	for _, bad := range []string{"../x.dvc", "/abs.dvc", "data.csv", "a b.dvc"} {
		_, err := renderWith(t, domain.Production, false, set("trace.datasetPointer", bad))
		require.Error(t, err, bad)
		r := release(t, domain.Production)
		r.Trace.DatasetPointer = bad
		_, err = cihelm.UpgradeArgs(r)
		assert.ErrorContains(t, err, "dataset pointer", bad)
	}

	// A workload whose pointer differs from the ConfigMap's is a mixed manifest.
	m, err = renderWith(t, domain.Production, false, set("trace.datasetPointer", "dvc.lock"))
	require.NoError(t, err)
	edited := strings.Replace(m, `soccerpredict.io/dataset-pointer: "dvc.lock"`, `soccerpredict.io/dataset-pointer: "data/raw/matches.csv.dvc"`, 1)
	require.NotEqual(t, m, edited)
	_, err = parseTrace([]byte(edited), "")
	assert.ErrorContains(t, err, "dataset-pointer")
}
