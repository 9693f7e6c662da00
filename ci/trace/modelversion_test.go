package trace

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModelVersion(t *testing.T) {
	metrics, err := os.ReadFile("testdata/metrics.json")
	require.NoError(t, err)
	v, err := ModelVersion("", metrics)
	require.NoError(t, err)
	assert.Equal(t, "12", v)
	v, err = ModelVersion("7", metrics)
	require.NoError(t, err)
	assert.Equal(t, "7", v, "explicit wins")

	ok := map[string]string{
		`{"model_version": 3}`:              "3",
		`{"model": {"version": "v2-rc"}}`:   "v2-rc",
		`{"model": {"version": 14}, "x":1}`: "14",
	}
	for in, want := range ok {
		v, err := ModelVersion("", []byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, v)
	}
	bad := map[string]string{
		``:                         "no metrics file",
		`[]`:                       "not a JSON object",
		`null`:                     "not a JSON object",
		`{"accuracy": 1}`:          "no model_version",
		`{"model": "x"}`:           "no model_version",
		`{"model_version": 1.5}`:   "not a non-negative integer",
		`{"model_version": -1}`:    "not a non-negative integer",
		`{"model_version": true}`:  "neither a string nor an integer",
		`{"model_version": ""}`:    "model version is empty",
		`{"model_version": "a b"}`: "whitespace",
	}
	for in, msg := range bad {
		_, err := ModelVersion("", []byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), msg, in)
	}
	_, err = ModelVersion("bad version", nil)
	require.ErrorContains(t, err, "whitespace")
}
