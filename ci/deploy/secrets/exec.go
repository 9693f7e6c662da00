package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// DefaultPlaceholder is the argument text ExecFile replaces with the path of
// the decrypted file, as in `sops exec-file`.
const DefaultPlaceholder = "{}"

// ExecOptions configures ExecFile.
type ExecOptions struct {
	// Dir is the directory the plaintext file is written to. It must exist;
	// prefer a memory-backed one such as /dev/shm.
	Dir string
	// Placeholder is replaced by the plaintext file's path in every argument
	// (default DefaultPlaceholder). At least one argument must contain it.
	Placeholder string
	// Stdin, Stdout and Stderr are the command's streams (nil: none).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Env is the command's environment (nil: the current process's).
	Env []string
}

// CommandError reports that the command run by ExecFile failed. ExitCode is
// the command's exit status, or -1 when it could not be started or was
// killed.
type CommandError struct {
	// Name is the command's program name (argv[0]).
	Name string
	// ExitCode is the exit status, -1 if not available.
	ExitCode int
	// Err is the underlying error.
	Err error
}

// Error describes the failure without repeating the command's arguments.
func (e *CommandError) Error() string {
	if e.ExitCode >= 0 {
		return fmt.Sprintf("%s exited with status %d", e.Name, e.ExitCode)
	}
	return fmt.Sprintf("%s failed: %v", e.Name, e.Err)
}

// Unwrap returns the underlying error.
func (e *CommandError) Unwrap() error { return e.Err }

// ExecFile writes plaintext to a new file (mode 0600) inside opts.Dir, runs
// argv with every occurrence of the placeholder replaced by that file's
// path, and removes the file when the command returns, whether it succeeded,
// failed or was cancelled through ctx. Bad arguments are rejected before
// anything is written.
func ExecFile(ctx context.Context, plaintext []byte, argv []string, opts ExecOptions) (err error) {
	if len(argv) == 0 || argv[0] == "" {
		return errors.New("no command given: put the command after --, e.g. -- helm upgrade ... -f {}")
	}
	ph := opts.Placeholder
	if ph == "" {
		ph = DefaultPlaceholder
	}
	hasPlaceholder := false
	for _, a := range argv[1:] {
		if strings.Contains(a, ph) {
			hasPlaceholder = true
			break
		}
	}
	if !hasPlaceholder {
		return fmt.Errorf("no argument of the command contains %q: add it where the decrypted file path belongs, e.g. -f %s", ph, ph)
	}
	if opts.Dir == "" {
		return errors.New("no directory for the decrypted file: set --tmpdir (prefer /dev/shm)")
	}
	st, err := os.Stat(opts.Dir)
	if err != nil {
		return fmt.Errorf("directory %s for the decrypted file is not usable: %v: create it or point --tmpdir elsewhere", opts.Dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory: point --tmpdir at a directory", opts.Dir)
	}

	f, err := os.CreateTemp(opts.Dir, "sops-decrypted-*.yaml")
	if err != nil {
		return fmt.Errorf("creating the decrypted file in %s: %v: point --tmpdir at a writable directory", opts.Dir, err)
	}
	path := f.Name()
	defer func() {
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
			err = fmt.Errorf("removing the decrypted file %s: %v: delete it by hand", path, rmErr)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("restricting %s to mode 0600: %v", path, err)
	}
	if _, err := f.Write(plaintext); err != nil {
		f.Close()
		return fmt.Errorf("writing the decrypted file %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing the decrypted file %s: %v", path, err)
	}

	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, ph, path)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.Env = opts.Env
	cmd.WaitDelay = 10 * time.Second
	if runErr := cmd.Run(); runErr != nil {
		ce := &CommandError{Name: argv[0], ExitCode: -1, Err: runErr}
		var exitErr *exec.ExitError
		if errors.As(runErr, &exitErr) && exitErr.ExitCode() >= 0 {
			ce.ExitCode = exitErr.ExitCode()
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			ce.ExitCode = -1
			ce.Err = ctxErr
		}
		return ce
	}
	return nil
}
