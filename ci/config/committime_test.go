package config

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommitTimeIsReadAsUTCWholeSeconds(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2025-03-01T09:00:00+01:00", "2025-03-01T08:00:00Z"},
		{"2025-03-01T08:00:00Z", "2025-03-01T08:00:00Z"},
		{"2025-03-01T08:00:00.75Z", "2025-03-01T08:00:00Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
	} {
		s, err := Load(context.Background(), map[string]string{"CI_COMMIT_TIMESTAMP": tc.in})
		require.NoError(t, err, tc.in)
		got, err := s.CommitTimestamp()
		require.NoError(t, err)
		assert.Equal(t, tc.want, got.Format(time.RFC3339), tc.in)
		assert.Equal(t, time.UTC, got.Location())
	}
}

func TestCommitTimeRefusesWhatIsNotACommitTime(t *testing.T) {
	for _, bad := range []string{
		"yesterday", "1700000000", "2025-03-01 09:00:00", "2025-03-01", " 2025-03-01T09:00:00Z",
		"2025-13-01T09:00:00Z", "1969-12-31T23:59:59Z",
	} {
		_, err := Load(context.Background(), map[string]string{"CI_COMMIT_TIMESTAMP": bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "CI_COMMIT_TIMESTAMP=", bad)
		assert.Contains(t, err.Error(), "--commit-time=$CI_COMMIT_TIMESTAMP", "the error names the flag that fixes it")
	}
}

func TestMissingCommitTimeNamesTheFlag(t *testing.T) {
	s, err := Load(context.Background(), nil)
	require.NoError(t, err, "the setting is optional until something builds for push")
	_, err = s.CommitTimestamp()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--commit-time=$CI_COMMIT_TIMESTAMP")
	assert.Contains(t, err.Error(), "git show -s --format=%cI HEAD")
}

func TestCommitTimeComesFromTheSettingsFile(t *testing.T) {
	vals, err := ParseDotenv("CI_COMMIT_TIMESTAMP=2025-03-01T09:00:00+01:00\n")
	require.NoError(t, err)
	s, err := Load(context.Background(), Merge(vals, map[string]string{"CI_COMMIT_TIMESTAMP": ""}))
	require.NoError(t, err)
	got, err := s.CommitTimestamp()
	require.NoError(t, err)
	assert.Equal(t, int64(1740816000), got.Unix())
}
