//go:build daggerharness

package main

// The registry tool (ci/cmd/oci) run for real, with the exact command line the module gives it,
// in a fresh root that holds only what the tool's container has in a Dagger engine: the
// directories of the golang image and what the module's chain declares (files, mounts, the
// working directory), created the way the engine creates them. A real engine found that
// `oci normalize --out /out/image.tar` ran where /out did not exist (issue 21); the recording
// harness alone cannot see that, this replay does. No directory of a replay root is made by
// the test itself: only the image's (goImageDirs) and the engine's for the chain's steps.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	mathrand "math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// goImage is the image every registry-tool container starts from; goImageDirs describe it.
var goImage = toolchain.Default(toolchain.Golang)

// goImageDirs are the directories of golang:1.26 (docker-library/golang's Dockerfile for Debian
// trixie: Debian's root tree with /bin, /lib, /lib64 and /sbin as links into /usr, Go in
// /usr/local/go, GOPATH /go with src and bin, WORKDIR /go). Nothing else: in particular no
// /in, /out, /run/secrets, /run/registry or /trust, which a tool finds only when the module's
// chain makes them. The image's files are not laid out: a registry-tool container runs only the
// static tool its chain puts at /usr/local/bin/oci.
var goImageDirs = []string{
	"/boot", "/dev", "/etc", "/go", "/go/bin", "/go/src", "/home", "/media", "/mnt", "/opt",
	"/proc", "/root", "/run", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/lib64",
	"/usr/local", "/usr/local/bin", "/usr/local/go", "/usr/local/go/bin", "/usr/local/sbin",
	"/usr/sbin", "/usr/share", "/var", "/var/cache", "/var/lib", "/var/log", "/var/tmp",
}

var goImageLinks = map[string]string{"/bin": "usr/bin", "/lib": "usr/lib", "/lib64": "usr/lib64", "/sbin": "usr/sbin"}

// goImageEnv and goImageWorkdir are the image's config (ENV and WORKDIR of the Dockerfile).
var goImageEnv = []string{
	"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"GOLANG_VERSION=1.26.4", "GOTOOLCHAIN=local", "GOPATH=/go",
}

const goImageWorkdir = "/go"

// makeGoImage lays out the image's directories under root.
func makeGoImage(root string) error {
	for _, d := range goImageDirs {
		mode := fs.FileMode(0o755)
		if d == "/tmp" || d == "/var/tmp" || strings.HasPrefix(d, "/go") {
			mode = fs.ModePerm | fs.ModeSticky // 1777
		}
		if err := os.Mkdir(filepath.Join(root, d), mode); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(root, d), mode); err != nil { // past the umask
			return err
		}
	}
	for link, target := range goImageLinks {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			return err
		}
	}
	return nil
}

// blob is a file's contents and mode.
type blob struct {
	data []byte
	mode fs.FileMode
}

// toolRun is one replayed container chain ending in an exec: its root stays for the files
// and directories read from the container afterwards.
type toolRun struct {
	// Args is the argv of the chain's last exec.
	Args []string
	// Root is the container's filesystem after the exec.
	Root    string
	workdir string
	Stdout  string
	Stderr  string
	Exit    int
	// failed is the first exec of the chain that exited non-zero, as the engine reports it.
	failed *daggertest.ExecError
	// err says why the chain could not be replayed (a step the replay does not model).
	err error
}

// execFailed is a file or directory read from a container whose exec failed.
type execFailed struct{ ee *daggertest.ExecError }

func (e execFailed) Error() string {
	return fmt.Sprintf("%s exited %d: %s", strings.Join(e.ee.Cmd, " "), e.ee.ExitCode, e.ee.Stderr)
}

// toolWorld replays the registry tool's execs a module function asks for.
type toolWorld struct {
	// oci is the registry tool, built by the test like the module builds it.
	oci string
	// base holds the replay roots.
	base string
	// other gives the contents of files no replayed tool writes (Trivy's reports).
	other func(w *toolWorld, chain daggertest.Chain) (string, bool)

	runs     onceMap[*toolRun]
	archives onceMap[archiveResult]

	mu       sync.Mutex
	done     []*toolRun
	problems []string
}

type archiveResult struct {
	data []byte
	err  error
}

func newToolWorld(oci, base string) *toolWorld { return &toolWorld{oci: oci, base: base} }

// onceMap computes a value once per key, however many goroutines ask at once.
type onceMap[T any] struct {
	mu sync.Mutex
	m  map[string]*onceCell[T]
}

type onceCell[T any] struct {
	once sync.Once
	v    T
}

func (o *onceMap[T]) get(key string, compute func() T) T {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceCell[T]{}
	}
	c, ok := o.m[key]
	if !ok {
		c = &onceCell[T]{}
		o.m[key] = c
	}
	o.mu.Unlock()
	c.once.Do(func() { c.v = compute() })
	return c.v
}

// problem records why the replay could not answer (checked by the test's goroutine: a
// responder runs on the recorder's).
func (w *toolWorld) problem(err error) *daggertest.GQLError {
	w.mu.Lock()
	w.problems = append(w.problems, err.Error())
	w.mu.Unlock()
	return &daggertest.GQLError{Message: "toolfs replay: " + err.Error()}
}

func (w *toolWorld) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	assert.Empty(t, w.problems, "every exec of the registry tool was replayed")
	w.problems = nil
}

