// Shell quoting: command lines for `sh -c`, for the few steps that must pipe one tool
// into another inside a container (e.g. helm output through the secret redactor).

package project

import "strings"

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
