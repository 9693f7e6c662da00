package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// MergeGitLabReports joins the container_scanning reports of several images into the one
// report a GitLab job uploads: every vulnerability keeps its own location.image; the scan
// block is the first report's, spanning the earliest start to the latest end, failed when any
// scan failed, and with every report's messages (once each, in order).
func MergeGitLabReports(docs ...[]byte) ([]byte, error) {
	if len(docs) == 0 {
		return nil, errors.New("merge container scanning reports: no report given")
	}
	var merged map[string]any
	var vulns []any
	var starts, ends []string
	var messages []any
	seenMessage := map[string]bool{}
	failed := false
	for i, d := range docs {
		var doc map[string]any
		if err := json.Unmarshal(d, &doc); err != nil {
			return nil, fmt.Errorf("container scanning report %d: %w", i+1, err)
		}
		list, ok := doc["vulnerabilities"].([]any)
		if !ok {
			return nil, fmt.Errorf("container scanning report %d has no vulnerabilities list: is it a GitLab container_scanning report?", i+1)
		}
		vulns = append(vulns, list...)
		scanBlock, _ := doc["scan"].(map[string]any)
		if scanBlock == nil {
			return nil, fmt.Errorf("container scanning report %d has no scan block", i+1)
		}
		if s, ok := scanBlock["start_time"].(string); ok {
			starts = append(starts, s)
		}
		if s, ok := scanBlock["end_time"].(string); ok {
			ends = append(ends, s)
		}
		if scanBlock["status"] == "failure" {
			failed = true
		}
		list, _ = scanBlock["messages"].([]any)
		for _, m := range list {
			key := fmt.Sprint(m)
			if !seenMessage[key] {
				seenMessage[key] = true
				messages = append(messages, m)
			}
		}
		if merged == nil {
			merged = doc
		} else if doc["version"] != merged["version"] {
			return nil, fmt.Errorf("container scanning reports use schema versions %v and %v: produce them with the same scanner", merged["version"], doc["version"])
		}
	}
	// The report's timestamps share one fixed layout, so string order is time order.
	sort.Strings(starts)
	sort.Strings(ends)
	scanBlock := merged["scan"].(map[string]any)
	if len(starts) > 0 {
		scanBlock["start_time"] = starts[0]
	}
	if len(ends) > 0 {
		scanBlock["end_time"] = ends[len(ends)-1]
	}
	if failed {
		scanBlock["status"] = "failure"
	}
	if len(messages) > 0 {
		scanBlock["messages"] = messages
	}
	if vulns == nil {
		vulns = []any{}
	}
	merged["vulnerabilities"] = vulns
	return json.MarshalIndent(merged, "", "  ")
}
