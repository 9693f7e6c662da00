package gitlabci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// ciFile is the file under test.
var ciFile = filepath.Join(repoRoot, ".gitlab-ci.yml")

func load(t testing.TB) *Config {
	t.Helper()
	c, err := LoadConfig(ciFile)
	require.NoError(t, err)
	return c
}

// mutate returns a deep copy of c changed by fn.
func mutate(t testing.TB, c *Config, fn func(doc map[string]any)) *Config {
	t.Helper()
	cp := &Config{Doc: Clone(c.Doc).(map[string]any)}
	fn(cp.Doc)
	return cp
}

// node returns the mapping at the given key path, failing the test when it is missing.
func node(t testing.TB, doc map[string]any, keys ...string) map[string]any {
	t.Helper()
	cur := doc
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		require.Truef(t, ok, "no mapping at %v", keys)
		cur = next
	}
	return cur
}

// editScript replaces old by new in every script line of job.
func editScript(t testing.TB, doc map[string]any, job, old, new string) {
	t.Helper()
	j := node(t, doc, job)
	lines := j["script"].([]any)
	changed := false
	for i, l := range lines {
		s := l.(string)
		if strings.Contains(s, old) {
			lines[i] = strings.ReplaceAll(s, old, new)
			changed = true
		}
	}
	require.Truef(t, changed, "job %s has no script line containing %q", job, old)
}

// engineVersion reads engineVersion from dagger.json.
func engineVersion(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "dagger.json"))
	require.NoError(t, err)
	var cfg struct {
		EngineVersion string `json:"engineVersion"`
	}
	require.NoError(t, json.Unmarshal(data, &cfg))
	require.NotEmpty(t, cfg.EngineVersion, "dagger.json has no engineVersion")
	return cfg.EngineVersion
}
