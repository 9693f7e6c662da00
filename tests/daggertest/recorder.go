// Package daggertest is a recording Dagger engine endpoint for tests that run without an engine.
//
// The Dagger Go SDK talks to its engine by sending GraphQL queries to
// http://127.0.0.1:$DAGGER_SESSION_PORT/query with $DAGGER_SESSION_TOKEN as basic-auth user.
// Recorder serves that endpoint: it parses every query with a real GraphQL parser, answers
// with a response of the shape the query asks for (object fields nest, `id`/`sync` return
// opaque IDs, other leaves return null unless a Responder says otherwise) and records each
// query as a chain of Steps. IDs are remembered, so an argument that carries an ID expands to
// the chain that produced it: a test can ask "which image did the container that ran ruff
// start from, and which cache volume was mounted at /root/.cache/pip".
package daggertest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Step is one field selection of a query chain, with its arguments.
// Arguments that carried a recorded ID are replaced by a Ref to the chain behind it.
type Step struct {
	Field string
	Args  map[string]any
}

// Ref is an argument that referred to an object by ID: Chain is how that object was built.
type Ref struct {
	ID    string
	Chain Chain
}

// Chain is a sequence of steps from the query root, with node/load-from-ID steps expanded.
type Chain []Step

// Call is one leaf the module asked the engine to resolve.
type Call struct {
	// Chain leads to the object the leaf was selected on.
	Chain Chain
	// Leaf is the selected leaf field (stdout, id, sync, contents, publish, ...).
	Leaf string
	// LeafArgs are the leaf's arguments (for example publish(address:)).
	LeafArgs map[string]any
}

// ExecError makes a Responder answer like a failed exec does in a real engine.
type ExecError struct {
	Cmd      []string
	ExitCode int
	Stdout   string
	Stderr   string
}

// GQLError makes a Responder answer with an engine error that is not an exec failure (a file
// that does not exist, an image that cannot be pulled): only a message, no extensions.
type GQLError struct {
	Message string
}

// Responder answers a leaf. It returns the value (a JSON-marshalable value or *ExecError)
// and whether it handled the call.
type Responder func(call Call) (any, bool)

// Recorder is the recording endpoint. Create it with Start; it is safe for concurrent use.
type Recorder struct {
	// Token is the session token clients must present.
	Token string
	// Port is the loopback port the endpoint listens on.
	Port int

	srv *httptest.Server

	mu         sync.Mutex
	raw        []string
	calls      []Call
	ids        map[string]Chain
	next       int
	responders []Responder
	secrets    map[string]string
}

// Start serves a new recorder on a loopback port.
func Start() (*Recorder, error) {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	r := &Recorder{Token: hex.EncodeToString(tok), ids: map[string]Chain{}, secrets: map[string]string{}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	r.srv.Listener = l
	r.srv.Start()
	r.Port = l.Addr().(*net.TCPAddr).Port
	return r, nil
}

// Env returns the environment a Dagger SDK client needs to connect to this recorder.
func (r *Recorder) Env() map[string]string {
	return map[string]string{
		"DAGGER_SESSION_PORT":  strconv.Itoa(r.Port),
		"DAGGER_SESSION_TOKEN": r.Token,
	}
}

// Close stops the endpoint.
func (r *Recorder) Close() { r.srv.Close() }

// Respond adds a responder; later ones win.
func (r *Recorder) Respond(fn Responder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.responders = append(r.responders, fn)
}

// Reset forgets recorded queries and responders (IDs stay valid).
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw, r.calls, r.responders = nil, nil, nil
}

// Queries returns every raw query received, in order.
func (r *Recorder) Queries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.raw...)
}

// Calls returns every recorded leaf call, in order.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Leaked reports every query that contains plaintext, except the setSecret queries that
// created a secret from it or read it back (the only places a test's plaintext may travel).
func (r *Recorder) Leaked(plaintext string) []string {
	var out []string
	for _, q := range r.Queries() {
		if !strings.Contains(q, plaintext) {
			continue
		}
		if isSecretCreation(q) {
			continue
		}
		out = append(out, q)
	}
	return out
}

