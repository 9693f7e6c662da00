package gitlabci

import (
	"fmt"
	"regexp"
	"strings"
)

// Expr is a parsed `rules:if` expression.
//
// Semantics follow GitLab's: a variable that is not set has no value (it equals only another unset
// variable), a lone variable is true when it is set and not empty, a lone string literal is true
// when it is not empty, `=~` is false when its left side is unset, and `&&` binds tighter than `||`.
type Expr interface {
	// Eval evaluates the expression against the pipeline's variables.
	Eval(vars map[string]string) bool
	// String renders the expression in GitLab syntax; parsing the result gives an equal expression.
	String() string
}

// Operand is a variable, a string literal or a regular expression literal.
type Operand struct {
	// Kind is "var", "string" or "regex".
	Kind string
	// Text is the variable name (without "$"), the string's content or the regex source
	// (without the slashes).
	Text string
	// Quote is the quote character of a string literal (' or ").
	Quote byte
	re    *regexp.Regexp
}

// value returns the operand's value and whether it has one.
func (o Operand) value(vars map[string]string) (string, bool) {
	switch o.Kind {
	case "var":
		v, ok := vars[o.Text]
		return v, ok
	default:
		return o.Text, true
	}
}

// String renders the operand.
func (o Operand) String() string {
	switch o.Kind {
	case "var":
		return "$" + o.Text
	case "regex":
		return "/" + o.Text + "/"
	default:
		return string(o.Quote) + o.Text + string(o.Quote)
	}
}

// Regexp returns the compiled regular expression of a regex operand (nil otherwise).
func (o Operand) Regexp() *regexp.Regexp { return o.re }

// Eval is the truth value of a lone operand.
func (o Operand) Eval(vars map[string]string) bool {
	v, ok := o.value(vars)
	return ok && v != ""
}

// Compare is `left op right` with op one of ==, != and =~.
type Compare struct {
	Left  Operand
	Op    string
	Right Operand
}

// Eval evaluates the comparison.
func (c Compare) Eval(vars map[string]string) bool {
	lv, lok := c.Left.value(vars)
	switch c.Op {
	case "=~":
		return lok && c.Right.re.MatchString(lv)
	default:
		rv, rok := c.Right.value(vars)
		equal := lok == rok && lv == rv
		if c.Op == "==" {
			return equal
		}
		return !equal
	}
}

// String renders the comparison.
func (c Compare) String() string { return c.Left.String() + " " + c.Op + " " + c.Right.String() }

// Logic is `left && right` or `left || right`.
type Logic struct {
	Left  Expr
	Op    string
	Right Expr
}

// Eval evaluates the conjunction or disjunction.
func (l Logic) Eval(vars map[string]string) bool {
	if l.Op == "&&" {
		return l.Left.Eval(vars) && l.Right.Eval(vars)
	}
	return l.Left.Eval(vars) || l.Right.Eval(vars)
}

// String renders the expression, adding parentheses only where precedence needs them.
func (l Logic) String() string {
	return wrap(l.Left, l.Op, false) + " " + l.Op + " " + wrap(l.Right, l.Op, true)
}

// wrap renders a child of a Logic node, parenthesized when it binds looser than its parent, or
// equally but on the right (the operators are left-associative).
func wrap(child Expr, parentOp string, right bool) string {
	l, ok := child.(Logic)
	if !ok {
		return child.String()
	}
	if l.Op == "||" && parentOp == "&&" || right && l.Op == parentOp {
		return "(" + l.String() + ")"
	}
	return l.String()
}

// Walk calls fn for every comparison and lone operand in e, depth first, left to right.
func Walk(e Expr, fn func(Expr)) {
	if l, ok := e.(Logic); ok {
		Walk(l.Left, fn)
		Walk(l.Right, fn)
		return
	}
	fn(e)
}

// ParseExpr parses a `rules:if` expression. Anything outside the supported subset ($VAR,
// 'string', "string", /regex/, ==, !=, =~, &&, ||, parentheses) is an error that names it.
func ParseExpr(src string) (Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("rules:if %q: unexpected %q at offset %d: join conditions with && or ||", src, p.toks[p.pos].text, p.toks[p.pos].at)
	}
	return e, nil
}

type token struct {
	kind  string // "var", "string", "regex", "op", "(", ")"
	text  string
	quote byte
	at    int
}

