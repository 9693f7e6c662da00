// Package architecture keeps docs/architecture.md true: every package of ci/ is on the page's
// layout table (and every row names a package that exists), the domain vocabulary depends on
// nothing else of ci/, nothing in ci/ imports Dagger, and imports only point down the layers the
// page's table gives. tree_test.go keeps the tree clean: no tracked binary or file over 1 MiB
// outside testdata.
package architecture

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const modulePath = "gitlab.com/soccerpredictai/pipeline/"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	return root
}

// packages returns each ci/ package directory (relative, slash-separated) with the ci/ imports of
// its non-test files, plus every import path it uses.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root := repoRoot(t)
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "ci"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			out[pkg] = append(out[pkg], path)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

func TestEveryPackageHasALayer(t *testing.T) {
	layer := layers(t)
	for pkg := range packages(t) {
		_, ok := layer[pkg]
		assert.True(t, ok, "%s has no layer: add a row | <layer> | `%s` | … to docs/architecture.md's layout", pkg, pkg)
	}
}

func TestImportsPointDown(t *testing.T) {
	layer := layers(t)
	for pkg, imports := range packages(t) {
		from := layer[pkg]
		for _, imp := range imports {
			assert.False(t, strings.HasPrefix(imp, "dagger.io/"), "%s imports %s: ci/ is plain Go; Dagger belongs in dagger/", pkg, imp)
			if !strings.HasPrefix(imp, modulePath+"ci/") {
				continue
			}
			dep := strings.TrimPrefix(imp, modulePath)
			to, ok := layer[dep]
			if !ok {
				continue
			}
			assert.LessOrEqual(t, to, from, "%s (layer %d) imports %s (layer %d): move the shared decision down (often into ci/domain)", pkg, from, dep, to)
		}
	}
}

func TestDomainStandsAlone(t *testing.T) {
	imports, ok := packages(t)["ci/domain"]
	require.True(t, ok, "ci/domain exists")
	for _, imp := range imports {
		assert.False(t, strings.HasPrefix(imp, modulePath), "ci/domain imports %s: the vocabulary depends on nothing else of ci/", imp)
		assert.NotContains(t, []string{"net/http", "os", "os/exec"}, imp, "ci/domain does no I/O")
	}
}

// layoutSection is the "Layout of ci/" section of docs/architecture.md.
func layoutSection(t *testing.T) string {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "architecture.md"))
	require.NoError(t, err)
	text := string(page)
	start := strings.Index(text, "## Layout of ci/")
	require.GreaterOrEqual(t, start, 0, "docs/architecture.md has a \"## Layout of ci/\" section")
	section := text[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	return section
}

// layers is the level of every ci/ package as the page's table gives it ("| <layer> | `ci/…` |"):
// a package may import packages of its own layer or below, never above. The page is the one
// source of the layering; this test only enforces it.
func layers(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range regexp.MustCompile("(?m)^\\| ([0-9]+) \\| `(ci/[a-z/-]+)` \\|").FindAllStringSubmatch(layoutSection(t), -1) {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		out[m[2]] = n
	}
	require.NotEmpty(t, out, "the layout table has rows | <layer> | `ci/<package>` | …")
	return out
}

// The "Layout of ci/" table of docs/architecture.md names exactly the packages that exist.
func TestArchitecturePageListsEveryPackage(t *testing.T) {
	root := repoRoot(t)
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("`(ci/[a-z/-]+?)/?`").FindAllStringSubmatch(layoutSection(t), -1) {
		listed[m[1]] = true
	}
	var missing, stale []string
	pkgs := packages(t)
	for pkg := range pkgs {
		if !listed[pkg] {
			missing = append(missing, pkg)
		}
	}
	for p := range listed {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			stale = append(stale, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	assert.Empty(t, missing, "packages missing from docs/architecture.md's layout: add a row for each")
	assert.Empty(t, stale, "docs/architecture.md's layout names paths that do not exist: remove or fix them")
}
