package gitlabci

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildsPassTheCommitTime(t *testing.T) {
	c := load(t)
	assert.Empty(t, CheckCommitTime(c))
	found := false
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		require.NoError(t, err)
		calls, err := Calls(job)
		require.NoError(t, err)
		for _, d := range calls {
			if d.Function() == "publish" {
				found = true
			}
		}
	}
	assert.True(t, found, "the publish job exists")

	broken := mutate(t, c, func(d map[string]any) {
		editScript(t, d, "publish", " --commit-time=$CI_COMMIT_TIMESTAMP", "")
	})
	assert.Contains(t, strings.Join(CheckCommitTime(broken), "\n"), "job publish: publish builds images: pass --commit-time=$CI_COMMIT_TIMESTAMP")
	wrong := mutate(t, c, func(d map[string]any) {
		editScript(t, d, "publish", "--commit-time=$CI_COMMIT_TIMESTAMP", "--commit-time=$CI_PIPELINE_CREATED_AT")
	})
	assert.NotEmpty(t, CheckCommitTime(wrong), "the pipeline's time is not the commit's")
	assert.NotEmpty(t, CheckCtorFlags(wrong))
}
