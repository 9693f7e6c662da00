package artifact

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBranchFromGitRef(t *testing.T) {
	for in, want := range map[string]string{"refs/heads/main": "main", "refs/heads/feature/x-1": "feature/x-1"} {
		got, err := BranchFromGitRef(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "HEAD", "refs/heads/", "refs/tags/v1.0.0", "0123456789abcdef0123456789abcdef01234567", "main"} {
		_, err := BranchFromGitRef(in)
		assert.ErrorContains(t, err, "--ref", in)
	}
}
