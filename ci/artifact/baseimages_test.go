package artifact

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBaseImagesOfTheSampleDockerfiles(t *testing.T) {
	dir := filepath.Join("..", "..", "tests", "testdata", "soccerpredict", "docker")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	got, err := BaseImages(read("api.Dockerfile"), map[string]string{"BASE_IMAGE": "python:3.11-slim-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000"})
	require.NoError(t, err)
	assert.Equal(t, []string{"python:3.11-slim-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000"}, got)
	got, err = BaseImages(read("worker.Dockerfile"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"python:3.11-slim-bookworm"}, got, "the ARG default when no build argument is given")
	got, err = BaseImages(read("airflow.Dockerfile"), map[string]string{"BASE_IMAGE": "ignored"})
	require.NoError(t, err)
	assert.Equal(t, []string{"apache/airflow:2.10.4-python3.11"}, got)
}

func TestBaseImagesStagesAndErrors(t *testing.T) {
	df := "ARG GO=golang:1.26\n# comment\nFROM --platform=$BUILDPLATFORM ${GO} AS build\nRUN go build\nFROM build AS test\nFROM scratch\nCOPY --from=build /x /x\nFROM \\\n  alpine:3.20\nFROM golang:1.26\n"
	got, err := BaseImages([]byte(df), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"golang:1.26", "alpine:3.20"}, got)

	_, err = BaseImages([]byte("FROM ${NOPE}\n"), nil)
	assert.ErrorContains(t, err, "build argument NOPE has no value")
	_, err = BaseImages([]byte("RUN true\n"), nil)
	assert.ErrorContains(t, err, "no FROM")
	_, err = BaseImages([]byte("FROM --platform=x\n"), nil)
	assert.ErrorContains(t, err, "names no image")
}

func FuzzBaseImages(f *testing.F) {
	f.Add([]byte("ARG BASE_IMAGE=python:3.11\nFROM ${BASE_IMAGE}\n"), "x")
	f.Add([]byte("FROM a AS b\nFROM b\nFROM scratch\n"), "")
	f.Add([]byte("FROM \\\n"), "y")
	f.Fuzz(func(t *testing.T, df []byte, arg string) {
		got, err := BaseImages(df, map[string]string{"BASE_IMAGE": arg})
		if err != nil {
			return
		}
		require.NotEmpty(t, got)
		seen := map[string]bool{}
		for _, g := range got {
			require.NotEmpty(t, g)
			require.NotEqual(t, "scratch", g)
			require.False(t, seen[g], "no duplicates")
			seen[g] = true
		}
	})
}