// ran lists the replays that finished, in order.
func (w *toolWorld) ran(sub string) []*toolRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*toolRun
	for _, r := range w.done {
		if len(r.Args) > 1 && r.Args[0] == ociBin && r.Args[1] == sub {
			out = append(out, r)
		}
	}
	return out
}

// isToolChain reports whether chain runs the registry tool in one of its execs.
func isToolChain(chain daggertest.Chain) bool {
	for _, st := range chain {
		if st.Field == "withExec" {
			if args := st.Strings("args"); len(args) > 0 && args[0] == ociBin {
				return true
			}
		}
	}
	return false
}

// respond answers, from real runs, the leaves of chains that run the registry tool: the
// exec's outputs and exit code, and files and directories read from its container.
func (w *toolWorld) respond(c daggertest.Call) (any, bool) {
	switch c.Leaf {
	case "stdout", "stderr", "combinedOutput", "exitCode", "sync":
		args, ok := c.ExecArgs()
		if !ok || len(args) == 0 || args[0] != ociBin {
			return nil, false
		}
		r := w.run(c.Chain)
		if r.err != nil {
			return w.problem(r.err), true
		}
		if r.failed != nil {
			return r.failed, true
		}
		switch c.Leaf {
		case "stdout":
			return r.Stdout, true
		case "stderr":
			return r.Stderr, true
		case "combinedOutput":
			return r.Stdout + r.Stderr, true
		case "exitCode":
			return r.Exit, true
		}
		return nil, false // sync: the recorder's ID
	case "contents":
		if !isToolChain(c.Chain) {
			if s, ok := w.other(w, c.Chain); ok {
				return s, true
			}
			return nil, false
		}
		b, err := w.file(c.Chain)
		var ef execFailed
		if errors.As(err, &ef) {
			return ef.ee, true
		}
		if err != nil {
			return w.problem(err), true
		}
		return string(b.data), true
	}
	return nil, false
}

// run replays chain (ending in withExec) once.
func (w *toolWorld) run(chain daggertest.Chain) *toolRun {
	return w.runs.get(chain.String(), func() *toolRun {
		r := &toolRun{}
		w.replay(chain, r)
		w.mu.Lock()
		w.done = append(w.done, r)
		w.mu.Unlock()
		return r
	})
}

// replayCtr is the container being replayed.
type replayCtr struct {
	root    string
	env     []string
	workdir string
	mounts  []mount
	hosts   []string // /etc/hosts lines of the service bindings
}

type mount struct {
	path string
	blob
}

func (w *toolWorld) replay(chain daggertest.Chain, r *toolRun) {
	if len(chain) < 3 || chain[0].Field != "container" || chain[1].Field != "from" || chain[len(chain)-1].Field != "withExec" {
		r.err = fmt.Errorf("not a container from an image ending in an exec: %s", chain)
		return
	}
	if addr := chain[1].Str("address"); addr != goImage {
		r.err = fmt.Errorf("the container starts from %s: only %s is modelled (goImageDirs); describe the new image there", addr, goImage)
		return
	}
	root, err := os.MkdirTemp(w.base, "root-")
	if err == nil {
		err = makeGoImage(root)
	}
	if err != nil {
		r.err = err
		return
	}
	c := &replayCtr{root: root, env: append([]string(nil), goImageEnv...), workdir: goImageWorkdir}
	r.Root = root
	for _, st := range chain[2:] {
		if err := w.step(c, st, r); err != nil {
			r.err = fmt.Errorf("%s: %w", st, err)
			return
		}
		if r.failed != nil {
			return // the engine runs nothing after a failed exec
		}
	}
	r.workdir = c.workdir
}

// modelled lists, for each container step the replay models, the arguments it models: any
// other step or argument (owner, include, expand, a cache mount, …) is refused rather than
// replayed wrongly.
var modelled = map[string][]string{
	"withFile":           {"path", "source", "permissions"},
	"withNewFile":        {"path", "contents", "permissions"},
	"withDirectory":      {"path", "source", "directory"},
	"withMountedFile":    {"path", "source"},
	"withMountedSecret":  {"path", "source", "mode"},
	"withWorkdir":        {"path"},
	"withEnvVariable":    {"name", "value"},
	"withExec":           {"args", "expect"},
	"withServiceBinding": {"alias", "service"},
}