func isNameStart(c byte) bool { return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '$':
			j := i + 1
			if j >= len(src) || !isNameStart(src[j]) {
				return nil, fmt.Errorf("rules:if %q: offset %d: \"$\" must be followed by a variable name such as $CI_COMMIT_BRANCH (${...} is not supported)", src, i)
			}
			for j < len(src) && isNameChar(src[j]) {
				j++
			}
			toks = append(toks, token{kind: "var", text: src[i+1 : j], at: i})
			i = j
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("rules:if %q: offset %d: unterminated string: close it with %c", src, i, c)
			}
			toks = append(toks, token{kind: "string", text: src[i+1 : i+1+end], quote: c, at: i})
			i += end + 2
		case c == '/':
			j := i + 1
			for j < len(src) && src[j] != '/' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, fmt.Errorf("rules:if %q: offset %d: unterminated regular expression: close it with /", src, i)
			}
			if j+1 < len(src) && isNameChar(src[j+1]) {
				return nil, fmt.Errorf("rules:if %q: offset %d: regular expression flags are not supported: write the pattern without flags", src, j+1)
			}
			toks = append(toks, token{kind: "regex", text: src[i+1 : j], at: i})
			i = j + 1
		case c == '(' || c == ')':
			toks = append(toks, token{kind: string(c), text: string(c), at: i})
			i++
		default:
			op := ""
			if i+1 < len(src) {
				op = src[i : i+2]
			}
			switch op {
			case "==", "!=", "=~", "&&", "||":
				toks = append(toks, token{kind: "op", text: op, at: i})
				i += 2
			default:
				return nil, fmt.Errorf("rules:if %q: offset %d: unsupported syntax %q: use $VAR, \"string\", /regex/, ==, !=, =~, &&, || and parentheses", src, i, src[i:min(len(src), i+2)])
			}
		}
	}
	return toks, nil
}

type parser struct {
	src  string
	toks []token
	pos  int
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *parser) or() (Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.kind == "op" && t.text == "||"; t = p.peek() {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = Logic{Left: left, Op: "||", Right: right}
	}
	return left, nil
}

func (p *parser) and() (Expr, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.kind == "op" && t.text == "&&"; t = p.peek() {
		p.pos++
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		left = Logic{Left: left, Op: "&&", Right: right}
	}
	return left, nil
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	if t == nil {
		return nil, fmt.Errorf("rules:if %q: expression ends too early: complete the condition", p.src)
	}
	if t.kind == "(" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c == nil || c.kind != ")" {
			return nil, fmt.Errorf("rules:if %q: missing \")\"", p.src)
		}
		p.pos++
		return e, nil
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	op := p.peek()
	if op == nil || op.kind != "op" || op.text == "&&" || op.text == "||" {
		if left.Kind == "regex" {
			return nil, fmt.Errorf("rules:if %q: offset %d: a regular expression is only allowed on the right of =~", p.src, t.at)
		}
		return left, nil
	}
	p.pos++
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	if left.Kind == "regex" {
		return nil, fmt.Errorf("rules:if %q: offset %d: a regular expression is only allowed on the right of =~", p.src, t.at)
	}
	if (op.text == "=~") != (right.Kind == "regex") {
		return nil, fmt.Errorf("rules:if %q: offset %d: =~ takes a /regex/ on its right and ==, != take a variable or a string", p.src, op.at)
	}
	return Compare{Left: left, Op: op.text, Right: right}, nil
}

func (p *parser) operand() (Operand, error) {
	t := p.peek()
	if t == nil {
		return Operand{}, fmt.Errorf("rules:if %q: expression ends too early: a variable, a string or a /regex/ is missing", p.src)
	}
	switch t.kind {
	case "var", "string":
		p.pos++
		return Operand{Kind: t.kind, Text: t.text, Quote: t.quote}, nil
	case "regex":
		p.pos++
		re, err := regexp.Compile(t.text)
		if err != nil {
			return Operand{}, fmt.Errorf("rules:if %q: offset %d: invalid regular expression: %v", p.src, t.at, err)
		}
		return Operand{Kind: "regex", Text: t.text, re: re}, nil
	default:
		return Operand{}, fmt.Errorf("rules:if %q: offset %d: expected a variable, a string or a /regex/, got %q", p.src, t.at, t.text)
	}
}
