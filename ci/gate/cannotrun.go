package gate

import (
	"fmt"
	"regexp"
	"strings"
)

// A tool that cannot run at all says nothing about the project: its gate is an Error (the
// pipeline is broken: fix the image or the toolchain), never a Fail (the project is wrong).

var cannotRunPatterns = []struct {
	re  *regexp.Regexp
	why string
}{
	// `python -m ruff` without the package: the interpreter itself reports it, at line start.
	// (A project's own import error reads "ModuleNotFoundError: No module named 'x'" instead.)
	{regexp.MustCompile(`(?m)^\S*python[0-9.]*: No module named \S+`), "the tool's Python module is not installed"},
	{regexp.MustCompile(`(?m)^\S*python[0-9.]*: can't open file `), "the tool's script does not exist"},
	{regexp.MustCompile(`executable file not found in \$PATH`), "the executable is not installed"},
	{regexp.MustCompile(`(?m)(^|: )(\S+: )?(command )?not found$`), "the executable is not installed"},
	{regexp.MustCompile(`(?i)failed to (pull|resolve) (image|source metadata)|pull access denied|manifest unknown`), "the tool's image could not be pulled"},
	{regexp.MustCompile(`exec format error`), "the executable is for another platform"},
}

// CannotRun reports whether a tool run that exited with code and printed output could not run
// at all, and why: exit 127 (command not found) or 126 (not executable), an interpreter that
// cannot find the tool's module or script, an executable missing from $PATH, an image that
// could not be pulled, or a binary for another platform. A run that exited 0 always ran.
func CannotRun(code int, output string) (string, bool) {
	if code == 0 {
		return "", false
	}
	switch code {
	case 127:
		return "exit 127: command not found", true
	case 126:
		return "exit 126: the command is not executable", true
	}
	for _, p := range cannotRunPatterns {
		if m := p.re.FindString(output); m != "" {
			return fmt.Sprintf("%s (%s)", p.why, strings.TrimSpace(m)), true
		}
	}
	return "", false
}

// ClassifyRun turns r, the verdict drawn from a tool run, into an Error when the tool could not
// run at all; otherwise r is returned unchanged. The summary says what to fix.
func ClassifyRun(r Result, code int, output string) Result {
	why, ok := CannotRun(code, output)
	if !ok || r.Status == Pass || r.Status == Skipped {
		return r
	}
	out := r
	out.Status = Error
	out.Summary = fmt.Sprintf("the tool could not run: %s; fix the tool image or its requirements, the project was not judged (%s)", why, r.Summary)
	return out
}