// step applies one step of a container chain as the engine does (core/container.go and
// engine/engineutil/executor_spec.go of dagger v0.21.8).
func (w *toolWorld) step(c *replayCtr, st daggertest.Step, r *toolRun) error {
	args, ok := modelled[st.Field]
	if !ok {
		return errors.New("this step is not modelled by the replay: describe what the engine does for it in toolfs_test.go")
	}
	for name := range st.Args {
		if !slices.Contains(args, name) {
			return fmt.Errorf("the argument %s is not modelled by the replay", name)
		}
	}
	p := absIn(c.workdir, st.Str("path"))
	switch st.Field {
	case "withFile", "withNewFile":
		// Directory.WithFile copies with its destination's parents created.
		var b blob
		if st.Field == "withNewFile" {
			b = blob{[]byte(st.Str("contents")), 0o644}
		} else {
			ref, ok := st.Ref("source")
			if !ok {
				return errors.New("no source")
			}
			var err error
			if b, err = w.file(ref.Chain); err != nil {
				return err
			}
		}
		if perm, ok := st.Args["permissions"].(float64); ok {
			b.mode = fs.FileMode(int(perm))
		}
		return writeIn(c.root, p, b)
	case "withDirectory":
		ref, ok := st.Ref("source")
		if !ok {
			ref, ok = st.Ref("directory")
		}
		if !ok {
			return errors.New("no source directory")
		}
		files, err := w.dir(ref.Chain)
		if err != nil {
			return err
		}
		// The destination is created even for an empty directory (this is what /out needs).
		if err := os.MkdirAll(filepath.Join(c.root, p), 0o755); err != nil {
			return err
		}
		for rel, b := range files {
			if err := writeIn(c.root, path.Join(p, rel), b); err != nil {
				return err
			}
		}
		return nil
	case "withMountedFile":
		ref, ok := st.Ref("source")
		if !ok {
			return errors.New("no source")
		}
		b, err := w.file(ref.Chain)
		if err != nil {
			return err
		}
		c.mounts = append(c.mounts, mount{p, b})
		return nil
	case "withMountedSecret":
		ref, ok := st.Ref("source")
		if !ok || len(ref.Chain) == 0 || ref.Chain[0].Field != "setSecret" {
			return errors.New("only secrets made with setSecret are modelled")
		}
		mode := fs.FileMode(0o400) // the schema's default
		if m, ok := st.Args["mode"].(float64); ok {
			mode = fs.FileMode(int(m))
		}
		c.mounts = append(c.mounts, mount{p, blob{[]byte(ref.Chain[0].Str("plaintext")), mode}})
		return nil
	case "withWorkdir":
		c.workdir = p
		return nil
	case "withServiceBinding":
		// The engine writes the alias into the container's /etc/hosts with the service's address
		// (engine/engineutil/executor_spec.go). Only the caller's --local-registry is modelled:
		// the CLI makes tcp://HOST:PORT an Address's service, a forward to that port of the
		// caller's machine, and the caller's machine is this one, so the alias is HOST's address.
		ref, ok := st.Ref("service")
		if !ok || len(ref.Chain) != 2 || ref.Chain[0].Field != "address" || ref.Chain[1].Field != "service" {
			return fmt.Errorf("only an address(tcp://…).service binding is modelled, not %s", ref.Chain)
		}
		u, err := url.Parse(ref.Chain[0].Str("value"))
		if err != nil || u.Scheme != "tcp" {
			return fmt.Errorf("only a tcp:// address is modelled, not %q", ref.Chain[0].Str("value"))
		}
		host := u.Hostname()
		if host == "localhost" {
			host = "127.0.0.1"
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.IsLoopback() {
			return fmt.Errorf("a service at %q is not modelled: only the caller's loopback", u.Host)
		}
		c.hosts = append(c.hosts, ip.String()+"\t"+st.Str("alias"))
		return nil
	case "withEnvVariable":
		c.setenv(st.Str("name"), st.Str("value"))
		return nil
	case "withExec":
		expect := st.Str("expect")
		if expect != "" && expect != "SUCCESS" && expect != "ANY" {
			return fmt.Errorf("expect %s is not modelled", expect)
		}
		args := st.Strings("args")
		stdout, stderr, exit, err := c.exec(args)
		if err != nil {
			return err
		}
		r.Args, r.Stdout, r.Stderr, r.Exit = args, stdout, stderr, exit
		if exit != 0 && expect != "ANY" {
			r.failed = &daggertest.ExecError{Cmd: args, ExitCode: exit, Stdout: stdout, Stderr: stderr}
		}
	}
	return nil
}

func (c *replayCtr) setenv(name, value string) {
	for i, kv := range c.env {
		if strings.HasPrefix(kv, name+"=") {
			c.env[i] = name + "=" + value
			return
		}
	}
	c.env = append(c.env, name+"="+value)
}

// exec runs args chrooted into the container's root, as the engine runs a withExec: the
// working directory is created when missing (createCWD) and stays; every mount whose target is
// missing gets a stub with its missing parents, removed again after the process when empty
// (MountStubsCleaner with RemoveMountStubsRecursive, as core/container_exec.go asks);
// /etc/hosts and /etc/resolv.conf are mounted in every container.
func (c *replayCtr) exec(args []string) (string, string, int, error) {
	if len(args) == 0 {
		return "", "", 0, errors.New("empty command")
	}
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
	for _, h := range c.hosts {
		hosts += h + "\n"
	}
	mounts := append([]mount{
		{"/etc/hosts", blob{[]byte(hosts), 0o644}},
		{"/etc/resolv.conf", blob{[]byte("nameserver 127.0.0.1\n"), 0o644}},
	}, c.mounts...)
	var stubs []string // created by the mounts, removed afterwards when empty
	for _, m := range mounts {
		target := filepath.Join(c.root, m.path)
		if _, err := os.Lstat(target); err == nil {
			return "", "", 0, fmt.Errorf("a mount over the existing %s is not modelled", m.path)
		}
		for d := filepath.Dir(target); d != c.root; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil {
				break
			}
			stubs = append(stubs, d)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return "", "", 0, err
		}
		if err := os.WriteFile(target, m.data, m.mode); err != nil {
			return "", "", 0, err
		}
	}
	defer func() {
		for _, m := range mounts {
			_ = os.Remove(filepath.Join(c.root, m.path))
		}
		sort.Slice(stubs, func(i, j int) bool { return len(stubs[i]) > len(stubs[j]) })
		for _, d := range stubs {
			_ = os.Remove(d) // only when empty
		}
	}()
	if err := os.MkdirAll(filepath.Join(c.root, c.workdir), 0o755); err != nil {
		return "", "", 0, err
	}
	bin := args[0]
	if !strings.Contains(bin, "/") {
		found := ""
		for _, kv := range c.env {
			if dirs, ok := strings.CutPrefix(kv, "PATH="); ok {
				for _, d := range strings.Split(dirs, ":") {
					if st, err := os.Stat(filepath.Join(c.root, d, bin)); err == nil && st.Mode()&0o111 != 0 {
						found = path.Join(d, bin)
						break
					}
				}
			}
		}
		if found == "" {
			return "", "", 0, fmt.Errorf("%s is not on the container's PATH", bin)
		}
		bin = found
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	var err error
	// The services replay concurrently: a fork in another goroutine can briefly hold a write
	// descriptor of a binary just written into a root (Go issue 22315), and exec then fails with
	// ETXTBSY. That is the test's own race, not the module's: try again, a bounded number of times.
	for attempt := 0; ; attempt++ {
		stdout.Reset()
		stderr.Reset()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Args = args
		cmd.Env = c.env
		cmd.Dir = c.workdir
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: c.root}
		err = cmd.Run()
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return stdout.String(), stderr.String(), exitErr.ExitCode(), nil
	case err != nil:
		return "", "", 0, fmt.Errorf("run %s in %s: %w", strings.Join(args, " "), c.root, err)
	}
	return stdout.String(), stderr.String(), 0, nil
}

