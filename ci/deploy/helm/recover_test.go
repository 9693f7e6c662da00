package helm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
)

func TestRecoverPending(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	revs := func(last string, age time.Duration) []helm.Revision {
		return []helm.Revision{
			{Revision: 1, Status: helm.StatusSuperseded, Updated: now.Add(-time.Hour)},
			{Revision: 2, Status: helm.StatusDeployed, Updated: now.Add(-30 * time.Minute)},
			{Revision: 3, Status: last, Updated: now.Add(-age)},
		}
	}

	// Nothing pending: nothing to do.
	r, err := helm.RecoverPending("sp", "ns", revs(helm.StatusFailed, time.Hour), now, 10*time.Minute)
	require.NoError(t, err)
	assert.Nil(t, r.Rollback)
	r, err = helm.RecoverPending("sp", "ns", nil, now, 10*time.Minute)
	require.NoError(t, err)
	assert.Nil(t, r.Rollback)

	// Pending for longer than the deploys' timeout: its helm is gone; roll back to what is deployed.
	for _, st := range []string{helm.StatusPendingUpgrade, helm.StatusPendingRollback} {
		r, err = helm.RecoverPending("sp", "ns", revs(st, 11*time.Minute), now, 10*time.Minute)
		require.NoError(t, err, st)
		assert.Equal(t, []string{"helm", "rollback", "sp", "2", "--namespace", "ns", "--wait=watcher", "--timeout", "10m0s"}, r.Rollback)
		assert.Equal(t, "revision 3 of sp in ns was left "+st+" at 2026-12-06T11:49:00Z by a deploy that stopped half-way: rolled back to revision 2 (the last deployed) before deploying", r.Message)
	}

	// Younger than the timeout: another deploy may still be running; refuse, naming when.
	_, err = helm.RecoverPending("sp", "ns", revs(helm.StatusPendingUpgrade, time.Minute), now, 10*time.Minute)
	assert.EqualError(t, err, "another deploy of sp in ns is in progress (revision 3 is pending-upgrade since 2026-12-06T11:59:00Z): wait for it; if its job was killed, the next deploy after 2026-12-06T12:09:00Z (its --timeout 10m0s) recovers the release; nothing was changed")

	// A pending install has no deployed revision to return to.
	_, err = helm.RecoverPending("sp", "ns", []helm.Revision{{Revision: 1, Status: helm.StatusPendingInstall, Updated: now.Add(-time.Hour)}}, now, 10*time.Minute)
	assert.EqualError(t, err, "revision 1 of sp in ns was left pending-install at 2026-12-06T11:00:00Z by a deploy that stopped half-way, and no revision is deployed: run `helm uninstall sp --namespace ns`, then deploy again; nothing was changed")

	_, err = helm.RecoverPending("Bad_Name", "ns", nil, now, 0)
	assert.Error(t, err)
}
