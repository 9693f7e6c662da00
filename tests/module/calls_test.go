//go:build daggerharness

package main

// A `dagger call` line run against the offline harness the way the Dagger CLI would run it: the
// constructor and the function are found from the module's source (dagger/*.go, the same source
// the engine's codegen reads), flags are mapped to their arguments by Dagger's naming rule
// (--api-image ↔ apiImage), secrets given as env:NAME become secrets holding the caller's
// variable, omitted arguments take their +default/+defaultPath, and the chain after the
// function (sync, export) is applied to its result.

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
	"gitlab.com/soccerpredictai/pipeline/tests/gitlabci"
	"gitlab.com/soccerpredictai/pipeline/tests/moduleapi"
)

// sigParam is one argument of a module function as the source declares it.
type sigParam struct {
	name        string // Go name: apiImage
	optional    bool
	defaultPath string // +defaultPath
	def         string // +default (JSON)
	hasDefault  bool
}

var (
	sigOnce sync.Once
	sigs    map[string][]sigParam // Go function name (New, GateReport) → arguments after ctx
	sigErr  error
)

var (
	pragmaDefaultPath = regexp.MustCompile(`(?m)^\+defaultPath="([^"]*)"`)
	pragmaDefault     = regexp.MustCompile(`(?m)^\+default=(.*)$`)
)

// moduleSignatures parses the module's source (the test runs in dagger/).
func moduleSignatures(t *testing.T) map[string][]sigParam {
	t.Helper()
	sigOnce.Do(func() {
		sigs = map[string][]sigParam{}
		files, err := filepath.Glob("*.go")
		if err != nil {
			sigErr = err
			return
		}
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".gen.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
			if err != nil {
				sigErr = err
				return
			}
			cmap := ast.NewCommentMap(fset, file, file.Comments)
			for _, d := range file.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || !fd.Name.IsExported() {
					continue
				}
				if fd.Recv == nil && fd.Name.Name != "New" {
					continue
				}
				var ps []sigParam
				for _, fld := range fd.Type.Params.List {
					doc := ""
					for _, g := range cmap[fld] {
						doc += g.Text()
					}
					for _, n := range fld.Names {
						if n.Name == "ctx" {
							continue
						}
						p := sigParam{name: n.Name}
						if m := pragmaDefaultPath.FindStringSubmatch(doc); m != nil {
							p.defaultPath, p.optional = m[1], true
						}
						if m := pragmaDefault.FindStringSubmatch(doc); m != nil {
							p.def, p.hasDefault, p.optional = strings.TrimSpace(m[1]), true, true
						}
						if strings.Contains(doc, "+optional") {
							p.optional = true
						}
						ps = append(ps, p)
					}
				}
				sigs[fd.Name.Name] = ps
			}
		}
	})
	require.NoError(t, sigErr)
	require.NotEmpty(t, sigs["New"])
	return sigs
}