// absIn resolves p against the working directory, as the engine resolves a container path.
func absIn(workdir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(workdir, p)
}

// writeIn writes a file at p inside root with its missing parents (0755).
func writeIn(root, p string, b blob) error {
	target := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(target, b.data, b.mode); err != nil {
		return err
	}
	return os.Chmod(target, b.mode)
}

// file is the contents of a file object's chain.
func (w *toolWorld) file(chain daggertest.Chain) (blob, error) {
	n := len(chain)
	if n == 0 {
		return blob{}, errors.New("empty file chain")
	}
	last := chain[n-1]
	switch {
	case n == 1 && last.Field == "file": // dag.File(name, contents)
		return blob{[]byte(last.Str("contents")), 0o644}, nil
	case last.Field == "asTarball":
		b, err := w.archive(chain[:n-1])
		return blob{b, 0o644}, err
	case last.Field == "file":
		parent, p := chain[:n-1], last.Str("path")
		fromContainer := parent[0].Field == "container" && parent[len(parent)-1].Field != "directory"
		switch {
		case fromContainer && isToolBuild(parent):
			if p != toolchain.OCI.Binary() {
				return blob{}, fmt.Errorf("the tool build writes %s, not %s", toolchain.OCI.Binary(), p)
			}
			b, err := os.ReadFile(w.oci)
			return blob{b, 0o755}, err
		case fromContainer && isToolChain(parent):
			r, err := w.container(parent)
			if err != nil {
				return blob{}, err
			}
			return readIn(r.Root, absIn(r.workdir, p))
		case isToolChain(parent) || parent[0].Field == "directory":
			files, err := w.dir(parent)
			if err != nil {
				return blob{}, err
			}
			if b, ok := files[relPath(p)]; ok {
				return b, nil
			}
			return blob{}, fmt.Errorf("no file %s in %s", p, parent)
		}
	}
	if s, ok := w.other(w, chain); ok {
		return blob{[]byte(s), 0o644}, nil
	}
	return blob{}, fmt.Errorf("no contents are known for the file %s: give them in the test's other()", chain)
}

// relPath is a container or directory path as a key of dir's map.
func relPath(p string) string { return path.Clean(strings.TrimPrefix(p, "/")) }

// container replays the container chain ctr up to its last exec; no step may follow the exec.
func (w *toolWorld) container(ctr daggertest.Chain) (*toolRun, error) {
	i := len(ctr) - 1
	if ctr[i].Field != "withExec" {
		return nil, fmt.Errorf("a file read from a container after step %s is not modelled", ctr[i])
	}
	r := w.run(ctr)
	if r.err != nil {
		return nil, r.err
	}
	if r.failed != nil {
		return nil, execFailed{r.failed}
	}
	return r, nil
}

// dir is the contents of a directory object's chain, by slash path relative to it.
func (w *toolWorld) dir(chain daggertest.Chain) (map[string]blob, error) {
	n := len(chain)
	if n == 1 && chain[0].Field == "directory" && len(chain[0].Args) == 0 {
		return map[string]blob{}, nil // dag.Directory()
	}
	if n == 0 {
		return nil, errors.New("empty directory chain")
	}
	last := chain[n-1]
	switch last.Field {
	case "withNewFile", "withFile":
		files, err := w.dir(chain[:n-1])
		if err != nil {
			return nil, err
		}
		b := blob{[]byte(last.Str("contents")), 0o644}
		if last.Field == "withFile" {
			ref, ok := last.Ref("source")
			if !ok {
				return nil, errors.New("withFile without a source")
			}
			if b, err = w.file(ref.Chain); err != nil {
				return nil, err
			}
		}
		files[relPath(last.Str("path"))] = b
		return files, nil
	case "directory":
		if chain[0].Field != "container" || !isToolChain(chain[:n-1]) {
			break
		}
		r, err := w.container(chain[:n-1])
		if err != nil {
			return nil, err
		}
		top := filepath.Join(r.Root, absIn(r.workdir, last.Str("path")))
		files := map[string]blob{}
		err = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(top, p)
			files[filepath.ToSlash(r)] = blob{b, info.Mode().Perm()}
			return nil
		})
		return files, err
	}
	return nil, fmt.Errorf("the directory %s is not modelled by the replay", chain)
}

