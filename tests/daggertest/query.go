package daggertest

import (
	"path"
	"strings"
)

// Exec is one withExec the module asked for, with the container chain it ran on.
type Exec struct {
	// Args is the command line.
	Args []string
	// Step is the withExec step itself (its other arguments are options such as expect).
	Step Step
	// Container is the chain that built the container the command ran in.
	Container Chain
}

// Line is the command line joined by spaces, for substring assertions.
func (e Exec) Line() string { return strings.Join(e.Args, " ") }

// Execs returns every distinct withExec found in any recorded chain, references included,
// in first-seen order.
func (r *Recorder) Execs() []Exec {
	seen := map[string]bool{}
	var out []Exec
	var walk func(c Chain)
	walk = func(c Chain) {
		for i, s := range c {
			for _, v := range s.Args {
				walkValue(v, walk)
			}
			if s.Field != "withExec" {
				continue
			}
			key := c[:i+1].String()
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Exec{Args: s.Strings("args"), Step: s, Container: append(Chain(nil), c[:i]...)})
		}
	}
	for _, call := range r.Calls() {
		walk(call.Chain)
		for _, v := range call.LeafArgs {
			walkValue(v, walk)
		}
	}
	return out
}

func walkValue(v any, walk func(Chain)) {
	switch x := v.(type) {
	case Ref:
		walk(x.Chain)
	case []any:
		for _, e := range x {
			walkValue(e, walk)
		}
	case map[string]any:
		for _, e := range x {
			walkValue(e, walk)
		}
	}
}

// ExecWith returns the first exec whose command line contains every word, in order.
func (r *Recorder) ExecWith(words ...string) (Exec, bool) {
	for _, e := range r.Execs() {
		if ContainsInOrder(e.Line(), words) {
			return e, true
		}
	}
	return Exec{}, false
}

// CallsTo returns the recorded calls whose leaf is the given field (e.g. "publish", "export").
func (r *Recorder) CallsTo(leaf string) []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.Leaf == leaf {
			out = append(out, c)
		}
	}
	return out
}

// ContainsInOrder reports whether every word appears in s, each after the previous one.
func ContainsInOrder(s string, words []string) bool {
	for _, w := range words {
		i := strings.Index(s, w)
		if i < 0 {
			return false
		}
		s = s[i+len(w):]
	}
	return true
}

// Steps returns every step of the chain selecting field.
func (c Chain) Steps(field string) []Step {
	var out []Step
	for _, s := range c {
		if s.Field == field {
			out = append(out, s)
		}
	}
	return out
}

// Has reports whether the chain selects field at least once.
func (c Chain) Has(field string) bool { return len(c.Steps(field)) > 0 }

// StepWhere returns the first step selecting field whose string argument arg equals value.
func (c Chain) StepWhere(field, arg, value string) (Step, bool) {
	for _, s := range c.Steps(field) {
		if s.Str(arg) == value {
			return s, true
		}
	}
	return Step{}, false
}

// Str returns a string argument ("" when absent or not a string).
func (s Step) Str(name string) string {
	v, _ := s.Args[name].(string)
	return v
}

// Bool returns a boolean argument.
func (s Step) Bool(name string) bool {
	v, _ := s.Args[name].(bool)
	return v
}