// kebab is Dagger's flag name of an argument or function: apiImage → api-image.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// goName is the Go name of a function called as fn on the command line: gate-report → GateReport.
func goName(fn string) string {
	var b strings.Builder
	for _, part := range strings.Split(fn, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// callEnv is what a line runs with: the caller's variables (for $VAR and env:NAME).
type callEnv struct {
	vars map[string]string
	// userDefaults are the lines of the .env next to dagger.json, as Dagger v0.21.8 applies
	// them: ARG for the constructor, FUNCTION_ARG for a function, case-insensitive.
	userDefaults map[string]string
}

// userDefault returns the .env value for an omitted argument of fn ("" for the constructor).
func (e callEnv) userDefault(fn, arg string) (string, bool) {
	want := arg
	if fn != "" {
		want = strings.ReplaceAll(kebab(fn), "-", "") + "_" + arg
	}
	for k, v := range e.userDefaults {
		if strings.EqualFold(k, want) {
			return os.Expand(v, func(name string) string { return e.vars[name] }), true
		}
	}
	return "", false
}

// value converts a flag (or default) to the Go type of the argument.
func (e callEnv) value(t reflect.Type, flag, raw string) (reflect.Value, error) {
	switch t {
	case reflect.TypeOf(""):
		return reflect.ValueOf(raw), nil
	case reflect.TypeOf(0):
		n, err := strconv.Atoi(raw)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("--%s=%q is not an integer", flag, raw)
		}
		return reflect.ValueOf(n), nil
	case reflect.TypeOf(false):
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("--%s=%q is not a boolean", flag, raw)
		}
		return reflect.ValueOf(b), nil
	case reflect.TypeOf([]string{}):
		return reflect.ValueOf(strings.Split(raw, ",")), nil
	case reflect.TypeOf((*dagger.Secret)(nil)):
		scheme, name, ok := strings.Cut(raw, ":")
		name = strings.TrimPrefix(name, "//") // user defaults write env://NAME, file://PATH
		if !ok {
			return reflect.Value{}, fmt.Errorf("--%s=%q: a secret is given as env:NAME or file:PATH", flag, raw)
		}
		switch scheme {
		case "env":
			v, ok := e.vars[name]
			if !ok {
				return reflect.Value{}, fmt.Errorf("--%s=env:%s: the variable %s is not set for this job", flag, name, name)
			}
			return reflect.ValueOf(dag.SetSecret(name, v)), nil
		case "file":
			return reflect.ValueOf(dag.SetSecret("file-"+flag, "contents of "+name)), nil
		}
		return reflect.Value{}, fmt.Errorf("--%s=%q: unknown secret provider %q", flag, raw, scheme)
	case reflect.TypeOf((*dagger.File)(nil)):
		return reflect.ValueOf(dag.Host().File(filepath.Join("/work/repo", raw))), nil
	case reflect.TypeOf((*dagger.Directory)(nil)):
		return reflect.ValueOf(dag.Host().Directory(filepath.Join("/work/repo", raw))), nil
	case reflect.TypeOf((*dagger.Service)(nil)):
		// The CLI makes a service argument (tcp://localhost:5000) an Address's service.
		return reflect.ValueOf(dag.Address(raw).Service()), nil
	}
	return reflect.Value{}, fmt.Errorf("--%s: argument type %s is not supported by the offline runner", flag, t)
}

// defaultValue is what the engine passes for an omitted argument.
func (e callEnv) defaultValue(t reflect.Type, p sigParam) (reflect.Value, error) {
	if p.defaultPath != "" {
		switch t {
		case reflect.TypeOf((*dagger.Directory)(nil)):
			return reflect.ValueOf(dag.Host().Directory(filepath.Join("/work/repo", p.defaultPath))), nil
		case reflect.TypeOf((*dagger.File)(nil)):
			return reflect.ValueOf(dag.Host().File(filepath.Join("/work/repo", p.defaultPath))), nil
		case reflect.TypeOf((*dagger.GitRef)(nil)):
			return reflect.ValueOf(dag.Git("/work/repo").Head()), nil
		}
		return reflect.Value{}, fmt.Errorf("--%s: +defaultPath on %s", kebab(p.name), t)
	}
	if p.hasDefault {
		var v any
		if err := json.Unmarshal([]byte(p.def), &v); err != nil {
			return reflect.Value{}, fmt.Errorf("--%s: +default=%s: %w", kebab(p.name), p.def, err)
		}
		return e.value(t, kebab(p.name), fmt.Sprint(v))
	}
	return reflect.Zero(t), nil
}