func readIn(root, p string) (blob, error) {
	target := filepath.Join(root, p)
	b, err := os.ReadFile(target)
	if err != nil {
		return blob{}, err
	}
	info, err := os.Stat(target)
	if err != nil {
		return blob{}, err
	}
	return blob{b, info.Mode().Perm()}, nil
}

func lastExec(chain daggertest.Chain) (daggertest.Step, bool) {
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].Field == "withExec" {
			return chain[i], true
		}
	}
	return daggertest.Step{}, false
}

// isToolBuild reports whether the last exec of ctr is the module's build of the registry tool
// (whose binary the test built the same way).
func isToolBuild(ctr daggertest.Chain) bool {
	build, ok := lastExec(ctr)
	_, inModule := ctr.StepWhere("withWorkdir", "path", path.Join("/pipeline", toolchain.OCI.ModuleDir))
	return ok && inModule && slices.Equal(build.Strings("args"), toolchain.OCI.GoBuild())
}

// archive is the OCI archive `asTarball` exports of the built container ctr: one image with
// the labels the chain gives it and random layers, the same for the same chain.
func (w *toolWorld) archive(ctr daggertest.Chain) ([]byte, error) {
	key := ctr.String()
	a := w.archives.get(key, func() archiveResult {
		labels := map[string]string{}
		for _, st := range ctr.Steps("withLabel") {
			labels[st.Str("name")] = st.Str("value")
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(key))
		data, err := engineArchive(labels, h.Sum64())
		return archiveResult{data, err}
	})
	return a.data, a.err
}

