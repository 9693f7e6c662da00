package policy

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// The attacker of these tests is a developer with push rights and no approver rights (mallory),
// or an approver who wants her own approval to count (alice). Each refusal names its reason and
// each has its positive twin.

func refused(t *testing.T, d Decision, reason string) {
	t.Helper()
	require.False(t, d.Allowed, "the bypass was allowed")
	assert.Contains(t, strings.Join(d.Reasons, "\n"), reason)
}

// A laptop run can only be the token's owner: naming a running job's id with a personal token
// used to make the module look the job up and take its user as the deployer.
func TestAJobIsProvenOnlyByItsOwnToken(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	borrowed := ciProof("dave", ab...)
	borrowed.Job = JobFromGitLab(ciJob("dave"), false) // GET /projects/:id/jobs/:id with alice's token
	borrowed.TokenOwner = &gitlab.User{Username: "alice", Name: "Alice"}
	refused(t, Resolve(baseRequest(domain.Production), ciClaims(), borrowed),
		"job 664 was looked up by its id, not proven by its own token: in GitLab CI pass --job-token=env:CI_JOB_TOKEN; from a laptop drop --job-id and --pipeline-id (the deployer is then the owner of --gitlab-token)")

	d := Resolve(baseRequest(domain.Production), ciClaims(), ciProof("dave", ab...))
	require.True(t, d.Allowed, "the positive twin: the job's own token: %v", d.Reasons)
	assert.Equal(t, "dave", d.Actor)
}

// Project, group and service-account tokens belong to bot users (GitLab's user object has
// "bot": true). A bot is nobody: as the deployer, an approver deploying with one would keep her
// own approval.
func TestABotUserCannotDeployToStagingOrProduction(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	laptop := laptopProof("project_42_bot_1a2b", ab...)
	laptop.TokenOwner.Bot = true
	refused(t, Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, laptop),
		"project_42_bot_1a2b is a GitLab bot user (a project, group or service-account token): production is deployed by a person; use your own personal access token")

	ci := ciProof("x", ab...)
	j := ciJob("group_7_bot_9")
	j.User.Bot = true
	ci.Job = JobFromGitLab(j, true)
	refused(t, Resolve(baseRequest(domain.Production), ciClaims(), ci), "group_7_bot_9 is a GitLab bot user")

	staging := laptopProof("project_42_bot_1a2b")
	staging.TokenOwner.Bot = true
	staging.Deployment = EvidenceFromDeployment(jobDeployment("staging", "blocked", ciJobID, ciPipelineID, approve("alice")))
	staging.Deployment.jobName = DeployJob(domain.Staging)
	refused(t, Resolve(baseRequest(domain.Staging), Claims{DeploymentID: 42}, staging), "staging is deployed by a person")
	refused(t, ResolveRollback(baseRequest(domain.Staging), Claims{}, Proof{Source: trusted, TokenOwner: staging.TokenOwner}), "staging is deployed by a person")

	// The positive twins: a person's token; and dev, which needs nobody proven.
	d := Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, laptopProof("erin", ab...))
	require.True(t, d.Allowed, d.Reasons)
	bot := Proof{TokenOwner: &gitlab.User{Username: "project_42_bot_1a2b", Bot: true}}
	assert.True(t, Resolve(baseRequest(domain.Dev), Claims{}, bot).Allowed)
}

// Git's author name and email are free text: an author whose git identity differs from her GitLab
// account is still linked to it through the commit's merge request and GitLab's user lookup by
// email, and no linked identity's approval counts.
func TestAnApprovalByALinkedIdentityOfTheAuthorDoesNotCount(t *testing.T) {
	req := baseRequest(domain.Production)
	req.Author = Identity{Name: "Totally Not Mallory", Email: "nobody@example.org"}
	proof := laptopProof("erin", approve("mallory"), approve("bob"))
	proof.AuthorLinks = []Identity{{Username: "mallory", Name: "Mallory"}}
	d := Resolve(req, Claims{DeploymentID: 42}, proof)
	refused(t, d, "production needs 2 approval(s)")
	assert.Contains(t, d.IgnoredApprovals, "mallory (linked to the commit's author in GitLab)")

	proof = laptopProof("erin", approve("mallory"), approve("bob"), approve("carol2"))
	proof.AuthorLinks = []Identity{{Username: "mallory", Name: "Mallory"}}
	d = Resolve(req, Claims{DeploymentID: 42}, proof)
	require.True(t, d.Allowed, "the positive twin: two others approved: %v", d.Reasons)
	assert.Equal(t, []string{"bob", "carol2"}, d.ValidApprovals)
}

