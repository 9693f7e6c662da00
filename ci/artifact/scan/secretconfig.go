package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// SecretConfigFile is the project's configuration of Trivy's secret scanner: Trivy's own default
// name (its --secret-config flag), read from the project's root only. It is the allow-list of
// false positives; no setting or flag adds to it.
const SecretConfigFile = "trivy-secret.yaml"

// SecretConfig is Trivy's secret scanner configuration (Trivy 0.58's pkg/fanal/secret Config):
// what the project adds to, and takes away from, Trivy's built-in rules.
type SecretConfig struct {
	// EnableBuiltinRules keeps only these built-in rules (custom rules stay on).
	EnableBuiltinRules []string `yaml:"enable-builtin-rules"`
	// DisableRules turns rules off by ID.
	DisableRules []string `yaml:"disable-rules"`
	// DisableAllowRules turns built-in allow rules off by ID (scans more).
	DisableAllowRules []string `yaml:"disable-allow-rules"`
	// Rules are the project's own detection rules.
	Rules []SecretRule `yaml:"rules"`
	// AllowRules skip files by path, or matches by text, for every rule.
	AllowRules []SecretAllowRule `yaml:"allow-rules"`
	// ExcludeBlock skips the blocks of text its regexes match, for every rule.
	ExcludeBlock SecretExcludeBlock `yaml:"exclude-block"`
}

// SecretRule is a custom detection rule.
type SecretRule struct {
	ID              string             `yaml:"id"`
	Category        string             `yaml:"category"`
	Title           string             `yaml:"title"`
	Severity        string             `yaml:"severity"`
	Regex           string             `yaml:"regex"`
	Keywords        []string           `yaml:"keywords"`
	Path            string             `yaml:"path"`
	AllowRules      []SecretAllowRule  `yaml:"allow-rules"`
	ExcludeBlock    SecretExcludeBlock `yaml:"exclude-block"`
	SecretGroupName string             `yaml:"secret-group-name"`
}

// SecretAllowRule allows the files whose path matches Path, or the matches of Regex.
type SecretAllowRule struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	Regex       string `yaml:"regex"`
	Path        string `yaml:"path"`
}

// SecretExcludeBlock skips blocks of text.
type SecretExcludeBlock struct {
	Description string   `yaml:"description"`
	Regexes     []string `yaml:"regexes"`
}

// ParseSecretConfig parses and checks a trivy-secret.yaml. It refuses what Trivy would
// silently misread: an empty file (Trivy fails on it), a key Trivy does not know (a typo that
// would drop an allow rule or a rule), a rule without an ID or a regex, or with a severity
// other than UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL (Trivy turns it into UNKNOWN), an allow
// rule with neither path nor regex, a regex Go cannot compile, and a secret-group-name its
// regex does not define. IDs of allow rules are optional, as in Trivy.
func ParseSecretConfig(data []byte) (SecretConfig, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c SecretConfig
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return SecretConfig{}, fmt.Errorf("%s is empty, which Trivy refuses: delete it or add allow-rules", SecretConfigFile)
		}
		return SecretConfig{}, fmt.Errorf("%s: %v: write it in Trivy's format (enable-builtin-rules, disable-rules, disable-allow-rules, rules, allow-rules, exclude-block)", SecretConfigFile, err)
	}
	if err := c.check(); err != nil {
		return SecretConfig{}, fmt.Errorf("%s: %w", SecretConfigFile, err)
	}
	return c, nil
}

func (c SecretConfig) check() error {
	for _, list := range []struct {
		key string
		ids []string
	}{{"enable-builtin-rules", c.EnableBuiltinRules}, {"disable-rules", c.DisableRules}, {"disable-allow-rules", c.DisableAllowRules}} {
		for i, id := range list.ids {
			if strings.TrimSpace(id) == "" {
				return fmt.Errorf("%s[%d] is empty: write a rule ID such as aws-access-key-id", list.key, i)
			}
		}
	}
	ids := map[string]bool{}
	for i, r := range c.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if strings.TrimSpace(r.ID) == "" {
			return fmt.Errorf("%s has no id: give every rule an id", where)
		}
		where = fmt.Sprintf("rule %s", r.ID)
		if ids[r.ID] {
			return fmt.Errorf("%s is defined twice: keep one", where)
		}
		ids[r.ID] = true
		if strings.TrimSpace(r.Regex) == "" {
			return fmt.Errorf("%s has no regex: say what it detects", where)
		}
		re, err := compile(where+" regex", r.Regex)
		if err != nil {
			return err
		}
		if _, err := ParseSeverity(r.Severity); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if r.SecretGroupName != "" && re.SubexpIndex(r.SecretGroupName) < 0 {
			return fmt.Errorf("%s: secret-group-name %q is not a named group of its regex: add (?P<%s>…) or drop the key", where, r.SecretGroupName, r.SecretGroupName)
		}
		if _, err := compile(where+" path", r.Path); err != nil {
			return err
		}
		if err := checkAllowRules(where+" ", r.AllowRules); err != nil {
			return err
		}
		if err := checkExcludeBlock(where+" ", r.ExcludeBlock); err != nil {
			return err
		}
	}
	if err := checkAllowRules("", c.AllowRules); err != nil {
		return err
	}
	return checkExcludeBlock("", c.ExcludeBlock)
}

