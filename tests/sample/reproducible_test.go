package sample

// What the sample's Dockerfiles run, run here twice at different times, with and without
// SOURCE_DATE_EPOCH: the bytes those steps leave in an image layer are a function of the commit
// time when it is set (docs/artifact.md, "What the digest depends on, and why"). File mtimes
// are left out of every comparison: `oci normalize` clamps them in the layers
// (ci/artifact/registry.Normalize).

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// commitEpoch is a commit time (2025-03-01T08:00:00Z) as SOURCE_DATE_EPOCH.
const commitEpoch = "1740816000"

const debianPython = "/usr/bin/python3"

// need skips a test whose tool is missing here, and fails it in CI (tests/run.sh installs
// what it needs through tests/python/run.sh).
func need(t *testing.T, what string, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		msg := what + " is not available (" + strings.Join(args, " ") + ": " + strings.TrimSpace(string(out)) + "): tests/python/run.sh installs it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// env is the process environment without SOURCE_DATE_EPOCH, plus extra.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// contents maps every regular file under dir to the sha256 of its bytes and its mode.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:]) + " " + info.Mode().String()
		return nil
	}))
	return out
}

func differing(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// pipInstall installs the sample project's own package with Debian's pip under prefix, as a
// Dockerfile's `pip install` does (compiling .pyc files even with PYTHONDONTWRITEBYTECODE=1,
// straight into site-packages: `--target` would stage through a random temporary directory
// whose path every .pyc would then carry as its code's file name),
// from a fresh copy of its sources at proj (always the same path: pip records it in
// direct_url.json) whose files all carry mtime, as a checkout made at that time would.
// Debian bookworm has no pdm-backend, so the copy is built with setuptools (the build backend
// writes the wheel; what is compared is what pip installs from it).
func pipInstall(t *testing.T, proj, prefix string, mtime time.Time, extraEnv ...string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(proj))
	require.NoError(t, os.CopyFS(proj, os.DirFS(root+"/src")))
	require.NoError(t, os.WriteFile(filepath.Join(proj, "pyproject.toml"), []byte(`[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "soccerpredict"
version = "0.4.0"

[tool.setuptools.packages.find]
where = ["."]
`), 0o644))
	require.NoError(t, filepath.WalkDir(proj, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, mtime, mtime)
	}))
	cmd := exec.Command(debianPython, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
		"--no-cache-dir", "--disable-pip-version-check", "--root-user-action=ignore", "--prefix", prefix, proj)
	cmd.Env = env(append([]string{"PYTHONDONTWRITEBYTECODE=1"}, extraEnv...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// pycFlags reads the flags word of a .pyc header (PEP 552): 0 for timestamp-based, bit 0 set
// for hash-based.
func pycFlags(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 16, path)
	return binary.LittleEndian.Uint32(b[4:8])
}

func pycs(tree map[string]string) []string {
	var out []string
	for k := range tree {
		if strings.HasSuffix(k, ".pyc") {
			out = append(out, k)
		}
	}
	return out
}

// Two `pip install`s of the same package at different times (different checkout mtimes,
// different install clocks) write the same bytes with SOURCE_DATE_EPOCH set, and different
// .pyc files without it: exactly what `ARG SOURCE_DATE_EPOCH` in the Dockerfiles buys.
func TestPipInstallWritesTheSameBytesOnlyWithSourceDateEpoch(t *testing.T) {
	need(t, "Debian's pip", debianPython, "-m", "pip", "--version")
	need(t, "Debian's setuptools and wheel", debianPython, "-c", "import setuptools.build_meta, wheel.bdist_wheel")
	dir := t.TempDir()
	proj := filepath.Join(dir, "soccerpredict")
	// One prefix, as in an image: a .pyc holds its source's path.
	target := filepath.Join(dir, "usr")
	flags := map[string]map[string]uint32{}
	install := func(name string, mtime time.Time, extraEnv ...string) map[string]string {
		require.NoError(t, os.RemoveAll(target))
		pipInstall(t, proj, target, mtime, extraEnv...)
		tree := contents(t, target)
		flags[name] = map[string]uint32{}
		for _, p := range pycs(tree) {
			flags[name][p] = pycFlags(t, filepath.Join(target, p))
		}
		// Each install happens in a later second than the previous one: the clock differs.
		time.Sleep(1100 * time.Millisecond)
		return tree
	}
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	friday := time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC)

	a := install("a", monday, "SOURCE_DATE_EPOCH="+commitEpoch)
	b := install("b", friday, "SOURCE_DATE_EPOCH="+commitEpoch)
	require.NotEmpty(t, pycs(a), "pip compiles the package: the layer holds .pyc files")
	assert.Equal(t, a, b, "with SOURCE_DATE_EPOCH: byte-identical installs; differing: %v", differing(a, b))
	for p, f := range flags["a"] {
		assert.Equal(t, uint32(0b11), f, "%s: a checked hash-based .pyc (no mtime in it)", p)
	}

	c := install("c", monday)
	d := install("d", friday)
	diff := differing(c, d)
	assert.NotEmpty(t, diff, "without SOURCE_DATE_EPOCH the clock reaches the layer")
	assert.ElementsMatch(t, pycs(c), diff, "and what differs is exactly the .pyc files")
	for p, f := range flags["c"] {
		assert.Equal(t, uint32(0), f, "%s: timestamp-based .pyc", p)
	}
}

