//go:build daggerharness

package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

func TestDocsBuildsTheSiteStrictlyInTheMkDocsImage(t *testing.T) {
	m := fresh(t)
	rec.Respond(daggertest.Always("exists", true))
	site, err := m.Docs(context.Background())
	require.NoError(t, err)
	id, err := site.ID(context.Background())
	require.NoError(t, err)
	chain, ok := rec.Chain(string(id))
	require.True(t, ok)
	last := chain[len(chain)-1]
	assert.Equal(t, "directory", last.Field)
	assert.Equal(t, "/out", last.Str("path"), "the site is the build's output directory, for GitLab Pages' public/")

	build := mustExec(t, "mkdocs", "build")
	assert.Equal(t, []string{"mkdocs", "build", "--strict", "--site-dir", "/out"}, build.Args)
	assert.Contains(t, build.Container.String(), `from(address:"squidfunk/mkdocs-material:9.5.49")`)
	assert.Contains(t, build.Container.String(), `withWorkdir(path:"/docs")`)
	src, ok := build.Container.StepWhere("withDirectory", "path", "/docs")
	require.True(t, ok)
	ref, _ := src.Ref("source")
	s := ref.Chain.String()
	assert.Contains(t, s, `withFile(path:"mkdocs.yml",source:<host.directory(path:"/work/repo").file(path:"mkdocs.yml")>)`)
	assert.Contains(t, s, `withDirectory(path:"docs",source:<host.directory(path:"/work/repo").directory(path:"docs")>)`)
	assert.NotContains(t, s, "charts", "only the site's sources are sent to MkDocs")
}

func TestDocsNeedsMkdocsYmlAtTheSourceRoot(t *testing.T) {
	m := fresh(t)
	rec.Respond(daggertest.Always("exists", false))
	_, err := m.Docs(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mkdocs.yml")
	assert.Empty(t, rec.Execs())
}

// The repository's mkdocs.yml is strict and its nav lists exactly the pages of docs/: a page
// left out or a page listed but missing would fail `mkdocs build --strict` or hide a page.
func TestTheRepositoryMkdocsConfigListsEveryPage(t *testing.T) {
	raw, err := os.ReadFile("../mkdocs.yml")
	require.NoError(t, err)
	var cfg struct {
		Strict  bool `yaml:"strict"`
		DocsDir string
		Theme   struct {
			Name string `yaml:"name"`
		} `yaml:"theme"`
		Nav []map[string]string `yaml:"nav"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	assert.True(t, cfg.Strict)
	assert.Equal(t, "material", cfg.Theme.Name)
	var listed []string
	for _, entry := range cfg.Nav {
		for _, page := range entry {
			listed = append(listed, page)
		}
	}
	pages, err := filepath.Glob("../docs/*.md")
	require.NoError(t, err)
	var present []string
	for _, p := range pages {
		present = append(present, filepath.Base(p))
	}
	sort.Strings(listed)
	sort.Strings(present)
	assert.Equal(t, present, listed)
	assert.Contains(t, listed, "index.md")

	// Relative links in the pages point at pages that exist (strict mode fails otherwise).
	for _, p := range pages {
		body, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, part := range strings.Split(string(body), "](")[1:] {
			target, _, _ := strings.Cut(part, ")")
			target, _, _ = strings.Cut(target, "#")
			if target == "" || strings.Contains(target, "://") {
				continue
			}
			assert.FileExists(t, filepath.Join("../docs", target), "%s links to %s", filepath.Base(p), target)
		}
	}
}
