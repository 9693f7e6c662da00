package lint

import (
	"fmt"
	"regexp"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/requirements"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Run is what one command of the gate left: its exit code and its two output streams.
type Run struct {
	ExitCode int
	Stdout   string
	Stderr   string
}

// output is stdout and stderr together, stdout first.
func (r Run) output() string { return r.Stdout + "\n" + r.Stderr }

// NoRuffExit is the exit code of project.RuffVersion when no ruff is on PATH.
const NoRuffExit = 127

// JSONFormatSince is the first ruff release whose `ruff format --check` honours
// --output-format=json without --preview. 0.13.3 to 0.15.x accept the flag but apply it only
// in preview mode (which also changes the formatting style), and earlier releases refuse it:
// with those the gate reads the text output.
const JSONFormatSince = "0.16.0"

var jsonFormatSince, _ = domain.ParseVersionTag(JSONFormatSince)

// Ruff is the ruff the gate ran and where it came from.
type Ruff struct {
	// Version is what `ruff --version` printed.
	Version domain.Version
	// Origin says why this ruff, e.g. "pinned by requirements-dev.txt".
	Origin string
}

// String is "ruff X.Y.Z (origin)", for the gate report.
func (r Ruff) String() string { return fmt.Sprintf("ruff %s (%s)", r.Version.Raw(), r.Origin) }

// FormatJSON reports whether the gate asks this ruff's `ruff format --check` for JSON
// (project.RuffFormat); otherwise it reads ruff's text output.
func (r Ruff) FormatJSON() bool { return r.Version.Compare(jsonFormatSince) >= 0 }

// RuffPlan is which ruff the lint gate expects, decided from the project's requirements-dev.txt
// and the SP_RUFF_VERSION setting before anything runs.
type RuffPlan struct {
	// Listed is the ruff requirement as requirements-dev.txt lists it ("ruff==0.12.3"), or "".
	Listed string
	// Pin is the exact version that must be on PATH ("0.12.3"), or "" when nothing pins one.
	Pin string
	// FromSetting says Pin comes from SP_RUFF_VERSION (requirements-dev.txt lists no ruff):
	// the gate installs it when the python image's ruff is another version.
	FromSetting bool
}

var (
	exactPin = regexp.MustCompile(`^===?([0-9]+\.[0-9]+\.[0-9]+)$`)
	release  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// PlanRuff reads which ruff the project pins. A ruff pinned with == (or ===) in
// requirements-dev.txt wins (pip installs it with the file); a ruff listed with a range is
// accepted and reported as unpinned; with no ruff listed, setting (SP_RUFF_VERSION, "X.Y.Z")
// pins one; with neither, the gate uses the ruff already in the python image and reports its
// version.
func PlanRuff(devRequirements []byte, setting string) (RuffPlan, error) {
	f, err := requirements.Parse(devRequirements)
	if err != nil {
		return RuffPlan{}, fmt.Errorf("%s: %w: the lint gate reads it to find which ruff the project pins", project.DevRequirements, err)
	}
	var listed []requirements.Requirement
	for _, r := range f.Requirements {
		if r.Name == "ruff" {
			listed = append(listed, r)
		}
	}
	if len(listed) > 0 {
		plan := RuffPlan{Listed: listed[0].String()}
		for _, r := range listed[1:] {
			if r.Specifier != listed[0].Specifier || r.URL != listed[0].URL {
				// Markers choose between them: no single pin.
				plan.Listed = strings.Join(ruffLines(listed), " / ")
				return plan, nil
			}
		}
		if m := exactPin.FindStringSubmatch(listed[0].Specifier); m != nil && listed[0].URL == "" {
			plan.Pin = m[1]
		}
		return plan, nil
	}
	if setting == "" {
		return RuffPlan{}, nil
	}
	if !release.MatchString(setting) {
		return RuffPlan{}, fmt.Errorf("SP_RUFF_VERSION=%q: want a ruff release X.Y.Z, e.g. %s", setting, JSONFormatSince)
	}
	return RuffPlan{Pin: setting, FromSetting: true}, nil
}

func ruffLines(rs []requirements.Requirement) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

var versionLine = regexp.MustCompile(`^ruff ([0-9]+\.[0-9]+\.[0-9]+\S*)`)

// ParseRuffVersion reads `ruff --version` ("ruff 0.16.4", or "ruff 0.16.4+3 (abc1234 2026-01-01)"
// for a build between releases).
func ParseRuffVersion(out string) (domain.Version, error) {
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	m := versionLine.FindStringSubmatch(line)
	if m == nil {
		return domain.Version{}, fmt.Errorf("`ruff --version` printed %q, not \"ruff X.Y.Z\": the ruff on PATH is not astral-sh's ruff; pin ruff==X.Y.Z in %s", line, project.DevRequirements)
	}
	v, ok := domain.ParseVersionTag(m[1])
	if !ok {
		return domain.Version{}, fmt.Errorf("`ruff --version` printed %q, whose version is not X.Y.Z: pin ruff==X.Y.Z in %s", line, project.DevRequirements)
	}
	return v, nil
}

// Resolve reads probe, project.RuffVersion run in the lint container after requirements-dev.txt
// was installed. It returns the ruff to run, or install: a version to pip install
// (project.RuffInstall) before probing again with installed set; or an error naming the fix.
// Only SP_RUFF_VERSION's pin is ever installed, and only once; a pin of requirements-dev.txt
// that is not what runs is an error (another ruff comes first on PATH).
func (p RuffPlan) Resolve(probe Run, installed bool) (r Ruff, install string, err error) {
	if probe.ExitCode == NoRuffExit {
		switch {
		case p.FromSetting && !installed:
			return Ruff{}, p.Pin, nil
		case installed:
			return Ruff{}, "", fmt.Errorf("pip installed ruff==%s but no ruff is on PATH in the python image: put pip's bin directory on PATH in the image", p.Pin)
		case p.Listed != "":
			return Ruff{}, "", fmt.Errorf("%s lists %s but no ruff is on PATH after installing it: put pip's bin directory on PATH in the python image", project.DevRequirements, p.Listed)
		}
		return Ruff{}, "", fmt.Errorf("no ruff to run: %s does not list ruff and the python image has none: add ruff==X.Y.Z to %s (or set SP_RUFF_VERSION=X.Y.Z)", project.DevRequirements, project.DevRequirements)
	}
	if probe.ExitCode != 0 {
		return Ruff{}, "", fmt.Errorf("`ruff --version` exited %d: %s: the ruff on PATH does not run; pin ruff==X.Y.Z in %s", probe.ExitCode, lastLine(probe.output()), project.DevRequirements)
	}
	v, err := ParseRuffVersion(probe.Stdout)
	if err != nil {
		return Ruff{}, "", err
	}
	r = Ruff{Version: v}
	switch {
	case p.FromSetting:
		if v.Raw() != p.Pin {
			if !installed {
				return Ruff{}, p.Pin, nil
			}
			return Ruff{}, "", fmt.Errorf("pip installed ruff==%s but `ruff --version` says %s: another ruff comes first on PATH in the python image; remove it or put pip's bin directory first", p.Pin, v.Raw())
		}
		r.Origin = fmt.Sprintf("pinned by SP_RUFF_VERSION; %s does not list ruff", project.DevRequirements)
	case p.Pin != "":
		if v.Raw() != p.Pin {
			return Ruff{}, "", fmt.Errorf("%s pins %s but `ruff --version` says %s: another ruff comes first on PATH in the python image; remove it or put pip's bin directory first", project.DevRequirements, p.Listed, v.Raw())
		}
		r.Origin = "pinned by " + project.DevRequirements
	case p.Listed != "":
		r.Origin = fmt.Sprintf("%s lists %s, not one version: pin ruff==%s there", project.DevRequirements, p.Listed, v.Raw())
	default:
		r.Origin = fmt.Sprintf("the python image's: %s does not list ruff and SP_RUFF_VERSION is not set", project.DevRequirements)
	}
	return r, "", nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return "it printed nothing"
	}
	return last
}