func checkAllowRules(prefix string, rules []SecretAllowRule) error {
	for i, a := range rules {
		where := prefix + allowName(a, i)
		if strings.TrimSpace(a.Path) == "" && strings.TrimSpace(a.Regex) == "" {
			return fmt.Errorf("%s has neither path nor regex, so it allows nothing: add the path of the false positive", where)
		}
		if _, err := compile(where+" path", a.Path); err != nil {
			return err
		}
		if _, err := compile(where+" regex", a.Regex); err != nil {
			return err
		}
	}
	return nil
}

func checkExcludeBlock(prefix string, b SecretExcludeBlock) error {
	for i, r := range b.Regexes {
		if strings.TrimSpace(r) == "" {
			return fmt.Errorf("%sexclude-block regexes[%d] is empty: remove it", prefix, i)
		}
		if _, err := compile(fmt.Sprintf("%sexclude-block regexes[%d]", prefix, i), r); err != nil {
			return err
		}
	}
	return nil
}

// compile compiles a regex the way Trivy does (Go's regexp); "" is no regex.
func compile(what, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("%s does not compile (%v): write a Go (RE2) regular expression", what, err)
	}
	return re, nil
}

// Describe lists, one line each, what the configuration changes in Trivy's built-in rules:
// what it allows (allow rules by ID and path, disabled rules, excluded blocks, built-in rules
// left out) and what it adds. A regex on the text itself is named, never shown: it may spell the
// very value it allows. Empty for an empty configuration.
func (c SecretConfig) Describe() []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, SecretConfigFile+": "+fmt.Sprintf(format, a...)) }
	for i, a := range c.AllowRules {
		add("%s", describeAllow(allowName(a, i), a))
	}
	for _, id := range c.DisableRules {
		add("rule %s is disabled", id)
	}
	if len(c.EnableBuiltinRules) > 0 {
		add("only the built-in rules %s are enabled; every other built-in rule is off", strings.Join(c.EnableBuiltinRules, ", "))
	}
	if n := len(c.ExcludeBlock.Regexes); n > 0 {
		add("text inside the blocks %s matches is skipped%s", plural(n, "exclude-block regex", "exclude-block regexes"), described(c.ExcludeBlock.Description))
	}
	for _, id := range c.DisableAllowRules {
		add("built-in allow rule %s is disabled (more is scanned)", id)
	}
	for _, r := range c.Rules {
		sev, _ := ParseSeverity(r.Severity)
		add("custom rule %s (%s) is added", r.ID, sev)
		for i, a := range r.AllowRules {
			add("%s", describeAllow("rule "+r.ID+" "+allowName(a, i), a))
		}
		if n := len(r.ExcludeBlock.Regexes); n > 0 {
			add("rule %s skips the blocks %s matches%s", r.ID, plural(n, "exclude-block regex", "exclude-block regexes"), described(r.ExcludeBlock.Description))
		}
	}
	return out
}

// allowName names an allow rule by its ID (optional in Trivy), else by its place in the list.
func allowName(a SecretAllowRule, i int) string {
	if id := strings.TrimSpace(a.ID); id != "" {
		return "allow rule " + id
	}
	return fmt.Sprintf("allow-rules[%d]", i)
}

func describeAllow(name string, a SecretAllowRule) string {
	var what []string
	if a.Path != "" {
		what = append(what, "files whose path matches "+a.Path)
	}
	if a.Regex != "" {
		what = append(what, "any match of its text regex")
	}
	return name + " allows " + strings.Join(what, ", and ") + described(a.Description)
}

func described(d string) string {
	if d = strings.TrimSpace(d); d != "" {
		return " (" + d + ")"
	}
	return ""
}
