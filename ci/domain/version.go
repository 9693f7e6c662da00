package domain

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Version is a release version: "v" and a strict semantic version (SemVer 2.0.0), optionally with
// a pre-release part (v1.4.0-rc.1). Build metadata is refused in a release version because "+" can't
// be in an image tag; it is kept only on existing git tags read with [ParseVersionTag].
type Version struct {
	major, minor, patch uint64
	pre                 []string // dot-separated pre-release identifiers; nil for a final release
	meta                string   // build metadata, only from ParseVersionTag
	raw                 string   // the text it was parsed from
}

const versionFix = "pass --version=vX.Y.Z, e.g. v1.4.0 (or v1.4.0-rc.1 for a staging pre-release)"

// ParseVersion parses a release version given by a person: "v" followed by a strict semantic
// version in canonical form, without build metadata.
func ParseVersion(s string) (Version, error) {
	switch {
	case s == "":
		return Version{}, fmt.Errorf("release version is empty: %s", versionFix)
	case !strings.HasPrefix(s, "v"):
		return Version{}, fmt.Errorf("release version %q has no \"v\" prefix: %s", s, versionFix)
	case strings.Contains(s, "+"):
		return Version{}, fmt.Errorf("release version %q carries build metadata (+...), which an image tag cannot hold: drop the +... part", s)
	}
	v, err := parseSemver(s[1:], s)
	if err != nil {
		return Version{}, fmt.Errorf("release version %q is not a strict semantic version (%v): %s", s, err, versionFix)
	}
	if v.String() != s {
		return Version{}, fmt.Errorf("release version %q is not in canonical form: %s", s, versionFix)
	}
	return v, nil
}

// ParseVersionTag reads an existing git tag as a version: vX.Y.Z or X.Y.Z, with any pre-release
// and build metadata. ok is false for tags that are not semantic versions ("latest", "deploy-1").
func ParseVersionTag(tag string) (v Version, ok bool) {
	v, err := parseSemver(strings.TrimPrefix(tag, "v"), tag)
	return v, err == nil
}

func parseSemver(s, raw string) (Version, error) {
	sv, err := semver.StrictNewVersion(s)
	if err != nil {
		return Version{}, err
	}
	v := Version{major: sv.Major(), minor: sv.Minor(), patch: sv.Patch(), meta: sv.Metadata(), raw: raw}
	if p := sv.Prerelease(); p != "" {
		v.pre = strings.Split(p, ".")
	}
	return v, nil
}

// String renders vX.Y.Z[-pre][+meta].
func (v Version) String() string {
	s := "v" + strconv.FormatUint(v.major, 10) + "." + strconv.FormatUint(v.minor, 10) + "." + strconv.FormatUint(v.patch, 10)
	if len(v.pre) > 0 {
		s += "-" + strings.Join(v.pre, ".")
	}
	if v.meta != "" {
		s += "+" + v.meta
	}
	return s
}

// Raw returns the text the version was parsed from (a tag may lack the "v").
func (v Version) Raw() string { return v.raw }

// Tag returns the image and git tag of a release version ("v1.4.0", "v1.4.0-rc.1").
func (v Version) Tag() Tag { return Tag(v.String()) }

// Prerelease reports whether the version has a pre-release part (v1.0.0-rc.1).
func (v Version) Prerelease() bool { return len(v.pre) > 0 }

// Final returns the final release of v: vX.Y.Z without pre-release or metadata.
func (v Version) Final() Version {
	f := Version{major: v.major, minor: v.minor, patch: v.patch}
	f.raw = f.String()
	return f
}

// NextPatch returns the smallest final release above v: vX.Y.Z for a pre-release of it, else
// vX.Y.(Z+1).
func (v Version) NextPatch() Version {
	if v.Prerelease() {
		return v.Final()
	}
	n := Version{major: v.major, minor: v.minor, patch: v.patch + 1}
	n.raw = n.String()
	return n
}

// Compare returns -1, 0 or +1 by semantic-version precedence (build metadata is ignored).
func (v Version) Compare(o Version) int {
	for _, d := range [3][2]uint64{{v.major, o.major}, {v.minor, o.minor}, {v.patch, o.patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(v.pre) == 0 && len(o.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1 // a release ranks above its pre-releases
	case len(o.pre) == 0:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(o.pre); i++ {
		if c := compareIdent(v.pre[i], o.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.pre) < len(o.pre):
		return -1
	case len(v.pre) > len(o.pre):
		return 1
	}
	return 0
}

// Less orders versions totally: by precedence, then (for equal precedence, which only build
// metadata or a missing "v" can cause) by their text.
func Less(a, b Version) bool {
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return a.raw < b.raw
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compareIdent compares pre-release identifiers per SemVer §11: numeric identifiers compare as
// numbers of any size and rank below alphanumeric ones, which compare in ASCII order.
func compareIdent(a, b string) int {
	an, bn := isNumeric(a), isNumeric(b)
	switch {
	case an && bn:
		if len(a) != len(b) { // no leading zeros, so the longer is larger
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}
