package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// DigestAlgorithm is the only content-digest algorithm accepted.
const DigestAlgorithm = "sha256"

// Digest is a content digest "sha256:<64 lowercase hex>": what an image is, independent of its tags.
type Digest string

var digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// ParseDigest returns s as a Digest when it is "sha256:" and 64 lowercase hex characters.
func ParseDigest(s string) (Digest, error) {
	const fix = "use the sha256:<64 hex> digest publish printed (images.env)"
	if digestPattern.MatchString(s) {
		return Digest(s), nil
	}
	if s == "" {
		return "", fmt.Errorf("image digest is empty: %s", fix)
	}
	if alg, _, ok := strings.Cut(s, ":"); ok && alg != DigestAlgorithm {
		return "", fmt.Errorf("image digest %q uses %q: only sha256 digests are accepted; %s", s, alg, fix)
	}
	if digestPattern.MatchString(toLowerASCII(s)) {
		return "", fmt.Errorf("image digest %q has uppercase hex digits: digests are lowercase; %s", s, fix)
	}
	return "", fmt.Errorf("image digest %q is not sha256:<64 lowercase hex>: %s", s, fix)
}

// String returns "sha256:<hex>".
func (d Digest) String() string { return string(d) }

// Hex returns the 64 hex characters after "sha256:".
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), DigestAlgorithm+":") }
