package toolchain

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEveryToolExistsAsAMainPackageInItsModule(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, tool := range GoTools() {
		dir := filepath.Join(root, tool.ModuleDir)
		_, err := os.Stat(filepath.Join(dir, "go.mod"))
		require.NoError(t, err, "%s: %s must be a Go module", tool.Name, tool.ModuleDir)
		main := filepath.Join(dir, tool.Package, "main.go")
		_, err = os.Stat(main)
		require.NoError(t, err, "%s: %s must exist", tool.Name, main)
	}
}

func TestBuild(t *testing.T) {
	assert.Equal(t, []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/out/oci", "."}, OCI.GoBuild())
}
