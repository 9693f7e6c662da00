package artifact

import (
	"fmt"
	"strings"
)

// BranchFromGitRef returns the branch name of a checkout's HEAD as Dagger's GitRef.ref reports
// it ("refs/heads/main" → "main"). A detached HEAD (a commit sha, "HEAD" or empty) or a tag has
// no branch: the error says to pass --ref.
func BranchFromGitRef(ref string) (string, error) {
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && b != "" {
		return b, nil
	}
	return "", fmt.Errorf("the checkout's HEAD is not on a branch (%q): pass --ref=<branch the images were published from>, e.g. --ref=main", ref)
}
