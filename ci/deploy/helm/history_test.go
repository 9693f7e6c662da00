package helm_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

// historyJSON is shaped like `helm history sp -o json` (Helm 3 and 4 alike; tests/chart/live parses
// the real Helm 4 output).
const historyJSON = `[{"revision":1,"updated":"2024-05-02T10:11:12.123456789Z","status":"superseded","chart":"soccer-predict-0.1.0","app_version":"0.1.0","description":"Install complete"},{"revision":3,"updated":"2024-05-03T09:00:00+02:00","status":"deployed","chart":"soccer-predict-0.2.0-rc.1","app_version":"0.2.0","description":"Upgrade complete"},{"revision":2,"updated":"","status":"failed","chart":"soccer-predict-0.1.1","app_version":"0.1.1","description":"Upgrade \"sp\" failed: context deadline exceeded"}]
`

func TestParseHistory(t *testing.T) {
	revs, err := helm.ParseHistory([]byte(historyJSON))
	require.NoError(t, err)
	require.Len(t, revs, 3)
	assert.Equal(t, []int{1, 2, 3}, []int{revs[0].Revision, revs[1].Revision, revs[2].Revision}, "sorted by revision")
	assert.Equal(t, helm.Revision{
		Revision:    1,
		Updated:     time.Date(2024, 5, 2, 10, 11, 12, 123456789, time.UTC),
		Status:      helm.StatusSuperseded,
		Chart:       "soccer-predict-0.1.0",
		AppVersion:  "0.1.0",
		Description: "Install complete",
	}, revs[0])
	assert.True(t, revs[1].Updated.IsZero(), "helm writes \"\" for an unset time")
	assert.Equal(t, `Upgrade "sp" failed: context deadline exceeded`, revs[1].Description)
	assert.True(t, revs[2].Updated.Equal(time.Date(2024, 5, 3, 7, 0, 0, 0, time.UTC)))

	deployed, ok := helm.Deployed(revs)
	require.True(t, ok)
	assert.Equal(t, 3, deployed.Revision)

	empty, err := helm.ParseHistory([]byte("[]"))
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestParseHistoryRejectsOtherOutput(t *testing.T) {
	cases := map[string]struct{ in, why string }{
		"empty":          {"  \n", "helm history output is empty"},
		"table output":   {"REVISION\tUPDATED\tSTATUS\n1\tMon\tdeployed\n", "not the JSON list of `helm history -o json`"},
		"helm list json": {`[{"name":"sp","namespace":"ns","revision":"3","status":"deployed"}]`, "not the JSON list of `helm history -o json`"},
		"no revision":    {`[{"status":"deployed"}]`, "entry 0 has no revision"},
		"zero revision":  {`[{"revision":0,"status":"deployed"}]`, "entry 0 has revision 0: revisions start at 1"},
		"duplicate":      {`[{"revision":1,"status":"superseded"},{"revision":1,"status":"deployed"}]`, "lists revision 1 twice"},
		"bad status":     {`[{"revision":1,"status":"great"}]`, `revision 1 has unknown status "great"`},
		"bad time":       {`[{"revision":1,"status":"deployed","updated":"yesterday"}]`, "revision 1 has an unreadable updated time"},
		"trailing data":  {`[] []`, "has data after the JSON list"},
		"object":         {`{"revision":1}`, "not the JSON list of `helm history -o json`"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			revs, err := helm.ParseHistory([]byte(c.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.why)
			assert.Nil(t, revs)
		})
	}
}

func rev(n int, status string) helm.Revision { return helm.Revision{Revision: n, Status: status} }

func TestRollbackTarget(t *testing.T) {
	history := []helm.Revision{
		rev(1, helm.StatusSuperseded), rev(2, helm.StatusSuperseded), rev(3, helm.StatusFailed),
		rev(4, helm.StatusDeployed),
	}
	got, err := helm.RollbackTarget(history, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Revision, "the newest good revision, skipping the failed one")

	got, err = helm.RollbackTarget(history, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Revision)

	for to, want := range map[int]string{3: "failed", 4: "deployed now", 9: "not in the history", -1: "negative"} {
		_, err := helm.RollbackTarget(history, to)
		require.Error(t, err, to)
		assert.Contains(t, err.Error(), want)
	}
	_, err = helm.RollbackTarget(nil, 0)
	assert.ErrorContains(t, err, "no history")
	_, err = helm.RollbackTarget([]helm.Revision{rev(1, helm.StatusDeployed)}, 0)
	assert.ErrorContains(t, err, "nothing to roll back to")
	_, err = helm.RollbackTarget([]helm.Revision{rev(1, helm.StatusSuperseded), rev(2, helm.StatusPendingUpgrade)}, 0)
	assert.ErrorContains(t, err, "no revision is deployed")
}

// Property: for random histories the chosen target is superseded, older
// than the deployed revision, and no superseded revision lies between them.
func TestRollbackTargetProperty(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	statuses := []string{helm.StatusSuperseded, helm.StatusFailed, helm.StatusSuperseded, helm.StatusPendingUpgrade}
	for i := 0; i < 2000; i++ {
		n := 1 + r.Intn(8)
		var h []helm.Revision
		for j := 1; j < n; j++ {
			h = append(h, rev(j, statuses[r.Intn(len(statuses))]))
		}
		h = append(h, rev(n, helm.StatusDeployed))
		r.Shuffle(len(h), func(a, b int) { h[a], h[b] = h[b], h[a] })
		got, err := helm.RollbackTarget(h, 0)
		if err != nil {
			for _, x := range h {
				require.NotEqual(t, helm.StatusSuperseded, x.Status, "a superseded revision existed: %v", h)
			}
			continue
		}
		require.Equal(t, helm.StatusSuperseded, got.Status)
		require.Less(t, got.Revision, n)
		for _, x := range h {
			if x.Status == helm.StatusSuperseded {
				require.LessOrEqual(t, x.Revision, got.Revision)
			}
		}
	}
}

// encodeHistory writes revisions the way helm does.
func encodeHistory(t testing.TB, revs []helm.Revision) []byte {
	type entry struct {
		Revision    int    `json:"revision"`
		Updated     any    `json:"updated"`
		Status      string `json:"status"`
		Chart       string `json:"chart"`
		AppVersion  string `json:"app_version"`
		Description string `json:"description"`
	}
	var out []entry
	for _, r := range revs {
		var u any = ""
		if !r.Updated.IsZero() {
			u = r.Updated
		}
		out = append(out, entry{r.Revision, u, r.Status, r.Chart, r.AppVersion, r.Description})
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return b
}

func FuzzParseHistory(f *testing.F) {
	f.Add([]byte(historyJSON))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"revision":1,"status":"deployed","updated":null}]`))
	f.Add([]byte(`[{"revision":1e3,"status":"deployed"}]`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		revs, err := helm.ParseHistory(data)
		if err != nil {
			require.Nil(t, revs)
			return
		}
		for i, r := range revs {
			require.Positive(t, r.Revision)
			if i > 0 {
				require.Less(t, revs[i-1].Revision, r.Revision)
			}
		}
		// Re-encoding in helm's format parses to the same revisions.
		again, err := helm.ParseHistory(encodeHistory(t, revs))
		require.NoError(t, err)
		require.Equal(t, len(revs), len(again))
		for i := range revs {
			require.True(t, revs[i].Updated.Equal(again[i].Updated), fmt.Sprint(revs[i].Updated))
			revs[i].Updated, again[i].Updated = time.Time{}, time.Time{}
		}
		require.Equal(t, revs, again)
	})
}
