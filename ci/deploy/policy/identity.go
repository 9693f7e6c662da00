package policy

import (
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// Claims are what the command line says about the run. None of it is trusted: Resolve checks every
// claim against what GitLab reported, and a claim that disagrees refuses the deployment.
type Claims struct {
	// Actor is --actor: display only, refused when it names someone else than the proven deployer.
	Actor string
	// JobID is --job-id ($CI_JOB_ID). Naming a job makes the run a GitLab run, which then has to be
	// proven by GitLab's own answer for that job.
	JobID int64
	// PipelineID is --pipeline-id ($CI_PIPELINE_ID); a GitLab run needs it and it must be the job's.
	PipelineID int64
	// DeploymentID is --deployment-id (laptop runs): the deployment whose approvals are used.
	DeploymentID int64
	// PipelineSource is --pipeline-source ($CI_PIPELINE_SOURCE); checked against the job's pipeline
	// when GitLab reports its source.
	PipelineSource string
}

// Job is a CI job as GitLab reported it. Build it with JobFromGitLab.
type Job struct {
	id             int64
	status         string
	user           Identity
	pipelineID     int64
	pipelineSHA    string
	pipelineSource string
	ref            string
	commitSHA      string
	viaJobToken    bool
}

// JobFromGitLab turns a job returned by GitLab into evidence. viaJobToken is true when it came from
// GET /job with the job's own token ($CI_JOB_TOKEN: only that job holds it, and only while it runs),
// false when it was looked up by id (GET /projects/:id/jobs/:job_id) with the deploy token.
func JobFromGitLab(j *gitlab.Job, viaJobToken bool) *Job {
	if j == nil {
		return nil
	}
	out := &Job{id: j.ID, status: j.Status, ref: j.Ref, viaJobToken: viaJobToken}
	if j.User != nil {
		out.user = identityOf(*j.User)
	}
	if j.Pipeline != nil {
		out.pipelineID, out.pipelineSHA, out.pipelineSource = j.Pipeline.ID, j.Pipeline.SHA, j.Pipeline.Source
	}
	if j.Commit != nil {
		out.commitSHA = j.Commit.ID
	}
	return out
}

// Proof is what was fetched from GitLab for this run; nil fields were not fetched.
type Proof struct {
	// Job is the CI job running the deployment: GET /job with --job-token, or GET
	// /projects/:id/jobs/:job_id with the deploy token.
	Job *Job
	// TokenOwner is the owner of --gitlab-token (GET /user); on a laptop the deployer.
	TokenOwner *gitlab.User
	// Deployment is the GitLab deployment holding the approvals: the job's own deployment in CI, the
	// --deployment-id one on a laptop.
	Deployment *Evidence
	// AuthorLinks are the GitLab users linked to the commit's author beyond git's free text
	// (FetchAuthorLinks): the authors of the commit's merge requests and the users GitLab finds by
	// the author's email. None of them may approve.
	AuthorLinks []Identity
	// Later are the deployments of the environment newer than Deployment (FetchLater).
	Later []gitlab.Deployment
	// Source is where the proof came from: staging and production count only the GitLab and the
	// project fixed in code (TrustedGitLabAPI, TrustedProject).
	Source ProofSource
}

// Resolve is the promotion policy from evidence to decision: it establishes where the run comes from
// and who deploys from GitLab's answers (never from the claims), checks every claim against them,
// binds the deployment to this run, and then applies Decide. req.Source, req.Actor and req.Evidence
// are set here; whatever the caller put there is ignored.
//
//   - A run that names a job or a pipeline (--job-id, --pipeline-id) is a GitLab run. It must be
//     proven by GitLab: the job as GitLab reports it must be that job, running now, in that pipeline,
//     for this commit. The deployer is the job's user as GitLab reports it, and the deployment must be
//     the one that job created.
//   - Any other run is a laptop run: the deployer is the owner of --gitlab-token.
//   - --actor is display only: it is refused when it does not name the proven deployer.
func Resolve(req Request, claims Claims, proof Proof) Decision {
	return resolve(req, claims, proof, Decide)
}

// ResolveRollback is Resolve for a rollback (rollback-service, rollback-model): the run and the
// person rolling back are established exactly as for a deploy, then DecideRollback applies.
func ResolveRollback(req Request, claims Claims, proof Proof) Decision {
	return resolve(req, claims, proof, DecideRollback)
}

// DecideRollback applies the rollback rules. A rollback restores something that already passed its
// gates, so the gate report, the scan and the images are not re-checked; but the audit record must
// name who rolled back, so that person must be proven in every environment, and production needs
// the approvals of a production deploy (domain.Production.Approvals() from distinct people other
// than the commit author and the person rolling back), on a GitLab deployment of the rollback job
// bound to this commit and pipeline, that can still deploy.
func DecideRollback(req Request) Decision {
	d := Decision{Env: req.Env, ValidApprovals: []string{}}
	refuse := func(format string, args ...any) { d.Reasons = append(d.Reasons, fmt.Sprintf(format, args...)) }
	env := req.Env
	if _, err := ParseSource(string(req.Source)); err != nil {
		refuse("%v", err)
	}
	switch env {
	case domain.Production:
		d.RequiredApprovals = env.Approvals()
		checkApprovals(&d, env, req, refuse)
	case domain.Dev, domain.Staging:
		if !req.Actor.Known() {
			refuse("who rolls back is unknown, and the audit record must say it: pass --gitlab-token with your own personal access token (laptop) or --job-token=env:CI_JOB_TOKEN --job-id=$CI_JOB_ID --pipeline-id=$CI_PIPELINE_ID (GitLab CI)")
		}
	default:
		refuseUnknownEnv(env, refuse)
	}
	d.Allowed = len(d.Reasons) == 0
	return d
}

func resolve(req Request, claims Claims, proof Proof, decide func(Request) Decision) Decision {
	var reasons []string
	refuse := func(format string, args ...any) { reasons = append(reasons, fmt.Sprintf(format, args...)) }

	req.Evidence = proof.Deployment
	req.Actor = Identity{}
	req.authorLinks = proof.AuthorLinks
	req.later = proof.Later
	gitlabRun := claims.JobID != 0 || claims.PipelineID != 0 || proof.Job != nil
	if gitlabRun {
		req.Source = SourceGitLab
		req.Actor = gitlabActor(req, claims, proof, refuse)
	} else {
		req.Source = SourceLocal
		if proof.TokenOwner != nil && strings.TrimSpace(proof.TokenOwner.Username) != "" {
			req.Actor = identityOf(*proof.TokenOwner)
		}
		if ev := proof.Deployment; ev != nil && claims.DeploymentID != 0 && ev.deploymentID != claims.DeploymentID {
			refuse("GitLab answered with deployment %d, not --deployment-id=%d: check the GitLab URL", ev.deploymentID, claims.DeploymentID)
		}
		if ev := proof.Deployment; ev != nil && ev.deployableID == 0 {
			refuse("deployment %d was not created by a GitLab CI job, so its approvals are not bound to a pipeline: pass --deployment-id of the deploy job's deployment (Operate > Environments)", ev.deploymentID)
		}
	}
	if req.Env.Approvals() > 0 && (proof.Job != nil || proof.TokenOwner != nil || proof.Deployment != nil) {
		checkSource(proof.Source, refuse)
	}
	if req.Actor.Bot && req.Env.Approvals() > 0 {
		refuse("%s is a GitLab bot user (a project, group or service-account token): %s is deployed by a person; use your own personal access token (laptop) or run the job as yourself", req.Actor.Username, req.Env)
	}
	if c := strings.TrimSpace(claims.Actor); c != "" {
		switch {
		case !req.Actor.Known():
			if req.Env.Approvals() > 0 {
				refuse("--actor=%s cannot be checked: who deploys is proven by GitLab, not declared; drop --actor and pass --gitlab-token (laptop) or --job-token=env:CI_JOB_TOKEN (GitLab CI)", c)
			}
		case norm(c) != norm(req.Actor.Username):
			refuse("--actor=%s disagrees with GitLab, which says %s deploys: drop --actor (it is display only) or run as %s", c, req.Actor.String(), c)
		}
	}

	d := decide(req)
	d.Source = req.Source
	d.Actor = req.Actor.Username
	if len(reasons) > 0 {
		d.Reasons = append(reasons, d.Reasons...)
		d.Allowed = false
	}
	if use, ok := UseOf(d, proof); ok {
		d.Use = &use
	}
	return d
}

// gitlabActor checks a GitLab run against the job GitLab reported and returns the job's user.
func gitlabActor(req Request, claims Claims, proof Proof, refuse func(string, ...any)) Identity {
	j := proof.Job
	if j == nil {
		refuse("--job-id/--pipeline-id make this a GitLab run, which GitLab must confirm: in GitLab CI pass --job-token=env:CI_JOB_TOKEN (or --gitlab-token with --job-id); on a laptop drop --job-id and --pipeline-id")
		return Identity{}
	}
	if !j.viaJobToken {
		refuse("job %d was looked up by its id, not proven by its own token: in GitLab CI pass --job-token=env:CI_JOB_TOKEN; from a laptop drop --job-id and --pipeline-id (the deployer is then the owner of --gitlab-token)", j.id)
	}
	if claims.JobID == 0 {
		refuse("GitLab reports job %d but no --job-id was given: pass --job-id=$CI_JOB_ID", j.id)
	} else if j.id != claims.JobID {
		refuse("the job token belongs to job %d, not --job-id=%d: pass this job's $CI_JOB_ID and $CI_JOB_TOKEN", j.id, claims.JobID)
	}
	if j.status != "running" {
		refuse("job %d is %s, not running: only the running deploy job of a pipeline can deploy as a GitLab run; run the job in GitLab, or deploy from a laptop with --deployment-id", j.id, orUnknown(j.status))
	}
	switch {
	case claims.PipelineID == 0:
		refuse("no --pipeline-id: pass --pipeline-id=$CI_PIPELINE_ID so the job is checked against its pipeline")
	case j.pipelineID != claims.PipelineID:
		refuse("job %d belongs to pipeline %d, not --pipeline-id=%d: pass this job's $CI_PIPELINE_ID", j.id, j.pipelineID, claims.PipelineID)
	}
	if j.pipelineSHA != string(req.Commit) {
		refuse("job %d runs for commit %s, not --commit=%s: pass --commit=$CI_COMMIT_SHA", j.id, orUnknown(j.pipelineSHA), orUnknown(req.Commit))
	} else if j.commitSHA != "" && j.commitSHA != string(req.Commit) {
		refuse("job %d runs commit %s, not --commit=%s: pass --commit=$CI_COMMIT_SHA", j.id, j.commitSHA, orUnknown(req.Commit))
	}
	if j.ref != "" && req.Branch != "" && j.ref != req.Branch {
		refuse("job %d runs on %s, not --ref=%s: pass --ref=$CI_COMMIT_REF_NAME", j.id, j.ref, req.Branch)
	}
	if j.pipelineSource != "" && claims.PipelineSource != "" && j.pipelineSource != claims.PipelineSource {
		refuse("pipeline %d is a %s pipeline, not --pipeline-source=%s: pass $CI_PIPELINE_SOURCE", j.pipelineID, j.pipelineSource, claims.PipelineSource)
	}
	if ev := proof.Deployment; ev != nil {
		if ev.deployableID != j.id {
			refuse("deployment %d was created by job %d, not by this job %d: in GitLab CI only the job's own deployment counts; give the job `environment: %s`", ev.deploymentID, ev.deployableID, j.id, req.Env)
		}
		if ev.pipelineID != 0 && ev.pipelineID != j.pipelineID {
			refuse("deployment %d belongs to pipeline %d, not this job's pipeline %d", ev.deploymentID, ev.pipelineID, j.pipelineID)
		}
	}
	if claims.DeploymentID != 0 {
		refuse("--deployment-id is for laptop runs: in GitLab CI the job's own deployment holds the approvals; drop --deployment-id")
	}
	if strings.TrimSpace(j.user.Username) == "" {
		refuse("GitLab reported no user for job %d: the deployer must be known; re-run the job", j.id)
		return Identity{}
	}
	return j.user
}

// identityOf is a GitLab user as the policy knows people.
func identityOf(u gitlab.User) Identity {
	return Identity{Username: u.Username, Name: u.Name, Email: u.PublicEmail, Bot: u.Bot}
}

// ID is the job's id as GitLab reported it.
func (j *Job) ID() int64 { return j.id }
