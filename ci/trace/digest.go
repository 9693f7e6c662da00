package trace

import (
	"fmt"
	"regexp"
	"strings"
)

// digestRE is the only digest form the pipeline accepts: sha256 with 64 lowercase hex characters.
var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// commitRE is a full git commit id: 40 lowercase hex characters.
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// IsDigest reports whether s is an image digest of the form "sha256:" followed by 64 lowercase hex characters.
func IsDigest(s string) bool { return digestRE.MatchString(s) }

// ValidateDigest returns nil when s is a sha256 image digest and otherwise an error naming the expected form.
func ValidateDigest(s string) error {
	if IsDigest(s) {
		return nil
	}
	return fmt.Errorf("invalid image digest %q: expected sha256: followed by 64 lowercase hex characters (take it from the publish step's images.json)", s)
}

// IsCommit reports whether s is a full git commit id (40 lowercase hex characters).
func IsCommit(s string) bool { return commitRE.MatchString(s) }

// ValidateCommit returns nil when s is a full git commit id and otherwise an error naming the expected form.
func ValidateCommit(s string) error {
	if IsCommit(s) {
		return nil
	}
	return fmt.Errorf("invalid git commit %q: expected the full 40-character lowercase hex sha (git rev-parse HEAD, or $CI_COMMIT_SHA)", s)
}

// PinnedDigest returns the digest of an image reference pinned by digest ("repo@sha256:…" or
// "repo:tag@sha256:…"). A reference pinned only by tag, or with a malformed digest, is an error.
func PinnedDigest(ref string) (string, error) {
	i := strings.LastIndex(ref, "@")
	if i < 0 {
		return "", fmt.Errorf("image %q is not pinned by digest: use repo@sha256:<digest> (the publish step's images.env)", ref)
	}
	repo, digest := ref[:i], ref[i+1:]
	if repo == "" {
		return "", fmt.Errorf("image %q has no repository before the digest: use repo@sha256:<digest>", ref)
	}
	if strings.ContainsAny(repo, " \t\r\n@") {
		return "", fmt.Errorf("image %q has an invalid repository: use repo@sha256:<digest>", ref)
	}
	if !IsDigest(digest) {
		return "", fmt.Errorf("image %q is not pinned by a valid digest: expected repo@sha256:<64 lowercase hex>", ref)
	}
	return digest, nil
}

// SplitPinned splits an image reference pinned by digest into its repository (without any tag) and
// its digest: "reg:5000/group/api:1.0@sha256:…" gives "reg:5000/group/api" and "sha256:…".
func SplitPinned(ref string) (repo, digest string, err error) {
	digest, err = PinnedDigest(ref)
	if err != nil {
		return "", "", err
	}
	repo = ref[:strings.LastIndex(ref, "@")]
	// A tag is a colon after the last slash; a colon before it is a registry port.
	slash := strings.LastIndex(repo, "/")
	if c := strings.LastIndex(repo, ":"); c > slash {
		repo = repo[:c]
	}
	if repo == "" {
		return "", "", fmt.Errorf("image %q has no repository before the digest: use repo@sha256:<digest>", ref)
	}
	return repo, digest, nil
}
