package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Release statuses helm reports.
const (
	StatusDeployed        = "deployed"
	StatusSuperseded      = "superseded"
	StatusFailed          = "failed"
	StatusUninstalled     = "uninstalled"
	StatusUninstalling    = "uninstalling"
	StatusPendingInstall  = "pending-install"
	StatusPendingUpgrade  = "pending-upgrade"
	StatusPendingRollback = "pending-rollback"
	StatusUnknown         = "unknown"
)

var knownStatuses = map[string]bool{
	StatusDeployed: true, StatusSuperseded: true, StatusFailed: true, StatusUninstalled: true,
	StatusUninstalling: true, StatusPendingInstall: true, StatusPendingUpgrade: true,
	StatusPendingRollback: true, StatusUnknown: true,
}

// Revision is one entry of `helm history -o json`.
type Revision struct {
	// Revision is the release revision number (1, 2, ...).
	Revision int `json:"revision"`
	// Updated is when the revision was last updated (zero if helm left it
	// empty).
	Updated time.Time `json:"updated"`
	// Status is one of the Status* constants.
	Status string `json:"status"`
	// Chart is "<chart name>-<chart version>".
	Chart string `json:"chart"`
	// AppVersion is the chart's appVersion.
	AppVersion string `json:"app_version"`
	// Description is helm's note, e.g. "Upgrade complete" or
	// "Rollback to 3".
	Description string `json:"description"`
}

// rawRevision mirrors helm's JSON; Updated is decoded by hand because helm
// writes "" for an unset time.
type rawRevision struct {
	Revision    *int            `json:"revision"`
	Updated     json.RawMessage `json:"updated"`
	Status      string          `json:"status"`
	Chart       string          `json:"chart"`
	AppVersion  string          `json:"app_version"`
	Description string          `json:"description"`
}

// ParseHistory parses the output of `helm history <release> -o json` and
// returns the revisions sorted by revision number. Every entry needs a
// positive, unique revision and a known status.
func ParseHistory(data []byte) ([]Revision, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("helm history output is empty: run helm history with -o json (a release that does not exist makes helm fail instead)")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raws []rawRevision
	if err := dec.Decode(&raws); err != nil {
		return nil, fmt.Errorf("helm history output is not the JSON list of `helm history -o json`: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("helm history output has data after the JSON list: pass only the output of one `helm history -o json`")
	}
	seen := map[int]bool{}
	out := make([]Revision, 0, len(raws))
	for i, raw := range raws {
		if raw.Revision == nil {
			return nil, fmt.Errorf("helm history entry %d has no revision", i)
		}
		rev := Revision{Revision: *raw.Revision, Status: raw.Status, Chart: raw.Chart, AppVersion: raw.AppVersion, Description: raw.Description}
		if rev.Revision < 1 {
			return nil, fmt.Errorf("helm history entry %d has revision %d: revisions start at 1", i, rev.Revision)
		}
		if seen[rev.Revision] {
			return nil, fmt.Errorf("helm history lists revision %d twice", rev.Revision)
		}
		seen[rev.Revision] = true
		if !knownStatuses[rev.Status] {
			return nil, fmt.Errorf("helm history revision %d has unknown status %q: expected one of deployed, superseded, failed, pending-*, uninstall*", rev.Revision, rev.Status)
		}
		updated := bytes.TrimSpace(raw.Updated)
		if len(updated) > 0 && string(updated) != `""` && string(updated) != "null" {
			if err := json.Unmarshal(updated, &rev.Updated); err != nil {
				return nil, fmt.Errorf("helm history revision %d has an unreadable updated time: %v", rev.Revision, err)
			}
		}
		out = append(out, rev)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out, nil
}

// Deployed returns the revision helm marks as deployed (the newest one, if
// several are).
func Deployed(revs []Revision) (Revision, bool) {
	var best Revision
	found := false
	for _, r := range revs {
		if r.Status == StatusDeployed && (!found || r.Revision > best.Revision) {
			best, found = r, true
		}
	}
	return best, found
}

// RollbackTarget picks the revision a rollback should return to. With
// to == 0 it is the newest revision older than the deployed one whose status
// is superseded (it ran successfully before). With to > 0 that revision must
// exist, differ from the deployed one and have been superseded.
func RollbackTarget(revs []Revision, to int) (Revision, error) {
	if len(revs) == 0 {
		return Revision{}, fmt.Errorf("the release has no history: nothing to roll back to")
	}
	current, ok := Deployed(revs)
	if !ok {
		return Revision{}, fmt.Errorf("no revision is deployed (statuses: %s): fix or uninstall the release by hand before rolling back", statuses(revs))
	}
	if to < 0 {
		return Revision{}, fmt.Errorf("revision %d is negative: use 0 for the previous good revision or a number from helm history", to)
	}
	if to > 0 {
		for _, r := range revs {
			if r.Revision != to {
				continue
			}
			if r.Revision == current.Revision {
				return Revision{}, fmt.Errorf("revision %d is the one deployed now: pick an earlier revision from helm history", to)
			}
			if r.Status != StatusSuperseded {
				return Revision{}, fmt.Errorf("revision %d has status %s, not superseded: roll back only to a revision that was deployed successfully", to, r.Status)
			}
			return r, nil
		}
		return Revision{}, fmt.Errorf("revision %d is not in the history (%s): pick one listed there", to, revisionList(revs))
	}
	var best Revision
	found := false
	for _, r := range revs {
		if r.Revision < current.Revision && r.Status == StatusSuperseded && (!found || r.Revision > best.Revision) {
			best, found = r, true
		}
	}
	if !found {
		return Revision{}, fmt.Errorf("no successful revision before the deployed revision %d: nothing to roll back to", current.Revision)
	}
	return best, nil
}

func statuses(revs []Revision) string {
	parts := make([]string, len(revs))
	for i, r := range revs {
		parts[i] = fmt.Sprintf("%d=%s", r.Revision, r.Status)
	}
	return strings.Join(parts, ", ")
}

func revisionList(revs []Revision) string {
	parts := make([]string, len(revs))
	for i, r := range revs {
		parts[i] = fmt.Sprint(r.Revision)
	}
	return strings.Join(parts, ", ")
}
