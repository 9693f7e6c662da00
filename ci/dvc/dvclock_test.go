package dvc

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDVCLock(t *testing.T) {
	b, err := os.ReadFile("testdata/dvc.lock")
	require.NoError(t, err)
	lock, err := ParseDVCLock(b)
	require.NoError(t, err)
	assert.Equal(t, "2.0", lock.Schema)
	assert.Equal(t, []string{"prepare", "train", "validate@raw"}, lock.StageNames())
	train := lock.Stages["train"]
	require.Len(t, train.Deps, 2)
	assert.Equal(t, Entry{Path: "data/processed", MD5: "22222222222222222222222222222222.dir", Size: 524288, NFiles: 3}, train.Deps[0], "./ is cleaned")
	assert.Equal(t, Entry{Path: "https://example.org/odds/latest.csv", Size: 100}, train.Deps[1], "external deps keep their URL and have no md5")
	assert.Equal(t, "data/raw", lock.Stages["validate@raw"].Deps[0].Path, "trailing / is cleaned")
}

func TestParseDVCLockErrors(t *testing.T) {
	cases := map[string]string{
		"":                             "empty",
		"stages: {}\n":                 "no \"schema: '2.0'\"",
		"schema: '1.0'\nstages: {}\n":  `schema "1.0"`,
		"- a\n- b\n":                   "not valid YAML",
		"schema: '2.0'\nstages: [1]\n": "not valid YAML",
		"schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: a\n":                                                                  `outs[0]: output "a" has no md5`,
		"schema: '2.0'\nstages:\n  s:\n    outs:\n    - md5: 33333333333333333333333333333333\n":                                    "has no path",
		"schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: .\n      md5: 33333333333333333333333333333333\n":                     "project root",
		"schema: '2.0'\nstages:\n  s:\n    deps:\n    - path: a\n      md5: XYZ\n":                                                  "expected 32 lowercase hex",
		"schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: a\n      hash: sha256\n      md5: 33333333333333333333333333333333\n": `hashed with "sha256"`,
		"schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: a\n      md5: 33333333333333333333333333333333\n      size: -1\n":     "negative size",
	}
	for in, msg := range cases {
		_, err := ParseDVCLock([]byte(in))
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), msg, "%q", in)
		assert.Contains(t, err.Error(), "dvc", "%q", in)
	}
	lock, err := ParseDVCLock([]byte("schema: '2.0'\nstages:\n  empty:\n"))
	require.NoError(t, err)
	assert.Equal(t, Stage{}, lock.Stages["empty"])
}

func TestDatasetVersion(t *testing.T) {
	b, err := os.ReadFile("testdata/dvc.lock")
	require.NoError(t, err)
	lock, err := ParseDVCLock(b)
	require.NoError(t, err)

	for _, p := range []string{"data/raw", "./data/raw", "data/raw/"} {
		v, err := DatasetVersion(lock, p)
		require.NoError(t, err, p)
		assert.Equal(t, "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir", v)
	}
	v, err := DatasetVersion(lock, "data/processed")
	require.NoError(t, err)
	assert.Equal(t, "md5:22222222222222222222222222222222.dir", v)

	_, err = DatasetVersion(lock, "data/other")
	require.ErrorContains(t, err, "no md5 for data/other")
	_, err = DatasetVersion(lock, "https://example.org/odds/latest.csv")
	require.ErrorContains(t, err, "no md5")

	// Combined: sha256 over sorted "<path> <md5>\n" lines of every output.
	want := sha256.Sum256([]byte(
		"data/processed 22222222222222222222222222222222.dir\n" +
			"metrics/candidate.json 44444444444444444444444444444444\n" +
			"models/model.pkl 33333333333333333333333333333333\n"))
	v, err = DatasetVersion(lock, "")
	require.NoError(t, err)
	assert.Equal(t, "sha256:"+hex.EncodeToString(want[:]), v)

	// Any output change changes the combined version; stage order does not matter.
	changed := strings.Replace(string(b), "33333333333333333333333333333333", "55555555555555555555555555555555", 1)
	lock2, err := ParseDVCLock([]byte(changed))
	require.NoError(t, err)
	v2, err := DatasetVersion(lock2, "")
	require.NoError(t, err)
	assert.NotEqual(t, v, v2)
	raw2, err := DatasetVersion(lock2, "data/raw")
	require.NoError(t, err)
	assert.Equal(t, "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir", raw2, "retraining does not move the raw dataset version")

	// Disagreeing records are an error.
	inconsistent := strings.Replace(string(b), "    - path: data/raw/\n      md5: 0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir",
		"    - path: data/raw/\n      md5: 66666666666666666666666666666666.dir", 1)
	require.NotEqual(t, string(b), inconsistent)
	lock3, err := ParseDVCLock([]byte(inconsistent))
	require.NoError(t, err)
	_, err = DatasetVersion(lock3, "data/raw")
	require.ErrorContains(t, err, "different md5s for data/raw")

	empty, err := ParseDVCLock([]byte("schema: '2.0'\nstages: {}\n"))
	require.NoError(t, err)
	_, err = DatasetVersion(empty, "")
	require.ErrorContains(t, err, "no stage outputs")
	_, err = DatasetVersion(empty, " ")
	require.ErrorContains(t, err, "dataset path")
}

func FuzzParseDVCLock(f *testing.F) {
	b, err := os.ReadFile("testdata/dvc.lock")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "data/raw")
	f.Add([]byte("schema: '2.0'\nstages: {}\n"), "")
	f.Add([]byte("schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: a\n      md5: 33333333333333333333333333333333\n"), "a")
	f.Add([]byte("{schema: '2.0', stages: {a: {deps: [{path: x, md5: y}]}}}"), "x")
	f.Add([]byte("&a [*a]"), "")
	f.Fuzz(func(t *testing.T, data []byte, datasetPath string) {
		lock, err := ParseDVCLock(data)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.Equal(t, DVCLockSchema, lock.Schema)
		for _, st := range lock.Stages {
			for _, o := range st.Outs {
				require.Regexp(t, md5Pattern, o.MD5)
				require.NotEmpty(t, o.Path)
			}
		}
		v, err := DatasetVersion(lock, datasetPath)
		if err != nil {
			return
		}
		if datasetPath == "" {
			require.Regexp(t, `^sha256:[0-9a-f]{64}$`, v)
		} else {
			require.Regexp(t, `^md5:[0-9a-f]{32}(\.dir)?$`, v)
		}
	})
}
