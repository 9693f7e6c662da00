package helm

import (
	"fmt"
	"time"
)

// Recovery is what a deploy does first about a release whose newest revision is pending: an
// install, upgrade or rollback that never finished because its helm was killed half-way (a
// cancelled job, a lost runner). Helm refuses every later upgrade of such a release ("another
// operation (install/upgrade/rollback) is in progress") until it is resolved.
type Recovery struct {
	// Rollback is the argv that restores the last deployed revision; nil when nothing is pending.
	Rollback []string
	// Message says what was found and what the rollback does, for the deploy's output.
	Message string
}

// RecoverPending decides from the release's history (ParseHistory) whether a deploy must first
// recover the release. A pending revision younger than timeout (the deploys' --timeout) may belong
// to a helm still running: that is another deploy in progress, and the answer is an error naming
// when the release may be recovered. An older pending upgrade or rollback is rolled back to the
// revision still marked deployed. A pending install has nothing to roll back to: the error names
// the uninstall.
func RecoverPending(release, namespace string, revs []Revision, now time.Time, timeout time.Duration) (Recovery, error) {
	if err := validateTarget(release, namespace); err != nil {
		return Recovery{}, err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var last Revision
	for _, r := range revs {
		if r.Revision > last.Revision {
			last = r
		}
	}
	switch last.Status {
	case StatusPendingInstall, StatusPendingUpgrade, StatusPendingRollback:
	default:
		return Recovery{}, nil
	}
	if last.Updated.IsZero() || now.Sub(last.Updated) < timeout {
		since := "an unknown time"
		if !last.Updated.IsZero() {
			since = last.Updated.UTC().Format(time.RFC3339)
		}
		return Recovery{}, fmt.Errorf("another deploy of %s in %s is in progress (revision %d is %s since %s): wait for it; if its job was killed, the next deploy after %s (its --timeout %s) recovers the release; nothing was changed",
			release, namespace, last.Revision, last.Status, since, timeoutEnd(last.Updated, timeout), timeout)
	}
	deployed, ok := Deployed(revs)
	if last.Status == StatusPendingInstall || !ok {
		return Recovery{}, fmt.Errorf("revision %d of %s in %s was left %s at %s by a deploy that stopped half-way, and no revision is deployed: run `helm uninstall %s --namespace %s`, then deploy again; nothing was changed",
			last.Revision, release, namespace, last.Status, last.Updated.UTC().Format(time.RFC3339), release, namespace)
	}
	argv, err := RollbackArgs(Rollback{Release: release, Namespace: namespace, Revision: deployed.Revision, Timeout: timeout})
	if err != nil {
		return Recovery{}, err
	}
	return Recovery{
		Rollback: argv,
		Message: fmt.Sprintf("revision %d of %s in %s was left %s at %s by a deploy that stopped half-way: rolled back to revision %d (the last deployed) before deploying",
			last.Revision, release, namespace, last.Status, last.Updated.UTC().Format(time.RFC3339), deployed.Revision),
	}, nil
}

func timeoutEnd(updated time.Time, timeout time.Duration) string {
	if updated.IsZero() {
		return "its --timeout"
	}
	return updated.Add(timeout).UTC().Format(time.RFC3339)
}
