// Package moduleapi checks the Dagger module's public surface from its source, the way the
// engine's codegen reads it: every function is documented for `dagger call --help`, checks
// take no required argument, side effects are never cached, secrets are typed as secrets.
package moduleapi

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type function struct {
	name   string
	doc    string
	params []param
	result string
}

type param struct {
	name, typ, doc string
}

func load(t *testing.T) (map[string]function, *ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../dagger/*.go")
	require.NoError(t, err)
	out := map[string]function{}
	var mainFile *ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".gen.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		require.NoError(t, err)
		if filepath.Base(f) == "main.go" {
			mainFile = file
		}
		// Comments above a parameter are not Field.Doc in a parameter list: map them.
		cmap := ast.NewCommentMap(fset, file, file.Comments)
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			recv := ""
			if fd.Recv != nil {
				recv = exprString(fd.Recv.List[0].Type)
			}
			if recv != "*SoccerPredict" && !(recv == "" && fd.Name.Name == "New") {
				continue
			}
			fn := function{name: fd.Name.Name, doc: fd.Doc.Text()}
			for _, fld := range fd.Type.Params.List {
				doc := ""
				for _, g := range cmap[fld] {
					doc += g.Text()
				}
				for _, n := range fld.Names {
					fn.params = append(fn.params, param{n.Name, exprString(fld.Type), doc})
				}
			}
			if fd.Type.Results != nil {
				var rs []string
				for _, r := range fd.Type.Results.List {
					rs = append(rs, exprString(r.Type))
				}
				fn.result = strings.Join(rs, ",")
			}
			out[fn.name] = fn
		}
	}
	require.NotNil(t, mainFile)
	return out, mainFile
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return "*" + exprString(x.X)
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.ArrayType:
		return "[]" + exprString(x.Elt)
	}
	return "?"
}

func (p param) optional() bool {
	return strings.Contains(p.doc, "+optional") || strings.Contains(p.doc, "+default") || strings.Contains(p.doc, "+defaultPath")
}

func TestEveryFunctionIsDocumentedForHelp(t *testing.T) {
	fns, _ := load(t)
	require.Greater(t, len(fns), 20)
	for _, fn := range fns {
		first := strings.SplitN(strings.TrimSpace(fn.doc), "\n", 2)[0]
		assert.True(t, strings.HasPrefix(first, fn.name+" ") || fn.name == "New" && strings.HasPrefix(first, "New "),
			"%s: doc comment must start with the function's name (it is `dagger call --help`)", fn.name)
		for _, p := range fn.params {
			if p.name == "ctx" {
				continue
			}
			assert.NotEmpty(t, strings.TrimSpace(regexp.MustCompile(`(?m)^\+.*$`).ReplaceAllString(p.doc, "")),
				"%s --%s needs a doc comment", fn.name, p.name)
		}
	}
}

func TestChecksTakeNoRequiredArgument(t *testing.T) {
	fns, _ := load(t)
	var checks []string
	for _, fn := range fns {
		if !strings.Contains(fn.doc, "+check") {
			continue
		}
		checks = append(checks, fn.name)
		assert.Equal(t, "error", fn.result, "%s: a check returns only an error", fn.name)
		for _, p := range fn.params {
			if p.name != "ctx" {
				assert.True(t, p.optional(), "%s: check argument --%s must be optional so `dagger check` can run it", fn.name, p.name)
			}
		}
	}
	for _, want := range []string{"Lint", "Test", "DataContracts", "DvcDry", "Smoke", "ApiContract", "ModelGate", "Check", "RequirementsCheck", "Scan"} {
		assert.Contains(t, checks, want)
	}
}

var cacheAnnotation = regexp.MustCompile(`(?m)^\+cache=(.*)$`)

// cacheOf returns the function's +cache annotation ("" when it has none).
func cacheOf(t *testing.T, fn function) Cache {
	t.Helper()
	m := cacheAnnotation.FindAllStringSubmatch(fn.doc, -1)
	require.LessOrEqual(t, len(m), 1, "%s: one +cache annotation at most", fn.name)
	if len(m) == 0 {
		return Cached
	}
	v := strings.TrimSpace(m[0][1])
	require.Regexp(t, `^"(session|never)"$`, v, "%s: +cache must be \"session\" or \"never\" (CachePolicies)", fn.name)
	return Cache(strings.Trim(v, `"`))
}

// TestEveryFunctionHasOneCachePolicy: the function list comes from the module's source, the
// policies from the one table; they must agree both ways.
func TestEveryFunctionHasOneCachePolicy(t *testing.T) {
	fns, _ := load(t)
	for name, fn := range fns {
		p, ok := CachePolicies[name]
		if !assert.True(t, ok, "%s has no row in tests/moduleapi CachePolicies: add one (cached, session or never, and why) and the matching +cache annotation", name) {
			continue
		}
		assert.NotEmpty(t, p.Reason, name)
		want := map[Cache]string{Cached: "no +cache annotation", Session: `+cache="session"`, Never: `+cache="never"`}[p.Cache]
		assert.Equal(t, p.Cache, cacheOf(t, fn), "%s: CachePolicies says %s", name, want)
	}
	for name := range CachePolicies {
		_, ok := fns[name]
		assert.True(t, ok, "CachePolicies has a row for %s, which is not a function of the module: remove it", name)
	}
}

// TestTheWorldIsNeverCachedForAWeek pins the list: what reads the outside world or has
// side effects is never cached across sessions.
func TestTheWorldIsNeverCachedForAWeek(t *testing.T) {
	for _, name := range []string{"Trace", "ModelGate", "Check", "GateReport", "Scan", "ScanReport"} {
		assert.NotEqual(t, Cached, CachePolicies[name].Cache, "%s reads the outside world: session or never", name)
	}
	for _, name := range []string{"Publish", "PublishBase", "Promote", "Deploy", "Release", "RollbackService", "RollbackModel", "RollbackData"} {
		assert.Equal(t, Never, CachePolicies[name].Cache, "%s has side effects: never", name)
	}
}

func TestCredentialsAreSecrets(t *testing.T) {
	fns, _ := load(t)
	credential := regexp.MustCompile(`(?i)(password|token|kubeconfig|key|credential)`)
	for _, fn := range fns {
		for _, p := range fn.params {
			if credential.MatchString(p.name) && !strings.HasSuffix(p.name, "Id") {
				assert.Equal(t, "*dagger.Secret", p.typ, "%s --%s carries a credential: it must be a *dagger.Secret", fn.name, p.name)
			}
		}
	}
}

func TestSourceDefaultsToTheRepositoryWithATightIgnore(t *testing.T) {
	fns, _ := load(t)
	newFn := fns["New"]
	var source *param
	for i, p := range newFn.params {
		if p.name == "source" {
			source = &newFn.params[i]
		}
	}
	require.NotNil(t, source)
	assert.Contains(t, source.doc, `+defaultPath="/"`)
	for _, ignored := range []string{`".git"`, `".env"`, `"**/__pycache__"`, `"**/.venv"`, `"**/.dvc/cache"`, `"dagger/internal"`} {
		assert.Contains(t, source.doc, ignored)
	}
}

