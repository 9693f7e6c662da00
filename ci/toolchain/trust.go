package toolchain

import (
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// The module's own source (dagger.json's "include"): the tools are built from it and the chart
// deployed from it, never from a directory a caller passes.
var (
	// ToolSourceInclude is what the helper tools are built from, relative to the module's
	// context root: the root module's go.mod and go.sum and the ci/ tree (the tools' own Go
	// modules are under it).
	ToolSourceInclude = []string{"go.mod", "go.sum", "ci/**"}
	// ToolSourceExclude leaves the tests out: they are not part of any tool.
	ToolSourceExclude = []string{"**/*_test.go", "**/testdata"}
)

// ChartPath is the chart committed with the module, relative to its context root.
const ChartPath = "charts/soccer-predict"

// ForEnvironment decides the image overrides env's steps resolve their images with
// (NewSet(ForEnvironment(...), mirror)). Dev keeps the caller's overrides and mirror. Staging
// and production take the guarded images (Golang, Helm, Trivy) only from committed
// configuration: the pin in pins.go, else the default. A caller's override of a guarded image
// is refused, naming its flag, unless it names that very image (so the answer decides the same
// again); so is a mirror other than a committed one (none is always allowed). Overrides of the other images (Python, curl, MkDocs) pass as they are. Any
// environment other than dev is treated as production's class (an unknown value fails closed).
func ForEnvironment(env domain.Environment, overrides map[Image]string, mirror string) (map[Image]string, error) {
	out := map[Image]string{}
	for t, ref := range overrides {
		if ref != "" {
			out[t] = ref
		}
	}
	if env == domain.Dev {
		return out, nil
	}
	var probs []string
	for _, t := range guarded {
		if ref := out[t]; ref != "" && ref != committedRef(t) {
			probs = append(probs, fmt.Sprintf("--%s-image=%s is refused for %s: %s is fixed in committed configuration there. Drop --%s-image (or its .env default); to use another image for staging and production, commit a pin in ci/toolchain/pins.go (committedPins)",
				t, ref, env, guardedWhat(t), t))
		}
		out[t] = committedRef(t)
	}
	if m := strings.TrimSuffix(mirror, "/"); m != "" && !isCommittedMirror(m) {
		probs = append(probs, fmt.Sprintf("--registry-mirror=%s (SP_REGISTRY_MIRROR) is refused for %s: staging and production pull their images through GitLab's Dependency Proxy %s ($CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX) or straight from the images' registries. Pass that prefix or drop --registry-mirror; another mirror must be committed in ci/toolchain/pins.go (committedMirrors)",
			m, env, committedMirrors[0]))
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return nil, fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return out, nil
}

// CheckChart refuses a caller's chart (--chart) for staging and production: they deploy the
// chart committed with the module (ChartPath). Dev may deploy any chart.
func CheckChart(env domain.Environment, given bool) error {
	if !given || env == domain.Dev {
		return nil
	}
	return fmt.Errorf("--chart is refused for %s: staging and production deploy the chart committed with the module (%s), which a caller cannot replace. Drop --chart; a chart change is a commit", env, ChartPath)
}

// CommittedMirrors lists the mirror prefixes staging and production accept.
func CommittedMirrors() []string { return append([]string(nil), committedMirrors...) }

// Guarded lists the images staging and production take only from committed configuration.
func Guarded() []Image { return append([]Image(nil), guarded...) }

// committedRef is the reference staging and production use for a guarded image.
func committedRef(t Image) string {
	if p := committedPins[t]; p != "" {
		return p
	}
	return defaults[t]
}

func isCommittedMirror(m string) bool {
	for _, c := range committedMirrors {
		if m == c {
			return true
		}
	}
	return false
}

func guardedWhat(t Image) string {
	switch t {
	case Golang:
		return "the Go image (the tools that verify signatures, decrypt secrets and redact manifests are built and run in it)"
	case Helm:
		return "the Helm image (it holds the kubeconfig and the decrypted values)"
	case Trivy:
		return "the Trivy image (its report is scan evidence)"
	}
	return "the " + string(t) + " image"
}