func isSecretCreation(q string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil || len(doc.Operations) != 1 {
		return false
	}
	sel := doc.Operations[0].SelectionSet
	if len(sel) != 1 {
		return false
	}
	f, ok := sel[0].(*ast.Field)
	if !ok || f.Name != "setSecret" || len(f.SelectionSet) != 1 {
		return false
	}
	leaf, ok := f.SelectionSet[0].(*ast.Field)
	// A test-made secret travels in its own setSecret selection: for its id, or when the
	// module reads it back with Plaintext (a real engine would send an opaque ID instead).
	return ok && (leaf.Name == "id" || leaf.Name == "plaintext") && len(leaf.SelectionSet) == 0
}

type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []string       `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	user, _, ok := req.BasicAuth()
	if !ok || user != r.Token {
		http.Error(w, "missing or wrong session token", http.StatusUnauthorized)
		return
	}
	if req.URL.Path != "/query" {
		http.NotFound(w, req)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var gr gqlRequest
	if err := json.Unmarshal(body, &gr); err != nil {
		http.Error(w, "request is not GraphQL-over-HTTP JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	data, gerr := r.answer(gr.Query, gr.Variables)
	w.Header().Set("Content-Type", "application/json")
	resp := map[string]any{"data": data}
	if gerr != nil {
		resp["errors"] = []gqlError{*gerr}
		resp["data"] = nil
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func (r *Recorder) answer(query string, vars map[string]any) (map[string]any, *gqlError) {
	r.mu.Lock()
	r.raw = append(r.raw, query)
	r.mu.Unlock()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return nil, &gqlError{Message: "recorder: query does not parse: " + err.Error()}
	}
	if len(doc.Operations) != 1 {
		return nil, &gqlError{Message: "recorder: expected exactly one operation"}
	}
	return r.resolve(nil, doc.Operations[0].SelectionSet, vars)
}

func (r *Recorder) resolve(path Chain, set ast.SelectionSet, vars map[string]any) (map[string]any, *gqlError) {
	out := map[string]any{}
	for _, s := range set {
		switch sel := s.(type) {
		case *ast.InlineFragment:
			sub, err := r.resolve(path, sel.SelectionSet, vars)
			if err != nil {
				return nil, err
			}
			for k, v := range sub {
				out[k] = v
			}
		case *ast.Field:
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			args, err := r.args(sel.Arguments, vars)
			if err != nil {
				return nil, err
			}
			step := Step{Field: sel.Name, Args: args}
			if len(sel.SelectionSet) > 0 {
				next := r.extend(path, step)
				if v, ok, gerr := r.respond(Call{Chain: path, Leaf: sel.Name, LeafArgs: args}); ok || gerr != nil {
					if gerr != nil {
						return nil, gerr
					}
					out[key] = v
					continue
				}
				sub, gerr := r.resolve(next, sel.SelectionSet, vars)
				if gerr != nil {
					return nil, gerr
				}
				out[key] = sub
				continue
			}
			v, gerr := r.leaf(path, step)
			if gerr != nil {
				return nil, gerr
			}
			out[key] = v
		default:
			return nil, &gqlError{Message: fmt.Sprintf("recorder: unsupported selection %T", s)}
		}
	}
	return out, nil
}

// extend appends step to path, expanding node(id:)/loadXFromID(id:) into the chain behind the ID.
func (r *Recorder) extend(path Chain, step Step) Chain {
	if len(path) == 0 && (step.Field == "node" || (strings.HasPrefix(step.Field, "load") && strings.HasSuffix(step.Field, "FromID"))) {
		if ref, ok := step.Args["id"].(Ref); ok && ref.Chain != nil {
			return append(Chain(nil), ref.Chain...)
		}
	}
	return append(append(Chain(nil), path...), step)
}

func (r *Recorder) leaf(path Chain, step Step) (any, *gqlError) {
	call := Call{Chain: path, Leaf: step.Field, LeafArgs: step.Args}
	if len(path) == 0 && step.Field != "setSecret" {
		call.Chain = nil
	}
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
	if v, ok, gerr := r.respond(call); ok || gerr != nil {
		return v, gerr
	}
	switch step.Field {
	case "id", "sync":
		return r.newID(path), nil
	case "plaintext":
		return r.secretPlaintext(path), nil
	case "contents":
		// A file the test made with dag.File(name, contents) reads back as itself.
		if len(path) == 1 && path[0].Field == "file" {
			return path[0].Args["contents"], nil
		}
	}
	return nil, nil
}

func (r *Recorder) respond(call Call) (any, bool, *gqlError) {
	r.mu.Lock()
	rs := append([]Responder(nil), r.responders...)
	r.mu.Unlock()
	for i := len(rs) - 1; i >= 0; i-- {
		v, ok := rs[i](call)
		if !ok {
			continue
		}
		if ee, isErr := v.(*ExecError); isErr {
			return nil, true, &gqlError{
				Message: fmt.Sprintf("process %q did not complete successfully: exit code: %d", strings.Join(ee.Cmd, " "), ee.ExitCode),
				Extensions: map[string]any{
					"_type": "EXEC_ERROR", "exitCode": ee.ExitCode, "cmd": ee.Cmd,
					"stdout": ee.Stdout, "stderr": ee.Stderr,
				},
			}
		}
		if ge, isErr := v.(*GQLError); isErr {
			return nil, true, &gqlError{Message: ge.Message}
		}
		return v, true, nil
	}
	return nil, false, nil
}

func (r *Recorder) newID(chain Chain) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := fmt.Sprintf("rec-id-%d", r.next)
	r.ids[id] = append(Chain(nil), chain...)
	return id
}

// SetSecretPlaintext tells the recorder the plaintext behind a secret URI (e.g. "env:TOKEN"),
// so a module that reads it with Plaintext gets it and any leak shows in later queries.
func (r *Recorder) SetSecretPlaintext(uri, plaintext string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[uri] = plaintext
}

func (r *Recorder) secretPlaintext(chain Chain) any {
	if len(chain) == 0 {
		return nil
	}
	root := chain[0]
	r.mu.Lock()
	defer r.mu.Unlock()
	switch root.Field {
	case "setSecret":
		return root.Args["plaintext"]
	case "secret":
		if uri, ok := root.Args["uri"].(string); ok {
			if v, ok := r.secrets[uri]; ok {
				return v
			}
		}
	}
	return nil
}

func (r *Recorder) args(list ast.ArgumentList, vars map[string]any) (map[string]any, *gqlError) {
	out := map[string]any{}
	for _, a := range list {
		v, err := a.Value.Value(vars)
		if err != nil {
			return nil, &gqlError{Message: "recorder: bad argument " + a.Name + ": " + err.Error()}
		}
		out[a.Name] = r.expandIDs(v)
	}
	return out, nil
}

func (r *Recorder) expandIDs(v any) any {
	switch x := v.(type) {
	case string:
		r.mu.Lock()
		chain, ok := r.ids[x]
		r.mu.Unlock()
		if ok {
			return Ref{ID: x, Chain: chain}
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.expandIDs(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.expandIDs(e)
		}
		return out
	}
	return v
}

// String renders a chain compactly, e.g. `container.from(address:"python:3.11").withExec(args:["ruff"])`.
// Refs render as `<chain>` in angle brackets, so substring assertions can look inside them.
func (c Chain) String() string {
	parts := make([]string, len(c))
	for i, s := range c {
		parts[i] = s.String()
	}
	return strings.Join(parts, ".")
}

// String renders one step with its arguments in sorted order.
func (s Step) String() string {
	if len(s.Args) == 0 {
		return s.Field
	}
	keys := make([]string, 0, len(s.Args))
	for k := range s.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + renderValue(s.Args[k])
	}
	return s.Field + "(" + strings.Join(parts, ",") + ")"
}

func renderValue(v any) string {
	switch x := v.(type) {
	case Ref:
		return "<" + x.Chain.String() + ">"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + renderValue(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case string:
		return strconv.Quote(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
