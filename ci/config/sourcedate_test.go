package config

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSourceDateEpochIsTheCommitTimeInUnixSeconds(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// date -d 2025-03-01T08:00:00Z +%s
		{"2025-03-01T09:00:00+01:00", "1740816000"},
		{"2025-03-01T08:00:00Z", "1740816000"},
		{"2025-03-01T08:00:00.999Z", "1740816000"},
		{"1970-01-01T00:00:00Z", "0"},
		{"2026-11-30T23:59:59-05:00", "1796101199"},
	} {
		s, err := Load(context.Background(), map[string]string{"CI_COMMIT_TIMESTAMP": tc.in})
		require.NoError(t, err, tc.in)
		got, err := s.SourceDateEpoch()
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestSourceDateEpochWithoutCommitTimeNamesTheFlag(t *testing.T) {
	s, err := Load(context.Background(), nil)
	require.NoError(t, err)
	_, err = s.SourceDateEpoch()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--commit-time=$CI_COMMIT_TIMESTAMP")
}
