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

// rollbackProof are the credentials GitLab is asked with who rolls back, as for a deploy.
type rollbackProof struct {
	GitLabToken, JobToken *dagger.Secret
	ProjectID             string
}

// rollbackClaims are what a rollback's flags say about the run; GitLab checks them.
func rollbackClaims(actor string, jobID, pipelineID, deploymentID int) policy.Claims {
	return policy.Claims{Actor: actor, JobID: int64(jobID), PipelineID: int64(pipelineID), DeploymentID: int64(deploymentID)}
}

// rollbackWho asks GitLab what the rollback policy needs (fetchProof): who rolls back, the
// commit's author and, for production, the approvals.
func rollbackWho(ctx context.Context, s configpkg.Settings, env domain.Environment, claims policy.Claims, p rollbackProof) (rollback.Who, error) {
	proof, author, err := fetchProof(ctx, s, env, p.ProjectID, p.GitLabToken, p.JobToken, claims)
	return rollback.Who{Proof: proof, Author: author}, err
}

// storeRollback keeps the record of a rollback that was done in the audit release of the
// environment (plan.Store), after the rollback: done is the container that ran it.
func storeRollback(ctx context.Context, done *dagger.Container, plan rollback.ServicePlan) error {
	raw, err := plan.Outcome.Record.JSON()
	if err != nil {
		return err
	}
	chart := dag.Directory()
	for path, content := range rollback.StoreChart() {
		chart = chart.WithNewFile(path, content)
	}
	_, err = done.
		WithDirectory(rollback.AuditChartDir, chart).
		WithNewFile(rollback.AuditRecordFile, string(raw)).
		WithExec(plan.Store).
		Stdout(ctx)
	if err == nil {
		return nil
	}
	var exec *dagger.ExecError
	if errors.As(err, &exec) {
		return plan.StoreFailed(fmt.Sprintf("exit %d: %s", exec.ExitCode, strings.Join(gate.Tail(exec.Stderr, 5), " | ")))
	}
	return plan.StoreFailed(err.Error())
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
