package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// recoverPending reads the release's history and, when a deploy killed half-way left it pending,
// rolls it back to the deployed revision first (helm.RecoverPending decides; a pending revision
// younger than the deploys' timeout is refused as another deploy in progress). It returns what it
// did, "" when nothing was pending or the release is not installed yet.
func recoverPending(ctx context.Context, ctr *dagger.Container, rel helm.Release) (string, error) {
	argv, err := helm.HistoryArgs(rel.Name, rel.Namespace, 0)
	if err != nil {
		return "", err
	}
	stdout, stderr, code, err := live(ctx, ctr, argv)
	if err != nil {
		return "", err
	}
	if code != 0 {
		if strings.Contains(stderr, "release: not found") {
			return "", nil // a first install
		}
		why := strings.Join(gate.Tail(stderr, 5), " | ")
		if fix := helm.ExplainFailure(stderr); fix != "" {
			why = fix + ": " + why
		}
		return "", fmt.Errorf("read the history of %s in %s before deploying (exit %d): %s; nothing was changed", rel.Name, rel.Namespace, code, why)
	}
	revs, err := helm.ParseHistory([]byte(stdout))
	if err != nil {
		return "", fmt.Errorf("the history of %s in %s: %w", rel.Name, rel.Namespace, err)
	}
	r, err := helm.RecoverPending(rel.Name, rel.Namespace, revs, time.Now(), rel.Timeout)
	if err != nil || r.Rollback == nil {
		return "", err
	}
	if _, stderr, code, err = live(ctx, ctr, r.Rollback); err != nil {
		return "", err
	}
	if code != 0 {
		return "", fmt.Errorf("recovering %s in %s from a deploy killed half-way: `%s` failed (exit %d): %s; nothing was deployed", rel.Name, rel.Namespace, strings.Join(r.Rollback, " "), code, strings.Join(gate.Tail(stderr, 5), " | "))
	}
	return r.Message, nil
}
