package policy

import (
	"context"
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// AuthorLinker is what FetchAuthorLinks asks GitLab; *gitlab.Client implements it.
type AuthorLinker interface {
	CommitMergeRequests(ctx context.Context, project string, sha domain.Commit) ([]gitlab.MergeRequest, error)
	UsersByEmail(ctx context.Context, email string) ([]gitlab.User, error)
}

// FetchAuthorLinks links the commit's author, whom git names in free text, to GitLab users: the
// authors of the merge requests the commit belongs to, and the users GitLab finds by the author's
// email. None of them may approve the commit (Proof.AuthorLinks). An author email that is not an
// address is not looked up; a GitLab error is an error (the run cannot prove who may approve).
func FetchAuthorLinks(ctx context.Context, g AuthorLinker, project string, sha domain.Commit, authorEmail string) ([]Identity, error) {
	var links []Identity
	mrs, err := g.CommitMergeRequests(ctx, project, sha)
	if err != nil {
		return nil, fmt.Errorf("link the commit's author to GitLab users (its merge requests): %w", err)
	}
	for _, mr := range mrs {
		links = append(links, identityOf(mr.Author))
	}
	if email := strings.TrimSpace(authorEmail); strings.Contains(email, "@") {
		users, err := g.UsersByEmail(ctx, email)
		if err != nil {
			return nil, fmt.Errorf("link the commit's author to GitLab users (by email): %w", err)
		}
		for _, u := range users {
			links = append(links, identityOf(u))
		}
	}
	return links, nil
}
