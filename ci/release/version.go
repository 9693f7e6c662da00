// Package release validates release versions, writes release notes and plans the promotion of the
// images that passed staging to release tags.
//
// A release version is a strict semantic version with a leading "v" (vX.Y.Z or vX.Y.Z-pre), without
// build metadata. It must be greater, in semver precedence, than every version already tagged.
package release

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Version is a parsed semantic version.
type Version struct {
	major, minor, patch uint64
	pre                 []string // dot-separated pre-release identifiers; nil for a release
	meta                string   // build metadata (only on existing tags; ignored for precedence)
	raw                 string   // the text it was parsed from
}

// ParseVersion parses a release version: "v" followed by a strict semantic version without build
// metadata (v1.2.3, v1.2.3-rc.1).
func ParseVersion(s string) (Version, error) {
	if !strings.HasPrefix(s, "v") {
		return Version{}, fmt.Errorf("release version %q must start with v: pass --version=vX.Y.Z (e.g. v1.4.0)", s)
	}
	v, err := parse(s[1:], s)
	if err != nil {
		return Version{}, fmt.Errorf("release version %q is not a semantic version (%v): pass --version=vX.Y.Z or vX.Y.Z-rc.N", s, err)
	}
	if v.meta != "" {
		return Version{}, fmt.Errorf("release version %q carries build metadata (+%s): drop it and pass --version=vX.Y.Z or vX.Y.Z-pre", s, v.meta)
	}
	return v, nil
}

// parseTag parses an existing tag: vX.Y.Z or X.Y.Z, build metadata allowed.
func parseTag(tag string) (Version, bool) {
	v, err := parse(strings.TrimPrefix(tag, "v"), tag)
	return v, err == nil
}

func parse(s, raw string) (Version, error) {
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

// String renders the version as vX.Y.Z[-pre] (build metadata of a tag is kept).
func (v Version) String() string {
	s := fmt.Sprintf("v%d.%d.%d", v.major, v.minor, v.patch)
	if len(v.pre) > 0 {
		s += "-" + strings.Join(v.pre, ".")
	}
	if v.meta != "" {
		s += "+" + v.meta
	}
	return s
}

// Prerelease reports whether the version has a pre-release part (v1.0.0-rc.1).
func (v Version) Prerelease() bool { return len(v.pre) > 0 }

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

// compareIdent compares pre-release identifiers per semver §11: numeric identifiers compare as
// numbers (of any size) and rank below alphanumeric ones, which compare in ASCII order.
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

// Less orders versions totally: by precedence, then (for equal precedence, which only build
// metadata or the v prefix can cause) by their text.
func Less(a, b Version) bool {
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return a.raw < b.raw
}

// Versions returns the tags that are semantic versions (vX.Y.Z or X.Y.Z, any pre-release or build
// metadata), sorted ascending by Less. Other tags are ignored.
func Versions(tags []string) []Version {
	var out []Version
	for _, t := range tags {
		if v, ok := parseTag(t); ok {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return Less(out[i], out[j]) })
	return out
}

// Latest returns the highest version among tags (pre-releases included) and false when no tag is a
// semantic version.
func Latest(tags []string) (Version, bool) {
	vs := Versions(tags)
	if len(vs) == 0 {
		return Version{}, false
	}
	return vs[len(vs)-1], true
}

// ErrNotGreater is wrapped when a release version is not greater than the last release.
var ErrNotGreater = errors.New("release version is not greater than the last release")

// CheckNext parses version and checks that it is greater than every version tagged so far.
func CheckNext(version string, tags []string) (Version, error) {
	v, err := ParseVersion(version)
	if err != nil {
		return Version{}, err
	}
	last, ok := Latest(tags)
	if !ok {
		return v, nil
	}
	if v.Compare(last) <= 0 {
		return Version{}, fmt.Errorf("%w: %s is not greater than %s (already tagged): pass a higher --version, e.g. %s",
			ErrNotGreater, v, last.raw, nextPatch(last))
	}
	return v, nil
}

// nextPatch suggests the smallest plain release above v.
func nextPatch(v Version) string {
	if len(v.pre) > 0 {
		return fmt.Sprintf("v%d.%d.%d", v.major, v.minor, v.patch)
	}
	return "v" + strconv.FormatUint(v.major, 10) + "." + strconv.FormatUint(v.minor, 10) + "." + strconv.FormatUint(v.patch+1, 10)
}
