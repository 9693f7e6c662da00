package gitlabci

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is a parsed .gitlab-ci.yml.
type Config struct {
	// Doc is the document as decoded: maps are map[string]any, sequences []any.
	Doc map[string]any
}

// reservedKeys are the top-level keys that are not jobs.
var reservedKeys = map[string]bool{
	"default": true, "include": true, "before_script": true, "image": true, "services": true,
	"after_script": true, "variables": true, "stages": true, "cache": true, "workflow": true,
	"spec": true, "$schema": true,
}

// LoadConfig reads and parses a .gitlab-ci.yml file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseConfig(data)
}

// ParseConfig parses the content of a .gitlab-ci.yml file. Custom tags (such as !reference) are
// refused: the shim is meant to be plain YAML.
func ParseConfig(data []byte) (*Config, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("parse .gitlab-ci.yml: %w", err)
	}
	if err := refuseCustomTags(&node); err != nil {
		return nil, err
	}
	var raw any
	if err := node.Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode .gitlab-ci.yml: %w", err)
	}
	doc, ok := Normalize(raw).(map[string]any)
	if !ok {
		return nil, fmt.Errorf(".gitlab-ci.yml must be a mapping of keys to jobs")
	}
	return &Config{Doc: doc}, nil
}

func refuseCustomTags(n *yaml.Node) error {
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		return fmt.Errorf(".gitlab-ci.yml line %d: custom tag %s is not supported here: write the value out", n.Line, n.Tag)
	}
	for _, c := range n.Content {
		if err := refuseCustomTags(c); err != nil {
			return err
		}
	}
	return nil
}

// Normalize converts a decoded YAML value to JSON-compatible Go values (string keys everywhere).
func Normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = Normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = Normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = Normalize(e)
		}
		return out
	default:
		return v
	}
}

// Clone returns a deep copy of a normalized value.
func Clone(v any) any { return Normalize(v) }

// Stages returns the declared stages.
func (c *Config) Stages() []string { return stringList(c.Doc["stages"]) }

// JobNames returns the names of the visible jobs (not hidden, not reserved keys), sorted.
func (c *Config) JobNames() []string {
	var names []string
	for k := range c.Doc {
		if reservedKeys[k] || strings.HasPrefix(k, ".") {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Job returns a job (visible or hidden) with its `extends` resolved the way GitLab does it:
// parents are merged in order, then the job itself; mappings merge key by key, everything else
// (sequences included) is replaced.
func (c *Config) Job(name string) (map[string]any, error) {
	return c.resolve(name, map[string]bool{})
}

func (c *Config) resolve(name string, seen map[string]bool) (map[string]any, error) {
	if seen[name] {
		return nil, fmt.Errorf("job %s: extends loop", name)
	}
	seen[name] = true
	defer delete(seen, name)
	raw, ok := c.Doc[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("job %s is not defined (or is not a mapping)", name)
	}
	merged := map[string]any{}
	var parents []string
	switch e := raw["extends"].(type) {
	case nil:
	case string:
		parents = []string{e}
	case []any:
		parents = stringList(e)
	default:
		return nil, fmt.Errorf("job %s: extends must be a name or a list of names", name)
	}
	for _, p := range parents {
		pj, err := c.resolve(p, seen)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", name, err)
		}
		merged = deepMerge(merged, pj)
	}
	own := Clone(raw).(map[string]any)
	delete(own, "extends")
	return deepMerge(merged, own), nil
}

func deepMerge(base, over map[string]any) map[string]any {
	out := Clone(base).(map[string]any)
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = deepMerge(bm, om)
			continue
		}
		out[k] = Clone(v)
	}
	return out
}

