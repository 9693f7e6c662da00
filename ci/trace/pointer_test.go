package trace

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDatasetPointerIsRecorded(t *testing.T) {
	for _, pointer := range []string{"data/raw/matches.csv.dvc", "data/raw.dvc", "dvc.lock"} {
		r := validRecord()
		r.DatasetVersion = "md5:728b492a238a6a598afb0e51d7bac1c4"
		r.DatasetPointer = pointer
		require.NoError(t, r.Validate(), pointer)

		js, err := r.JSON()
		require.NoError(t, err)
		var back map[string]any
		require.NoError(t, json.Unmarshal(js, &back))
		assert.Equal(t, pointer, back["dataset_pointer"])
		assert.Contains(t, r.Text(), "dataset pointer: "+pointer)

		got, err := FromAnnotations(r.Annotations())
		require.NoError(t, err)
		assert.Equal(t, pointer, got.DatasetPointer)
		assert.Equal(t, pointer, r.Annotations()[AnnotationDatasetPointer])
	}

	// Unknown (records made before the pointer existed): left out, still valid.
	r := validRecord()
	js, err := r.JSON()
	require.NoError(t, err)
	assert.NotContains(t, string(js), "dataset_pointer")
	assert.NotContains(t, r.Annotations(), AnnotationDatasetPointer)
	assert.NotContains(t, r.Text(), "dataset pointer")
}

// The record and the labels apply dvc.ValidatePointer (its cases are in ci/dvc).
func TestDatasetPointerRule(t *testing.T) {
	for _, bad := range []string{"/abs/x.dvc", "../x.dvc", "data/../../x.dvc", "./x.dvc", "data//x.dvc", "x.csv", ".dvc", "data/.dvc", "dvc.lock.bak", "a b.dvc", "data/raw/matches.csv.dvc\n", "DVC.LOCK"} {
		r := validRecord()
		r.DatasetPointer = bad
		assert.ErrorContains(t, r.Validate(), "dataset pointer", bad)
	}
	l, err := FromLabels(map[string]string{LabelRevision: fakeCommit("a"), LabelDatasetVersion: "md5:x", LabelDatasetPointer: "data/raw/matches.csv.dvc"})
	require.NoError(t, err)
	assert.Equal(t, "data/raw/matches.csv.dvc", l.DatasetPointer)
	_, err = FromLabels(map[string]string{LabelRevision: fakeCommit("a"), LabelDatasetPointer: "../x.dvc"})
	assert.ErrorContains(t, err, "label "+LabelDatasetPointer)
}
