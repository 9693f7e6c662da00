package release

import (
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// PriorTags returns the names of the tags released before version, in the order GitLab listed
// them. A tag named version that points at the release commit is this release's own tag (a tag
// pipeline runs once it is pushed) and is left out; one that points at another commit stays, so
// that NewPlan refuses the version as already released. A tag's commit is its commit id when
// GitLab gives one, else its target.
func PriorTags(list []gitlab.Tag, version domain.Version, commit domain.Commit) []string {
	out := make([]string, 0, len(list))
	for _, t := range list {
		target := t.Target
		if t.Commit != nil && t.Commit.ID != "" {
			target = t.Commit.ID
		}
		if t.Name == version.String() && target == string(commit) {
			continue
		}
		out = append(out, t.Name)
	}
	return out
}

// LastTag returns the name of the highest semantic-version tag among names (vX.Y.Z or X.Y.Z,
// pre-releases included and ranked below their release), exactly as tagged: the ref GitLab
// compares from for the release notes. Names that are not semantic versions are ignored; it
// returns "" when no name is one.
func LastTag(names []string) string {
	v, ok := Latest(names)
	if !ok {
		return ""
	}
	return v.Raw()
}
