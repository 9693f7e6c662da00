package moduleapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Dagger v0.21.8's generated module code (convertError, cmd/codegen/generator/go/templates/
// modules.go) reports only the engine's own message when a GraphQL error is in the Unwrap chain
// of the error a function returns: every wrapping message ("read --settings-file: …", the tool's
// command and output) is dropped. So every exported function that can fail defers surface,
// first thing, which turns such a chain into an error of the same text and no engine error.
func TestEveryFunctionSurfacesTheWholeErrorText(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../dagger/*.go")
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".gen.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() || fd.Type.Results == nil {
				continue
			}
			if fd.Recv != nil && exprString(fd.Recv.List[0].Type) != "*SoccerPredict" || fd.Recv == nil && fd.Name.Name != "New" {
				continue
			}
			last := fd.Type.Results.List[len(fd.Type.Results.List)-1]
			if exprString(last.Type) != "error" {
				continue
			}
			checked++
			where := fset.Position(fd.Pos()).String() + " " + fd.Name.Name
			require.Len(t, last.Names, 1, "%s: name the error result err so surface can keep its text", where)
			first, ok := fd.Body.List[0].(*ast.DeferStmt)
			if assert.True(t, ok, "%s: the first statement must be `defer surface(&err)`", where) {
				call, _ := first.Call.Fun.(*ast.Ident)
				arg, _ := first.Call.Args[0].(*ast.UnaryExpr)
				ok := call != nil && call.Name == "surface" && arg != nil && arg.Op == token.AND && exprString(arg.X) == last.Names[0].Name
				assert.True(t, ok, "%s: the first statement must be `defer surface(&%s)`", where, last.Names[0].Name)
			}
		}
	}
	assert.Greater(t, checked, 25, "the module's functions were found")
}

// The client Dagger v0.21.8 generates for a module has no Host: a module function cannot read
// the caller's machine, only what the caller passes (a Directory, a File, a Service such as
// --local-registry=tcp://localhost:5000). The offline harness aliases the whole SDK, so it would
// compile a call to dag.Host() that the engine's build of the module refuses
// ("dag.Host undefined", found in a real run): the module source must not use it.
func TestTheModuleNeverAsksForTheHost(t *testing.T) {
	files, err := filepath.Glob("../../dagger/*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".gen.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Host" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "dag" {
					t.Errorf("%s: dag.Host() does not exist in a module's generated client: take a *dagger.Service, *dagger.Directory or *dagger.File argument instead", fset.Position(sel.Pos()))
				}
			}
			return true
		})
	}
}
