package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
)

const (
	// auditChartDir and auditRecordPath are where rollback-service puts the audit release's
	// chart and the record it stores.
	auditChartDir   = "/audit-chart"
	auditRecordPath = "/audit/audit.json"
)

// rollbackProof are the flags a rollback is proven with, as for a deploy.
type rollbackProof struct {
	GitLabToken, JobToken           *dagger.Secret
	ProjectID                       string
	JobID, PipelineID, DeploymentID int
}

// rollbackDecision asks GitLab what ci/deploy/policy needs (fetchProof) and lets policy.ResolveRollback
// decide who rolls back and whether the rollback may act.
func rollbackDecision(ctx context.Context, s configpkg.Settings, env domain.Environment, actor string, p rollbackProof) (policy.Decision, error) {
	claims := policy.Claims{Actor: actor, JobID: int64(p.JobID), PipelineID: int64(p.PipelineID), DeploymentID: int64(p.DeploymentID)}
	proof, author, err := fetchProof(ctx, s, env, p.ProjectID, p.GitLabToken, p.JobToken, claims)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.ResolveRollback(policy.Request{Env: env, Commit: s.Commit, Author: author}, claims, proof), nil
}

// recordActor is who the audit record names: the person GitLab proved, else (for a plan that
// changes nothing) the claim, marked as unproven.
func recordActor(d policy.Decision, claimed string) string {
	switch {
	case d.Actor != "":
		return d.Actor
	case strings.TrimSpace(claimed) != "":
		return strings.TrimSpace(claimed) + " (not proven)"
	}
	return "unknown (not proven)"
}

// planNote tells, with a plan, what confirming would still need.
func planNote(d policy.Decision) string {
	if d.Allowed {
		return ""
	}
	return "confirming will be refused until:\n  - " + strings.Join(d.Reasons, "\n  - ")
}

// storeRollback keeps the record of a rollback that was done in the audit release of the
// environment (domain.AuditRelease), after the rollback: done is the container that ran it.
func storeRollback(ctx context.Context, done *dagger.Container, s configpkg.Settings, ns string, rec rollback.Record) error {
	raw, err := rec.JSON()
	if err != nil {
		return err
	}
	argv, err := rollback.StoreArgs(s.Release, ns, auditChartDir, auditRecordPath, rec)
	if err != nil {
		return err
	}
	chart := dag.Directory()
	for path, content := range rollback.StoreChart() {
		chart = chart.WithNewFile(path, content)
	}
	_, err = done.
		WithDirectory(auditChartDir, chart).
		WithNewFile(auditRecordPath, string(raw)).
		WithExec(argv).
		Stdout(ctx)
	if err != nil {
		var msg string
		var exec *dagger.ExecError
		if errors.As(err, &exec) {
			msg = fmt.Sprintf("exit %d: %s", exec.ExitCode, strings.Join(gate.Tail(exec.Stderr, 5), " | "))
		} else {
			msg = err.Error()
		}
		return fmt.Errorf("the audit record could not be stored in release %s of %s (%s): file this record by hand (e.g. in the GitLab environment's deployment) and check the kubeconfig may manage ConfigMaps:\n%s",
			domain.AuditRelease(s.Release), ns, msg, raw)
	}
	return nil
}

// lastRollback reads the last record of the audit release of env: nil when none was stored.
func lastRollback(ctx context.Context, ctr *dagger.Container, s configpkg.Settings, ns string) (*rollback.Record, error) {
	argv, err := rollback.LastArgs(s.Release, ns)
	if err != nil {
		return nil, err
	}
	stdout, stderr, code, err := live(ctx, ctr, argv)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		if strings.Contains(stderr, "not found") {
			return nil, nil
		}
		return nil, fmt.Errorf("read the rollback records (release %s in %s): %s", domain.AuditRelease(s.Release), ns, strings.Join(gate.Tail(stderr, 3), " | "))
	}
	if t := strings.TrimSpace(stdout); t == "" || t == "null" || t == "{}" {
		return nil, nil
	}
	rec, err := rollback.ParseLast([]byte(stdout))
	if err != nil {
		return nil, err
	}
	return &rec, nil
}
