package requirements

import (
	"fmt"
	"sort"
	"strings"
)

type tokenKind int

const (
	tokIdent tokenKind = iota
	tokString
	tokOp
	tokKeyword // and, or, in, not
	tokOpen
	tokClose
)

type token struct {
	kind tokenKind
	text string
}

var markerOps = []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">"}

func isIdentChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func tokenizeMarker(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			toks = append(toks, token{tokOpen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tokClose, ")"})
			i++
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string in marker %q", s)
			}
			toks = append(toks, token{tokString, s[i+1 : i+1+end]})
			i += end + 2
		case isIdentChar(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			w := s[i:j]
			switch w {
			case "and", "or", "in", "not":
				toks = append(toks, token{tokKeyword, w})
			default:
				toks = append(toks, token{tokIdent, w})
			}
			i = j
		default:
			op := ""
			for _, o := range markerOps {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q in marker %q", c, s)
			}
			toks = append(toks, token{tokOp, op})
			i += len(op)
		}
	}
	return toks, nil
}

func renderTokens(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && toks[i-1].kind != tokOpen && t.kind != tokClose {
			b.WriteByte(' ')
		}
		switch t.kind {
		case tokString:
			if strings.Contains(t.text, `"`) {
				b.WriteString("'" + t.text + "'")
			} else {
				b.WriteString(`"` + t.text + `"`)
			}
		default:
			b.WriteString(t.text)
		}
	}
	return b.String()
}

// normalizeMarker renders an environment marker with single spaces, double quotes and
// its top-level "and" clauses sorted (when the top level has no "or").
func normalizeMarker(s string) (string, error) {
	toks, err := tokenizeMarker(s)
	if err != nil {
		return "", err
	}
	if len(toks) == 0 {
		return "", fmt.Errorf("empty environment marker after ';'")
	}
	depth := 0
	var clauses [][]token
	cur := []token{}
	hasOr := false
	for _, t := range toks {
		switch {
		case t.kind == tokOpen:
			depth++
		case t.kind == tokClose:
			depth--
			if depth < 0 {
				return "", fmt.Errorf("unbalanced ')' in marker %q", s)
			}
		case depth == 0 && t.kind == tokKeyword && t.text == "or":
			hasOr = true
		}
		if depth == 0 && t.kind == tokKeyword && t.text == "and" {
			clauses = append(clauses, cur)
			cur = []token{}
			continue
		}
		cur = append(cur, t)
	}
	if depth != 0 {
		return "", fmt.Errorf("unbalanced '(' in marker %q", s)
	}
	clauses = append(clauses, cur)
	rendered := make([]string, len(clauses))
	for i, c := range clauses {
		if len(c) == 0 {
			return "", fmt.Errorf("dangling 'and' in marker %q", s)
		}
		rendered[i] = renderTokens(c)
	}
	if !hasOr {
		sort.Strings(rendered)
	}
	return strings.Join(rendered, " and "), nil
}
