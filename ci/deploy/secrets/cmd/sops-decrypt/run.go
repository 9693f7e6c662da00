package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
)

// Exit statuses other than a wrapped command's own.
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitMissing   = 3
	exitMalformed = 4
	exitKey       = 5
	exitTampered  = 6
	exitForbidden = 7
)

// usageError marks errors in the command line itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

const usageText = `usage:
  sops-decrypt exec-file --identity FILE --file FILE [--refuse-identity FILE] [--tmpdir DIR] [--placeholder {}] -- COMMAND [ARGS...]
  sops-decrypt check --identity FILE --file FILE [--refuse-identity FILE]

exec-file  decrypt FILE to a 0600 file in --tmpdir, run COMMAND with {} replaced by its path,
           remove the file afterwards; exits with COMMAND's status
check      verify FILE decrypts and is intact; print its key names (never values)

--refuse-identity  an age key FILE must never open (production: the repository's test key):
                   refused, exit 7, before anything is decrypted, when it opens any age stanza
`

// shmDir is the preferred memory-backed directory for plaintext files.
var shmDir = "/dev/shm"

// defaultTmpDir returns /dev/shm when it is a directory, else os.TempDir().
func defaultTmpDir() string {
	if st, err := os.Stat(shmDir); err == nil && st.IsDir() {
		return shmDir
	}
	return os.TempDir()
}

// exitCode maps an error returned by run to the process exit status.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *secrets.CommandError
	var ue *usageError
	switch {
	case errors.As(err, &ce):
		if ce.ExitCode > 0 {
			return ce.ExitCode
		}
		return exitFailure
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, secrets.ErrMissingFile):
		return exitMissing
	case errors.Is(err, secrets.ErrMalformed):
		return exitMalformed
	case errors.Is(err, secrets.ErrWrongKey), errors.Is(err, secrets.ErrBadIdentity):
		return exitKey
	case errors.Is(err, secrets.ErrTampered):
		return exitTampered
	case errors.Is(err, secrets.ErrForbiddenKey):
		return exitForbidden
	}
	return exitFailure
}

// run is the whole program: main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return usagef("no subcommand: use exec-file or check")
	}
	switch args[0] {
	case "exec-file":
		return runExecFile(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	}
	fmt.Fprint(stderr, usageText)
	return usagef("unknown subcommand %q: use exec-file or check", args[0])
}

// common holds the flags both subcommands share.
type common struct {
	identity string
	file     string
	refuse   string
}

func newFlagSet(name string, stderr io.Writer, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.identity, "identity", "", "age identity file (e.g. the mounted secret /run/secrets/age.key)")
	fs.StringVar(&c.file, "file", "", "SOPS-encrypted YAML file (e.g. charts/soccer-predict/secrets/staging.enc.yaml)")
	fs.StringVar(&c.refuse, "refuse-identity", "", "age identity file that must not open --file (production: the repository's test key)")
	return fs
}

func (c common) validate(sub string) error {
	var missing []string
	if c.identity == "" {
		missing = append(missing, "--identity FILE")
	}
	if c.file == "" {
		missing = append(missing, "--file FILE")
	}
	if len(missing) > 0 {
		return usagef("%s needs %s", sub, strings.Join(missing, " and "))
	}
	return nil
}

// decrypt loads the identity and decrypts the file, first refusing a file that
// --refuse-identity opens.
func (c common) decrypt() ([]byte, error) {
	if c.refuse != "" {
		forbidden, err := secrets.LoadIdentityFile(c.refuse)
		if err != nil {
			return nil, fmt.Errorf("--refuse-identity: %w", err)
		}
		data, err := os.ReadFile(c.file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return secrets.DecryptFile(c.file, forbidden) // names the files that exist
			}
			return nil, fmt.Errorf("reading %s: %w", c.file, err)
		}
		if err := secrets.CheckNotOpenableBy(data, forbidden); err != nil {
			return nil, fmt.Errorf("%s: %w: encrypt it only to the environment's own key (remove that key from its rule in .sops.yaml, then sops updatekeys %s or re-encrypt it)", c.file, err, c.file)
		}
	}
	ids, err := secrets.LoadIdentityFile(c.identity)
	if err != nil {
		return nil, err
	}
	return secrets.DecryptFile(c.file, ids)
}

func runExecFile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("exec-file", stderr, &c)
	tmpdir := fs.String("tmpdir", "", "directory for the decrypted file (default /dev/shm if it exists, else the system temp dir)")
	placeholder := fs.String("placeholder", secrets.DefaultPlaceholder, "text replaced by the decrypted file's path in the command")
	if err := fs.Parse(args); err != nil {
		return usagef("exec-file: %v", err)
	}
	if err := c.validate("exec-file"); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return usagef("exec-file needs a command after --, e.g. -- helm upgrade ... -f {}")
	}
	if *placeholder == "" {
		return usagef("--placeholder must not be empty")
	}
	dir := *tmpdir
	if dir == "" {
		dir = defaultTmpDir()
	}
	plain, err := c.decrypt()
	if err != nil {
		return err
	}
	return secrets.ExecFile(ctx, plain, argv, secrets.ExecOptions{
		Dir:         dir,
		Placeholder: *placeholder,
		Stdout:      stdout,
		Stderr:      stderr,
	})
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("check", stderr, &c)
	if err := fs.Parse(args); err != nil {
		return usagef("check: %v", err)
	}
	if err := c.validate("check"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("check takes no arguments, got %q", fs.Args())
	}
	plain, err := c.decrypt()
	if err != nil {
		return err
	}
	names, err := secrets.KeyNames(plain)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintf(stderr, "sops-decrypt: %s decrypts and passes its integrity checks (%d keys)\n", c.file, len(names))
	return nil
}
