package policy

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

const (
	ciJobID      = 664
	ciPipelineID = 6
)

func ciJob(user string) *gitlab.Job {
	return &gitlab.Job{
		ID: ciJobID, Status: "running", Name: "deploy-production", Ref: "main",
		User:     &gitlab.User{Username: user, Name: strings.ToUpper(user[:1]) + user[1:]},
		Pipeline: &gitlab.JobPipeline{ID: ciPipelineID, SHA: commit, Source: "push"},
		Commit:   &gitlab.Commit{ID: commit},
	}
}

// jobDeployment is a deployment created by job jobID of pipeline pipelineID for commit.
func jobDeployment(env, status string, jobID, pipelineID int64, approvals ...gitlab.Approval) *gitlab.Deployment {
	d := deployment(env, approvals...)
	d.Status = status
	d.User = gitlab.User{Username: "trigger", Name: "Trig Gerer"}
	d.Deployable = &gitlab.Deployable{ID: jobID, Name: DeployJob(domain.Environment(env)), Status: "running"}
	d.Deployable.Pipeline = &struct {
		ID     int64  `json:"id"`
		SHA    string `json:"sha"`
		Ref    string `json:"ref"`
		Status string `json:"status"`
	}{ID: pipelineID, SHA: commit, Ref: "main"}
	return d
}

// baseRequest is a production request with everything but identity and approvals in order.
func baseRequest(env domain.Environment) Request {
	r := prodRequest()
	r.Env, r.Source, r.Actor, r.Evidence = env, "", Identity{}, nil
	return r
}

func ciClaims() Claims {
	return Claims{JobID: ciJobID, PipelineID: ciPipelineID, PipelineSource: "push"}
}

// trusted is where GitLab's answers come from in the fixtures: the instance and project fixed in code.
var trusted = ProofSource{API: TrustedGitLabAPI, Project: TrustedProject}

func ciProof(user string, approvals ...gitlab.Approval) Proof {
	return Proof{
		Source:     trusted,
		Job:        JobFromGitLab(ciJob(user), true),
		Deployment: EvidenceFromDeployment(jobDeployment("production", "running", ciJobID, ciPipelineID, approvals...)),
	}
}

func laptopProof(owner string, approvals ...gitlab.Approval) Proof {
	return Proof{
		Source:     trusted,
		TokenOwner: &gitlab.User{Username: owner, Name: owner},
		Deployment: EvidenceFromDeployment(jobDeployment("production", "blocked", ciJobID, ciPipelineID, approvals...)),
	}
}

func TestResolveAllowed(t *testing.T) {
	d := Resolve(baseRequest(domain.Production), ciClaims(), ciProof("dave", approve("alice"), approve("bob")))
	require.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, SourceGitLab, d.Source)
	assert.Equal(t, "dave", d.Actor)
	assert.Equal(t, []string{"alice", "bob"}, d.ValidApprovals)

	claims := Claims{DeploymentID: 42}
	d = Resolve(baseRequest(domain.Production), claims, laptopProof("erin", approve("alice"), approve("bob")))
	require.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, SourceLocal, d.Source)
	assert.Equal(t, "erin", d.Actor)

	// --actor naming the proven deployer is accepted (it is display only).
	c := ciClaims()
	c.Actor = "Dave"
	assert.True(t, Resolve(baseRequest(domain.Production), c, ciProof("dave", approve("alice"), approve("bob"))).Allowed)

	// Dev from a laptop needs no token and no approval.
	d = Resolve(baseRequest(domain.Dev), Claims{}, Proof{})
	assert.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, SourceLocal, d.Source)

	// Dev from GitLab: the job proves the run; a push to the default branch needs no approval.
	d = Resolve(baseRequest(domain.Dev), ciClaims(), Proof{Job: JobFromGitLab(ciJob("dave"), true)})
	assert.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, SourceGitLab, d.Source)
	assert.Equal(t, "dave", d.Actor)
	// A laptop claiming to be that job is refused, even for dev.
	d = Resolve(baseRequest(domain.Dev), ciClaims(), Proof{})
	assert.False(t, d.Allowed)
	assert.Contains(t, strings.Join(d.Reasons, "\n"), "--job-token=env:CI_JOB_TOKEN")
}

