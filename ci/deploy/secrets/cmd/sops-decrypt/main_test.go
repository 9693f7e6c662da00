package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

// The test binary plays two extra roles, chosen by environment variables:
// SOPS_DECRYPT_MAIN=1 runs main() (for exit-status tests) and
// SOPS_DECRYPT_HELPER=1 acts as the command exec-file runs.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("SOPS_DECRYPT_MAIN") == "1":
		os.Args = append([]string{"sops-decrypt"}, os.Args[1:]...)
		main()
	case os.Getenv("SOPS_DECRYPT_HELPER") == "1":
		os.Exit(helper(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper prints "<path> <mode> <sha256>" of the file after -f and exits with
// the status in SOPS_DECRYPT_EXIT.
func helper(args []string) int {
	var path string
	for i, a := range args {
		if a == "-f" && i+1 < len(args) {
			path = args[i+1]
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
	var code int
	fmt.Sscan(os.Getenv("SOPS_DECRYPT_EXIT"), &code)
	return code
}

const plain = "secrets:\n    databaseUrl: postgres://u:LEAKCHECK@db/x\n    mlflowTrackingToken: LEAKCHECK-token\n"

type fixture struct {
	keyFile, otherKeyFile, encFile, dir string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	writeKey := func(name string) (string, string) {
		id, err := age.GenerateX25519Identity()
		require.NoError(t, err)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(id.String()+"\n"), 0o600))
		return p, id.Recipient().String()
	}
	keyFile, recipient := writeKey("age.key")
	otherKeyFile, _ := writeKey("other.key")
	enc, err := secrets.Encrypt([]byte(plain), recipient)
	require.NoError(t, err)
	encDir := filepath.Join(dir, "secrets")
	require.NoError(t, os.Mkdir(encDir, 0o755))
	encFile := filepath.Join(encDir, "staging.enc.yaml")
	require.NoError(t, os.WriteFile(encFile, enc, 0o644))
	return fixture{keyFile: keyFile, otherKeyFile: otherKeyFile, encFile: encFile, dir: dir}
}

func runCLI(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCheckPrintsKeyNamesOnly(t *testing.T) {
	f := newFixture(t)
	out, errOut, err := runCLI("check", "--identity", f.keyFile, "--file", f.encFile)
	require.NoError(t, err)
	assert.Equal(t, "secrets.databaseUrl\nsecrets.mlflowTrackingToken\n", out)
	assert.Contains(t, errOut, "passes its integrity checks (2 keys)")
	assert.NotContains(t, out+errOut, "LEAKCHECK")
}

func TestExecFileRunsTheCommandWithTheDecryptedFile(t *testing.T) {
	f := newFixture(t)
	tmp := t.TempDir()
	t.Setenv("SOPS_DECRYPT_HELPER", "1")
	t.Setenv("SOPS_DECRYPT_EXIT", "0")
	out, _, err := runCLI("exec-file", "--identity", f.keyFile, "--file", f.encFile, "--tmpdir", tmp,
		"--", os.Args[0], "upgrade", "--install", "-f", "{}")
	require.NoError(t, err)
	fields := strings.Fields(out)
	require.Len(t, fields, 3, out)
	assert.Equal(t, tmp, filepath.Dir(fields[0]))
	assert.Equal(t, "600", fields[1])
	// The command saw exactly the decrypted YAML.
	ids, err := secrets.LoadIdentityFile(f.keyFile)
	require.NoError(t, err)
	want, err := secrets.DecryptFile(f.encFile, ids)
	require.NoError(t, err)
	sum := sha256.Sum256(want)
	assert.Equal(t, hex.EncodeToString(sum[:]), fields[2])
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries, "the decrypted file is removed")
}

func TestExecFilePropagatesTheCommandStatusAndCleansUp(t *testing.T) {
	f := newFixture(t)
	tmp := t.TempDir()
	t.Setenv("SOPS_DECRYPT_HELPER", "1")
	t.Setenv("SOPS_DECRYPT_EXIT", "42")
	_, _, err := runCLI("exec-file", "--identity", f.keyFile, "--file", f.encFile, "--tmpdir", tmp, "--", os.Args[0], "-f", "{}")
	require.Error(t, err)
	assert.Equal(t, 42, exitCode(err))
	entries, _ := os.ReadDir(tmp)
	assert.Empty(t, entries)
}

func TestErrorsMapToDistinctExitCodes(t *testing.T) {
	f := newFixture(t)
	tampered := filepath.Join(f.dir, "secrets", "production.enc.yaml")
	data, err := os.ReadFile(f.encFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tampered, bytes.Replace(data, []byte("data:"), []byte("data:AAAA"), 1), 0o644))
	notSops := filepath.Join(f.dir, "secrets", "dev.enc.yaml")
	require.NoError(t, os.WriteFile(notSops, []byte(plain), 0o644))

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", nil, exitUsage, "no subcommand"},
		{"unknown subcommand", []string{"decrypt"}, exitUsage, "unknown subcommand"},
		{"missing flags", []string{"check"}, exitUsage, "--identity FILE and --file FILE"},
		{"unknown flag", []string{"check", "--key", "x"}, exitUsage, "flag provided but not defined"},
		{"stray argument", []string{"check", "--identity", f.keyFile, "--file", f.encFile, "extra"}, exitUsage, "no arguments"},
		{"exec without command", []string{"exec-file", "--identity", f.keyFile, "--file", f.encFile}, exitUsage, "needs a command"},
		{"missing env file", []string{"check", "--identity", f.keyFile, "--file", filepath.Join(f.dir, "secrets", "qa.enc.yaml")}, exitMissing, "dev.enc.yaml, production.enc.yaml, staging.enc.yaml"},
		{"not a sops file", []string{"check", "--identity", f.keyFile, "--file", notSops}, exitMalformed, "not encrypted"},
		{"wrong key", []string{"check", "--identity", f.otherKeyFile, "--file", f.encFile}, exitKey, "no matching age identity"},
		{"missing key file", []string{"check", "--identity", filepath.Join(f.dir, "nope.key"), "--file", f.encFile}, exitKey, "does not exist"},
		{"tampered", []string{"check", "--identity", f.keyFile, "--file", tampered}, exitTampered, "integrity check failed"},
		{"exec wrong key", []string{"exec-file", "--identity", f.otherKeyFile, "--file", f.encFile, "--", "true", "{}"}, exitKey, "no matching age identity"},
		{"exec no placeholder", []string{"exec-file", "--identity", f.keyFile, "--file", f.encFile, "--tmpdir", t.TempDir(), "--", "helm", "upgrade"}, exitFailure, `contains "{}"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := runCLI(c.args...)
			require.Error(t, err)
			assert.Equal(t, c.code, exitCode(err), "%v", err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, out+errOut+err.Error(), "LEAKCHECK")
		})
	}
}

func TestHelp(t *testing.T) {
	out, _, err := runCLI("--help")
	require.NoError(t, err)
	assert.Contains(t, out, "exec-file")
	assert.Contains(t, out, "check")
}

func TestDefaultTmpDir(t *testing.T) {
	old := shmDir
	t.Cleanup(func() { shmDir = old })
	shmDir = t.TempDir()
	assert.Equal(t, shmDir, defaultTmpDir())
	shmDir = filepath.Join(shmDir, "missing")
	assert.Equal(t, os.TempDir(), defaultTmpDir())
}

func TestExitCodeOfNil(t *testing.T) {
	assert.Equal(t, 0, exitCode(nil))
	assert.Equal(t, exitFailure, exitCode(errors.New("other")))
	assert.Equal(t, exitFailure, exitCode(&secrets.CommandError{Name: "helm", ExitCode: -1}))
}

// TestProcessExitStatus runs main() in a child process, so the real exit
// status and streams are checked end to end.
func TestProcessExitStatus(t *testing.T) {
	f := newFixture(t)
	tmp := t.TempDir()
	runMain := func(exit string, args ...string) (int, string, string) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "SOPS_DECRYPT_MAIN=1", "SOPS_DECRYPT_HELPER=", "SOPS_DECRYPT_EXIT="+exit)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String(), errOut.String()
		}
		require.NoError(t, err)
		return 0, out.String(), errOut.String()
	}
	code, out, _ := runMain("0", "check", "--identity", f.keyFile, "--file", f.encFile)
	assert.Equal(t, 0, code)
	assert.Equal(t, "secrets.databaseUrl\nsecrets.mlflowTrackingToken\n", out)

	code, _, errOut := runMain("0", "check", "--identity", f.otherKeyFile, "--file", f.encFile)
	assert.Equal(t, exitKey, code)
	assert.Contains(t, errOut, "sops-decrypt: ")

	// exec-file: the child (this binary in helper mode) exits 3; so does
	// sops-decrypt. The helper role is enabled for the grandchild only.
	code, _, _ = runMain("3", "exec-file", "--identity", f.keyFile, "--file", f.encFile, "--tmpdir", tmp,
		"--", "env", "SOPS_DECRYPT_MAIN=", "SOPS_DECRYPT_HELPER=1", os.Args[0], "-f", "{}")
	assert.Equal(t, 3, code)
	entries, _ := os.ReadDir(tmp)
	assert.Empty(t, entries)
}

// TestRefuseIdentity: a production file the repository's test key opens is refused before the
// command runs, whatever its recipient labels say; a file the key does not open runs.
func TestRefuseIdentity(t *testing.T) {
	f := newFixture(t)
	// The fixture's file is encrypted to age.key; other.key plays production's own key.
	tmp := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	t.Setenv("SOPS_DECRYPT_HELPER", "1")
	t.Setenv("SOPS_DECRYPT_EXIT", "0")

	_, _, err := runCLI("exec-file", "--identity", f.keyFile, "--refuse-identity", f.keyFile, "--file", f.encFile, "--tmpdir", tmp,
		"--", "sh", "-c", "touch "+marker, "{}")
	require.Error(t, err)
	assert.Equal(t, exitForbidden, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "opens with a forbidden key")
	assert.Contains(t, err.Error(), "sops updatekeys")
	assert.NoFileExists(t, marker, "the command never ran")
	entries, _ := os.ReadDir(tmp)
	assert.Empty(t, entries, "nothing was decrypted to disk")

	_, _, err = runCLI("check", "--identity", f.keyFile, "--refuse-identity", f.keyFile, "--file", f.encFile)
	assert.Equal(t, exitForbidden, exitCode(err), "%v", err)

	// Positive twin: a key that does not open the file is no reason to refuse.
	out, _, err := runCLI("exec-file", "--identity", f.keyFile, "--refuse-identity", f.otherKeyFile, "--file", f.encFile, "--tmpdir", tmp,
		"--", os.Args[0], "-f", "{}")
	require.NoError(t, err)
	assert.Len(t, strings.Fields(out), 3)

	_, _, err = runCLI("check", "--identity", f.keyFile, "--refuse-identity", filepath.Join(f.dir, "nope.key"), "--file", f.encFile)
	assert.Equal(t, exitKey, exitCode(err))
	assert.Contains(t, err.Error(), "--refuse-identity")
}
