// Go-built tools: the pipeline's helper programs: small Go programs under ci/ that
// run inside containers so that heavy libraries (SOPS, go-containerregistry) never enter
// the Dagger module's binary, which every CI job compiles on a fresh engine.

package toolchain

import (
	"path"
	"sort"
)

// GoTool is one helper program.
type GoTool struct {
	// Name is the binary's name.
	Name string
	// ModuleDir is the Go module (relative to the repository root) holding it.
	ModuleDir string
	// Package is the main package, relative to ModuleDir.
	Package string
}

// The helper programs.
var (
	// SopsDecrypt decrypts SOPS+age files for helm, straight into a tmpfs (ci/deploy/secrets).
	SopsDecrypt = GoTool{Name: "sops-decrypt", ModuleDir: "ci/deploy/secrets", Package: "./cmd/sops-decrypt"}
	// OCI is the registry tool: normalize, push, promote and resolve images; attach, sign and
	// verify their evidence (ci/artifact/registry, ci/artifact/attest, ci/artifact/attest/signing,
	// ci/artifact/attest/sigstore). Its own Go module: sigstore-go's dependency versions (among
	// them OpenTelemetry's) must not reach the root module, whose requirements the Dagger module
	// inherits.
	OCI = GoTool{Name: "oci", ModuleDir: "ci/cmd/oci", Package: "."}
	// ManifestRedact blanks Secret values in manifest streams (ci/deploy/helm).
	ManifestRedact = GoTool{Name: "manifest-redact", ModuleDir: ".", Package: "./ci/cmd/manifest-redact"}
)

// GoTools lists every Go-built tool by name.
func GoTools() []GoTool {
	out := []GoTool{SopsDecrypt, OCI, ManifestRedact}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Binary is where the built binary is written inside the build container.
func (t GoTool) Binary() string { return path.Join("/out", t.Name) }

// GoBuild is the static, reproducible build command, run in ModuleDir.
func (t GoTool) GoBuild() []string {
	return []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", t.Binary(), t.Package}
}
