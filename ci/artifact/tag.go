package artifact

import (
	"errors"
	"fmt"
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

// DecideTag decides what publishing the build with digest built under tag (repo:tag) does,
// given the digest the tag resolves to in the registry now (existing, "" when the tag does
// not exist). A published tag never moves: the same digest is reused, a different one is
// refused with an error that says what happened and what to do. "latest" is not a publish
// tag (only promote/release move it) and is refused here.
func DecideTag(tag, existing, built string) (TagAction, error) {
	ref, err := ParseTagReference(tag)
	if err != nil {
		return "", fmt.Errorf("publish tag: %w", err)
	}
	if ref.Tag == Latest {
		return "", fmt.Errorf("publish tag %s: publish never writes %q (only promote and release move it); publish under the branch tag <ref-slug>-<short-sha> or a release tag vX.Y.Z", tag, Latest)
	}
	if err := ValidateDigest(built); err != nil {
		return "", fmt.Errorf("digest of the new build of %s: %w", tag, err)
	}
	if existing == "" {
		return TagPush, nil
	}
	if err := ValidateDigest(existing); err != nil {
		return "", fmt.Errorf("the registry answered %q for %s, not a digest: %w", existing, tag, err)
	}
	if existing == built {
		return TagReuse, nil
	}
	return "", fmt.Errorf("%w: %s already holds %s, this build is %s; a published tag never moves. "+
		"The same commit built twice gave another image (a layer differs: its build is not reproducible from the engine's cache). "+
		"Deploy the published image %s@%s (the first publish job's images.env), or push a new commit to get a new tag",
		ErrTagImmutable, tag, existing, built, ref.Repository, existing)
}
