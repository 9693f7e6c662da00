package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func startRegistry(t *testing.T, user, pass string, referrersAPI bool) string {
	t.Helper()
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(referrersAPI))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t *testing.T, ref string, auth authn.Authenticator) (image, config string) {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	img, err = mutate.Config(img, v1.Config{Labels: map[string]string{attest.LabelRevision: commit}})
	require.NoError(t, err)
	tag, err := name.NewTag(ref, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img, remote.WithAuth(auth)))
	d, _ := img.Digest()
	c, _ := img.ConfigName()
	return tag.Context().String() + "@" + d.String(), c.String()
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func files(t *testing.T, image, config string) []string {
	t.Helper()
	dir := t.TempDir()
	rep := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		rep.Results = append(rep.Results, gate.NewResult(g.Name, gate.Pass, "ok"))
	}
	gj, err := rep.JSON()
	require.NoError(t, err)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	img, err := domain.ParsePinnedRef(image)
	require.NoError(t, err)
	base, err := domain.ParsePinnedRef("python@sha256:" + strings.Repeat("b", 64))
	require.NoError(t, err)
	st, err := attest.NewProvenance(attest.BuildInput{Image: img, Service: domain.API, Commit: domain.Commit(commit), Ref: "main", SourceURL: "https://gitlab.com/x/y",
		Pipeline: "1", BuilderID: "b", BaseImages: []domain.ImageRef{base}, StartedOn: now, FinishedOn: now})
	require.NoError(t, err)
	pj, err := st.JSON()
	require.NoError(t, err)
	return []string{
		"--gate-report", write(t, dir, "gate-report.json", gj),
		"--trivy", write(t, dir, "trivy.json", []byte(fmt.Sprintf(`{"SchemaVersion":2,"ArtifactName":"/tmp/image.tar","ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.5"},"ImageID":%q}}`, config))),
		"--sbom", write(t, dir, "sbom.json", []byte(fmt.Sprintf(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"properties":[{"name":"aquasecurity:trivy:ImageID","value":%q}]}}}`, config))),
		"--provenance", write(t, dir, "prov.json", pj),
	}
}

func TestAttachThenVerify(t *testing.T) {
	reg := startRegistry(t, "", "", false)
	image, config := push(t, reg+"/sp/api:main-01234567", authn.Anonymous)
	var out, errb bytes.Buffer
	err := dispatch(context.Background(), append([]string{"attach", "--image", image}, files(t, image, config)...), &out, &errb)
	require.NoError(t, err, errb.String())
	var res struct {
		Image    string `json:"image"`
		Attached []struct{ ArtifactType, Digest string }
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	assert.Equal(t, image, res.Image)
	assert.Len(t, res.Attached, 4)

	dir := t.TempDir()
	out.Reset()
	require.NoError(t, dispatch(context.Background(), []string{"verify", "--commit", commit, "--image", "api=" + image, "--out", dir}, &out, &errb))
	assert.Contains(t, out.String(), "evidence of 1 images counts")
	var sum attest.Summary
	b, err := os.ReadFile(filepath.Join(dir, EvidenceFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.True(t, sum.OK)
	assert.Empty(t, sum.Problems)
	assert.FileExists(t, filepath.Join(dir, "gate-report.json"))
	assert.FileExists(t, filepath.Join(dir, "trivy-api.json"))
}

func TestVerifyListsMissingEvidenceWithoutFailing(t *testing.T) {
	reg := startRegistry(t, "", "", true)
	image, _ := push(t, reg+"/sp/api:main-01234567", authn.Anonymous)
	worker, _ := push(t, reg+"/sp/worker:main-01234567", authn.Anonymous)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, dispatch(context.Background(), []string{"verify", "--commit", commit, "--image", "api=" + image, "--image", "worker=" + worker, "--out", dir}, &out, &errb))
	var sum attest.Summary
	b, err := os.ReadFile(filepath.Join(dir, EvidenceFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.False(t, sum.OK)
	assert.Len(t, sum.Problems, 8)
	assert.Contains(t, out.String(), "api: no gate report is attached to "+image)
	assert.NoFileExists(t, filepath.Join(dir, "gate-report.json"))
}

func TestCredentialsFromFilesAndRefusals(t *testing.T) {
	reg := startRegistry(t, "ci", "s3cret", true)
	image, config := push(t, reg+"/sp/api:main-01234567", &authn.Basic{Username: "ci", Password: "s3cret"})
	dir := t.TempDir()
	user, pass := write(t, dir, "u", []byte("ci\n")), write(t, dir, "p", []byte("s3cret\n"))
	var out, errb bytes.Buffer
	err := dispatch(context.Background(), append([]string{"attach", "--image", image}, files(t, image, config)...), &out, &errb)
	assert.Equal(t, 4, exitCode(err), "anonymous is refused: %v", err)
	require.NoError(t, dispatch(context.Background(), append([]string{"attach", "--image", image, "--username-file", user, "--password-file", pass}, files(t, image, config)...), &out, &errb))
	assert.NotContains(t, out.String()+errb.String(), "s3cret")

	cases := map[string][]string{
		"no subcommand":      {},
		"unknown subcommand": {"sign"},
		"attach nothing":     {"attach", "--image", image},
		"attach no image":    {"attach", "--gate-report", user},
		"verify no commit":   {"verify", "--image", "api=" + image, "--out", dir},
		"verify no out":      {"verify", "--commit", commit, "--image", "api=" + image},
		"verify bad image":   {"verify", "--commit", commit, "--image", image, "--out", dir},
		"verify twice":       {"verify", "--commit", commit, "--image", "api=" + image, "--image", "api=" + image, "--out", dir},
	}
	for name, args := range cases {
		err := dispatch(context.Background(), args, &out, &errb)
		assert.Equal(t, 2, exitCode(err), "%s: %v", name, err)
	}
	// Loopback registries are reached over plain http without an opt-in (ci/artifact/registry.PlainHTTP);
	// a bad opt-in is a usage error.
	err = dispatch(context.Background(), []string{"verify", "--insecure-registry", "http://reg", "--commit", commit, "--image", "api=" + image, "--out", dir}, &out, &errb)
	assert.Equal(t, 2, exitCode(err), "bad --insecure-registry: %v", err)
}
