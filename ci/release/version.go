// Package release plans the promotion of the images that passed staging to a release version,
// and writes the release notes. Versions are [domain.Version]s: a release version is parsed once,
// by the module, with [domain.ParseVersion]; the repository's existing tags are read leniently
// with [domain.ParseVersionTag]. A release version must be greater, in semver precedence, than
// every version already tagged.
package release

import (
	"errors"
	"fmt"
	"sort"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Versions returns the tags that are semantic versions (vX.Y.Z or X.Y.Z, any pre-release or build
// metadata), sorted ascending by [domain.Less]. Other tags are ignored.
func Versions(tags []string) []domain.Version {
	var out []domain.Version
	for _, t := range tags {
		if v, ok := domain.ParseVersionTag(t); ok {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return domain.Less(out[i], out[j]) })
	return out
}

// Latest returns the highest version among tags (pre-releases included) and false when no tag is a
// semantic version.
func Latest(tags []string) (domain.Version, bool) {
	vs := Versions(tags)
	if len(vs) == 0 {
		return domain.Version{}, false
	}
	return vs[len(vs)-1], true
}

// ErrNotGreater is wrapped when a release version is not greater than the last release.
var ErrNotGreater = errors.New("release version is not greater than the last release")

// CheckNext checks that v is greater than every version tagged so far.
func CheckNext(v domain.Version, tags []string) error {
	last, ok := Latest(tags)
	if !ok {
		return nil
	}
	if v.Compare(last) <= 0 {
		return fmt.Errorf("%w: %s is not greater than %s (already tagged): pass a higher --version, e.g. %s",
			ErrNotGreater, v, last.Raw(), last.NextPatch())
	}
	return nil
}
