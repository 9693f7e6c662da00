package gitlabci

import (
	"go/ast"
	goparser "go/parser"
	gotoken "go/token"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kebab is how the Dagger CLI names a Go identifier: ApiContract → api-contract, projectId → project-id.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// moduleSurface reads the module's source: every function's CLI name and its flags, plus the
// constructor's flags under "".
func moduleSurface(t *testing.T) map[string]map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../../dagger/*.go")
	require.NoError(t, err)
	out := map[string]map[string]bool{}
	fset := gotoken.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".gen.go") {
			continue
		}
		file, err := goparser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			name := ""
			switch {
			case fd.Recv == nil && fd.Name.Name == "New":
			case fd.Recv != nil:
				name = kebab(fd.Name.Name)
			default:
				continue
			}
			flags := map[string]bool{}
			for _, p := range fd.Type.Params.List {
				for _, n := range p.Names {
					if n.Name != "ctx" {
						flags[kebab(n.Name)] = true
					}
				}
			}
			out[name] = flags
		}
	}
	return out
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{"ApiContract": "api-contract", "DvcDry": "dvc-dry", "projectId": "project-id", "env": "env", "apiImage": "api-image"} {
		assert.Equal(t, want, kebab(in))
	}
}

// Every `dagger call` line calls a function the module has, with flags it declares: the YAML
// and the module cannot drift apart unnoticed.
func TestEveryCallMatchesTheModule(t *testing.T) {
	surface := moduleSurface(t)
	require.Contains(t, surface, "gate-report")
	c := load(t)
	n := 0
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		require.NoError(t, err)
		calls, err := Calls(job)
		require.NoError(t, err)
		for _, call := range calls {
			n++
			for _, a := range call.Ctor {
				assert.True(t, surface[""][a.Name], "job %s: constructor flag --%s does not exist", name, a.Name)
			}
			fn := call.Chain[0]
			flags, ok := surface[fn.Name]
			if !assert.True(t, ok, "job %s: the module has no function %q", name, fn.Name) {
				continue
			}
			for _, a := range fn.Args {
				assert.True(t, flags[a.Name], "job %s: %s has no flag --%s", name, fn.Name, a.Name)
			}
		}
	}
	assert.Greater(t, n, 10)
}