// TestResolveBypasses is every way around the policy the issue lists, and its neighbours, from the
// attacker's side: each must be refused with a reason that names the fix.
func TestResolveBypasses(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	cases := []struct {
		name   string
		claims func(*Claims)
		proof  func() Proof
		env    domain.Environment
		want   string
	}{
		{"laptop names a job id without GitLab's word for it", func(c *Claims) {},
			func() Proof { p := laptopProof("alice", ab...); return p }, domain.Production, "--job-token=env:CI_JOB_TOKEN"},
		{"laptop names only a pipeline id", func(c *Claims) { *c = Claims{PipelineID: ciPipelineID} },
			func() Proof { return laptopProof("mallory", ab...) }, domain.Production, "which GitLab must confirm"},
		{"approver runs the job and names someone else with --actor", func(c *Claims) { c.Actor = "dave" },
			func() Proof { return ciProof("alice", ab...) }, domain.Production, "--actor=dave disagrees with GitLab, which says alice deploys"},
		{"approver runs the job: their own approval does not count", func(c *Claims) {},
			func() Proof { return ciProof("alice", ab...) }, domain.Production, "alice (the person deploying)"},
		{"laptop approver names someone else", func(c *Claims) { *c = Claims{DeploymentID: 42, Actor: "dave"} },
			func() Proof { return laptopProof("alice", ab...) }, domain.Production, "--actor=dave disagrees"},
		{"laptop approver's own approval does not count", func(c *Claims) { *c = Claims{DeploymentID: 42} },
			func() Proof { return laptopProof("bob", ab...) }, domain.Production, "bob (the person deploying)"},
		{"laptop without a token: the deployer is unknown", func(c *Claims) { *c = Claims{DeploymentID: 42, Actor: "dave"} },
			func() Proof { p := laptopProof("x", ab...); p.TokenOwner = nil; return p }, domain.Production, "--actor=dave cannot be checked"},
		{"a finished job replays its deployment", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave", ab...)
				j := ciJob("dave")
				j.Status = "success"
				p.Job = JobFromGitLab(j, false)
				return p
			}, domain.Production, "job 664 is success, not running"},
		{"the job token is another job's", func(c *Claims) { c.JobID = 700 },
			func() Proof { return ciProof("dave", ab...) }, domain.Production, "belongs to job 664, not --job-id=700"},
		{"no pipeline id", func(c *Claims) { c.PipelineID = 0 },
			func() Proof { return ciProof("dave", ab...) }, domain.Production, "--pipeline-id=$CI_PIPELINE_ID"},
		{"another pipeline", func(c *Claims) { c.PipelineID = 5 },
			func() Proof { return ciProof("dave", ab...) }, domain.Production, "belongs to pipeline 6, not --pipeline-id=5"},
		{"the job runs another commit", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave", ab...)
				j := ciJob("dave")
				j.Pipeline.SHA, j.Commit.ID = fakeCommit("other"), fakeCommit("other")
				p.Job = JobFromGitLab(j, true)
				return p
			}, domain.Production, "pass --commit=$CI_COMMIT_SHA"},
		{"a branch job claiming the default branch", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave", ab...)
				j := ciJob("dave")
				j.Ref = "feature/x"
				p.Job = JobFromGitLab(j, true)
				return p
			}, domain.Production, "job 664 runs on feature/x, not --ref=main"},
		{"a pipeline source that disagrees with GitLab", func(c *Claims) { c.PipelineSource = "web" },
			func() Proof { return ciProof("dave", ab...) }, domain.Production, "a push pipeline, not --pipeline-source=web"},
		{"a job GitLab reports no user for", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave", ab...)
				j := ciJob("dave")
				j.User = nil
				p.Job = JobFromGitLab(j, true)
				return p
			}, domain.Production, "no user for job 664"},
		{"another job's approved deployment", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave")
				p.Deployment = EvidenceFromDeployment(jobDeployment("production", "running", 600, ciPipelineID, ab...))
				return p
			}, domain.Production, "created by job 600, not by this job 664"},
		{"a deployment of another pipeline", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave")
				p.Deployment = EvidenceFromDeployment(jobDeployment("production", "running", ciJobID, 5, ab...))
				return p
			}, domain.Production, "belongs to pipeline 5"},
		{"--deployment-id in a GitLab run", func(c *Claims) { c.DeploymentID = 41 },
			func() Proof { return ciProof("dave", ab...) }, domain.Production, "drop --deployment-id"},
		{"a staging deployment for production", func(c *Claims) {},
			func() Proof {
				p := ciProof("dave")
				p.Deployment = EvidenceFromDeployment(jobDeployment("staging", "running", ciJobID, ciPipelineID, ab...))
				return p
			}, domain.Production, `for environment "staging", not "production"`},
		{"laptop replays a deployment that already ran", func(c *Claims) { *c = Claims{DeploymentID: 42} },
			func() Proof {
				p := laptopProof("erin")
				p.Deployment = EvidenceFromDeployment(jobDeployment("production", "success", ciJobID, ciPipelineID, ab...))
				return p
			}, domain.Production, "deployment 42 is success, not blocked or running"},
		{"laptop replays a failed deployment", func(c *Claims) { *c = Claims{DeploymentID: 42} },
			func() Proof {
				p := laptopProof("erin")
				p.Deployment = EvidenceFromDeployment(jobDeployment("production", "failed", ciJobID, ciPipelineID, ab...))
				return p
			}, domain.Production, "cannot be reused"},
		{"laptop uses a canceled deployment", func(c *Claims) { *c = Claims{DeploymentID: 42} },
			func() Proof {
				p := laptopProof("erin")
				p.Deployment = EvidenceFromDeployment(jobDeployment("production", "canceled", ciJobID, ciPipelineID, ab...))
				return p
			}, domain.Production, "is canceled"},
		{"laptop uses a deployment created outside CI", func(c *Claims) { *c = Claims{DeploymentID: 42} },
			func() Proof {
				p := laptopProof("erin")
				d := deployment("production", ab...)
				d.Deployable = nil
				p.Deployment = EvidenceFromDeployment(d)
				return p
			}, domain.Production, "not created by a GitLab CI job"},
		{"laptop uses a deployment of another commit's pipeline", func(c *Claims) { *c = Claims{DeploymentID: 42} },
			func() Proof {
				p := laptopProof("erin")
				d := jobDeployment("production", "blocked", ciJobID, ciPipelineID, ab...)
				d.Deployable.Pipeline.SHA = fakeCommit("other")
				p.Deployment = EvidenceFromDeployment(d)
				return p
			}, domain.Production, "created by a pipeline of commit"},
		{"GitLab answers with another deployment than asked", func(c *Claims) { *c = Claims{DeploymentID: 41} },
			func() Proof { return laptopProof("erin", ab...) }, domain.Production, "not --deployment-id=41"},
		{"staging: the one approver runs the job", func(c *Claims) {},
			func() Proof {
				p := ciProof("alice")
				p.Deployment = EvidenceFromDeployment(jobDeployment("staging", "running", ciJobID, ciPipelineID, approve("alice")))
				return p
			}, domain.Staging, "staging needs 1 approval(s)"},
		{"staging: a GitLab run without the job's proof", func(c *Claims) {},
			func() Proof { p := ciProof("dave", approve("alice")); p.Job = nil; return p }, domain.Staging, "--job-token=env:CI_JOB_TOKEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims := ciClaims()
			tc.claims(&claims)
			d := Resolve(baseRequest(tc.env), claims, tc.proof())
			require.False(t, d.Allowed, "bypass allowed")
			assert.Contains(t, strings.Join(d.Reasons, "\n"), tc.want)
			assert.Error(t, d.Err())
		})
	}
}

