// Output trimming: tool output for summaries and error messages, enough to act on,
// never a wall of log.

package gate

import "strings"

// Tail returns the last n non-empty lines of text (all of them when there are fewer).
func Tail(text string, n int) []string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " \t"))
		}
	}
	if n >= 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Last returns the last non-empty line of text, or "".
func Last(text string) string {
	if t := Tail(text, 1); len(t) == 1 {
		return t[0]
	}
	return ""
}
