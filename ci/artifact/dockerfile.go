package artifact

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// instruction is one Dockerfile instruction: its keyword in upper case, its whole text with
// continuation lines joined, its fields, and the line it starts on (1-based).
type instruction struct {
	Line    int
	Keyword string
	Text    string
	Fields  []string
}

// instructions splits a Dockerfile into its instructions: a line ending in `\` continues on
// the next; comment lines and empty lines are dropped, also inside a continuation (as BuildKit's
// parser drops them). Parser directives (`# syntax=`, `# escape=`) are comments here: a
// Dockerfile that changes the escape character, or uses heredocs, is read as if it did not.
func instructions(dockerfile []byte) ([]instruction, error) {
	var out []instruction
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var cont strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		text := strings.TrimSpace(cont.String() + line)
		cont.Reset()
		fields := strings.Fields(text)
		out = append(out, instruction{Line: start, Keyword: strings.ToUpper(fields[0]), Text: text, Fields: fields})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	if text := strings.TrimSpace(cont.String()); text != "" {
		fields := strings.Fields(text)
		out = append(out, instruction{Line: start, Keyword: strings.ToUpper(fields[0]), Text: text, Fields: fields})
	}
	return out, nil
}