// TestResolveIgnoresCallerFields: Source, Actor and Evidence put into the request by the caller
// have no effect; only the proof counts.
func TestResolveIgnoresCallerFields(t *testing.T) {
	req := baseRequest(domain.Production)
	req.Source = SourceGitLab
	req.Actor = Identity{Username: "dave"}
	req.Evidence = EvidenceFromDeployment(jobDeployment("production", "running", ciJobID, ciPipelineID, approve("alice"), approve("bob")))
	d := Resolve(req, Claims{}, Proof{})
	assert.False(t, d.Allowed)
	assert.Equal(t, SourceLocal, d.Source)
	assert.Contains(t, strings.Join(d.Reasons, "\n"), "none was given")
}

// TestPropertyNoFewerThanTwoIndependentApprovals: no combination of flags and evidence lets a
// production deploy or rollback through with fewer than two approvals from distinct people other than the commit
// author and the deployer GitLab proved, on a deployment of this commit that can still deploy.
func TestPropertyNoFewerThanTwoIndependentApprovals(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	// pick returns xs[0] (the value of a well-formed run) most of the time and anything otherwise,
	// so that allowed cases occur and every field is also tried with every other value.
	pick := func(xs []string) string {
		if rng.Intn(10) < 7 {
			return xs[0]
		}
		return xs[rng.Intn(len(xs))]
	}
	pickID := func(xs []int64) int64 {
		if rng.Intn(10) < 7 {
			return xs[0]
		}
		return xs[rng.Intn(len(xs))]
	}
	users := []string{"dave", "alice", "bob", "carol", "erin", "mallory", ""}
	approvers := []string{"alice", "bob", "carol", "dave", "erin", "mallory", "Bob"}
	allowed := 0
	for i := 0; i < 30000; i++ {
		ciRun := rng.Intn(2) == 0
		var claims Claims
		var proof Proof
		// Where GitLab's answers come from: mostly the instance and project fixed in code.
		proof.Source = ProofSource{API: pick([]string{"https://gitlab.com/api/v4", "https://gitlab.evil.example/api/v4"}), Project: pick([]string{"soccerpredictai/soccerpredict", "mallory/sockpuppets", ""})}
		depStatus := "blocked"
		if ciRun {
			claims = Claims{JobID: pickID([]int64{ciJobID, 0, 700}), PipelineID: pickID([]int64{ciPipelineID, 0, 5}), DeploymentID: pickID([]int64{0, 42})}
			depStatus = "running"
		} else {
			claims = Claims{JobID: pickID([]int64{0, ciJobID}), PipelineID: pickID([]int64{0, ciPipelineID}), DeploymentID: pickID([]int64{42, 0, 41})}
		}
		claims.Actor = pick([]string{"", "dave", "alice", "bob", "erin", "mallory"})
		claims.PipelineSource = pick([]string{"push", "", "web"})
		// The oracle's own record of who is who: the usernames the generator gave the job's
		// user and the token's owner, never what the policy parsed from them.
		jobUser, tokenOwner := "", ""
		jobViaToken, jobUserBot, tokenOwnerBot := false, false, false
		if ciRun == (rng.Intn(10) < 8) {
			u := pick(users)
			jobUser = u
			j := ciJob("x")
			j.ID, j.Status = pickID([]int64{ciJobID, 700}), pick([]string{"running", "success", "failed", "manual", ""})
			jobUserBot = rng.Intn(8) == 0
			j.User = &gitlab.User{Username: u, Name: u, Bot: jobUserBot}
			j.Pipeline.ID = pickID([]int64{ciPipelineID, 5})
			j.Pipeline.SHA, j.Commit.ID = pick([]string{commit, fakeCommit("other"), ""}), pick([]string{commit, fakeCommit("other"), ""})
			jobViaToken = rng.Intn(10) < 8
			proof.Job = JobFromGitLab(j, jobViaToken)
		}
		if rng.Intn(10) < 7 {
			u := pick([]string{"erin", "dave", "alice", "bob", "carol", "mallory", ""})
			tokenOwner = u
			tokenOwnerBot = rng.Intn(8) == 0
			proof.TokenOwner = &gitlab.User{Username: u, Name: u, Bot: tokenOwnerBot}
		}
		// The GitLab users linked to the commit's author (its merge request's author, the users of
		// its email), as the generator chose them.
		linkedTo := pick([]string{"", "alice", "bob", "mallory"})
		if linkedTo != "" {
			proof.AuthorLinks = []Identity{{Username: linkedTo}}
		}
		var approvals []gitlab.Approval
		triggeredBy := ""
		for n := 1 + rng.Intn(4); n > 0; n-- {
			a := approve(approvers[rng.Intn(len(approvers))])
			if rng.Intn(10) == 0 {
				a.Status = []string{"rejected", "pending"}[rng.Intn(2)]
			}
			approvals = append(approvals, a)
		}
		jobName, hasPipeline := "", false
		if rng.Intn(10) > 0 {
			dep := jobDeployment(pick([]string{"production", "staging"}),
				pick([]string{depStatus, "blocked", "running", "success", "failed", "canceled", "created", ""}),
				pickID([]int64{ciJobID, 700, 0}), pickID([]int64{ciPipelineID, 5, 0}), approvals...)
			dep.ID = pickID([]int64{42, 41})
			dep.SHA = pick([]string{commit, fakeCommit("other"), ""})
			dep.Deployable.Pipeline.SHA = pick([]string{commit, fakeCommit("other"), ""})
			jobName = pick([]string{"deploy-production", "rollback-service-production", "deploy-staging", ""})
			dep.Deployable.Name = jobName
			hasPipeline = rng.Intn(10) > 0
			if !hasPipeline {
				dep.Deployable.Pipeline = nil
			}
			triggeredBy = pick([]string{"trigger", "alice", "bob", "dave", ""})
			dep.User = gitlab.User{Username: triggeredBy}
			if rng.Intn(8) == 0 {
				dep.Deployable = nil
			}
			proof.Deployment = EvidenceFromDeployment(dep)
		}
		// A later deployment of the environment: a laptop's recorded use of these approvals, or not.
		usedAlready := false
		if rng.Intn(4) == 0 {
			l := gitlab.Deployment{ID: 60, SHA: pick([]string{commit, fakeCommit("other")}), Status: pick([]string{"success", "running", "failed"})}
			if rng.Intn(3) == 0 {
				l.Deployable = &gitlab.Deployable{ID: 901}
			}
			usedAlready = l.Deployable == nil && l.SHA == commit && l.Status != "failed"
			proof.Later = []gitlab.Deployment{l}
		}
		req := baseRequest(domain.Production)
		authorName := pick([]string{"carol", "alice", "bob", "dave", "erin"})
		req.Author = Identity{Username: authorName}
		req.Source, req.Actor = Source(pick([]string{"gitlab", "local", ""})), Identity{Username: pick(users)}
		req.Job = pick([]string{"rollback-service-production", "", "deploy-production"})

		for k, resolve := range []func(Request, Claims, Proof) Decision{Resolve, ResolveRollback} {
			d := resolve(req, claims, proof)
			if !d.Allowed {
				continue
			}
			allowed++
			ev := proof.Deployment
			require.NotNil(t, ev, "case %d", i)
			require.True(t, DeployableStatus(ev.status), "case %d: deployment %s", i, ev.status)
			require.Equal(t, "production", ev.environment)
			require.Equal(t, commit, ev.sha)
			require.Equal(t, ProofSource{API: "https://gitlab.com/api/v4", Project: "soccerpredictai/soccerpredict"}, proof.Source, "case %d: another GitLab's word", i)
			// Its job is the one whose approvals were asked for, in a pipeline of this commit.
			wantJob := "deploy-production"
			if k == 1 {
				wantJob = req.Job
			}
			require.NotEmpty(t, wantJob, "case %d: a rollback without a named job", i)
			require.Equal(t, wantJob, jobName, "case %d: another job's approvals", i)
			require.True(t, hasPipeline, "case %d: a deployment without a pipeline", i)
			require.False(t, usedAlready, "case %d: approvals a laptop run already used", i)
			// Who deploys, by the rules of the package documentation: the job's user for a
			// GitLab run (any job or pipeline claimed, or a job proven), else the token's owner.
			var deployer string
			if proof.Job != nil || claims.JobID != 0 || claims.PipelineID != 0 {
				require.NotNil(t, proof.Job, "case %d: a GitLab run without the job's proof", i)
				require.Equal(t, "running", proof.Job.status)
				require.Equal(t, claims.JobID, proof.Job.id)
				require.Equal(t, ev.deployableID, proof.Job.id)
				require.True(t, jobViaToken, "case %d: a job looked up by id, not proven by its token", i)
				require.False(t, jobUserBot, "case %d: a bot deploys", i)
				deployer = person(t, jobUser)
			} else {
				require.False(t, tokenOwnerBot, "case %d: a bot deploys", i)
				deployer = person(t, tokenOwner)
			}
			require.NotEmpty(t, deployer, "case %d: deployer unproven", i)
			require.Equal(t, deployer, person(t, d.Actor), "case %d: the decision names another deployer", i)
			if claims.Actor != "" {
				require.Equal(t, deployer, person(t, claims.Actor), "case %d: --actor disagreed and was accepted", i)
			}
			excluded := map[string]bool{person(t, authorName): true, deployer: true, person(t, triggeredBy): true, person(t, linkedTo): true}
			independent := map[string]bool{}
			for _, a := range approvals {
				require.NotEqual(t, StatusRejected, a.Status)
				if who := person(t, a.User.Username); a.Status == StatusApproved && who != "" && !excluded[who] {
					independent[who] = true
				}
			}
			require.GreaterOrEqual(t, len(independent), 2, fmt.Sprintf("case %d: %v", i, d))
		}
	}
	t.Logf("%d allowed production cases checked", allowed)
	require.Greater(t, allowed, 100, "the generator never produced an allowed case: the property would be vacuous")
}

