package lint

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	wouldReformat = regexp.MustCompile(`^Would reformat: (.+)$`)
	reformatCount = regexp.MustCompile(`^(\d+) files? would be reformatted\b`)
	alreadyOK     = regexp.MustCompile(`^(\d+) files? (?:already formatted|left unchanged)\b`)
	ansiEscape    = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
)

// FormatDescription is the description of a file `ruff format --check` would reformat.
const FormatDescription = "File is not formatted: run `ruff format` on it"

// ParseFormatCheck turns the output of `ruff format --check` (stdout and stderr together)
// into issues, one per "Would reformat: path" line, with paths relative to root (see
// RelPath). The "N files would be reformatted" count must match the listed files.
// ANSI colour codes are ignored. Lines starting with "error:" mean ruff could not check a file: they are returned as an error.
func ParseFormatCheck(output, root string) ([]Issue, error) {
	var issues []Issue
	var errs []string
	count := -1
	sawSummary := false
	for _, line := range strings.Split(strings.ReplaceAll(ansiEscape.ReplaceAllString(output, ""), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if m := wouldReformat.FindStringSubmatch(line); m != nil {
			rel, err := RelPath(root, strings.TrimSpace(m[1]))
			if err != nil {
				return nil, err
			}
			issues = append(issues, Issue{
				Description: FormatDescription,
				CheckName:   FormatCheck,
				Fingerprint: Fingerprint(FormatCheck, rel, 1, FormatDescription),
				Severity:    SeverityMinor,
				Location:    Location{Path: rel, Lines: Lines{Begin: 1}},
			})
			continue
		}
		if m := reformatCount.FindStringSubmatch(line); m != nil {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return nil, fmt.Errorf("ruff format: bad count in %q", line)
			}
			count = n
			sawSummary = true
			continue
		}
		if alreadyOK.MatchString(line) {
			sawSummary = true
			continue
		}
		if strings.HasPrefix(strings.ToLower(line), "error:") {
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ruff format could not check every file: %s: fix the syntax errors ruff check reports", strings.Join(errs, "; "))
	}
	if count >= 0 && count != len(issues) {
		return nil, fmt.Errorf("ruff format says %d files would be reformatted but lists %d: pass its complete output (stdout and stderr)", count, len(issues))
	}
	if !sawSummary && len(issues) == 0 {
		return nil, errors.New("ruff format output has no summary line: run `ruff format --check` and pass its complete output")
	}
	Sort(issues)
	return issues, nil
}
