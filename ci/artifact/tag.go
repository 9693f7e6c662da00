package artifact

import (
	"errors"
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// TagAction is what publishing a build under a tag does to the registry.
type TagAction string

const (
	// TagPush: the tag does not exist yet; push the build and create the tag.
	TagPush TagAction = "push"
	// TagReuse: the tag already holds this very build (a retried publish); push nothing and
	// report the existing digest.
	TagReuse TagAction = "reuse"
)

// ErrTagImmutable is the refusal to move a published tag to another digest.
var ErrTagImmutable = errors.New("published tag holds another digest")

// DecideTag decides what publishing the build with digest built under dst (repo:tag) does,
// given the digest the tag resolves to in the registry now (existing, "" when the tag does
// not exist). A published tag never moves: the same digest is reused, a different one is
// refused with an error that says what happened and what to do. [domain.LatestTag] is not a
// publish tag (a release moves it, by [domain.Environment.MovesLatest]) and is refused here, as
// is a destination that is not a plain tag.
func DecideTag(dst domain.ImageRef, existing, built domain.Digest) (TagAction, error) {
	if dst.Tag == "" || dst.Digest != "" {
		return "", fmt.Errorf("publish tag %s: a destination is a tag, write it as %s:<tag>", dst, dst.Repository)
	}
	if dst.Tag == domain.LatestTag {
		return "", fmt.Errorf("publish tag %s: publish never writes %q (only a release moves it); publish under the branch tag <ref-slug>-<short-sha> or a release tag vX.Y.Z", dst, domain.LatestTag)
	}
	if built == "" {
		return "", fmt.Errorf("digest of the new build of %s is empty: nothing to publish", dst)
	}
	switch existing {
	case "":
		return TagPush, nil
	case built:
		return TagReuse, nil
	}
	return "", fmt.Errorf("%w: %s already holds %s, this build is %s; a published tag never moves. "+
		"The same commit built twice gave another image (a layer differs: its build is not reproducible from the engine's cache). "+
		"Deploy the published image %s (the first publish job's images.env), or push a new commit to get a new tag",
		ErrTagImmutable, dst, existing, built, domain.Pinned(dst.Repository, existing))
}

// CheckPromotion decides whether a promotion by hand (`promote --to`) may write the tag of dst.
// [domain.LatestTag] is refused: it names what production runs and moves only with a final
// release, where [domain.Environment.MovesLatest] decides it. Any other tag may be written (an
// existing one only with --allow-overwrite, which the registry tool enforces).
func CheckPromotion(dst domain.ImageRef) error {
	if dst.Tag == domain.LatestTag {
		return fmt.Errorf("--to=%s: %q moves only with a final release to production, never by hand: run `dagger call release --version=vX.Y.Z` (it moves %q for a final version, not for a pre-release), or promote to another tag", dst, domain.LatestTag, domain.LatestTag)
	}
	return nil
}
