package scan

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"time"
)

// ExpiryLayout is the date layout of "exp:" in an ignore file.
const ExpiryLayout = "2006-01-02"

// IgnoreFile is the project's list of accepted risks, read from the project's root: Trivy's own
// default name (its --ignorefile flag). Its IDs are vulnerability IDs and secret rule IDs.
const IgnoreFile = ".trivyignore"

// IgnoreEntry is one accepted risk from the ignore file.
type IgnoreEntry struct {
	// ID is the vulnerability ID or secret rule ID, compared exactly with Trivy's
	// VulnerabilityID or RuleID (as Trivy applies a .trivyignore to every scanner).
	ID string `json:"id"`
	// Expires is midnight UTC of the "exp:" date; zero when the entry never expires.
	Expires time.Time `json:"expires,omitzero"`
	// Line is the 1-based line number in the ignore file.
	Line int `json:"line"`
}

// ActiveAt reports whether the entry still ignores its ID at now: it has no expiry or
// now is not after the expiry instant (Trivy's rule).
func (e IgnoreEntry) ActiveAt(now time.Time) bool {
	return e.Expires.IsZero() || !now.After(e.Expires)
}

// IgnoreList is a parsed ignore file.
type IgnoreList struct {
	Entries []IgnoreEntry
}

// misspelledExpiry are prefixes that look like an attempt at "exp:"; they are refused so
// that a typo never turns a temporary exception into a permanent one.
var misspelledExpiry = []string{"exp=", "expires:", "expires=", "expire:", "expire=", "expiry:", "expiry=", "expiration:", "until:", "until="}

// ParseIgnore parses a .trivyignore-style file: one ID a line, blank lines and lines
// starting with "#" skipped, an optional "exp:YYYY-MM-DD" token after the ID, and any
// other text after the ID treated as a comment (as Trivy does). A malformed expiry is an
// error naming the line.
func ParseIgnore(data []byte) (IgnoreList, error) {
	var l IgnoreList
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		e := IgnoreEntry{ID: fields[0], Line: n}
		if strings.HasPrefix(strings.ToLower(e.ID), "exp:") {
			return IgnoreList{}, fmt.Errorf("ignore file line %d starts with an expiry: write the vulnerability ID first, e.g. CVE-2024-1234 exp:2025-01-31", n)
		}
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "#") {
				break
			}
			lf := strings.ToLower(f)
			if strings.HasPrefix(lf, "exp:") {
				if !e.Expires.IsZero() {
					return IgnoreList{}, fmt.Errorf("ignore file line %d (%s) has two expiry dates: keep one exp:YYYY-MM-DD", n, e.ID)
				}
				t, err := time.Parse(ExpiryLayout, f[len("exp:"):])
				if err != nil {
					return IgnoreList{}, fmt.Errorf("ignore file line %d (%s) has an invalid expiry %q: write it as exp:YYYY-MM-DD", n, e.ID, f)
				}
				e.Expires = t
				continue
			}
			for _, p := range misspelledExpiry {
				if strings.HasPrefix(lf, p) {
					return IgnoreList{}, fmt.Errorf("ignore file line %d (%s) has %q, which is not an expiry Trivy understands: write it as exp:YYYY-MM-DD", n, e.ID, f)
				}
			}
		}
		l.Entries = append(l.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return IgnoreList{}, fmt.Errorf("ignore file line %d: %v: keep lines under 1 MiB", n+1, err)
	}
	return l, nil
}

// Match returns the first entry for id that is active at now.
func (l IgnoreList) Match(id string, now time.Time) (IgnoreEntry, bool) {
	for _, e := range l.Entries {
		if e.ID == id && e.ActiveAt(now) {
			return e, true
		}
	}
	return IgnoreEntry{}, false
}

// Expired returns the entries whose expiry has passed at now (they no longer ignore).
func (l IgnoreList) Expired(now time.Time) []IgnoreEntry {
	var out []IgnoreEntry
	for _, e := range l.Entries {
		if !e.ActiveAt(now) {
			out = append(out, e)
		}
	}
	return out
}
