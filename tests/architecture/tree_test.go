package architecture

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxTrackedSize is the largest file the repository may track outside test data.
const maxTrackedSize = 1 << 20 // 1 MiB

// gitSniffLen is how much of a file git reads to decide it is binary (a NUL byte in the first
// 8000 bytes: xdiff's buffer_is_binary).
const gitSniffLen = 8000

// executableMagic are the first bytes of the executable formats a build leaves behind.
var executableMagic = []struct {
	format string
	magic  []byte
}{
	{"ELF executable", []byte{0x7f, 'E', 'L', 'F'}},
	{"Mach-O executable", []byte{0xfe, 0xed, 0xfa, 0xce}},
	{"Mach-O executable", []byte{0xce, 0xfa, 0xed, 0xfe}},
	{"Mach-O executable", []byte{0xfe, 0xed, 0xfa, 0xcf}},
	{"Mach-O executable", []byte{0xcf, 0xfa, 0xed, 0xfe}},
	{"Mach-O universal binary", []byte{0xca, 0xfe, 0xba, 0xbe}},
	{"PE executable", []byte{'M', 'Z'}},
}

// binaryKind says why content is binary ("" when it is text): an executable's magic number, or
// a NUL byte where git looks for one.
func binaryKind(content []byte) string {
	for _, m := range executableMagic {
		if bytes.HasPrefix(content, m.magic) {
			return m.format
		}
	}
	head := content
	if len(head) > gitSniffLen {
		head = head[:gitSniffLen]
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Sprintf("binary content (NUL byte at offset %d)", i)
	}
	return ""
}

// inTestData reports whether a repository path lies under a testdata directory.
func inTestData(path string) bool {
	for _, part := range strings.Split(path, "/") {
		if part == "testdata" {
			return true
		}
	}
	return false
}

// git runs git in the repository root and returns its output.
func git(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = repoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "git %s: %s\nthis test reads the tracked files of a git checkout: run it in a clone of the repository with git on PATH", strings.Join(args, " "), stderr.String())
	return out
}

// Builds leave binaries next to the source (`go build ./ci/cmd/oci` writes ./oci): none may be
// committed, and no large file either. Test data is exempt: fixtures may be binary by design.
func TestNoTrackedBinaryOrLargeFile(t *testing.T) {
	root := repoRoot(t)

	// git's own verdict on the staged content: "i/-text" is a file git diffs as binary.
	gitBinary := map[string]bool{}
	for _, line := range strings.Split(string(git(t, "ls-files", "--eol", "--cached")), "\n") {
		info, path, ok := strings.Cut(line, "\t")
		if ok && strings.HasPrefix(info, "i/-text") {
			gitBinary[path] = true
		}
	}

	tracked := strings.Split(strings.TrimRight(string(git(t, "ls-files", "-z", "--cached")), "\x00"), "\x00")
	require.NotEmpty(t, tracked)
	checked := 0
	for _, path := range tracked {
		if path == "" || inTestData(path) {
			continue
		}
		content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if os.IsNotExist(err) {
			continue // deleted in this checkout, not yet staged: git rm is the fix being made
		}
		require.NoError(t, err, path)
		checked++
		if kind := binaryKind(content); kind != "" {
			assert.Fail(t, "a binary is tracked", "%s: %s, %d bytes: `git rm --cached %s` and ignore build outputs in .gitignore; binary fixtures belong in a testdata directory", path, kind, len(content), path)
		} else if gitBinary[path] {
			assert.Fail(t, "a binary is tracked", "git treats %s as binary: `git rm --cached %s`, or move it into a testdata directory if it is a fixture", path, path)
		}
		assert.LessOrEqual(t, len(content), maxTrackedSize, "%s is %d bytes, over the 1 MiB a tracked file may have outside testdata: keep it out of git (or in a testdata directory when it is a fixture)", path, len(content))
	}
	assert.Positive(t, checked, "no tracked file outside testdata was read")
}

// The detector must recognise what it is meant to refuse, and pass what it is meant to pass.
func TestBinaryKind(t *testing.T) {
	for name, c := range map[string]struct {
		content []byte
		binary  bool
	}{
		"ELF":                 {append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}, make([]byte, 9)...), true},
		"Mach-O 64 LE":        {[]byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, true},
		"Mach-O fat":          {[]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}, true},
		"PE":                  {[]byte("MZ\x90\x00\x03\x00"), true},
		"NUL after text":      {[]byte("key: value\n\x00rest"), true},
		"YAML":                {[]byte("apiVersion: v2\nname: soccer-predict\n"), false},
		"Go source":           {[]byte("package main\n\nfunc main() {}\n"), false},
		"UTF-8 text":          {[]byte("Prüfung → 1 ½\n"), false},
		"empty":               {nil, false},
		"NUL past git's scan": {append(bytes.Repeat([]byte("a"), gitSniffLen), 0), false},
	} {
		assert.Equal(t, c.binary, binaryKind(c.content) != "", name)
	}
	assert.True(t, inTestData("tests/testdata/soccerpredict/data/raw/matches.csv"))
	assert.True(t, inTestData("ci/dvc/testdata/dvc.lock"))
	assert.False(t, inTestData("oci"))
	assert.False(t, inTestData("ci/cmd/oci/testdata.go"))
}
