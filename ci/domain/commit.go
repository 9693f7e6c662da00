package domain

import (
	"fmt"
	"regexp"
)

// Commit is a full git object name in lowercase hex: 40 characters (SHA-1) or 64 (SHA-256
// repositories). Abbreviations are refused: two commits may share one, and a trace must name one
// commit.
type Commit string

// ShortCommitLength is the length of GitLab's CI_COMMIT_SHORT_SHA.
const ShortCommitLength = 8

var commitPattern = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// ParseCommit returns s as a Commit when it is a full lowercase hex object name.
func ParseCommit(s string) (Commit, error) {
	const fix = "pass the full id from `git rev-parse HEAD` (GitLab: --commit=$CI_COMMIT_SHA)"
	switch {
	case commitPattern.MatchString(s):
		return Commit(s), nil
	case s == "":
		return "", fmt.Errorf("commit is empty: %s", fix)
	case commitPattern.MatchString(toLowerASCII(s)):
		return "", fmt.Errorf("commit %q has uppercase hex digits: pass it in lowercase, as git prints it", s)
	case isHexString(s) && len(s) < 40:
		return "", fmt.Errorf("commit %q is an abbreviation (%d characters): %s", s, len(s), fix)
	}
	return "", fmt.Errorf("commit %q is not a full git commit id (40 or 64 lowercase hex characters): %s", s, fix)
}

// String returns the full object name.
func (c Commit) String() string { return string(c) }

// Short returns the first 8 characters, as GitLab's CI_COMMIT_SHORT_SHA.
func (c Commit) Short() string {
	if len(c) < ShortCommitLength {
		return string(c)
	}
	return string(c[:ShortCommitLength])
}

func isHexString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
