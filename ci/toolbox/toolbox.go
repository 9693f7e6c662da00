// Package toolbox lists the pipeline's helper programs: small Go programs under ci/ that
// run inside containers so that heavy libraries (SOPS, go-containerregistry) never enter
// the Dagger module's binary, which every CI job compiles on a fresh engine.
package toolbox

import (
	"fmt"
	"path"
	"sort"
)

// Tool is one helper program.
type Tool struct {
	// Name is the binary's name.
	Name string
	// ModuleDir is the Go module (relative to the repository root) holding it.
	ModuleDir string
	// Package is the main package, relative to ModuleDir.
	Package string
}

// The helper programs.
var (
	// SopsDecrypt decrypts SOPS+age files for helm, straight into a tmpfs (ci/secrets).
	SopsDecrypt = Tool{Name: "sops-decrypt", ModuleDir: "ci/secrets", Package: "./cmd/sops-decrypt"}
	// Promote copies images by digest between tags and registries (ci/registry).
	Promote = Tool{Name: "promote", ModuleDir: ".", Package: "./ci/cmd/promote"}
	// ManifestRedact blanks Secret values in manifest streams (ci/helm).
	ManifestRedact = Tool{Name: "manifest-redact", ModuleDir: ".", Package: "./ci/cmd/manifest-redact"}
	// Evidence attaches, signs and verifies the evidence referrers of images (ci/registry,
	// ci/attest, ci/attest/signing).
	Evidence = Tool{Name: "evidence", ModuleDir: ".", Package: "./ci/cmd/evidence"}
)

// All lists every tool by name.
func All() []Tool {
	out := []Tool{SopsDecrypt, Promote, ManifestRedact, Evidence}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a tool by name.
func Lookup(name string) (Tool, error) {
	for _, t := range All() {
		if t.Name == name {
			return t, nil
		}
	}
	return Tool{}, fmt.Errorf("unknown tool %q: want evidence, manifest-redact, promote or sops-decrypt", name)
}

// Binary is where the built binary is written inside the build container.
func (t Tool) Binary() string { return path.Join("/out", t.Name) }

// GoBuild is the static, reproducible build command, run in ModuleDir.
func (t Tool) GoBuild() []string {
	return []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", t.Binary(), t.Package}
}
