// Package pins guards the Dagger pins: dagger.json's engineVersion, the SDK in dagger/go.mod,
// and the OpenTelemetry version the module resolves, which must be the one the pinned SDK
// requires (newer otel releases break v0.21.8's generated code).
package pins

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const want = "v0.21.8"

func goList(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-m"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "go list -m %v in %s", args, dir)
	return strings.TrimSpace(string(out))
}

func TestDaggerJSON(t *testing.T) {
	raw, err := os.ReadFile("../../dagger.json")
	require.NoError(t, err)
	var cfg struct {
		Name          string   `json:"name"`
		EngineVersion string   `json:"engineVersion"`
		Source        string   `json:"source"`
		Include       []string `json:"include"`
		SDK           struct {
			Source string `json:"source"`
		} `json:"sdk"`
	}
	require.NoError(t, json.Unmarshal(raw, &cfg))
	assert.Equal(t, "soccer-predict", cfg.Name)
	assert.Equal(t, want, cfg.EngineVersion)
	assert.Equal(t, "dagger", cfg.Source)
	assert.Equal(t, "go", cfg.SDK.Source)
	assert.Subset(t, cfg.Include, []string{"go.mod", "go.sum", "ci/**"}, "without these the module fails to load")
}

func TestModuleGoMod(t *testing.T) {
	raw, err := os.ReadFile("../../dagger/go.mod")
	require.NoError(t, err)
	mod := string(raw)
	assert.Contains(t, mod, "module dagger/soccer-predict")
	assert.Regexp(t, `(?m)^replace gitlab.com/soccerpredictai/pipeline => \.\./$`, mod)
	assert.Equal(t, "dagger.io/dagger "+want, goList(t, "../../dagger", "dagger.io/dagger"))
}

func TestOpenTelemetryIsTheSDKsVersion(t *testing.T) {
	sdkDir := goList(t, "../../dagger", "-f", "{{.Dir}}", "dagger.io/dagger")
	if sdkDir == "" {
		out, err := exec.Command("go", "mod", "download", "-json", "dagger.io/dagger@"+want).Output()
		require.NoError(t, err)
		var m struct{ Dir string }
		require.NoError(t, json.Unmarshal(out, &m))
		sdkDir = m.Dir
	}
	sdkMod, err := os.ReadFile(filepath.Join(sdkDir, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*go\.opentelemetry\.io/otel (v\S+)`).FindStringSubmatch(string(sdkMod))
	require.NotNil(t, m, "the SDK's go.mod names no otel version")
	for _, path := range []string{"go.opentelemetry.io/otel", "go.opentelemetry.io/otel/trace"} {
		assert.Equal(t, path+" "+m[1], goList(t, "../../dagger", path),
			"the module must resolve %s at the SDK's %s: keep heavy dependencies (they drag newer otel in) out of the root go.mod, and never `go get -u` in dagger/", path, m[1])
	}
}

func TestGeneratedBindingsAreIgnored(t *testing.T) {
	raw, err := os.ReadFile("../../.gitignore")
	require.NoError(t, err)
	for _, p := range []string{"/dagger/dagger.gen.go", "/dagger/internal/dagger", "/dagger/internal/telemetry"} {
		assert.Contains(t, string(raw), p)
	}
}