// The approvals of a rollback job and of a deploy job are not interchangeable: the evidence keeps
// the name of the job that created the deployment.
func TestApprovalsAreBoundToTheJobTheyWereGivenFor(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	rollbackJobs := laptopProof("erin", ab...)
	rollbackJobs.Deployment.jobName = RollbackJob("rollback-service", domain.Production)
	refused(t, Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, rollbackJobs),
		"deployment 42 was created by job rollback-service-production, not deploy-production: its approvals are for that job; approve the deployment of deploy-production")

	deployJobs := laptopProof("erin", ab...)
	rb := baseRequest(domain.Production)
	rb.Job = RollbackJob("rollback-model", domain.Production)
	refused(t, ResolveRollback(rb, Claims{DeploymentID: 42}, deployJobs),
		"deployment 42 was created by job deploy-production, not rollback-model-production")

	// The positive twins.
	require.True(t, Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, deployJobs).Allowed)
	rollbackModel := laptopProof("erin", ab...)
	rollbackModel.Deployment.jobName = RollbackJob("rollback-model", domain.Production)
	d := ResolveRollback(rb, Claims{DeploymentID: 42}, rollbackModel)
	require.True(t, d.Allowed, d.Reasons)
	// A rollback must say which job's approvals it takes.
	refused(t, ResolveRollback(baseRequest(domain.Production), Claims{DeploymentID: 42}, rollbackModel), "no rollback job named")
}

// A deployment whose job belongs to no pipeline binds its approvals to nothing.
func TestADeploymentWithoutAPipelineIsRefused(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	d := jobDeployment("production", "blocked", ciJobID, ciPipelineID, ab...)
	d.Deployable.Name = DeployJob(domain.Production)
	d.Deployable.Pipeline = nil
	proof := laptopProof("erin")
	proof.Deployment = EvidenceFromDeployment(d)
	refused(t, Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, proof),
		"deployment 42 was created by job 664 of no pipeline: approvals are bound to a pipeline of the commit; approve the deployment its pipeline created")

	require.True(t, Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, laptopProof("erin", ab...)).Allowed, "the positive twin")
}

// One approval is used once. GitLab finishes a CI job's deployment itself; a laptop run records
// its use of a still-blocked deployment as a deployment of its own (UseOf, recorded through the
// Deployments API), and any later run finds it (Proof.Later) and is refused.
func TestALaptopRunSpendsTheDeploymentItUsed(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	proof := laptopProof("erin", ab...)
	d := Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, proof)
	require.True(t, d.Allowed, d.Reasons)
	use, ok := UseOf(d, proof)
	require.True(t, ok, "a laptop run records its use")
	assert.Equal(t, gitlab.NewDeployment{Environment: "production", SHA: commit, Ref: "main", Status: gitlab.DeploymentRunning}, use)
	assert.Equal(t, &use, d.Use, "the decision carries it")

	recorded := gitlab.Deployment{ID: 51, SHA: commit, Ref: "main", Status: gitlab.DeploymentSuccess,
		User: gitlab.User{Username: "erin"}, Environment: gitlab.Environment{Name: "production"}}
	replay := laptopProof("erin", ab...)
	replay.Later = []gitlab.Deployment{recorded}
	refused(t, Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, replay),
		"deployment 42's approvals were already used by the deploy erin recorded as deployment 51 (success): approvals are used once; approve the deployment of a new pipeline")
	ci := ciProof("dave", ab...)
	ci.Later = []gitlab.Deployment{recorded}
	refused(t, Resolve(baseRequest(domain.Production), ciClaims(), ci), "were already used by the deploy erin recorded")

	// The positive twins: a recorded use that failed (nothing was deployed), a later CI deployment,
	// a use of another commit; and a CI run records nothing (GitLab finishes its deployment).
	for _, later := range []gitlab.Deployment{
		{ID: 51, SHA: commit, Status: gitlab.DeploymentFailed, Environment: gitlab.Environment{Name: "production"}},
		{ID: 52, SHA: commit, Status: "success", Environment: gitlab.Environment{Name: "production"}, Deployable: &gitlab.Deployable{ID: 900, Name: "deploy-production"}},
		{ID: 53, SHA: fakeCommit("other"), Status: "success", Environment: gitlab.Environment{Name: "production"}},
	} {
		p := laptopProof("erin", ab...)
		p.Later = []gitlab.Deployment{later}
		d := Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, p)
		assert.True(t, d.Allowed, "%+v: %v", later, d.Reasons)
	}
	d = Resolve(baseRequest(domain.Production), ciClaims(), ciProof("dave", ab...))
	require.True(t, d.Allowed, d.Reasons)
	_, ok = UseOf(d, ciProof("dave", ab...))
	assert.False(t, ok)
	assert.Nil(t, d.Use)
	_, ok = UseOf(Resolve(baseRequest(domain.Dev), Claims{}, Proof{}), Proof{})
	assert.False(t, ok, "dev uses no approvals")
	stagingRollback := laptopProof("erin", approve("alice"))
	stagingRollback.Deployment = EvidenceFromDeployment(jobDeployment("staging", "blocked", ciJobID, ciPipelineID, approve("alice")))
	d = ResolveRollback(baseRequest(domain.Staging), Claims{}, stagingRollback)
	require.True(t, d.Allowed, d.Reasons)
	assert.Nil(t, d.Use, "a staging rollback counts no approvals, so it spends none")
}

