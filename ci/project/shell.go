// Shell quoting: command lines for `sh -c`, for the few steps that must pipe one tool
// into another inside a container (e.g. helm output through the secret redactor); and the
// inverse, splitting a command line from a setting into words run without a shell.

package project

import (
	"errors"
	"fmt"
	"strings"
)

// Quote returns s quoted for a POSIX shell: unchanged when it only holds safe characters,
// else in single quotes with embedded single quotes escaped.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes every argument and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

func unsafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./=:@,+%", r)
}

// Split splits a command line into its words the way a POSIX shell splits a simple command, for
// commands the pipeline runs without a shell (a project's training command, from a setting):
// blanks separate words; single quotes keep everything literal; double quotes keep everything
// literal except the escapes \" \\ \$ \` and a backslash before a newline; a backslash outside
// quotes keeps the next character literal. What a shell would act on instead of passing it on —
// operators (| & ; < > ( ) and an unquoted newline), expansions ($, `), a comment (#), globs
// (* ? [) and a leading ~ — is an error naming it, never passed on silently: quote it to pass it
// literally. Split(Join(argv)) is argv.
func Split(line string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	end := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	// Every character with a meaning is ASCII: walking bytes keeps any other byte as it is.
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			end()
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote at character %d: close it with '", i+1)
			}
			cur.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '"':
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				switch d := line[j]; {
				case d == '\\' && j+1 < len(line) && strings.IndexByte("\"\\$`", line[j+1]) >= 0:
					cur.WriteByte(line[j+1])
					j++
				case d == '\\' && j+1 < len(line) && line[j+1] == '\n':
					j++ // a line continuation
				case d == '$' || d == '`':
					return nil, fmt.Errorf("%q inside double quotes at character %d is a shell expansion, and the command runs without a shell: write the value out, or use single quotes to pass it literally", string(d), j+1)
				default:
					cur.WriteByte(d)
				}
			}
			if j == len(line) {
				return nil, fmt.Errorf(`unterminated double quote at character %d: close it with "`, i+1)
			}
			inWord, i = true, j
		case c == '\\':
			if i+1 == len(line) {
				return nil, errors.New("the command ends with a backslash: remove it, or write \\\\ for a literal backslash")
			}
			if line[i+1] != '\n' { // a line continuation joins the lines
				cur.WriteByte(line[i+1])
				inWord = true
			}
			i++
		case strings.IndexByte("|&;<>()$`\n*?[", c) >= 0, c == '#' && !inWord, c == '~' && !inWord:
			what := "shell syntax"
			switch {
			case c == '$' || c == '`':
				what = "a shell expansion"
			case c == '#':
				what = "a shell comment"
			case c == '~':
				what = "a shell home-directory expansion"
			case strings.IndexByte("*?[", c) >= 0:
				what = "a shell glob"
			}
			return nil, fmt.Errorf("%q at character %d is %s, and the command runs without a shell: quote it ('…') to pass it literally, or move the logic into a script of the project", string(c), i+1, what)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	end()
	return words, nil
}