// args builds the Go arguments of fn from the flags of one call.
func (e callEnv) args(t *testing.T, fnType reflect.Type, fn string, params []sigParam, flags []gitlabci.Arg) ([]reflect.Value, error) {
	scope := goName(fn)
	if fn == "constructor" {
		scope = ""
	}
	given := map[string]string{}
	for _, a := range flags {
		given[a.Name] = a.Value
	}
	// The first parameter is the context.
	require.Equal(t, len(params)+1, fnType.NumIn(), "%s: the source's parameters must match the compiled signature", fn)
	out := []reflect.Value{reflect.ValueOf(context.Background())}
	for i, p := range params {
		typ := fnType.In(i + 1)
		flag := kebab(p.name)
		raw, ok := given[flag]
		delete(given, flag)
		if !ok {
			raw, ok = e.userDefault(scope, p.name)
		}
		var v reflect.Value
		var err error
		switch {
		case ok:
			v, err = e.value(typ, flag, os.Expand(raw, func(name string) string { return e.vars[name] }))
		case !p.optional:
			err = fmt.Errorf("%s: required flag --%s is missing", fn, flag)
		default:
			v, err = e.defaultValue(typ, p)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	for flag := range given {
		return nil, fmt.Errorf("%s has no flag --%s", fn, flag)
	}
	return out, nil
}

// unsetVars lists the $VARIABLES of a line its caller does not set.
func (e callEnv) unsetVars(line string) []string {
	var missing []string
	os.Expand(line, func(name string) string {
		if _, ok := e.vars[name]; !ok {
			missing = append(missing, name)
		}
		return ""
	})
	return missing
}

// runLine runs one parsed `dagger call` line: constructor, function, then sync/export. The
// error is the first one any step returned.
func (e callEnv) runLine(t *testing.T, d gitlabci.DaggerCall) error {
	t.Helper()
	_, err := e.call(t, d)
	return err
}

// call is runLine that also returns what the function returned (nil for a function that
// returns only an error), for the lines whose next step acts on it interactively (terminal,
// up) or that end with it.
func (e callEnv) call(t *testing.T, d gitlabci.DaggerCall) (any, error) {
	t.Helper()
	sigs := moduleSignatures(t)
	if missing := e.unsetVars(d.Line); len(missing) > 0 {
		return nil, fmt.Errorf("the line uses %v, which its caller does not set", missing)
	}
	newArgs, err := e.args(t, reflect.TypeOf(New), "constructor", sigs["New"], d.Ctor)
	if err != nil {
		return nil, err
	}
	res := reflect.ValueOf(New).Call(newArgs)
	if err, _ := res[1].Interface().(error); err != nil {
		return nil, err
	}
	m := res[0]
	fn := d.Chain[0]
	name := goName(fn.Name)
	params, ok := sigs[name]
	if !ok {
		return nil, fmt.Errorf("the module has no function %q", fn.Name)
	}
	method := m.MethodByName(name)
	require.True(t, method.IsValid(), name)
	callArgs, err := e.args(t, method.Type(), fn.Name, params, fn.Args)
	if err != nil {
		return nil, err
	}
	out := method.Call(callArgs)
	if err, _ := out[len(out)-1].Interface().(error); err != nil {
		return nil, err
	}
	if len(out) < 2 {
		return nil, nil
	}
	result := out[0].Interface()
	return result, e.chain(d, result)
}

// chain applies the steps after the function (sync, export) to its result.
func (e callEnv) chain(d gitlabci.DaggerCall, result any) error {
	var err error
	for _, step := range d.Chain[1:] {
		switch step.Name {
		case "sync":
			switch r := result.(type) {
			case *dagger.Container:
				_, err = r.Sync(context.Background())
			case *dagger.Directory:
				_, err = r.Sync(context.Background())
			}
		case "export":
			path, _ := step.Arg("path")
			switch r := result.(type) {
			case *dagger.Directory:
				_, err = r.Export(context.Background(), path)
			case *dagger.File:
				_, err = r.Export(context.Background(), path)
			case *dagger.Container:
				_, err = r.Export(context.Background(), path)
			default:
				err = fmt.Errorf("export on %T", result)
			}
		default:
			// Interactive or further steps (terminal, up, publish, as-tarball) act on a value
			// the function returned; the function itself has run.
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// outsideWorld is what the offline run saw of the cluster, registry and GitLab: recorded
// execs (helm, the registry tool (ci/cmd/oci), every gate's tool), image pushes, and HTTP requests to GitLab.
type outsideWorld struct {
	mu     sync.Mutex
	gitlab []string
	http   []string // other services: MLflow
}

func (o *outsideWorld) reached() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, e := range rec.Execs() {
		out = append(out, "exec: "+e.Line())
	}
	for range rec.CallsTo("publish") {
		out = append(out, "publish")
	}
	for _, r := range o.gitlab {
		out = append(out, "gitlab: "+r)
	}
	for _, r := range o.http {
		out = append(out, "http: "+r)
	}
	return out
}

// liveCalls is the part of reached that talks to the cluster (helm), a registry (the promote
// tool, an image push) or GitLab: what a function with side effects must get to.
func (o *outsideWorld) liveCalls() []string {
	var out []string
	for _, r := range o.reached() {
		if strings.HasPrefix(r, "gitlab: ") || strings.HasPrefix(r, "http: ") || r == "publish" ||
			strings.HasPrefix(r, "exec: ") && (strings.Contains(r, "helm ") || strings.Contains(r, "/usr/local/bin/oci ")) {
			out = append(out, r)
		}
	}
	return out
}

// mustReachTheWorld checks a line's run: a function with side effects or live reads
// (moduleapi.CachePolicies says never) must get to the cluster, a registry or GitLab; any
// other must at least run its tool. An error after that point is the fake world's limit.
func mustReachTheWorld(t *testing.T, d gitlabci.DaggerCall, world *outsideWorld, err error) {
	t.Helper()
	reached := world.reached()
	if moduleapi.CachePolicies[goName(d.Function())].Cache == moduleapi.Never {
		reached = world.liveCalls()
	}
	if !assert.NotEmpty(t, reached, "reached nothing outside; error: %v\n%s", err, d.Line) {
		return
	}
	if err != nil {
		t.Logf("%s: stopped after reaching %s: %v", d.Function(), reached[0], err)
	}
}

// gitlabComFake answers the module's GitLab API calls (https://gitlab.com/api/v4 unless
// CI_API_V4_URL is set) from a GitLab that approved the deployments of commitSHA: it replaces
// http.DefaultTransport for gitlab.com only, for the duration of the test.
func gitlabComFake(t *testing.T, o *outsideWorld) {
	t.Helper()
	made := &apiDeployments{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.gitlab = append(o.gitlab, r.Method+" "+r.URL.RequestURI())
		o.mu.Unlock()
		if made.serve(w, r) || serveUser(w, r) || serveProject(w, r) {
			return
		}
		env := r.URL.Query().Get("environment")
		if env == "" {
			env = "staging"
		}
		d := map[string]any{"id": 9001, "iid": 12, "ref": "main", "sha": commitSHA, "status": "running",
			"user": map[string]any{"username": "dave", "name": "Dave Deployer"}, "environment": map[string]any{"id": 3, "name": env},
			"deployable": map[string]any{"id": 777, "name": "deploy-" + env, "status": "running",
				"pipeline": map[string]any{"id": 555, "sha": commitSHA, "ref": "main", "status": "running"}},
			"approvals": []map[string]any{
				approval("bob"), approval("carol"),
			}}
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "/repository/commits/"+commitSHA+"/merge_requests"):
			_ = json.NewEncoder(w).Encode([]map[string]any{{"id": 31, "iid": 3, "title": "feat: model v2", "state": "merged",
				"author": map[string]any{"id": 4, "username": "alice", "name": "Alice Author", "state": "active", "bot": false}}})
		case strings.HasSuffix(p, "/api/v4/users"):
			_, _ = w.Write([]byte(`[]`)) // the author keeps her email private
		case strings.HasSuffix(p, "/repository/commits/"+commitSHA):
			_ = json.NewEncoder(w).Encode(map[string]any{"id": commitSHA, "title": "feat", "author_name": "Alice Author", "author_email": "alice@example.com"})
		case strings.HasSuffix(p, "/deployments"):
			_ = json.NewEncoder(w).Encode(append(made.list(env), d))
		case strings.HasSuffix(p, "/deployments/9001"):
			_ = json.NewEncoder(w).Encode(d)
		case strings.HasSuffix(p, "/user"):
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 5, "username": "erin", "name": "Erin"})
		case strings.HasSuffix(p, "/repository/tags"):
			_ = json.NewEncoder(w).Encode([]map[string]any{})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	asGitLabCom(t, srv)
}

// asGitLabCom routes the module's requests to gitlab.com (the default CI_API_V4_URL) to srv
// for the duration of the test.
func asGitLabCom(t *testing.T, srv *httptest.Server) {
	t.Helper()
	orig := http.DefaultTransport
	host := strings.TrimPrefix(srv.URL, "http://")
	http.DefaultTransport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "gitlab.com" {
			return orig.RoundTrip(r)
		}
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host, r2.Host = "http", host, ""
		return orig.RoundTrip(r2)
	})
	t.Cleanup(func() { http.DefaultTransport = orig })
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// artifactsOfAGreenPipeline answers the files a job reads from earlier jobs' artifacts (the
// gate report, the scan reports) as a green pipeline of commitSHA left them, and the sample
// project's files as they are.
func artifactsOfAGreenPipeline(t *testing.T) {
	t.Helper()
	deployHappy(t)
	publishWorld(t, "push")
	report := fullGateReport(t, commitSHA, gate.Pass)
	rec.Respond(daggertest.OnFile("reports/gate-report.json", report)) // the gate-report job's artifact
	asShipped(t)                                                       // the committed keyless policy
	fakeVerify(t, report)                                              // the evidence publish signed under it
}