// Strings returns a list-of-strings argument.
func (s Step) Strings(name string) []string {
	list, _ := s.Args[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

// Ref returns an argument that referred to another object.
func (s Step) Ref(name string) (Ref, bool) {
	v, ok := s.Args[name].(Ref)
	return v, ok
}

// Objects returns a list-of-input-objects argument (e.g. buildArgs, secrets).
func (s Step) Objects(name string) []map[string]any {
	list, _ := s.Args[name].([]any)
	var out []map[string]any
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ExecArgs returns the command line of the exec the call was selected on (the chain's last
// step), and whether that step is an exec.
func (c Call) ExecArgs() ([]string, bool) {
	if len(c.Chain) == 0 || c.Chain[len(c.Chain)-1].Field != "withExec" {
		return nil, false
	}
	return c.Chain[len(c.Chain)-1].Strings("args"), true
}

// OnExec answers leaves selected on an exec whose command line contains words in order:
// answers maps a leaf (exitCode, stdout, combinedOutput, contents, ...) to its value.
func OnExec(words []string, answers map[string]any) Responder {
	return func(c Call) (any, bool) {
		args, ok := c.ExecArgs()
		if !ok || !ContainsInOrder(strings.Join(args, " "), words) {
			return nil, false
		}
		v, ok := answers[c.Leaf]
		return v, ok
	}
}

// OnFile answers `contents` of a file whose path (the last file(path:) step) ends with suffix.
func OnFile(suffix string, contents string) Responder {
	return func(c Call) (any, bool) {
		if c.Leaf != "contents" || len(c.Chain) == 0 {
			return nil, false
		}
		last := c.Chain[len(c.Chain)-1]
		if last.Field != "file" || !strings.HasSuffix(last.Str("path"), suffix) {
			return nil, false
		}
		return contents, true
	}
}

// Chain returns the chain behind an ID the recorder handed out.
func (r *Recorder) Chain(id string) (Chain, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.ids[id]
	return c, ok
}

// Always answers every call to leaf with value.
func Always(leaf string, value any) Responder {
	return func(c Call) (any, bool) {
		if c.Leaf == leaf {
			return value, true
		}
		return nil, false
	}
}

// NewFiles returns, in order, the withNewFile steps of the chain as path → contents.
func (c Chain) NewFiles() map[string]string {
	out := map[string]string{}
	for _, s := range c.Steps("withNewFile") {
		out[s.Str("path")] = s.Str("contents")
	}
	return out
}

// Files lists what a directory chain holds as far as the module built it: withNewFile
// contents, withFile sources (rendered as "<chain>"), and, recursively, the files of
// directories merged in with withDirectory, keyed by path.
//
// A directory taken from a container (`...withExec(...).directory(path:)`) holds what the
// exec wrote, which no recording can know: only the steps after it are listed.
func (c Chain) Files() map[string]string {
	out := map[string]string{}
	start := 0
	for i, s := range c {
		if s.Field == "directory" {
			start = i + 1
		}
	}
	for _, s := range c[start:] {
		switch s.Field {
		case "withNewFile":
			out[cleanJoin("", s.Str("path"))] = s.Str("contents")
		case "withFile":
			if ref, ok := s.Ref("source"); ok {
				out[cleanJoin("", s.Str("path"))] = "<" + ref.Chain.String() + ">"
			}
		case "withDirectory":
			ref, ok := s.Ref("source")
			if !ok {
				ref, ok = s.Ref("directory")
			}
			if ok {
				for p, v := range ref.Chain.Files() {
					out[cleanJoin(s.Str("path"), p)] = v
				}
			}
		}
	}
	return out
}

func cleanJoin(dir, p string) string {
	dir = strings.Trim(dir, "/")
	if dir == "." {
		dir = ""
	}
	p = strings.TrimPrefix(p, "/")
	if dir == "" {
		return p
	}
	return dir + "/" + p
}

// OwnSource reports whether the directory chain c is the calling module's own source
// (`currentModule.source`, then `directory(path:)` and `filter(include:, exclude:)` steps) and,
// when it is, the path it names relative to the module's context root and the filters applied
// on the way, resolved as Dagger v0.21.8 does: `currentModule.source` is the context directory
// narrowed to the source subpath, dagger.json's "source" (core/schema/module.go
// currentModuleSource); `directory(path:)` joins the path to the directory's own, a leading "/"
// included, inside the same snapshot, and containerd's RootPath keeps ".." at the snapshot's
// root (core/directory.go DirectorySubdirectoryLazy).
func (c Chain) OwnSource(sourceSubpath string) (dir string, filters []Step, ok bool) {
	if len(c) < 2 || c[0].Field != "currentModule" || c[1].Field != "source" {
		return "", nil, false
	}
	dir = path.Join("/", sourceSubpath)
	for _, s := range c[2:] {
		switch s.Field {
		case "directory":
			dir = path.Join(dir, s.Str("path"))
		case "filter":
			filters = append(filters, s)
		default:
			return "", nil, false
		}
	}
	return strings.TrimPrefix(dir, "/"), filters, true
}
