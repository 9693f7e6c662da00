package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/mlflow"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
)

const (
	// repoDir is where rollback-data mounts the repository.
	repoDir = "/repo"
	// dvcCredentialsPath is where the DVC remote's credentials file is mounted.
	dvcCredentialsPath = "/run/secrets/dvc-remote-credentials"
)

// RollbackService rolls the Helm release of an environment back to an earlier revision. It
// reads `helm history` to check the target (0: the newest revision that ran successfully
// before the deployed one) and prints the plan; only with --confirm and a --reason of at
// least 10 characters does it run `helm rollback --wait`. Who rolls back is proven by GitLab
// (--gitlab-token or --job-token), and production needs the approvals of a production deploy on
// the GitLab deployment of the rollback job. The audit record is stored in the cluster as a
// revision of the release <release>-audit (trace shows the last one) and returned with what to
// do next: CI must be re-run, since the environment no longer matches the default branch. A bad
// revision is an error and nothing is changed.
//
// +cache="never"
func (m *SoccerPredict) RollbackService(
	ctx context.Context,
	// Environment to roll back: dev, staging or production.
	env string,
	// Kubeconfig of the cluster, as a secret (--kubeconfig=env:KUBECONFIG_CONTENT or
	// file:$HOME/.kube/config).
	kubeconfig *dagger.Secret,
	// Helm revision to roll back to, from `helm history`; 0 means the previous good revision.
	// +optional
	revision int,
	// Act: without it only the plan is shown and nothing changes.
	// +optional
	confirm bool,
	// Why the rollback is needed (at least 10 characters; recorded).
	// +optional
	reason string,
	// Display only: who rolls back is proven by GitLab (the job's user in CI, the token's owner on
	// a laptop); a different name is refused.
	// +optional
	actor string,
	// Dev only: a Helm chart instead of the one committed with the module (charts/soccer-predict).
	// Staging and production refuse it.
	// +optional
	chart *dagger.Directory,
	// GitLab token that proves who rolls back and, for production, the approvals (GitLab:
	// env:GITLAB_DEPLOY_TOKEN; laptop: your own personal access token).
	// +optional
	gitlabToken *dagger.Secret,
	// GitLab CI: this job's own token (--job-token=env:CI_JOB_TOKEN); GitLab says which job runs
	// and who runs it.
	// +optional
	jobToken *dagger.Secret,
	// GitLab project id (default: CI_PROJECT_ID setting).
	// +optional
	projectId string,
	// GitLab CI: $CI_JOB_ID of the rollback job; its deployment holds the approvals.
	// +optional
	jobId int,
	// GitLab CI: $CI_PIPELINE_ID.
	// +optional
	pipelineId int,
	// From a laptop: the GitLab deployment (of a rollback job, blocked or running) whose approvals
	// allow a production rollback.
	// +optional
	deploymentId int,
) (_ string, err error) {
	defer surface(&err)
	// The chart and the tool images are trust roots: refused before anything runs.
	if m, chart, err = m.forEnv(ctx, env, chart); err != nil {
		return "", err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	flags := rollback.Flags{Env: env, Confirm: confirm, Reason: reason, Claims: rollbackClaims(actor, jobId, pipelineId, deploymentId)}
	req, err := rollback.CheckService(flags, revision, kubeconfig != nil, s)
	if err != nil {
		return "", err
	}
	ctr, err := m.helmContainer(ctx, chart, kubeconfig)
	if err != nil {
		return "", err
	}
	history, err := liveRead(ctx, ctr, req.History, fmt.Sprintf("the history of release %s in namespace %s", req.Release, req.Namespace))
	if err != nil {
		return "", fmt.Errorf("%w; nothing was changed", err)
	}
	who, err := rollbackWho(ctx, s, req.Env, flags.Claims, rollbackProof{gitlabToken, jobToken, projectId})
	if err != nil {
		return "", err
	}
	plan, err := rollback.DecideService(rollback.ServiceFacts{Request: req, History: []byte(history), Who: who})
	if err != nil || !plan.Outcome.Act {
		return plan.Report, err
	}
	spent, err := spend(ctx, s, gitlabToken, projectId, plan.Use)
	if err != nil {
		return "", err
	}
	done := ctr.
		// A rollback is never cached: the same inputs must reach the cluster every time.
		WithEnvVariable("SP_ROLLBACK_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(plan.Rollback)
	log, err := done.Stdout(ctx)
	if serr := spent(ctx, err == nil); serr != nil && err == nil {
		return "", serr
	}
	if err != nil {
		var exec *dagger.ExecError
		if errors.As(err, &exec) {
			return "", plan.RollbackFailed(exec.ExitCode, exec.Stderr)
		}
		return "", err
	}
	if err := storeRollback(ctx, done, plan); err != nil {
		return "", err
	}
	return plan.Done(log)
}

// RollbackModel moves the MLflow model's champion alias back to an earlier model version. It
// checks that the version exists and is READY and shows the plan (current champion → target);
// only with --confirm and a --reason of at least 10 characters does it move the alias. The
// server is MLFLOW_TRACKING_URI (--settings-file) and the model soccer-predict (fixed in code; another
// SP_MLFLOW_MODEL is refused). The champion is
// what production serves, so moving it is a production change: who rolls back is proven by GitLab
// and the approvals of a production deploy are needed, as for rollback-service. The audit record
// must fit MLflow's 5000-character tag before the alias moves. The audit record is stored as a tag of the registered model
// (soccerpredict.audit.last-rollback) and returned with what to do next: CI must be re-run.
//
// +cache="never"
func (m *SoccerPredict) RollbackModel(
	ctx context.Context,
	// Model version to make the champion again (a positive integer from the model registry).
	toVersion string,
	// Act: without it only the plan is shown and nothing changes.
	// +optional
	confirm bool,
	// Why the rollback is needed (at least 10 characters; recorded).
	// +optional
	reason string,
	// MLflow token, as a secret (--mlflow-token=env:MLFLOW_TRACKING_TOKEN); default: the
	// constructor's --mlflow-token; omit both for a server without authentication.
	// +optional
	mlflowToken *dagger.Secret,
	// Password for an MLflow server with HTTP Basic login, with MLFLOW_TRACKING_USERNAME
	// (--settings-file), as a secret (--mlflow-password=env:MLFLOW_TRACKING_PASSWORD); default:
	// the constructor's --mlflow-password. Username and password win over the token, as in
	// MLflow's own client.
	// +optional
	mlflowPassword *dagger.Secret,
	// Display only: who rolls back is proven by GitLab (the job's user in CI, the token's owner on
	// a laptop); a different name is refused.
	// +optional
	actor string,
	// The environment the champion alias serves: production, always. Moving it needs the
	// approvals of a production deploy; any other value is refused.
	// +optional
	// +default="production"
	env string,
	// GitLab token that proves who rolls back and, for production, the approvals (GitLab:
	// env:GITLAB_DEPLOY_TOKEN; laptop: your own personal access token).
	// +optional
	gitlabToken *dagger.Secret,
	// GitLab CI: this job's own token (--job-token=env:CI_JOB_TOKEN); GitLab says which job runs
	// and who runs it.
	// +optional
	jobToken *dagger.Secret,
	// GitLab project id (default: CI_PROJECT_ID setting).
	// +optional
	projectId string,
	// GitLab CI: $CI_JOB_ID of the rollback job; its deployment holds the approvals.
	// +optional
	jobId int,
	// GitLab CI: $CI_PIPELINE_ID.
	// +optional
	pipelineId int,
	// From a laptop: the GitLab deployment (of a rollback job, blocked or running) whose approvals
	// allow a production rollback.
	// +optional
	deploymentId int,
) (_ string, err error) {
	defer surface(&err)
	// The images are trust roots: refused before anything runs.
	if m, _, err = m.forEnv(ctx, env, nil); err != nil {
		return "", err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	flags := rollback.Flags{Env: env, Confirm: confirm, Reason: reason, Claims: rollbackClaims(actor, jobId, pipelineId, deploymentId)}
	req, err := rollback.CheckModel(flags, toVersion, s)
	if err != nil {
		return "", err
	}
	client, err := m.mlflow(ctx, s, mlflowToken, mlflowPassword)
	if err != nil {
		return "", err
	}
	mv, err := client.GetModelVersion(ctx, req.Model, req.Version)
	if err != nil {
		return "", fmt.Errorf("cannot roll model %s back to version %s: %w; nothing was changed", req.Model, req.Version, err)
	}
	champion := ""
	switch cur, err := client.GetModelVersionByAlias(ctx, req.Model, mlflow.ChampionAlias); {
	case err == nil:
		champion = cur.Version
	case errors.Is(err, mlflow.ErrNotFound):
	default:
		return "", fmt.Errorf("read the champion of %s: %w; nothing was changed", req.Model, err)
	}
	who, err := rollbackWho(ctx, s, req.Env, flags.Claims, rollbackProof{gitlabToken, jobToken, projectId})
	if err != nil {
		return "", err
	}
	plan, err := rollback.DecideModel(rollback.ModelFacts{Request: req, Version: *mv, Champion: champion, Who: who})
	if err != nil || !plan.Outcome.Act {
		return plan.Report, err
	}
	spent, err := spend(ctx, s, gitlabToken, projectId, plan.Use)
	if err != nil {
		return "", err
	}
	previous, err := client.SetChampion(ctx, req.Model, req.Version)
	if serr := spent(ctx, err == nil); serr != nil && err == nil {
		return "", serr
	}
	if err != nil {
		return "", fmt.Errorf("move the champion alias of %s to version %s: %w", req.Model, req.Version, err)
	}
	raw, err := plan.Moved(previous).JSON()
	if err != nil {
		return "", err
	}
	if err := client.SetModelTag(ctx, req.Model, rollback.ModelTag, string(raw)); err != nil {
		return "", fmt.Errorf("moved the champion of %s to version %s, but the audit record could not be stored as tag %s of the registered model (%w): file this record by hand:\n%s",
			req.Model, req.Version, rollback.ModelTag, err, raw)
	}
	return plan.Done(previous)
}

// RollbackData restores the project's DVC pointer files (dvc.lock and *.dvc) as they were at an
// earlier git rev. It checks that the rev is a commit of the repository, and shows the plan
// (`git diff --stat` of the pointer files); only with --confirm and a --reason of at least 10
// characters does it restore them from the rev and run `dvc pull` (with
// --dvc-remote-credentials) or `dvc checkout` (best effort: an empty cache cannot materialize
// data) to check the data is there. Nothing is pushed: it returns the restored pointer files at
// their repository paths, to commit in a reviewed merge request, with rollback-plan.txt (files
// to delete included) and audit.json. Without --confirm it returns only the plan and the record.
//
// +cache="never"
func (m *SoccerPredict) RollbackData(
	ctx context.Context,
	// Git rev to restore the data of: a commit sha, a tag or a branch.
	toRev string,
	// Act: without it only the plan is returned.
	// +optional
	confirm bool,
	// Why the rollback is needed (at least 10 characters; recorded).
	// +optional
	reason string,
	// Who rolls back (GitLab: $GITLAB_USER_LOGIN; on a laptop: your GitLab username).
	// +optional
	actor string,
	// Credentials file of the default DVC remote (S3 or GCS), as a secret
	// (--dvc-remote-credentials=file:$HOME/.aws/credentials); set as the remote's credentialpath.
	// +optional
	dvcRemoteCredentials *dagger.Secret,
	// Environment the record is filed under.
	// +optional
	// +default="production"
	env string,
	// The repository with its git history (default: this repository, .git included); the
	// project (--project) is inside it.
	// +defaultPath="/"
	// +ignore=["**/__pycache__", "**/.venv", "**/.pytest_cache", "**/.ruff_cache", "**/.hypothesis", "**/node_modules", "**/.dvc/cache", "**/.dvc/tmp", "**/.dvc/config.local", "dagger/internal", "dagger/dagger.gen.go", "reports", "public", "site"]
	repo *dagger.Directory,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	// The images are trust roots: refused before anything runs.
	if m, _, err = m.forEnv(ctx, env, nil); err != nil {
		return nil, err
	}
	req, err := rollback.CheckData(rollback.Flags{Env: env, Confirm: confirm, Reason: reason, Claims: policy.Claims{Actor: actor}}, toRev, m.Project)
	if err != nil {
		return nil, err
	}
	ctr, err := m.python(ctx, "requirements-data.txt")
	if err != nil {
		return nil, err
	}
	ctr = ctr.
		WithMountedCache("/var/cache/apt", dag.CacheVolume("soccer-predict-apt-cache")).
		WithMountedCache("/var/lib/apt/lists", dag.CacheVolume("soccer-predict-apt-lists")).
		WithExec([]string{"sh", "-c", "command -v git >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends git)"}).
		// The repository is mounted with root as owner: let git trust it without a config file.
		WithEnvVariable("GIT_CONFIG_COUNT", "1").
		WithEnvVariable("GIT_CONFIG_KEY_0", "safe.directory").
		WithEnvVariable("GIT_CONFIG_VALUE_0", "*").
		WithDirectory(repoDir, repo).
		WithWorkdir(repoDir)

	head, err := gitOutput(ctx, ctr, []string{"git", "rev-parse", "--verify", "HEAD"},
		"--repo has no git history: pass the repository with its .git (the default keeps it)")
	if err != nil {
		return nil, err
	}
	target, err := gitOutput(ctx, ctr, []string{"git", "rev-parse", "--verify", "--quiet", toRev + "^{commit}"},
		fmt.Sprintf("%q is not a commit of the repository: pass a sha, tag or branch from `git log -- %s` (fetch it first if it is remote); nothing was changed", toRev, path.Join(m.Project, dvc.LockFile)))
	if err != nil {
		return nil, err
	}
	specs := dvc.PointerPathspecs(m.Project)
	stat, err := gitOutput(ctx, ctr, append([]string{"git", "diff", "--stat", target, "--"}, specs...), "could not compare the DVC pointer files")
	if err != nil {
		return nil, err
	}
	status, err := gitOutput(ctx, ctr, append([]string{"git", "diff", "--no-renames", "--name-status", target, "--"}, specs...), "could not compare the DVC pointer files")
	if err != nil {
		return nil, err
	}
	plan, err := rollback.DecideData(rollback.DataFacts{Request: req, Head: head, Target: target, Stat: stat, NameStatus: status})
	if err != nil {
		return nil, err
	}
	result := dag.Directory()
	dvcNote := ""
	if plan.Outcome.Act {
		restored := ctr.WithExec(append([]string{"git", "restore", "--source=" + target, "--worktree", "--"}, plan.Changed()...))
		if dvcNote, err = dvcMaterialize(ctx, restored.WithWorkdir(path.Join(repoDir, m.Project)), dvcRemoteCredentials, toRev); err != nil {
			return nil, err
		}
		for _, f := range plan.Restore {
			result = result.WithFile(f, restored.File(path.Join(repoDir, f)))
		}
	}
	record, err := plan.Outcome.Record.JSON()
	if err != nil {
		return nil, err
	}
	return result.
		WithNewFile(gate.RollbackPlan, plan.Notes(dvcNote)).
		WithNewFile(gate.Audit, string(record)), nil
}

// dvcMaterialize checks that the data of the restored pointer files is there: `dvc pull` with
// the remote's credentials (a failure is an error), else `dvc checkout` from the (usually
// empty) cache, whose failure is only reported.
func dvcMaterialize(ctx context.Context, ctr *dagger.Container, credentials *dagger.Secret, rev string) (string, error) {
	if credentials != nil {
		script := `remote="$(dvc remote default)"; if [ -z "$remote" ]; then echo "the DVC project has no default remote: set one with dvc remote default <name>" >&2; exit 1; fi; ` +
			`dvc remote modify --local "$remote" credentialpath ` + dvcCredentialsPath + ` && dvc pull`
		_, code, log, err := run(ctx, ctr.WithMountedSecret(dvcCredentialsPath, credentials), []string{"sh", "-c", script})
		if err != nil {
			return "", err
		}
		if code != 0 {
			return "", fmt.Errorf("the data of %s could not be pulled (exit %d): %s; nothing was returned to commit", rev, code, strings.Join(gate.Tail(log, 5), " | "))
		}
		return fmt.Sprintf("dvc pull: the data of %s is in the remote.", rev), nil
	}
	_, code, log, err := run(ctx, ctr, []string{"dvc", "checkout"})
	if err != nil {
		return "", err
	}
	if code != 0 {
		return fmt.Sprintf("dvc checkout exited %d (%s): the data of %s is not in this run's cache; pass --dvc-remote-credentials to check it can be pulled, or run `dvc pull` after the merge.", code, gate.Last(log), rev), nil
	}
	return "dvc checkout: the data of " + rev + " is in the cache.", nil
}

// gitOutput runs a git command and returns its trimmed stdout; a non-zero exit is an error
// saying fix, with git's message.
func gitOutput(ctx context.Context, ctr *dagger.Container, argv []string, fix string) (string, error) {
	done := ctr.WithExec(argv, anyExit)
	code, err := done.ExitCode(ctx)
	if err != nil {
		return "", toolFailure(argv[0], err)
	}
	if code != 0 {
		stderr, err := done.Stderr(ctx)
		if err != nil {
			return "", err
		}
		msg := strings.Join(gate.Tail(stderr, 3), " | ")
		if msg != "" {
			msg = " (" + msg + ")"
		}
		return "", fmt.Errorf("%s exited %d%s: %s", strings.Join(argv[:2], " "), code, msg, fix)
	}
	out, err := done.Stdout(ctx)
	return strings.TrimSpace(out), err
}
