package secrets_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

// The test binary doubles as the command ExecFile runs: with
// SECRETS_TEST_HELPER set it reports on the file it was given and exits.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SECRETS_TEST_HELPER"); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper prints "<mode bits> <sha256 of content>" of the file named by the
// argument after "-f" and exits with the status in SECRETS_TEST_EXIT, or
// sleeps when mode is "sleep".
func helper(mode string, args []string) int {
	var path string
	for i, a := range args {
		if a == "-f" && i+1 < len(args) {
			path = args[i+1]
		}
		if strings.HasPrefix(a, "--values=") {
			path = strings.TrimPrefix(a, "--values=")
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 90
	}
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	fmt.Printf("%s %o %s\n", path, st.Mode().Perm(), hex.EncodeToString(sum[:]))
	if mode == "sleep" {
		time.Sleep(30 * time.Second)
	}
	code, _ := strconv.Atoi(os.Getenv("SECRETS_TEST_EXIT"))
	return code
}

func helperEnv(mode string, exit int) []string {
	return append(os.Environ(), "SECRETS_TEST_HELPER="+mode, "SECRETS_TEST_EXIT="+strconv.Itoa(exit))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestExecFileHandsAPrivateFileToTheCommandAndRemovesIt(t *testing.T) {
	dir := t.TempDir()
	plain := []byte(plaintext)
	var out, errOut strings.Builder
	err := secrets.ExecFile(context.Background(), plain, []string{os.Args[0], "upgrade", "-f", "{}"}, secrets.ExecOptions{
		Dir: dir, Stdout: &out, Stderr: &errOut, Env: helperEnv("report", 0),
	})
	require.NoError(t, err, errOut.String())
	fields := strings.Fields(out.String())
	require.Len(t, fields, 3, out.String())
	assert.Equal(t, dir, filepath.Dir(fields[0]), "the file is written inside the given directory")
	assert.Equal(t, "600", fields[1], "mode 0600")
	assert.Equal(t, sha(plain), fields[2], "the command reads the plaintext")
	assert.Empty(t, entries(t, dir), "the file is removed afterwards")
}

func TestExecFileReplacesThePlaceholderInsideArguments(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	err := secrets.ExecFile(context.Background(), []byte("a: 1\n"), []string{os.Args[0], "--values=@@"}, secrets.ExecOptions{
		Dir: dir, Placeholder: "@@", Stdout: &out, Env: helperEnv("report", 0),
	})
	require.NoError(t, err)
	assert.Equal(t, sha([]byte("a: 1\n")), strings.Fields(out.String())[2])
	assert.Empty(t, entries(t, dir))
}

func TestExecFileRemovesTheFileWhenTheCommandFails(t *testing.T) {
	dir := t.TempDir()
	err := secrets.ExecFile(context.Background(), []byte(plaintext), []string{os.Args[0], "-f", "{}"}, secrets.ExecOptions{
		Dir: dir, Env: helperEnv("report", 7),
	})
	var ce *secrets.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 7, ce.ExitCode)
	assert.Equal(t, os.Args[0], ce.Name)
	assert.NotContains(t, err.Error(), "-f", "the error does not repeat the arguments")
	assert.Empty(t, entries(t, dir))
}

func TestExecFileRemovesTheFileWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := secrets.ExecFile(ctx, []byte(plaintext), []string{os.Args[0], "-f", "{}"}, secrets.ExecOptions{
		Dir: dir, Env: helperEnv("sleep", 0),
	})
	var ce *secrets.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, -1, ce.ExitCode)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 15*time.Second, "the command is killed")
	assert.Empty(t, entries(t, dir))
}

func TestExecFileRemovesTheFileWhenTheCommandCannotStart(t *testing.T) {
	dir := t.TempDir()
	err := secrets.ExecFile(context.Background(), []byte(plaintext), []string{filepath.Join(dir, "no-such-helm"), "-f", "{}"}, secrets.ExecOptions{Dir: dir})
	var ce *secrets.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, -1, ce.ExitCode)
	assert.Empty(t, entries(t, dir))
}

func TestExecFileRejectsBadArgumentsBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cases := map[string]struct {
		argv []string
		opts secrets.ExecOptions
		want string
	}{
		"no command":                  {nil, secrets.ExecOptions{Dir: dir}, "no command"},
		"no placeholder":              {[]string{"helm", "upgrade"}, secrets.ExecOptions{Dir: dir}, `contains "{}"`},
		"placeholder only in argv[0]": {[]string{"{}"}, secrets.ExecOptions{Dir: dir}, `contains "{}"`},
		"no dir":                      {[]string{"helm", "-f", "{}"}, secrets.ExecOptions{}, "--tmpdir"},
		"missing dir":                 {[]string{"helm", "-f", "{}"}, secrets.ExecOptions{Dir: filepath.Join(dir, "nope")}, "not usable"},
		"dir is a file":               {[]string{"helm", "-f", "{}"}, secrets.ExecOptions{Dir: file}, "not a directory"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := secrets.ExecFile(context.Background(), []byte(plaintext), c.argv, c.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), leakMarker)
			assert.Equal(t, []string{"a-file"}, entries(t, dir), "nothing was written")
		})
	}
}