// stringList returns the strings of a sequence (non-strings are rendered with fmt).
func stringList(v any) []string {
	seq, _ := v.([]any)
	out := make([]string, 0, len(seq))
	for _, e := range seq {
		if s, ok := e.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

// Rule is one entry of `rules` or `workflow:rules`.
type Rule struct {
	// If is the raw `if:` expression ("" when the rule has none).
	If string
	// When is the rule's `when:` ("" when unset).
	When string
	// AllowFailure is the rule's `allow_failure:` (nil when unset).
	AllowFailure *bool
}

// ParseRules reads a `rules` sequence. Only if, when and allow_failure are supported; changes,
// exists and the rest would make the evaluation here incomplete, so they are errors.
func ParseRules(v any) ([]Rule, error) {
	seq, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("rules must be a sequence")
	}
	rules := make([]Rule, 0, len(seq))
	for i, e := range seq {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("rule %d must be a mapping", i)
		}
		var r Rule
		for k, val := range m {
			switch k {
			case "if":
				s, ok := val.(string)
				if !ok {
					return nil, fmt.Errorf("rule %d: if must be a string", i)
				}
				r.If = s
			case "when":
				s, ok := val.(string)
				if !ok {
					return nil, fmt.Errorf("rule %d: when must be a string", i)
				}
				r.When = s
			case "allow_failure":
				b, ok := val.(bool)
				if !ok {
					return nil, fmt.Errorf("rule %d: allow_failure must be true or false", i)
				}
				r.AllowFailure = &b
			default:
				return nil, fmt.Errorf("rule %d: %s is not supported by this evaluator: use if, when and allow_failure only", i, k)
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Decision is the outcome of evaluating rules.
type Decision struct {
	// Matched is false when no rule matched.
	Matched bool
	// Rule is the matching rule.
	Rule Rule
}

// When returns the effective `when` of a matched rule (on_success when unset).
func (d Decision) When() string {
	if d.Rule.When == "" {
		return "on_success"
	}
	return d.Rule.When
}

// EvalRules returns the first rule whose `if` holds (a rule without `if` always holds).
func EvalRules(rules []Rule, vars map[string]string) (Decision, error) {
	for _, r := range rules {
		if r.If == "" {
			return Decision{Matched: true, Rule: r}, nil
		}
		e, err := ParseExpr(r.If)
		if err != nil {
			return Decision{}, err
		}
		if e.Eval(vars) {
			return Decision{Matched: true, Rule: r}, nil
		}
	}
	return Decision{}, nil
}

// PlannedJob is a job GitLab would add to a pipeline.
type PlannedJob struct {
	// When is on_success, manual, always or delayed.
	When string
	// AllowFailure is the allow_failure GitLab applies (with rules, manual jobs default to false).
	AllowFailure bool
}

// Pipeline evaluates workflow:rules and every job's rules for a pipeline with the given
// variables. created is false when workflow:rules refuse the pipeline. Every visible job must
// have rules (a job without rules follows GitLab's legacy only/except defaults, which this
// evaluator does not model).
func (c *Config) Pipeline(vars map[string]string) (created bool, jobs map[string]PlannedJob, err error) {
	wf, _ := c.Doc["workflow"].(map[string]any)
	if wf == nil || wf["rules"] == nil {
		return false, nil, fmt.Errorf("workflow:rules is missing")
	}
	wr, err := ParseRules(wf["rules"])
	if err != nil {
		return false, nil, fmt.Errorf("workflow: %w", err)
	}
	d, err := EvalRules(wr, vars)
	if err != nil {
		return false, nil, fmt.Errorf("workflow: %w", err)
	}
	if !d.Matched || d.Rule.When == "never" {
		return false, nil, nil
	}
	jobs = map[string]PlannedJob{}
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		if err != nil {
			return false, nil, err
		}
		if job["rules"] == nil {
			return false, nil, fmt.Errorf("job %s has no rules: give every job explicit rules", name)
		}
		rules, err := ParseRules(job["rules"])
		if err != nil {
			return false, nil, fmt.Errorf("job %s: %w", name, err)
		}
		d, err := EvalRules(rules, vars)
		if err != nil {
			return false, nil, fmt.Errorf("job %s: %w", name, err)
		}
		if !d.Matched || d.When() == "never" {
			continue
		}
		// In rules, every job (manual ones included) defaults to allow_failure: false.
		pj := PlannedJob{When: d.When()}
		if af, ok := job["allow_failure"].(bool); ok {
			pj.AllowFailure = af
		}
		if d.Rule.AllowFailure != nil {
			pj.AllowFailure = *d.Rule.AllowFailure
		}
		jobs[name] = pj
	}
	return true, jobs, nil
}

// IfExpressions returns every `if:` of workflow:rules and of every job's rules, with where it is.
func (c *Config) IfExpressions() (map[string]string, error) {
	out := map[string]string{}
	add := func(where string, v any) error {
		if v == nil {
			return nil
		}
		rules, err := ParseRules(v)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for i, r := range rules {
			if r.If != "" {
				out[fmt.Sprintf("%s rule %d", where, i)] = r.If
			}
		}
		return nil
	}
	if wf, ok := c.Doc["workflow"].(map[string]any); ok {
		if err := add("workflow", wf["rules"]); err != nil {
			return nil, err
		}
	}
	for k, v := range c.Doc {
		if reservedKeys[k] {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			if err := add("job "+k, m["rules"]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
