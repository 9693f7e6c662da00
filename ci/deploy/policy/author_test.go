package policy

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// linker answers as GitLab does: the merge requests of one commit, the users of one public email.
type linker struct {
	mrs   map[domain.Commit][]gitlab.MergeRequest
	users map[string][]gitlab.User
	err   error
}

func (l linker) CommitMergeRequests(_ context.Context, _ string, sha domain.Commit) ([]gitlab.MergeRequest, error) {
	return l.mrs[sha], l.err
}

func (l linker) UsersByEmail(_ context.Context, email string) ([]gitlab.User, error) {
	return l.users[email], nil
}

func TestFetchAuthorLinks(t *testing.T) {
	g := linker{
		mrs:   map[domain.Commit][]gitlab.MergeRequest{domain.Commit(commit): {{IID: 1, Author: gitlab.User{Username: "mallory", Name: "Mallory M"}}}},
		users: map[string][]gitlab.User{"m@example.org": {{Username: "mallory2", Name: "M Two"}}},
	}
	links, err := FetchAuthorLinks(context.Background(), g, "7", domain.Commit(commit), "m@example.org")
	require.NoError(t, err)
	assert.Equal(t, []Identity{{Username: "mallory", Name: "Mallory M"}, {Username: "mallory2", Name: "M Two"}}, links)

	links, err = FetchAuthorLinks(context.Background(), g, "7", domain.Commit(fakeCommit("x")), "not-an-address")
	require.NoError(t, err)
	assert.Empty(t, links, "no merge request, an email git allows but GitLab cannot look up")

	g.err = errors.New("gitlab: GET …: HTTP 403")
	_, err = FetchAuthorLinks(context.Background(), g, "7", domain.Commit(commit), "m@example.org")
	assert.ErrorContains(t, err, "link the commit's author to GitLab users (its merge requests): gitlab: GET …: HTTP 403")
}
