package architecture

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// securityRefusals are the error excerpts docs/security.md quotes: the backticked spans of the
// last cell of each table row ("refused with").
func securityRefusals(t *testing.T, page string) []string {
	t.Helper()
	span := regexp.MustCompile("`([^`]+)`")
	var out []string
	for _, line := range strings.Split(page, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 2 || cells[len(cells)-1] == "refused with (an excerpt of the error)" {
			continue
		}
		for _, m := range span.FindAllStringSubmatch(cells[len(cells)-1], -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestTheThreatModelQuotesTheCode: every refusal docs/security.md promises is still an error the
// code gives (its excerpt is in a Go source file of ci/ or dagger/, tests excluded), so the page
// cannot promise a refusal that was removed or reworded.
func TestTheThreatModelQuotesTheCode(t *testing.T) {
	root := repoRoot(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "security.md"))
	require.NoError(t, err)
	var src strings.Builder
	for _, dir := range []string{"ci", "dagger"} {
		require.NoError(t, filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			src.Write(b)
			return err
		}))
	}
	quotes := securityRefusals(t, string(page))
	require.Greater(t, len(quotes), 20, "the page's refusal tables were not found")
	code := src.String()
	for _, q := range quotes {
		assert.True(t, strings.Contains(code, q), "docs/security.md quotes %q, a refusal the code does not give", q)
	}
	forged := securityRefusals(t, string(page)+"\n| x | `a refusal nobody wrote` |\n")
	assert.Contains(t, forged, "a refusal nobody wrote", "the parser reads every row")
	assert.False(t, strings.Contains(code, "a refusal nobody wrote"), "and such a row would fail")
}
