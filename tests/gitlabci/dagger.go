package gitlabci

import (
	"fmt"
	"regexp"
	"strings"
)

// Arg is one `--name=value` flag of a `dagger call` line.
type Arg struct {
	Name, Value string
}

// Call is one function of a `dagger call` chain with its flags.
type Call struct {
	Name string
	Args []Arg
}

// Arg returns the value of the flag --name.
func (c Call) Arg(name string) (string, bool) {
	for _, a := range c.Args {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// DaggerCall is a parsed `dagger call [constructor flags] fn [flags] [fn [flags]]...` line.
type DaggerCall struct {
	Line string
	// Ctor holds the constructor flags (those before the first function).
	Ctor []Arg
	// Chain is the chain of functions, the first one being the module's function.
	Chain []Call
}

// Function returns the module function the line calls (the first of the chain).
func (d DaggerCall) Function() string { return d.Chain[0].Name }

// CtorArg returns the value of the constructor flag --name.
func (d DaggerCall) CtorArg(name string) (string, bool) {
	return Call{Args: d.Ctor}.Arg(name)
}

// ExportPath returns the --path of a trailing `export`, when the chain ends with one.
func (d DaggerCall) ExportPath() (string, bool) {
	last := d.Chain[len(d.Chain)-1]
	if len(d.Chain) < 2 || last.Name != "export" {
		return "", false
	}
	return last.Arg("path")
}

// AllArgs returns every flag of the line: constructor flags first, then each function's.
func (d DaggerCall) AllArgs() []Arg {
	out := append([]Arg(nil), d.Ctor...)
	for _, c := range d.Chain {
		out = append(out, c.Args...)
	}
	return out
}

var (
	flagPattern     = regexp.MustCompile(`^--([a-z][a-z0-9-]*)=(.+)$`)
	functionPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	// shellSyntax is everything that would make a line more than a plain command with
	// $VARIABLE expansion: pipes, lists, redirections, substitutions, quoting, globbing, grouping.
	shellSyntax = regexp.MustCompile("[|;&<>`\"'\\\\(){}*?\\[\\]!#~]|\\$\\(|\\$\\{|\\n")
	// quotedVar is the one quoting allowed: --name="$VARIABLE", so a value with spaces (a
	// rollback --reason) reaches the module as one argument instead of being word-split.
	quotedVar = regexp.MustCompile(`^(--[a-z][a-z0-9-]*=)"(\$[A-Z_][A-Z0-9_]*)"$`)
)

// ParseDaggerCall parses a script line that must be exactly one `dagger call` invocation with
// `--name=value` flags and no shell syntax beyond $VARIABLE expansion.
func ParseDaggerCall(line string) (DaggerCall, error) {
	if strings.Contains(line, "\n") {
		return DaggerCall{}, fmt.Errorf("script line %q uses shell syntax (a newline): a job line must be a single `dagger call` with --flag=value arguments", line)
	}
	f := strings.Fields(line)
	for i, tok := range f {
		if q := quotedVar.FindStringSubmatch(tok); q != nil {
			f[i] = q[1] + q[2]
			continue
		}
		if m := shellSyntax.FindString(tok); m != "" {
			return DaggerCall{}, fmt.Errorf("script line %q uses shell syntax %q: a job line must be a single `dagger call` with --flag=value arguments (only --flag=\"$VARIABLE\" may be quoted); move the logic into the module", line, m)
		}
	}
	if len(f) < 3 || f[0] != "dagger" || f[1] != "call" {
		return DaggerCall{}, fmt.Errorf("script line %q is not a `dagger call ...` line: jobs only call the module", line)
	}
	d := DaggerCall{Line: line}
	for _, tok := range f[2:] {
		if strings.HasPrefix(tok, "--") {
			m := flagPattern.FindStringSubmatch(tok)
			if m == nil {
				return DaggerCall{}, fmt.Errorf("script line %q: flag %q must be written --name=value", line, tok)
			}
			a := Arg{Name: m[1], Value: m[2]}
			if len(d.Chain) == 0 {
				d.Ctor = append(d.Ctor, a)
			} else {
				d.Chain[len(d.Chain)-1].Args = append(d.Chain[len(d.Chain)-1].Args, a)
			}
			continue
		}
		if !functionPattern.MatchString(tok) {
			return DaggerCall{}, fmt.Errorf("script line %q: %q is neither a --flag=value nor a function name", line, tok)
		}
		d.Chain = append(d.Chain, Call{Name: tok})
	}
	if len(d.Chain) == 0 {
		return DaggerCall{}, fmt.Errorf("script line %q calls no function", line)
	}
	return d, nil
}
