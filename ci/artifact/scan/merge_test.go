package scan

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gitlabReport(t *testing.T, image string, start time.Time, failed bool) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/trivy-api.json")
	require.NoError(t, err)
	rep, err := ParseTrivy(raw)
	require.NoError(t, err)
	doc, err := GitLabReport(Findings(rep), nil, GitLabOptions{Image: image, Run: Run{ScannerVersion: "0.58.1", Start: start, End: start.Add(time.Minute), Failed: failed}})
	require.NoError(t, err)
	return doc
}

func TestMergeGitLabReports(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := gitlabReport(t, "api", t0.Add(time.Hour), false)
	w := gitlabReport(t, "worker", t0, true)
	out, err := MergeGitLabReports(a, w)
	require.NoError(t, err)
	var doc struct {
		Version         string `json:"version"`
		Vulnerabilities []struct {
			Location struct {
				Image string `json:"image"`
			} `json:"location"`
		} `json:"vulnerabilities"`
		Scan struct {
			Start  string `json:"start_time"`
			End    string `json:"end_time"`
			Status string `json:"status"`
		} `json:"scan"`
	}
	require.NoError(t, json.Unmarshal(out, &doc))
	var single struct {
		Vulnerabilities []any `json:"vulnerabilities"`
	}
	require.NoError(t, json.Unmarshal(a, &single))
	assert.Len(t, doc.Vulnerabilities, 2*len(single.Vulnerabilities))
	images := map[string]bool{}
	for _, v := range doc.Vulnerabilities {
		images[v.Location.Image] = true
	}
	assert.Equal(t, map[string]bool{"api": true, "worker": true}, images)
	assert.Equal(t, "failure", doc.Scan.Status, "one failed scan fails the merged report")
	assert.True(t, doc.Scan.Start < doc.Scan.End)
	assert.Contains(t, doc.Scan.Start, "2026-01-02T03:04:05")
	assert.Contains(t, doc.Scan.End, "2026-01-02T04:05:05")
}

func TestMergeGitLabReportsRejectsGarbage(t *testing.T) {
	_, err := MergeGitLabReports()
	assert.ErrorContains(t, err, "no report")
	_, err = MergeGitLabReports([]byte(`{"version":"15.0.7"}`))
	assert.ErrorContains(t, err, "no vulnerabilities list")
	_, err = MergeGitLabReports([]byte(`nope`))
	assert.ErrorContains(t, err, "report 1")
}