// userCommands are the groupadd/useradd commands of the worker Dockerfile, as written there.
func userCommands(t *testing.T) [][]string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(string(read(t, "docker/worker.Dockerfile")), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			lines = append(lines, l)
		}
	}
	df := strings.ReplaceAll(strings.Join(lines, "\n"), "\\\n", " ")
	var out [][]string
	for _, m := range regexp.MustCompile(`\b((?:groupadd|useradd)\s[^&\n]*)`).FindAllStringSubmatch(df, -1) {
		out = append(out, strings.Fields(m[1]))
	}
	require.Len(t, out, 2, "the worker image adds its group and user")
	return out
}

// addUser runs the Dockerfile's groupadd/useradd against a minimal /etc under prefix (shadow's
// --prefix: the host's files are never touched) and returns the files they wrote.
func addUser(t *testing.T, prefix string, extraEnv ...string) map[string]string {
	t.Helper()
	etc := filepath.Join(prefix, "etc")
	require.NoError(t, os.MkdirAll(etc, 0o755))
	for name, body := range map[string]string{
		"passwd": "root:x:0:0:root:/root:/bin/bash\n", "group": "root:x:0:\n",
		"shadow": "root:*:19000:0:99999:7:::\n", "gshadow": "root:*::\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(etc, name), []byte(body), 0o640))
	}
	for _, c := range userCommands(t) {
		args := append([]string{c[0], "--prefix", prefix}, c[1:]...)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env(extraEnv...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%v: %s", args, out)
	}
	return contents(t, etc)
}

// lastChange is the "date of last password change" (days since the epoch) of user in shadow.
func lastChange(t *testing.T, prefix, user string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(prefix, "etc", "shadow"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); len(f) > 2 && f[0] == user {
			d, err := strconv.ParseInt(f[2], 10, 64)
			require.NoError(t, err, line)
			return d
		}
	}
	t.Fatalf("no %s in shadow: %s", user, b)
	return 0
}

// Debian bookworm's shadow-utils (4.13) takes the day it writes into /etc/shadow from
// SOURCE_DATE_EPOCH when set (gettime()), else from the clock: with the commit time, two runs on
// any two days write the same files.
func TestUseraddWritesTheCommitDayOnlyWithSourceDateEpoch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("useradd --prefix needs root")
	}
	need(t, "shadow-utils' useradd", "useradd", "--help")
	dir := t.TempDir()
	epoch, _ := strconv.ParseInt(commitEpoch, 10, 64)

	a := addUser(t, filepath.Join(dir, "a"), "SOURCE_DATE_EPOCH="+commitEpoch)
	b := addUser(t, filepath.Join(dir, "b"), "SOURCE_DATE_EPOCH="+commitEpoch)
	assert.Equal(t, a, b)
	assert.Equal(t, epoch/86400, lastChange(t, filepath.Join(dir, "a"), "app"), "the commit's day")

	before := time.Now().Unix() / 86400
	addUser(t, filepath.Join(dir, "c"))
	after := time.Now().Unix() / 86400
	got := lastChange(t, filepath.Join(dir, "c"), "app")
	assert.True(t, got == before || got == after, "without it, today's day (%d), from the clock: got %d", before, got)
	assert.NotEqual(t, epoch/86400, got)
}

// The API image's model stage trains the model in the image (`train --full`); the pickle it
// bakes in is the same bytes on every run with the same inputs and output path (a seeded
// estimator; no clock in the payload). The metrics file that run writes is not (its latency is
// measured), which is why the API Dockerfile does not copy it into the image.
func TestTheBakedModelIsTheSameBytesOnEveryRun(t *testing.T) {
	need(t, "Debian's scikit-learn and pandas", debianPython, "-c", "import sklearn, pandas, yaml")
	work := t.TempDir()
	train := func() (pkl, metrics []byte) {
		cmd := exec.Command(debianPython, "-m", "soccerpredict.pipeline.train", "--full",
			"--out", filepath.Join(work, "metrics", "model.json"), "--model-out", filepath.Join(work, "models", "model.pkl"))
		cmd.Dir = root
		cmd.Env = env("PYTHONPATH=src", "PYTHONDONTWRITEBYTECODE=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		pkl, err = os.ReadFile(filepath.Join(work, "models", "model.pkl"))
		require.NoError(t, err)
		metrics, err = os.ReadFile(filepath.Join(work, "metrics", "model.json"))
		require.NoError(t, err)
		return pkl, metrics
	}
	p1, _ := train()
	p2, _ := train()
	assert.Equal(t, sha256.Sum256(p1), sha256.Sum256(p2), "model.pkl is reproducible")
	assert.NotContains(t, string(read(t, "docker/api.Dockerfile")), "/build/metrics/model.json /app/",
		"the run's metrics (a measured latency) are not baked into the image")
}