// users answers GET /users/:id as GitLab does: the User entity, with bot.
type users map[int64]gitlab.User

func (u users) User(_ context.Context, id int64) (*gitlab.User, error) {
	if v, ok := u[id]; ok {
		return &v, nil
	}
	return nil, &gitlab.APIError{Method: "GET", Path: "/users/" + strconv.FormatInt(id, 10), StatusCode: 404, Message: "404 User Not Found"}
}

// A deployment's approvals name their users as GitLab's UserBasic, without saying whether they
// are bots: a maintainer who approves once as herself and once with a project access token would
// count twice. Each approver is looked up (GET /users/:id), and a bot's approval does not count.
func TestABotsApprovalDoesNotCount(t *testing.T) {
	withIDs := func() Proof {
		a, b := approve("alice"), approve("project_42_bot_77")
		a.User.ID, b.User.ID = 49, 77
		return laptopProof("erin", a, b)
	}
	proof := withIDs()
	require.NoError(t, CheckApprovers(context.Background(), users{49: {ID: 49, Username: "alice"}, 77: {ID: 77, Username: "project_42_bot_77", Bot: true}}, proof.Deployment))
	d := Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, proof)
	refused(t, d, "production needs 2 approval(s)")
	assert.Contains(t, d.IgnoredApprovals, "project_42_bot_77 (a bot user: approvals are given by people)")

	proof = withIDs()
	require.NoError(t, CheckApprovers(context.Background(), users{49: {ID: 49, Username: "alice"}, 77: {ID: 77, Username: "project_42_bot_77"}}, proof.Deployment))
	d = Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, proof)
	require.True(t, d.Allowed, "the positive twin: two people: %v", d.Reasons)

	proof = withIDs()
	err := CheckApprovers(context.Background(), users{49: {ID: 49, Username: "alice"}}, proof.Deployment)
	assert.ErrorContains(t, err, "look up approver project_42_bot_77 (GitLab user 77) to know whether it is a bot")
}

// The caller used to choose which GitLab proves the approvals (CI_API_V4_URL in --settings-file,
// --project-id): a fake server, or a project of their own with sock-puppet approvers, approved
// production. For staging and production the instance and the project are fixed in this package.
func TestTheGitLabThatProvesApprovalsIsFixedInCode(t *testing.T) {
	ab := []gitlab.Approval{approve("alice"), approve("bob")}
	for name, tc := range map[string]struct {
		source ProofSource
		reason string
	}{
		"a GitLab of the caller's choosing": {ProofSource{API: "https://gitlab.evil.example/api/v4", Project: TrustedProject},
			"approvals are proven by https://gitlab.evil.example/api/v4, not by the GitLab fixed for staging and production (https://gitlab.com/api/v4, policy.TrustedGitLabAPI)"},
		"a project of the caller's own": {ProofSource{API: TrustedGitLabAPI, Project: "mallory/sockpuppets"},
			"approvals are proven in project mallory/sockpuppets, not in soccerpredictai/soccerpredict (policy.TrustedProject)"},
		"a project GitLab did not name": {ProofSource{API: TrustedGitLabAPI},
			"approvals are proven in project unknown, not in soccerpredictai/soccerpredict"},
	} {
		for _, env := range []domain.Environment{domain.Staging, domain.Production} {
			p := laptopProof("erin", ab...)
			if env == domain.Staging {
				p.Deployment = EvidenceFromDeployment(jobDeployment("staging", "blocked", ciJobID, ciPipelineID, ab...))
			}
			p.Source = tc.source
			refused(t, Resolve(baseRequest(env), Claims{DeploymentID: 42}, p), tc.reason)
			_ = name
		}
	}
	p := laptopProof("erin", ab...)
	p.Source = ProofSource{API: TrustedGitLabAPI + "/", Project: "SoccerPredictAI/soccerpredict"}
	d := Resolve(baseRequest(domain.Production), Claims{DeploymentID: 42}, p)
	require.True(t, d.Allowed, "the positive twin: the fixed GitLab and project: %v", d.Reasons)
	assert.True(t, Resolve(baseRequest(domain.Dev), Claims{}, Proof{Source: ProofSource{API: "http://localhost:8080/api/v4"}}).Allowed, "dev keeps its conveniences")
}
