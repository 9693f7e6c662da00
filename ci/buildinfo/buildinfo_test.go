package buildinfo

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const commit = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"

func validInfo() Info {
	return Info{
		Revision:       commit,
		Source:         "https://gitlab.com/soccerpredictai/pipeline",
		Created:        "2025-03-01T10:00:00+01:00",
		Version:        "v1.4.0",
		Title:          "soccer-predict-api",
		DatasetVersion: "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir",
		ModelVersion:   "12",
	}
}

func TestLabels(t *testing.T) {
	l, err := Labels(validInfo())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.revision": commit,
		"org.opencontainers.image.source":   "https://gitlab.com/soccerpredictai/pipeline",
		"org.opencontainers.image.created":  "2025-03-01T09:00:00Z",
		"org.opencontainers.image.version":  "v1.4.0",
		"org.opencontainers.image.title":    "soccer-predict-api",
		"io.soccerpredict.dataset.version":  "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir",
		"io.soccerpredict.model.version":    "12",
	}, l)
	assert.Equal(t, []string{
		LabelDatasetVersion, LabelModelVersion, LabelCreated, LabelRevision, LabelSource, LabelTitle, LabelVersion,
	}, SortedKeys(l))

	i := validInfo()
	i.DatasetVersion, i.ModelVersion = "", ""
	i.Created = "2025-03-01T09:00:00.5Z"
	l, err = Labels(i)
	require.NoError(t, err)
	assert.NotContains(t, l, LabelDatasetVersion)
	assert.NotContains(t, l, LabelModelVersion)
	assert.Equal(t, "2025-03-01T09:00:00.5Z", l[LabelCreated])
}

func TestLabelsErrors(t *testing.T) {
	cases := []struct {
		mut func(*Info)
		msg string
	}{
		{func(i *Info) { i.Revision = "" }, "full 40-character sha"},
		{func(i *Info) { i.Revision = commit[:8] }, "full 40-character sha"},
		{func(i *Info) { i.Revision = strings.ToUpper(commit) }, "not lowercase hexadecimal"},
		{func(i *Info) { i.Revision = "z" + commit[1:] }, "not lowercase hexadecimal"},
		{func(i *Info) { i.Source = "" }, "CI_PROJECT_URL"},
		{func(i *Info) { i.Source = "gitlab.com/x/y" }, "not an absolute http(s) URL"},
		{func(i *Info) { i.Source = "ssh://git@gitlab.com/x/y" }, "credentials"},
		{func(i *Info) { i.Source = "git@gitlab.com:x/y.git" }, "CI_PROJECT_URL"},
		{func(i *Info) { i.Created = "" }, "RFC 3339"},
		{func(i *Info) { i.Created = "2025-03-01 10:00:00" }, "RFC 3339"},
		{func(i *Info) { i.Created = "2025-03-01T10:00:00" }, "RFC 3339"},
		{func(i *Info) { i.Created = " 2025-03-01T10:00:00Z" }, "RFC 3339"},
		{func(i *Info) { i.Version = "" }, "image version is empty"},
		{func(i *Info) { i.Version = "v1 .0" }, "whitespace"},
		{func(i *Info) { i.Title = " " }, "title is empty"},
		{func(i *Info) { i.Title = "a\nb" }, "control characters"},
		{func(i *Info) { i.DatasetVersion = "md5: x" }, "dataset version"},
		{func(i *Info) { i.DatasetVersion = strings.Repeat("x", 257) }, "longer than 256"},
		{func(i *Info) { i.ModelVersion = "é" }, "model version"},
	}
	for _, c := range cases {
		i := validInfo()
		c.mut(&i)
		l, err := Labels(i)
		require.Error(t, err, c.msg)
		assert.Contains(t, err.Error(), c.msg)
		assert.Nil(t, l)
	}

	// A clone URL with a token is refused without echoing the token.
	i := validInfo()
	i.Source = "https://gitlab-ci-token:glcbt-SECRET123@gitlab.com/soccerpredictai/pipeline.git"
	_, err := Labels(i)
	require.ErrorContains(t, err, "carries credentials")
	assert.NotContains(t, err.Error(), "SECRET123")
}

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
		require.NoError(t, validateValue("dataset version", v, "", true), "a dataset version is always a valid label value")
		if datasetPath == "" {
			require.Regexp(t, `^sha256:[0-9a-f]{64}$`, v)
		} else {
			require.Regexp(t, `^md5:[0-9a-f]{32}(\.dir)?$`, v)
		}
	})
}

func FuzzLabels(f *testing.F) {
	f.Add(commit, "https://gitlab.com/a/b", "2025-03-01T10:00:00Z", "v1.0.0", "t", "md5:x", "1")
	f.Add("", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, rev, src, created, version, title, ds, model string) {
		l, err := Labels(Info{Revision: rev, Source: src, Created: created, Version: version, Title: title, DatasetVersion: ds, ModelVersion: model})
		if err != nil {
			require.Nil(t, l)
			return
		}
		require.NoError(t, ValidateCommit(l[LabelRevision]))
		_, err = NormalizeCreated(l[LabelCreated])
		require.NoError(t, err)
		again, err := NormalizeCreated(l[LabelCreated])
		require.NoError(t, err)
		require.Equal(t, l[LabelCreated], again, "normalisation is idempotent")
	})
}
