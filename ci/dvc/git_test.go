package dvc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gitRepo is a throwaway git repository driven with the real git binary.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q")
	r.git("config", "user.email", "ci@example.com")
	r.git("config", "user.name", "ci")
	r.git("config", "commit.gpgsign", "false")
	return r
}

func (r gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "git %v: %s", args, out)
	return string(out)
}

func (r gitRepo) write(files map[string]string) {
	r.t.Helper()
	for p, body := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		require.NoError(r.t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(r.t, os.WriteFile(full, []byte(body), 0o644))
	}
}

func (r gitRepo) read(p string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(p)))
	return string(b), err == nil
}

func (r gitRepo) commit(msg string) string {
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

// rollback runs what rollback-data runs: git diff --name-status over PointerPathspecs, then
// git restore of the files to restore and removal of the files added since rev.
func (r gitRepo) rollback(project, rev string) (restore, remove []string) {
	r.t.Helper()
	status := r.git(append([]string{"diff", "--no-renames", "--name-status", rev, "--"}, PointerPathspecs(project)...)...)
	restore, remove, err := ParseNameStatus(status)
	require.NoError(r.t, err, status)
	if len(restore) > 0 {
		r.git(append([]string{"restore", "--source=" + rev, "--worktree", "--"}, restore...)...)
	}
	for _, f := range remove {
		require.NoError(r.t, os.Remove(filepath.Join(r.dir, filepath.FromSlash(f))))
	}
	return restore, remove
}

const (
	dvcV1 = "outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  size: 186693\n  hash: md5\n  path: matches.csv\n"
	dvcV2 = "outs:\n- md5: 99999999999999999999999999999999\n  size: 190000\n  hash: md5\n  path: matches.csv\n"
	lock1 = "schema: '2.0'\nstages:\n  prepare:\n    cmd: x\n    deps:\n    - path: data/raw/matches.csv\n      md5: 728b492a238a6a598afb0e51d7bac1c4\n"
	lock2 = "schema: '2.0'\nstages:\n  prepare:\n    cmd: x\n    deps:\n    - path: data/raw/matches.csv\n      md5: 99999999999999999999999999999999\n"
)

func TestRollbackRestoresTheDvcAddPointerWithRealGit(t *testing.T) {
	for _, project := range []string{".", "ml"} {
		t.Run(project, func(t *testing.T) {
			r := newGitRepo(t)
			p := func(f string) string { return filepath.ToSlash(filepath.Join(project, f)) }
			r.write(map[string]string{p("data/raw/matches.csv.dvc"): dvcV1, p(".dvc/config"): "[core]\n    remote = a\n", p("src/app.py"): "v1\n"})
			v1 := r.commit("data v1")
			r.write(map[string]string{p("data/raw/matches.csv.dvc"): dvcV2, p("data/raw/odds.csv.dvc"): dvcV1, p(".dvc/config"): "[core]\n    remote = b\n", p("src/app.py"): "v2\n"})
			r.commit("data v2")

			restore, remove := r.rollback(project, v1)
			assert.Equal(t, []string{p("data/raw/matches.csv.dvc")}, restore)
			assert.Equal(t, []string{p("data/raw/odds.csv.dvc")}, remove)
			got, _ := r.read(p("data/raw/matches.csv.dvc"))
			assert.Equal(t, dvcV1, got, "the .dvc pointer is back at v1")
			_, exists := r.read(p("data/raw/odds.csv.dvc"))
			assert.False(t, exists)
			cfg, _ := r.read(p(".dvc/config"))
			assert.Contains(t, cfg, "remote = b", ".dvc/config is not a pointer file: untouched")
			app, _ := r.read(p("src/app.py"))
			assert.Equal(t, "v2\n", app, "code is untouched")
		})
	}
}

func TestRollbackRestoresDvcLockAndPointersWithRealGit(t *testing.T) {
	r := newGitRepo(t)
	// The pipeline shape (dvc.lock only) and the combined shape (dvc.lock + .dvc) in one history.
	r.write(map[string]string{"p/dvc.lock": lock1, "p/dvc.yaml": "stages: {}\n"})
	pipelineOnly := r.commit("pipeline v1")
	r.write(map[string]string{"p/dvc.lock": lock2, "p/dvc.yaml": "stages: {x: {}}\n"})
	r.commit("pipeline v2")

	restore, remove := r.rollback("p", pipelineOnly)
	assert.Equal(t, []string{"p/dvc.lock"}, restore)
	assert.Empty(t, remove)
	got, _ := r.read("p/dvc.lock")
	assert.Equal(t, lock1, got)
	yaml, _ := r.read("p/dvc.yaml")
	assert.Equal(t, "stages: {x: {}}\n", yaml, "dvc.yaml is code, not a pointer: untouched")

	r.git("checkout", "-q", "--", ".")
	r.write(map[string]string{"p/dvc.lock": lock1, "p/data/raw/matches.csv.dvc": dvcV1})
	both := r.commit("both v1")
	r.write(map[string]string{"p/dvc.lock": lock2, "p/data/raw/matches.csv.dvc": dvcV2})
	r.commit("both v2")
	restore, remove = r.rollback("p", both)
	assert.ElementsMatch(t, []string{"p/dvc.lock", "p/data/raw/matches.csv.dvc"}, restore)
	assert.Empty(t, remove)
	gotLock, _ := r.read("p/dvc.lock")
	gotDvc, _ := r.read("p/data/raw/matches.csv.dvc")
	assert.Equal(t, lock1, gotLock)
	assert.Equal(t, dvcV1, gotDvc)
}