func TestResolveRollback(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	// A rollback restores an earlier release: gates, scan and images are not re-checked.
	req := baseRequest(domain.Production)
	req.GateReportGreen, req.ScanClean, req.Images = false, false, nil
	req.Job = DeployJob(domain.Production) // the fixtures' deployments are the deploy job's
	d := ResolveRollback(req, ciClaims(), ciProof("dave", ab...))
	require.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, "dave", d.Actor)
	assert.Equal(t, 2, d.RequiredApprovals)

	for name, tc := range map[string]struct {
		env    domain.Environment
		claims Claims
		proof  Proof
		want   string
	}{
		"production without approvals":      {domain.Production, ciClaims(), ciProof("dave", approve("alice")), "production needs 2 approval(s)"},
		"production with no deployment":     {domain.Production, Claims{}, Proof{Source: trusted, TokenOwner: &gitlab.User{Username: "erin"}}, "none was given"},
		"production approver rolls back":    {domain.Production, ciClaims(), ciProof("alice", ab...), "alice (the person deploying)"},
		"production with a free-text actor": {domain.Production, Claims{Actor: "ana"}, Proof{}, "--actor=ana cannot be checked"},
		"production replays a finished rollback": {domain.Production, Claims{DeploymentID: 42}, func() Proof {
			p := laptopProof("erin")
			p.Deployment = EvidenceFromDeployment(jobDeployment("production", "success", ciJobID, ciPipelineID, ab...))
			return p
		}(), "cannot be reused"},
		"staging: who rolls back is unproven": {domain.Staging, Claims{Actor: "ana"}, Proof{}, "who rolls back is unknown"},
		"staging: --actor disagrees":          {domain.Staging, Claims{Actor: "ana"}, Proof{Source: trusted, TokenOwner: &gitlab.User{Username: "erin"}}, "--actor=ana disagrees"},
	} {
		t.Run(name, func(t *testing.T) {
			d := ResolveRollback(func() Request { r := baseRequest(tc.env); r.Images, r.Job = nil, DeployJob(tc.env); return r }(), tc.claims, tc.proof)
			require.False(t, d.Allowed)
			assert.Contains(t, strings.Join(d.Reasons, "\n"), tc.want)
		})
	}
	d = ResolveRollback(baseRequest(domain.Staging), Claims{}, Proof{Source: trusted, TokenOwner: &gitlab.User{Username: "erin"}})
	assert.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, "erin", d.Actor)
	assert.Equal(t, 0, d.RequiredApprovals)
}
