package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAliasesCoverTheSDKsExportedTypesAndConstants(t *testing.T) {
	sdk, modPath, err := locate("../../dagger")
	require.NoError(t, err)
	assert.Equal(t, "dagger/soccer-predict", modPath)
	src, err := aliases(sdk)
	require.NoError(t, err)
	text := string(src)
	for _, want := range []string{
		"type Container = upstream.Container", "type Directory = upstream.Directory", "type Secret = upstream.Secret",
		"type ContainerWithExecOpts = upstream.ContainerWithExecOpts", "type ExecError = upstream.ExecError",
		"ReturnTypeAny", "package dagger",
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "type Loadable", "generic types are left out")
}

func TestAliasesRejectsADirectoryWithoutTheSDK(t *testing.T) {
	_, err := aliases(t.TempDir())
	assert.ErrorContains(t, err, "no exported types")
}

func TestOverlayHidesGeneratedFilesAndAddsTests(t *testing.T) {
	mod := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(mod, "internal", "dagger"), 0o755))
	for _, f := range []string{"internal/dagger/dagger.gen.go", "internal/dagger/jsonv2.gen.go", "dagger.gen.go", "main.go"} {
		require.NoError(t, os.WriteFile(filepath.Join(mod, f), []byte("package x\n"), 0o644))
	}
	tests := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(tests, "lint_test.go"), []byte("package main\n"), 0o644))
	ov, err := overlay(mod, tests, "/h/internal.go", "/h/main.go")
	require.NoError(t, err)
	assert.Equal(t, "", ov.Replace[filepath.Join(mod, "internal/dagger/jsonv2.gen.go")], "other generated files are hidden")
	assert.Equal(t, "/h/internal.go", ov.Replace[filepath.Join(mod, "internal/dagger/dagger.gen.go")])
	assert.Equal(t, "/h/main.go", ov.Replace[filepath.Join(mod, "dagger.gen.go")])
	assert.Equal(t, filepath.Join(tests, "lint_test.go"), ov.Replace[filepath.Join(mod, "zz_lint_test.go")])
	_, touched := ov.Replace[filepath.Join(mod, "main.go")]
	assert.False(t, touched, "the module's own code is compiled as written")

	_, err = overlay(mod, t.TempDir(), "a", "b")
	assert.ErrorContains(t, err, "no *_test.go files")
}

func TestRunWritesNothingIntoTheModule(t *testing.T) {
	before := listFiles(t, "../../dagger")
	out := t.TempDir()
	require.NoError(t, run([]string{"-module", "../../dagger", "-tests", "../module", "-out", out}))
	assert.Equal(t, before, listFiles(t, "../../dagger"))
	raw, err := os.ReadFile(filepath.Join(out, "overlay.json"))
	require.NoError(t, err)
	var ov overlayFile
	require.NoError(t, json.Unmarshal(raw, &ov))
	assert.NotEmpty(t, ov.Replace)
	for target := range ov.Replace {
		assert.True(t, strings.Contains(target, string(filepath.Separator)+"dagger"+string(filepath.Separator)), target)
	}
	assert.Error(t, run([]string{"-module", "../../dagger"}), "-out is required")
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}
