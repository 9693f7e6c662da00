package helm_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The Dagger module imports this package, so it must stay free of helm,
// Kubernetes, SOPS and Dagger: only the standard library, yaml.v3,
// go-difflib, ci/domain and ci/trace (standard library only besides ci/domain).
func TestImportsStayLight(t *testing.T) {
	allowed := map[string]bool{"gopkg.in/yaml.v3": true, "github.com/pmezard/go-difflib/difflib": true,
		"gitlab.com/soccerpredictai/pipeline/ci/trace":  true, // the record (ci/domain and stdlib)
		"gitlab.com/soccerpredictai/pipeline/ci/domain": true} // stdlib only: the nouns
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range af.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			first := strings.SplitN(p, "/", 2)[0]
			if !strings.Contains(first, ".") {
				continue // standard library
			}
			require.True(t, allowed[p], "%s imports %s: keep heavy libraries out of ci/deploy/helm", f, p)
		}
	}
}
