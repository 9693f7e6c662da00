package artifact

import (
	"fmt"
	"strings"
	"unicode"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// MaxSlugLength is the byte length GitLab truncates CI_COMMIT_REF_SLUG to.
const MaxSlugLength = 63

// Slug returns GitLab's CI_COMMIT_REF_SLUG for ref, computed exactly as GitLab does
// (Gitlab::Utils.slugify): lowercase the ref, replace every character that is not in
// [a-z0-9] by "-", keep the first 63 characters, then trim leading and trailing "-".
//
// Lowercasing follows Ruby's full Unicode case mapping, so "İ" (U+0130) becomes "i"
// followed by a combining dot (which then becomes "-") and the Kelvin sign (U+212A)
// becomes "k". Each invalid UTF-8 byte becomes one "-" (GitLab refuses such refs).
// The result may be empty (for example for "---"); [BranchTag] rejects that.
func Slug(ref string) string {
	out := make([]byte, 0, min(len(ref)+1, MaxSlugLength))
	put := func(c byte) bool {
		if len(out) >= MaxSlugLength {
			return false
		}
		out = append(out, c)
		return true
	}
	for _, r := range ref {
		if r == '\u0130' { // Ruby: "İ".downcase == "i\u0307"
			if !put('i') || !put('-') {
				break
			}
			continue
		}
		lr := unicode.ToLower(r)
		c := byte('-')
		if (lr >= 'a' && lr <= 'z') || (lr >= '0' && lr <= '9') {
			c = byte(lr)
		}
		if !put(c) {
			break
		}
	}
	return strings.Trim(string(out), "-")
}

// BranchTag returns the branch build tag "<slug>-<short sha>" for a branch name (GitLab's
// CI_COMMIT_REF_NAME, not "refs/heads/...") and the commit built: the short sha is
// [domain.Commit.Short], GitLab's CI_COMMIT_SHORT_SHA.
func BranchTag(branch string, commit domain.Commit) (domain.Tag, error) {
	if branch == "" {
		return "", fmt.Errorf("branch name is empty: pass --ref (GitLab sets CI_COMMIT_REF_NAME)")
	}
	slug := Slug(branch)
	if slug == "" {
		return "", fmt.Errorf("branch %q has an empty slug (it has no letter or digit): rename the branch", branch)
	}
	if commit == "" {
		return "", fmt.Errorf("commit is empty: pass --commit (GitLab sets CI_COMMIT_SHA)")
	}
	// slug and a commit are [a-z0-9-], at most 63+1+8 characters: always a valid OCI tag.
	return domain.Tag(slug + "-" + commit.Short()), nil
}

// ReleaseTag is the tag a tag pipeline publishes its images under: the version's tag, for a
// final release only. A pre-release is released to staging from images already published
// (release), never built and published under its own tag.
func ReleaseTag(v domain.Version) (domain.Tag, error) {
	if v.Prerelease() {
		return "", fmt.Errorf("release version %q is a pre-release: pre-releases go to %s only, by `release --version=%s` of a published commit; tag a final version (%s) to publish", v, domain.Staging, v, v.Final())
	}
	return v.Tag(), nil
}