func sha256Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// engineArchive writes, with the standard library only (no code of the tool under test), an
// archive in the form Dagger's asTarball exports (oci-layout, index.json, blobs/sha256/…, and a
// docker manifest.json): two gzip layers of random files written now, after the commit time.
func engineArchive(labels map[string]string, seed uint64) ([]byte, error) {
	rng := mathrand.New(mathrand.NewPCG(seed, seed>>1|1))
	now := time.Now().UTC().Truncate(time.Second)
	blobs := map[string][]byte{}
	put := func(b []byte) string {
		d := sha256Digest(b)
		blobs[d] = b
		return d
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	var layers []desc
	var diffIDs []string
	for i := range 2 {
		var raw bytes.Buffer
		tw := tar.NewWriter(&raw)
		for j := range 3 {
			body := make([]byte, 256+rng.IntN(1024))
			for k := range body {
				body[k] = byte(rng.Uint32())
			}
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("app/%d/%d.bin", i, j), Mode: 0o644, Size: int64(len(body)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
				return nil, err
			}
			if _, err := tw.Write(body); err != nil {
				return nil, err
			}
		}
		if err := tw.Close(); err != nil {
			return nil, err
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(raw.Bytes()); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		diffIDs = append(diffIDs, sha256Digest(raw.Bytes()))
		layers = append(layers, desc{"application/vnd.oci.image.layer.v1.tar+gzip", put(gz.Bytes()), gz.Len()})
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": now.Format(time.RFC3339),
		"config":  map[string]any{"Env": []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, "Labels": labels},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": []map[string]string{{"created": now.Format(time.RFC3339), "created_by": "COPY . /app/0"}, {"created": now.Format(time.RFC3339), "created_by": "COPY . /app/1"}},
	})
	if err != nil {
		return nil, err
	}
	cfg := desc{"application/vnd.oci.image.config.v1+json", put(config), len(config)}
	manifest, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers})
	if err != nil {
		return nil, err
	}
	man := desc{"application/vnd.oci.image.manifest.v1+json", put(manifest), len(manifest)}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []desc{man}})
	if err != nil {
		return nil, err
	}
	blobPath := func(d string) string { return "blobs/sha256/" + strings.TrimPrefix(d, "sha256:") }
	var layerPaths []string
	for _, l := range layers {
		layerPaths = append(layerPaths, blobPath(l.Digest))
	}
	docker, err := json.Marshal([]map[string]any{{"Config": blobPath(cfg.Digest), "RepoTags": []string{}, "Layers": layerPaths}})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	add := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: now, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
	}
	digests := make([]string, 0, len(blobs))
	for d := range blobs {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	for _, d := range digests {
		if err := add(blobPath(d), blobs[d]); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"index.json", index}, {"manifest.json", docker}, {"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}} {
		if err := add(f.name, f.b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// archiveImage is what an OCI archive holds, read with the standard library only.
type archiveImage struct {
	Digest  string // manifest digest (index.json)
	Config  string // config digest
	DiffIDs []string
	Labels  map[string]string
	Created string
}

func inspectArchive(data []byte) (archiveImage, error) {
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return archiveImage{}, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return archiveImage{}, err
		}
		files[strings.TrimPrefix(h.Name, "./")] = b
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		return archiveImage{}, fmt.Errorf("index.json: want one manifest (%v)", err)
	}
	blobOf := func(d string) []byte { return files["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")] }
	var manifest struct {
		Config struct{ Digest string } `json:"config"`
	}
	if err := json.Unmarshal(blobOf(index.Manifests[0].Digest), &manifest); err != nil {
		return archiveImage{}, fmt.Errorf("manifest: %w", err)
	}
	var config struct {
		Created string `json:"created"`
		Config  struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	cfg := blobOf(manifest.Config.Digest)
	if err := json.Unmarshal(cfg, &config); err != nil {
		return archiveImage{}, fmt.Errorf("config: %w", err)
	}
	if sha256Digest(cfg) != manifest.Config.Digest {
		return archiveImage{}, errors.New("the config blob does not match its digest")
	}
	return archiveImage{Digest: index.Manifests[0].Digest, Config: manifest.Config.Digest, DiffIDs: config.RootFS.DiffIDs, Labels: config.Config.Labels, Created: config.Created}, nil
}

// trivyStandIn plays Trivy for the replay: the JSON report and the CycloneDX SBOM of the archive
// Trivy's container was given (the real archive `oci normalize` wrote), naming the image by its
// config digest and layers as Trivy does for an --input archive, with no finding.
func trivyStandIn(w *toolWorld, chain daggertest.Chain) (string, bool) {
	n := len(chain)
	if n < 3 || chain[0].Field != "container" || chain[n-1].Field != "file" {
		return "", false
	}
	name := path.Base(chain[n-1].Str("path"))
	isReport, isSBOM := strings.HasPrefix(name, "trivy-") && strings.HasSuffix(name, ".json"), strings.HasPrefix(name, "sbom-") && strings.HasSuffix(name, ".cdx.json")
	exec, ok := lastExec(chain)
	args := exec.Strings("args")
	if !ok || len(args) == 0 || args[0] != "trivy" || (!isReport && !isSBOM) {
		return "", false
	}
	i := indexOf(args, "--input")
	if i < 0 || i+1 >= len(args) {
		w.problem(fmt.Errorf("trivy without --input: %s", exec))
		return "", false
	}
	input := args[i+1]
	st, ok := chain.StepWhere("withMountedFile", "path", input)
	src, hasSrc := st.Ref("source")
	if !ok || !hasSrc {
		w.problem(fmt.Errorf("nothing is mounted at trivy's --input %s", input))
		return "", false
	}
	b, err := w.file(src.Chain)
	if err != nil {
		w.problem(fmt.Errorf("the archive trivy scans: %w", err))
		return "", false
	}
	img, err := inspectArchive(b.data)
	if err != nil {
		w.problem(fmt.Errorf("the archive trivy scans: %w", err))
		return "", false
	}
	var doc any
	if isReport {
		doc = map[string]any{"SchemaVersion": 2, "ArtifactName": input, "ArtifactType": "container_image",
			"Metadata": map[string]any{"OS": map[string]string{"Family": "debian", "Name": "12.5"}, "ImageID": img.Config, "DiffIDs": img.DiffIDs},
			"Results":  []any{}}
	} else {
		props := []map[string]string{{"name": "aquasecurity:trivy:ImageID", "value": img.Config}}
		for _, d := range img.DiffIDs {
			props = append(props, map[string]string{"name": "aquasecurity:trivy:DiffID", "value": d})
		}
		doc = map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
			"metadata":   map[string]any{"component": map[string]any{"bom-ref": input, "type": "container", "name": input, "properties": props}},
			"components": []any{}}
	}
	out, err := json.Marshal(doc)
	return string(out), err == nil
}

// buildTools builds the registry tool exactly as the module's tool build does
// (toolchain.OCI.GoBuild with CGO_ENABLED=0 and GOFLAGS=-mod=readonly: static, so it runs in a
// root without libc) and the test registry (tests/testregistry), with the Go build cache.
func buildTools(t *testing.T) (oci, reg string) {
	t.Helper()
	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	args := toolchain.OCI.GoBuild()
	i := indexOf(args, "-o")
	require.GreaterOrEqual(t, i, 0, "the tool build names its output: %v", args)
	args[i+1] = filepath.Join(dir, toolchain.OCI.Name)
	// The registry tool is its own Go module (toolchain.OCI.ModuleDir); the test registry is
	// the root module's.
	for _, b := range []struct {
		dir  string
		args []string
	}{
		{filepath.Join(repo, toolchain.OCI.ModuleDir), args},
		{repo, []string{"go", "build", "-o", filepath.Join(dir, "testregistry"), "./tests/testregistry"}},
	} {
		cmd := exec.Command(b.args[0], b.args[1:]...)
		cmd.Dir = b.dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s:\n%s", strings.Join(b.args, " "), out)
	}
	return filepath.Join(dir, toolchain.OCI.Name), filepath.Join(dir, "testregistry")
}

// startRegistry starts tests/testregistry and returns its host:port; it stops with the test.
func startRegistry(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line := make([]byte, 64)
	n, err := stdout.Read(line)
	require.NoError(t, err)
	addr := strings.TrimSpace(string(line[:n]))
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), "the test registry listens on loopback: %q", addr)
	return addr
}

