package trace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
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
		{func(i *Info) { i.Revision = "" }, "commit is empty: pass `git rev-parse HEAD`"},
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
		{func(i *Info) { i.DatasetVersion = strings.Repeat("x", 129) }, "longer than 128"},
		{func(i *Info) { i.DatasetVersion = "{a,b}" }, "not a version label"},
		{func(i *Info) { i.DatasetPointer = "../x.dvc" }, "dataset pointer"},
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

func FuzzLabels(f *testing.F) {
	f.Add(commit, "https://gitlab.com/a/b", "2025-03-01T10:00:00Z", "v1.0.0", "t", "md5:x", "1")
	f.Add("", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, rev, src, created, version, title, ds, model string) {
		c, err := domain.ParseCommit(rev)
		if err != nil {
			return // the module parses --commit before building labels
		}
		l, err := Labels(Info{Revision: c, Source: src, Created: created, Version: version, Title: title, DatasetVersion: ds, ModelVersion: model})
		if err != nil {
			require.Nil(t, l)
			return
		}
		require.Equal(t, rev, l[LabelRevision])
		_, err = NormalizeCreated(l[LabelCreated])
		require.NoError(t, err)
		again, err := NormalizeCreated(l[LabelCreated])
		require.NoError(t, err)
		require.Equal(t, l[LabelCreated], again, "normalisation is idempotent")
	})
}

func TestLabelsCarryTheDatasetPointer(t *testing.T) {
	i := validInfo()
	i.DatasetPointer = "data/raw/matches.csv.dvc"
	l, err := Labels(i)
	require.NoError(t, err)
	assert.Equal(t, "data/raw/matches.csv.dvc", l[LabelDatasetPointer])
	assert.Equal(t, "io.soccerpredict.dataset.pointer", LabelDatasetPointer)

	i.DatasetVersion = ""
	_, err = Labels(i)
	assert.ErrorContains(t, err, "without a dataset version")
	i = validInfo()
	i.DatasetPointer = "a b.dvc"
	_, err = Labels(i)
	assert.ErrorContains(t, err, "dataset pointer")
}
