package trace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// fakeDigest is the sha256 of a label: a well-formed digest that names no real image.
func fakeDigest(label string) string {
	s := sha256.Sum256([]byte(label))
	return "sha256:" + hex.EncodeToString(s[:])
}

func dg(label string) domain.Digest { return domain.Digest(fakeDigest(label)) }

func fakeCommit(label string) string {
	s := sha256.Sum256([]byte("commit " + label))
	return hex.EncodeToString(s[:])[:40]
}

func validRecord() Record {
	return Record{
		Environment:    domain.Production,
		GitCommit:      domain.Commit(fakeCommit("a")),
		ImageDigests:   map[domain.Service]domain.Digest{domain.API: dg("api"), domain.Worker: dg("worker"), domain.Airflow: dg("airflow")},
		DatasetVersion: "data-v12",
		ModelVersion:   "7",
		Release:        "v1.4.0",
		DeployedAt:     time.Date(2025, 3, 1, 10, 30, 0, 0, time.UTC),
	}
}

func TestValidate(t *testing.T) {
	require.NoError(t, validRecord().Validate())

	noRelease := validRecord()
	noRelease.Release = ""
	noRelease.DeployedAt = time.Time{}
	require.NoError(t, noRelease.Validate(), "release and deployed-at are optional")

	cases := map[string]struct {
		mut  func(*Record)
		want string
	}{
		"env empty":          {func(r *Record) { r.Environment = "" }, "environment"},
		"env upper":          {func(r *Record) { r.Environment = "Prod" }, "environment"},
		"no digests":         {func(r *Record) { r.ImageDigests = nil }, "no image digests"},
		"empty digest":       {func(r *Record) { r.ImageDigests[domain.API] = "" }, "image api has no digest"},
		"no commit":          {func(r *Record) { r.GitCommit = "" }, "--commit"},
		"version with brace": {func(r *Record) { r.ModelVersion = "{7}" }, "model version"},
		"no dataset":         {func(r *Record) { r.DatasetVersion = "" }, "dataset version"},
		"no model":           {func(r *Record) { r.ModelVersion = "" }, "model version"},
		"model with space":   {func(r *Record) { r.ModelVersion = "7 8" }, "model version"},
		"dataset too long":   {func(r *Record) { r.DatasetVersion = strings.Repeat("x", 129) }, "dataset version"},
		"release not semver": {func(r *Record) { r.Release = "1.4.0" }, "release"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := validRecord()
			r.ImageDigests = maps.Clone(r.ImageDigests)
			c.mut(&r)
			err := r.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	t.Run("dev may be incomplete", func(t *testing.T) {
		dev := Record{Environment: domain.Dev, ImageDigests: map[domain.Service]domain.Digest{domain.API: ""}}
		require.NoError(t, dev.Validate())
		assert.Contains(t, dev.Text(), "git commit:      (unknown)")
		dev.ModelVersion = "a b"
		require.ErrorContains(t, dev.Validate(), "model version", "present values must still be well-formed")
		staging := Record{Environment: domain.Staging, ImageDigests: map[domain.Service]domain.Digest{domain.API: ""}}
		err := staging.Validate()
		require.Error(t, err)
		for _, want := range []string{"git commit", "image api", "dataset version", "model version"} {
			assert.Contains(t, err.Error(), want)
		}
		l := labelsFor(Record{ImageDigests: map[domain.Service]domain.Digest{domain.API: ""}, GitCommit: domain.Commit(fakeCommit("x")), DatasetVersion: "d", ModelVersion: "1"})
		assert.NoError(t, (Record{Environment: domain.Dev, ImageDigests: map[domain.Service]domain.Digest{domain.API: ""}}).CheckLabels(l), "unknown values are not compared")
	})

	t.Run("every problem is reported", func(t *testing.T) {
		require.ErrorContains(t, Record{}.Validate(), "no environment given")
		err := Record{Environment: domain.Production}.Validate()
		require.Error(t, err)
		for _, want := range []string{"git commit", "no image digests", "dataset version", "model version"} {
			assert.Contains(t, err.Error(), want)
		}
	})
}

func TestText(t *testing.T) {
	want := "" +
		"environment:     production\n" +
		"git commit:      " + fakeCommit("a") + "\n" +
		"image airflow:   " + fakeDigest("airflow") + "\n" +
		"image api:       " + fakeDigest("api") + "\n" +
		"image worker:    " + fakeDigest("worker") + "\n" +
		"dataset version: data-v12\n" +
		"model version:   7\n" +
		"release:         v1.4.0\n" +
		"deployed at:     2025-03-01T10:30:00Z\n"
	assert.Equal(t, want, validRecord().Text())

	r := validRecord()
	r.Release, r.DeployedAt = "", time.Time{}
	out := r.Text()
	assert.NotContains(t, out, "release")
	assert.NotContains(t, out, "deployed at")
}

func TestJSON(t *testing.T) {
	b, err := validRecord().JSON()
	require.NoError(t, err)
	var back Record
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, validRecord(), back)
	assert.Contains(t, string(b), `"git_commit"`)
	assert.Contains(t, string(b), `"image_digests"`)

	r := validRecord()
	r.Release, r.DeployedAt = "", time.Time{}
	b, err = r.JSON()
	require.NoError(t, err)
	assert.NotContains(t, string(b), "deployed_at")
	assert.NotContains(t, string(b), "release")
}

func TestAnnotationsRoundTrip(t *testing.T) {
	r := validRecord()
	ann := r.Annotations()
	assert.Equal(t, `{"airflow":"`+fakeDigest("airflow")+`","api":"`+fakeDigest("api")+`","worker":"`+fakeDigest("worker")+`"}`, ann[AnnotationImageDigests])
	ann["unrelated/annotation"] = "ignored"
	back, err := FromAnnotations(ann)
	require.NoError(t, err)
	assert.Equal(t, r, back)
}

func TestFromAnnotationsErrors(t *testing.T) {
	base := validRecord().Annotations()
	cases := map[string]struct {
		mut  func(map[string]string)
		want []string
	}{
		"missing commit":     {func(a map[string]string) { delete(a, AnnotationGitCommit) }, []string{AnnotationGitCommit, "missing"}},
		"missing digests":    {func(a map[string]string) { delete(a, AnnotationImageDigests) }, []string{AnnotationImageDigests, "missing"}},
		"missing everything": {func(a map[string]string) { clear(a) }, []string{AnnotationGitCommit, AnnotationImageDigests, AnnotationEnvironment, AnnotationDatasetVersion, AnnotationModelVersion}},
		"digests not json":   {func(a map[string]string) { a[AnnotationImageDigests] = "api=sha256:x" }, []string{"not a JSON object"}},
		"digests array":      {func(a map[string]string) { a[AnnotationImageDigests] = `["x"]` }, []string{"not a JSON object"}},
		"digests null":       {func(a map[string]string) { a[AnnotationImageDigests] = `null` }, []string{"not a JSON object"}},
		"digests nested":     {func(a map[string]string) { a[AnnotationImageDigests] = `{"api":{"d":"x"}}` }, []string{"not a string"}},
		"digests duplicate": {func(a map[string]string) {
			a[AnnotationImageDigests] = `{"api":"` + fakeDigest("1") + `","api":"` + fakeDigest("2") + `"}`
		}, []string{"twice"}},
		"digests trailing":        {func(a map[string]string) { a[AnnotationImageDigests] = `{"api":"` + fakeDigest("1") + `"} {}` }, []string{"after the object"}},
		"digests bad value":       {func(a map[string]string) { a[AnnotationImageDigests] = `{"api":"latest"}` }, []string{"image api", "not sha256"}},
		"digests unknown service": {func(a map[string]string) { a[AnnotationImageDigests] = `{"web":"` + fakeDigest("1") + `"}` }, []string{`unknown service "web"`}},
		"short commit value":      {func(a map[string]string) { a[AnnotationGitCommit] = "abc1234" }, []string{AnnotationGitCommit, "abbreviation"}},
		"bad environment":         {func(a map[string]string) { a[AnnotationEnvironment] = "qa" }, []string{AnnotationEnvironment, "unknown environment"}},
		"digests empty":           {func(a map[string]string) { a[AnnotationImageDigests] = `{}` }, []string{"no image digests"}},
		"bad deployed-at":         {func(a map[string]string) { a[AnnotationDeployedAt] = "yesterday" }, []string{AnnotationDeployedAt}},
		"bad commit value":        {func(a map[string]string) { a[AnnotationGitCommit] = "HEAD" }, []string{AnnotationGitCommit, "not a full git commit id"}},
		"bad release":             {func(a map[string]string) { a[AnnotationRelease] = "latest" }, []string{"release"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := maps.Clone(base)
			c.mut(a)
			r, err := FromAnnotations(a)
			require.Error(t, err)
			assert.Equal(t, Record{}, r, "nothing is returned on error")
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func labelsFor(r Record) map[domain.Service]map[string]string {
	out := map[domain.Service]map[string]string{}
	for svc := range r.ImageDigests {
		out[svc] = map[string]string{LabelRevision: string(r.GitCommit), "org.opencontainers.image.source": "https://gitlab.com/x"}
	}
	if api, ok := out["api"]; ok {
		api[LabelDatasetVersion] = r.DatasetVersion
		api[LabelModelVersion] = r.ModelVersion
	}
	return out
}

func TestFromLabels(t *testing.T) {
	l, err := FromLabels(map[string]string{LabelRevision: fakeCommit("a"), LabelModelVersion: "3"})
	require.NoError(t, err)
	assert.Equal(t, ImageLabels{Revision: domain.Commit(fakeCommit("a")), ModelVersion: "3"}, l)

	_, err = FromLabels(map[string]string{})
	require.ErrorContains(t, err, LabelRevision)
	_, err = FromLabels(map[string]string{LabelRevision: "main"})
	require.ErrorContains(t, err, "git commit")
	_, err = FromLabels(map[string]string{LabelRevision: fakeCommit("a"), LabelDatasetVersion: "a b"})
	require.ErrorContains(t, err, LabelDatasetVersion)
}

func TestCheckLabels(t *testing.T) {
	r := validRecord()
	require.NoError(t, r.CheckLabels(labelsFor(r)))

	cases := map[string]struct {
		mut  func(map[domain.Service]map[string]string)
		want []string
	}{
		"other commit":     {func(l map[domain.Service]map[string]string) { l["worker"][LabelRevision] = fakeCommit("b") }, []string{"image worker was built from commit " + fakeCommit("b")}},
		"dataset mismatch": {func(l map[domain.Service]map[string]string) { l["api"][LabelDatasetVersion] = "data-v11" }, []string{"dataset version data-v11"}},
		"model mismatch":   {func(l map[domain.Service]map[string]string) { l["api"][LabelModelVersion] = "6" }, []string{"model version 6"}},
		"missing image":    {func(l map[domain.Service]map[string]string) { delete(l, "airflow") }, []string{"image airflow", "no labels"}},
		"extra image": {func(l map[domain.Service]map[string]string) {
			l["ui"] = map[string]string{LabelRevision: fakeCommit("a")}
		}, []string{"image ui", "does not list"}},
		"no revision label": {func(l map[domain.Service]map[string]string) { delete(l["api"], LabelRevision) }, []string{"image api", LabelRevision}},
		"everything at once": {func(l map[domain.Service]map[string]string) {
			l["worker"][LabelRevision] = fakeCommit("b")
			l["api"][LabelModelVersion] = "6"
			delete(l, "airflow")
		}, []string{"image worker", "model version 6", "image airflow"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			l := labelsFor(r)
			c.mut(l)
			err := r.CheckLabels(l)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Property: any valid record survives Annotations → FromAnnotations unchanged.
func TestAnnotationsRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for i := range 500 {
		r := Record{
			Environment:    domain.Environments()[rng.Intn(3)],
			GitCommit:      domain.Commit(fakeCommit(fmt.Sprint(i))),
			ImageDigests:   map[domain.Service]domain.Digest{},
			DatasetVersion: fmt.Sprintf("d%d", rng.Intn(1000)),
			ModelVersion:   fmt.Sprint(1 + rng.Intn(100)),
		}
		for j := range 1 + rng.Intn(3) {
			r.ImageDigests[domain.Services()[j]] = dg(fmt.Sprint(i, j))
		}
		if rng.Intn(2) == 0 {
			r.Release = fmt.Sprintf("v%d.%d.%d", rng.Intn(5), rng.Intn(20), rng.Intn(20))
		}
		if rng.Intn(2) == 0 {
			r.DeployedAt = time.Unix(rng.Int63n(2e9), 0).UTC()
		}
		require.NoError(t, r.Validate())
		back, err := FromAnnotations(r.Annotations())
		require.NoError(t, err)
		require.Equal(t, r, back)
		require.NoError(t, back.CheckLabels(labelsFor(back)))
	}
}

func FuzzFromAnnotations(f *testing.F) {
	r := validRecord()
	a := r.Annotations()
	f.Add(a[AnnotationEnvironment], a[AnnotationGitCommit], a[AnnotationImageDigests], a[AnnotationDatasetVersion], a[AnnotationModelVersion], a[AnnotationRelease], a[AnnotationDeployedAt])
	f.Add("dev", fakeCommit("z"), `{"api":"`+fakeDigest("q")+`"}`, "d", "1", "", "")
	f.Add("", "", "", "", "", "", "")
	f.Add("dev", "x", `{"a":`, "d", "1", "v1", "2020")
	f.Add("dev", fakeCommit("z"), `{"api":"`+fakeDigest("q")+`","api":"x"}`, "d", "1", "v1.0.0-rc.1", "2024-01-01T00:00:00+02:00")
	f.Add("dev", fakeCommit("z"), `{"api":"`+fakeDigest("q")+`"}`, "d", "1", "", "2024-01-01T00:00:00.123456789+02:00")
	f.Add("dev", fakeCommit("z"), " {\"a\":\"b\"}\n", "d\x00", "1", "", "")
	f.Fuzz(func(t *testing.T, env, commit, digests, dataset, model, release, deployedAt string) {
		ann := map[string]string{
			AnnotationEnvironment: env, AnnotationGitCommit: commit, AnnotationImageDigests: digests,
			AnnotationDatasetVersion: dataset, AnnotationModelVersion: model,
		}
		if release != "" {
			ann[AnnotationRelease] = release
		}
		if deployedAt != "" {
			ann[AnnotationDeployedAt] = deployedAt
		}
		rec, err := FromAnnotations(ann)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := rec.Validate(); err != nil {
			t.Fatalf("FromAnnotations returned an invalid record: %v", err)
		}
		back, err := FromAnnotations(rec.Annotations())
		if err != nil {
			t.Fatalf("re-parse of rendered annotations failed: %v", err)
		}
		if !reflect.DeepEqual(back, rec) {
			t.Fatalf("round trip changed the record:\n%s\nvs\n%s", rec.Text(), back.Text())
		}
	})
}