// registryDigest asks the registry itself (not the tool) which manifest a tag or digest names.
func registryDigest(t *testing.T, addr, repo, ref string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, "http://"+addr+"/v2/"+repo+"/manifests/"+ref, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s/%s:%s on the registry", addr, repo, ref)
	return resp.Header.Get("Docker-Content-Digest")
}

// referrers lists the artifactType of each referrer manifest the registry holds for
// repo@digest (read from the manifests themselves: go-containerregistry's test registry puts the
// config's media type in the referrers index).
func referrers(t *testing.T, addr, repo, digest string) []string {
	t.Helper()
	get := func(p string, v any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/"+repo+"/"+p, nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	get("referrers/"+digest, &idx)
	var out []string
	for _, m := range idx.Manifests {
		var manifest struct {
			ArtifactType string `json:"artifactType"`
			Subject      struct {
				Digest string `json:"digest"`
			} `json:"subject"`
		}
		get("manifests/"+m.Digest, &manifest)
		require.Equal(t, digest, manifest.Subject.Digest)
		out = append(out, manifest.ArtifactType)
	}
	sort.Strings(out)
	return out
}

// keyIDOf is the key ID of a PEM public key by its definition: SHA-256 of the DER.
func keyIDOf(t *testing.T, public string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(public))
	require.NotNil(t, block)
	sum := sha256.Sum256(block.Bytes)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// signingPair is an attestation key pair made for the test: the private half as the secret's
// PKCS#8 PEM, the public half as the trusted key compiled into the module.
func signingPair(t *testing.T) (private, public string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// TestRegistryToolRunsInTheDirectoriesTheModuleDeclares runs every command line the module
// gives the registry tool (check-key, normalize, push, attach, verify, promote, resolve) for
// real: chrooted into a fresh root with only the golang image's directories and what the
// module's chain declares, against a real registry on loopback. It needs root (chroot(2)).
func TestRegistryToolRunsInTheDirectoriesTheModuleDeclares(t *testing.T) {
	require.Zero(t, os.Geteuid(), "this test runs the registry tool under chroot(2), which needs root: run the module tests as root (CI does)")
	ociPath, regPath := buildTools(t)
	addr := startRegistry(t, regPath)
	w := newToolWorld(ociPath, t.TempDir())
	w.other = trivyStandIn
	prefix := addr + "/sp"
	world := func(t *testing.T) {
		t.Helper()
		happy(t)
		projectFiles(t)
		rec.Respond(daggertest.OnFile(".trivyignore", ""))
		evidenceTools(t)
		rec.Respond(w.respond)
	}
	signingKey, publicKey := signingPair(t)
	setTrust(t, attest.TrustFiles{Policy: []byte(keyedPolicyJSON), PublicKey: []byte(publicKey)})
	const password = "toolfs-registry-password-plaintext"
	published := map[string]string{} // service → repo@digest publish returned
	var normalize daggertest.Exec

	t.Run("publish", func(t *testing.T) {
		m := fresh(t, withRelease, func(a *newArgs) { a.registry = prefix }, withLocalRegistry(strings.SplitN(prefix, "/", 2)[0]))
		world(t)
		dir, err := m.Publish(context.Background(), "ci-user", dag.SetSecret("registry-password", password), "7",
			dag.File("gate-report.json", fullGateReport(t, commitSHA, gate.Pass)), "", dag.SetSecret("signing-key", signingKey), nil, nil, nil)
		w.check(t)
		require.NoError(t, err, execsText())

		id, err := dir.ID(context.Background())
		require.NoError(t, err)
		var record []publishedImage
		require.NoError(t, json.Unmarshal([]byte(containerChain(t, string(id)).Files()[publishedJSON]), &record))
		require.Len(t, record, 3)
		norms := w.ran("normalize")
		require.Len(t, norms, 3, "each service is normalised once")
		for _, r := range norms {
			assert.Equal(t, 0, r.Exit, r.Stderr)
		}
		for _, res := range record {
			repo := "sp/" + res.Service
			assert.Equal(t, "push", string(res.Action))
			assert.Equal(t, prefix+"/"+res.Service+":main-01234567", res.Tag)
			assert.Equal(t, res.Digest, registryDigest(t, addr, repo, "main-01234567"), "the pushed tag resolves to the digest publish returned")
			published[res.Service] = res.Reference

			// That digest is the archive normalize wrote, read here without the tool.
			var archive *archiveImage
			for _, r := range norms {
				b, err := os.ReadFile(filepath.Join(r.Root, "out/image.tar"))
				require.NoError(t, err, "normalize wrote /out/image.tar")
				img, err := inspectArchive(b)
				require.NoError(t, err)
				if img.Digest == res.Digest {
					archive = &img
				}
			}
			require.NotNil(t, archive, "%s: publish pinned the digest of an archive normalize wrote", res.Service)
			assert.Equal(t, commitSHA, archive.Labels["org.opencontainers.image.revision"])
			assert.Equal(t, commitTimeUTC, archive.Created, "normalize set the commit time")
			assert.Equal(t, []string{attest.TypeSigstoreBundle, attest.TypeSigstoreBundle, attest.TypeSigstoreBundle, attest.TypeSigstoreBundle}, referrers(t, addr, repo, res.Digest),
				"%s: the gate report, Trivy report, SBOM and provenance are attached to the pushed digest, each a Sigstore bundle", res.Service)
		}
		assert.Len(t, w.ran("push"), 3)
		assert.Len(t, w.ran("attach"), 3)
		assert.Len(t, w.ran("check-key"), 1)
		assert.Empty(t, rec.Leaked(password))
		e, ok := rec.ExecWith(ociBin, "normalize")
		require.True(t, ok)
		normalize = e
	})
	require.Len(t, published, 3)

	t.Run("verify-evidence", func(t *testing.T) {
		m := fresh(t, withRelease, func(a *newArgs) { a.registry = prefix }, withLocalRegistry(strings.SplitN(prefix, "/", 2)[0]))
		world(t)
		_, err := m.VerifyEvidence(context.Background(), published["api"], published["worker"], published["airflow"], "ci-user", dag.SetSecret("registry-password", password), nil)
		w.check(t)
		require.NoError(t, err, "every document attached by publish counts, signed by the trusted key")
		runs := w.ran("verify")
		require.NotEmpty(t, runs)
		b, err := os.ReadFile(filepath.Join(runs[len(runs)-1].Root, "out/evidence/evidence.json"))
		require.NoError(t, err)
		var sum attest.Summary
		require.NoError(t, json.Unmarshal(b, &sum), string(b))
		assert.True(t, sum.OK, string(b))
		assert.Equal(t, "key "+keyIDOf(t, publicKey), sum.SigstorePolicy, "the bundles were checked against the committed keyed policy's key")
		assert.Equal(t, domain.Staging, sum.Environment, "verify-evidence applies staging's rule")
		assert.Regexp(t, `^[0-9a-f]{32}$`, sum.Nonce, "the run's nonce is echoed")
		require.Len(t, sum.Images, 3)
	})

	t.Run("promote", func(t *testing.T) {
		m := fresh(t, withRelease, func(a *newArgs) { a.registry = prefix }, withLocalRegistry(strings.SplitN(prefix, "/", 2)[0]))
		world(t)
		dst := addr + "/prod/api:v1.0.0"
		out, err := m.Promote(context.Background(), published["api"], []string{dst}, "ci-user", dag.SetSecret("registry-password", password), false, nil)
		w.check(t)
		require.NoError(t, err)
		digest := published["api"][strings.Index(published["api"], "@")+1:]
		assert.Contains(t, out, digest)
		assert.Equal(t, digest, registryDigest(t, addr, "prod/api", "v1.0.0"), "the promoted tag names the published digest")
	})

	t.Run("publish-base", func(t *testing.T) {
		m := fresh(t, withRelease, func(a *newArgs) { a.registry = prefix }, withLocalRegistry(strings.SplitN(prefix, "/", 2)[0]))
		world(t)
		ref, err := m.PublishBase(context.Background(), "ci-user", dag.SetSecret("registry-password", password), nil)
		w.check(t)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(ref, prefix+"/base@sha256:"), ref)
		assert.Equal(t, ref[strings.Index(ref, "@")+1:], registryDigest(t, addr, "sp/base", "main-01234567"))
	})

	t.Run("dry-run-resolves-the-published-tags", func(t *testing.T) {
		m := fresh(t, func(a *newArgs) { a.registry = prefix }, withLocalRegistry(strings.SplitN(prefix, "/", 2)[0]))
		deployHappy(t)
		rec.Respond(w.respond)
		head := checkoutHead(commitSHA, "refs/heads/main")
		_, err := m.Deploy(context.Background(), "dev", "", "", "", nil, nil, "7", nil, "", 0, 0, "", "", nil, nil,
			dag.Host().Directory("/work/repo/charts/soccer-predict"), nil, 0, "ci-user", dag.SetSecret("registry-password", password), head, nil, true)
		w.check(t)
		require.NoError(t, err, execsText())
		require.Len(t, w.ran("resolve"), 1)
		tmpl := mustExec(t, "helm", "template")
		for svc, ref := range published {
			assert.Contains(t, tmpl.Line(), "images."+svc+".digest="+ref[strings.Index(ref, "@")+1:], "a dry run renders the digest the registry holds under the branch tag")
		}
	})

	// The replay can fail: normalize's chain as it was before issue 21's fix, without the /out
	// directory, fails as it did in a real engine.
	t.Run("normalize-without-out-fails-as-in-the-engine", func(t *testing.T) {
		require.NotEmpty(t, normalize.Args)
		var before daggertest.Chain
		for _, st := range normalize.Container {
			if st.Field == "withDirectory" && st.Str("path") == "/out" {
				continue
			}
			before = append(before, st)
		}
		require.Len(t, before, len(normalize.Container)-1, "the module's normalize chain declares /out")
		again := newToolWorld(ociPath, t.TempDir())
		again.other = trivyStandIn
		r := again.run(append(before, normalize.Step))
		require.NoError(t, r.err)
		require.NotNil(t, r.failed)
		assert.Equal(t, 1, r.Exit)
		assert.Contains(t, r.Stderr, "oci: write /out/image.tar: open /out/image.tar: no such file or directory")

		r = again.run(append(normalize.Container, normalize.Step))
		require.NoError(t, r.err)
		assert.Nil(t, r.failed, r.Stderr)
	})
}