// maxSharedParams is how many parameters (same name, same type) two exported functions may have
// in common. The rollbacks share ten (the environment, --confirm, --reason and what proves who
// acts to GitLab): a family's common flags. More is one function's argument list written twice,
// as `plan` and `deploy` once were (22 in common): a flag added to one then silently misses the
// other. One function with a mode flag (`deploy --dry-run`) keeps one list.
const maxSharedParams = 12

// sharedParams are the parameters a and b both have, by name and type (ctx aside), sorted.
func sharedParams(a, b function) []string {
	mine := map[string]bool{}
	for _, p := range a.params {
		mine[p.name+" "+p.typ] = true
	}
	var out []string
	for _, p := range b.params {
		if p.name != "ctx" && mine[p.name+" "+p.typ] {
			out = append(out, "--"+p.name)
		}
	}
	sort.Strings(out)
	return out
}

func TestNoArgumentListIsWrittenTwice(t *testing.T) {
	fns, _ := load(t)
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, a := range names {
		for _, b := range names[i+1:] {
			shared := sharedParams(fns[a], fns[b])
			assert.LessOrEqual(t, len(shared), maxSharedParams,
				"%s and %s repeat %d parameters (%s): give them one function with a mode flag, as deploy --dry-run, so a flag is written once",
				a, b, len(shared), strings.Join(shared, " "))
		}
	}
	// The dry run is deploy's own flag: every deploy flag reaches it.
	deploy := fns["Deploy"]
	require.NotEmpty(t, deploy.params)
	last := deploy.params[len(deploy.params)-1]
	assert.Equal(t, param{"dryRun", "bool", last.doc}, last)
	assert.True(t, last.optional(), "--dry-run is optional: `dagger call deploy --env=staging` deploys")
	_, ok := fns["Plan"]
	assert.False(t, ok, "plan is deploy --dry-run")
}

// The check above can fail: two functions with the same long list are caught, a family's few
// common flags are not.
func TestSharedParamsCountsByNameAndType(t *testing.T) {
	list := func(names ...string) function {
		f := function{params: []param{{"ctx", "context.Context", ""}}}
		for _, n := range names {
			f.params = append(f.params, param{n, "string", ""})
		}
		return f
	}
	var long []string
	for i := 0; i <= maxSharedParams; i++ {
		long = append(long, fmt.Sprintf("flag%02d", i))
	}
	assert.Len(t, sharedParams(list(long...), list(long...)), maxSharedParams+1)
	assert.Equal(t, []string{"--env", "--reason"}, sharedParams(list("env", "reason", "revision"), list("reason", "toVersion", "env")))
	other := list("env")
	other.params[1].typ = "int"
	assert.Empty(t, sharedParams(list("env"), other), "the same name with another type is another parameter")
}
