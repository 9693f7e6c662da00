package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

func fakeDigest(label string) string {
	s := sha256.Sum256([]byte(label))
	return "sha256:" + hex.EncodeToString(s[:])
}

// mustRef parses a reference as the module's edge does.
func mustRef(s string) domain.ImageRef {
	r, err := domain.ParseImageRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

func fakeCommit(label string) string {
	s := sha256.Sum256([]byte("commit " + label))
	return hex.EncodeToString(s[:])[:40]
}

var (
	commit  = fakeCommit("head")
	author  = Identity{Name: "Carol Author", Email: "carol@example.com"}
	actor   = Identity{Username: "dave", Name: "Dave Deployer"}
	pinned  = map[domain.Service]domain.ImageRef{domain.API: mustRef("registry.gitlab.com/sp/api@" + fakeDigest("api")), domain.Worker: mustRef("registry.gitlab.com/sp/worker@" + fakeDigest("worker"))}
	approve = func(user string) gitlab.Approval {
		return gitlab.Approval{User: gitlab.User{Username: user, Name: strings.ToUpper(user[:1]) + user[1:] + " Reviewer"}, Status: "approved"}
	}
	reject = func(user string) gitlab.Approval {
		return gitlab.Approval{User: gitlab.User{Username: user, Name: user}, Status: "rejected"}
	}
)

// deployment is the deployment env's deploy job of pipeline 6 created for commit, as GitLab's
// Deployments API returns it.
func deployment(env string, approvals ...gitlab.Approval) *gitlab.Deployment {
	d := &gitlab.Deployment{
		ID: 42, SHA: commit, Ref: "main", Status: "running",
		User:        gitlab.User{Username: "dave", Name: "Dave Deployer"},
		Environment: gitlab.Environment{Name: env},
		Deployable:  &gitlab.Deployable{ID: 664, Name: DeployJob(domain.Environment(env)), Status: "running"},
		Approvals:   approvals,
	}
	d.Deployable.Pipeline = &struct {
		ID     int64  `json:"id"`
		SHA    string `json:"sha"`
		Ref    string `json:"ref"`
		Status string `json:"status"`
	}{ID: 6, SHA: commit, Ref: "main"}
	return d
}

func prodRequest() Request {
	return Request{
		Env: domain.Production, Source: SourceGitLab, Commit: domain.Commit(commit), Author: author, Actor: actor,
		PipelineSource: "push", Branch: "main", DefaultBranch: "main",
		Images: maps.Clone(pinned), GateReportGreen: true, ScanClean: true,
		Evidence: EvidenceFromDeployment(deployment("production", approve("alice"), approve("bob"))),
	}
}

func stagingRequest() Request {
	r := prodRequest()
	r.Env = domain.Staging
	r.Evidence = EvidenceFromDeployment(deployment("staging", approve("alice")))
	return r
}

func TestParseSource(t *testing.T) {
	_, err := ParseSource("ci")
	assert.ErrorContains(t, err, "gitlab")
}

func TestSamePerson(t *testing.T) {
	cases := []struct {
		a, b Identity
		same bool
	}{
		{Identity{Username: "alice"}, Identity{Username: "ALICE"}, true},
		{Identity{Name: "Carol  Author"}, Identity{Name: "carol author"}, true},
		{Identity{Email: "c@x.io"}, Identity{Email: "C@X.io"}, true},
		{Identity{Username: "carol"}, Identity{Name: "Carol Author", Email: "carol@example.com"}, true},
		{Identity{Name: "Carol Author", Email: "carol@example.com"}, Identity{Username: "carol"}, true},
		{Identity{Username: "alice"}, Identity{Username: "bob"}, false},
		{Identity{}, Identity{}, false},
		{Identity{Username: "alice"}, Identity{Name: "alice smith"}, false},
		{Identity{Username: ""}, Identity{Email: "@x"}, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.same, c.a.SamePerson(c.b), "%+v vs %+v", c.a, c.b)
		assert.Equal(t, c.same, c.b.SamePerson(c.a), "symmetric: %+v vs %+v", c.b, c.a)
	}
}

func TestDev(t *testing.T) {
	cases := map[string]struct {
		req     Request
		allowed bool
		want    string
	}{
		"push to default branch":   {Request{Env: domain.Dev, Source: SourceGitLab, PipelineSource: "push", Branch: "main", DefaultBranch: "main"}, true, ""},
		"push to other branch":     {Request{Env: domain.Dev, Source: SourceGitLab, PipelineSource: "push", Branch: "feature", DefaultBranch: "main"}, false, "branch feature"},
		"merge request pipeline":   {Request{Env: domain.Dev, Source: SourceGitLab, PipelineSource: "merge_request_event", Branch: "", DefaultBranch: "main"}, false, "merge_request_event"},
		"schedule on main":         {Request{Env: domain.Dev, Source: SourceGitLab, PipelineSource: "schedule", Branch: "main", DefaultBranch: "main"}, false, "schedule"},
		"tag pipeline":             {Request{Env: domain.Dev, Source: SourceGitLab, PipelineSource: "push", Branch: "", DefaultBranch: "main"}, false, "tag"},
		"default branch unknown":   {Request{Env: domain.Dev, Source: SourceGitLab, PipelineSource: "push", Branch: "main"}, false, "CI_DEFAULT_BRANCH"},
		"laptop explicitly dev":    {Request{Env: domain.Dev, Source: SourceLocal}, true, ""},
		"laptop, no env given":     {Request{Env: "", Source: SourceLocal}, false, "no environment given: set --env"},
		"unknown source":           {Request{Env: domain.Dev, Source: "jenkins"}, false, "unknown source"},
		"no approval needed (dev)": {Request{Env: domain.Dev, Source: SourceLocal, GateReportGreen: false, ScanClean: false}, true, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d := Decide(c.req)
			assert.Equal(t, c.allowed, d.Allowed, d.Reasons)
			assert.Equal(t, c.allowed, len(d.Reasons) == 0)
			if c.want != "" {
				assert.Contains(t, strings.Join(d.Reasons, "\n"), c.want)
			}
		})
	}
}

func TestStaging(t *testing.T) {
	require.True(t, Decide(stagingRequest()).Allowed, Decide(stagingRequest()).Reasons)
	local := stagingRequest()
	local.Source, local.PipelineSource, local.Branch = SourceLocal, "", ""
	require.True(t, Decide(local).Allowed, "a laptop with a proven deployment may deploy to staging")

	cases := map[string]struct {
		mut  func(*Request)
		want []string
	}{
		"gate red": {func(r *Request) { r.GateReportGreen = false }, []string{"gate report is not green"}},
		"scan has blocking findings": {func(r *Request) { r.ScanClean = false }, []string{
			"the image scan has blocking findings (HIGH or CRITICAL): fix them"}},
		"no evidence":         {func(r *Request) { r.Evidence = nil }, []string{"--deployment-id", "cannot be skipped"}},
		"no evidence, laptop": {func(r *Request) { r.Evidence, r.Source = nil, SourceLocal }, []string{"--deployment-id"}},
		"zero approvals":      {func(r *Request) { r.Evidence = EvidenceFromDeployment(deployment("staging")) }, []string{"needs 1 approval(s)", "has 0"}},
		"author approved":     {func(r *Request) { r.Evidence = EvidenceFromDeployment(deployment("staging", approve("carol"))) }, []string{"carol (commit author)"}},
		"actor approved":      {func(r *Request) { r.Evidence = EvidenceFromDeployment(deployment("staging", approve("dave"))) }, []string{"dave (the person deploying)"}},
		"rejected": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("staging", approve("alice"), reject("erin")))
		}, []string{"erin rejected deployment 42"}},
		"evidence for prod": {func(r *Request) { r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"))) }, []string{`for environment "production", not "staging"`}},
		"unpinned is fine here": {func(r *Request) {
			r.Images = map[domain.Service]domain.ImageRef{domain.API: mustRef("x:latest")}
			r.GateReportGreen = false
		}, []string{"gate report"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := stagingRequest()
			c.mut(&r)
			d := Decide(r)
			require.False(t, d.Allowed)
			all := strings.Join(d.Reasons, "\n")
			for _, w := range c.want {
				assert.Contains(t, all, w)
			}
			assert.Equal(t, 1, d.RequiredApprovals)
		})
	}
}

func TestProductionAllowed(t *testing.T) {
	d := Decide(prodRequest())
	require.True(t, d.Allowed, d.Reasons)
	assert.Empty(t, d.Reasons)
	assert.Equal(t, 2, d.RequiredApprovals)
	assert.Equal(t, []string{"alice", "bob"}, d.ValidApprovals)
	assert.Equal(t, int64(42), d.DeploymentID)
	require.NoError(t, d.Err())

	// Extra approvals that do not count do not hurt.
	r := prodRequest()
	r.Evidence = EvidenceFromDeployment(deployment("production", approve("carol"), approve("alice"), approve("dave"), approve("bob")))
	d = Decide(r)
	require.True(t, d.Allowed, d.Reasons)
	assert.Equal(t, []string{"carol (commit author)", "dave (the person deploying)"}, d.IgnoredApprovals)

	// Tag+digest references are pinned too; a laptop with proof is allowed.
	r = prodRequest()
	r.Source = SourceLocal
	r.Images["api"] = mustRef("registry.gitlab.com/sp/api:v1.2.0@" + fakeDigest("api"))
	require.True(t, Decide(r).Allowed)
}

func TestProductionRefusals(t *testing.T) {
	cases := map[string]struct {
		mut  func(*Request)
		want []string
	}{
		"one approval": {func(r *Request) { r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"))) }, []string{"needs 2 approval(s)", "has 1 (alice)"}},
		"same person twice": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), approve("Alice")))
		}, []string{"has 1", "Alice (already counted)"}},
		"author + one": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), approve("carol")))
		}, []string{"carol (commit author)"}},
		"author by name": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), gitlab.Approval{User: gitlab.User{Username: "cz", Name: "Carol Author"}, Status: "approved"}))
		}, []string{"cz (commit author)"}},
		"actor + one": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), approve("dave")))
		}, []string{"dave (the person deploying)"}},
		"triggerer + one": {func(r *Request) {
			d := deployment("production", approve("alice"), approve("frank"))
			d.User = gitlab.User{Username: "frank"}
			r.Evidence = EvidenceFromDeployment(d)
		}, []string{"frank (triggered the deployment)"}},
		"rejection among 3": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), approve("bob"), reject("erin")))
		}, []string{"erin rejected"}},
		"unknown status": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), gitlab.Approval{User: gitlab.User{Username: "bob"}, Status: "pending"}))
		}, []string{`bob (status "pending")`}},
		"no username": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("production", approve("alice"), gitlab.Approval{User: gitlab.User{Name: "Ghost"}, Status: "approved"}))
		}, []string{"Ghost (no GitLab username)"}},
		"gate red":           {func(r *Request) { r.GateReportGreen = false }, []string{"gate report is not green"}},
		"scan dirty":         {func(r *Request) { r.ScanClean = false }, []string{"blocking findings"}},
		"image by tag":       {func(r *Request) { r.Images["worker"] = mustRef("registry.gitlab.com/sp/worker:v1") }, []string{"image worker", "not pinned by digest"}},
		"no images":          {func(r *Request) { r.Images = nil }, []string{"no images given"}},
		"no evidence":        {func(r *Request) { r.Evidence = nil }, []string{"--deployment-id"}},
		"laptop no evidence": {func(r *Request) { r.Source, r.Evidence = SourceLocal, nil }, []string{"--deployment-id"}},
		"evidence other sha": {func(r *Request) {
			d := deployment("production", approve("alice"), approve("bob"))
			d.SHA = fakeCommit("other")
			r.Evidence = EvidenceFromDeployment(d)
		}, []string{"is for commit " + fakeCommit("other")}},
		"evidence staging": {func(r *Request) {
			r.Evidence = EvidenceFromDeployment(deployment("staging", approve("alice"), approve("bob")))
		}, []string{`"staging", not "production"`}},
		"canceled": {func(r *Request) {
			d := deployment("production", approve("alice"), approve("bob"))
			d.Status = "canceled"
			r.Evidence = EvidenceFromDeployment(d)
		}, []string{"canceled"}},
		"no commit":      {func(r *Request) { r.Commit = "" }, []string{"commit is unknown", "--commit"}},
		"author unknown": {func(r *Request) { r.Author = Identity{} }, []string{"commit author is unknown"}},
		"actor unknown":  {func(r *Request) { r.Actor = Identity{} }, []string{"person deploying is unknown"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := prodRequest()
			c.mut(&r)
			d := Decide(r)
			require.False(t, d.Allowed)
			all := strings.Join(d.Reasons, "\n")
			for _, w := range c.want {
				assert.Contains(t, all, w)
			}
			require.Error(t, d.Err())
		})
	}
}

// Every reason is listed, not only the first.
func TestProductionEveryReason(t *testing.T) {
	r := prodRequest()
	r.GateReportGreen = false
	r.ScanClean = false
	r.Images = map[domain.Service]domain.ImageRef{domain.API: mustRef("a:latest"), domain.Worker: mustRef("w:latest")}
	d := deployment("production", approve("carol"), reject("erin"))
	d.SHA = fakeCommit("other")
	r.Evidence = EvidenceFromDeployment(d)
	dec := Decide(r)
	require.False(t, dec.Allowed)
	all := strings.Join(dec.Reasons, "\n")
	for _, w := range []string{"gate report", "blocking findings", "image api", "image worker", "is for commit", "erin rejected", "needs 2 approval(s)", "carol (commit author)"} {
		assert.Contains(t, all, w)
	}
	assert.Len(t, dec.Reasons, 7)
	err := dec.Err()
	require.Error(t, err)
	assert.Equal(t, 7, strings.Count(err.Error(), "\n  - "))
}

// The number of reasons for a combination of independent defects is the sum of each alone.
func TestCombinations(t *testing.T) {
	defects := []func(*Request){
		func(r *Request) { r.GateReportGreen = false },
		func(r *Request) { r.ScanClean = false },
		func(r *Request) { r.Images["api"] = mustRef("registry.gitlab.com/sp/api:latest") },
		func(r *Request) { r.Actor = Identity{} },
	}
	for mask := 0; mask < 1<<len(defects); mask++ {
		r := prodRequest()
		want := 0
		for i, f := range defects {
			if mask&(1<<i) != 0 {
				f(&r)
				want++
			}
		}
		d := Decide(r)
		assert.Equal(t, want == 0, d.Allowed, "mask %b", mask)
		assert.Len(t, d.Reasons, want, "mask %b: %v", mask, d.Reasons)
	}
}

type fakeGetter struct {
	d   *gitlab.Deployment
	err error
}

func (f fakeGetter) Deployment(_ context.Context, project string, id int64) (*gitlab.Deployment, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.d, nil
}

func TestFetchEvidence(t *testing.T) {
	ev, err := FetchEvidence(context.Background(), fakeGetter{d: deployment("production", approve("alice"))}, "7", 42)
	require.NoError(t, err)
	assert.Equal(t, int64(42), ev.DeploymentID())
	assert.Equal(t, "production", ev.Environment())
	assert.Equal(t, commit, ev.SHA())
	require.Len(t, ev.Approvals(), 1)
	assert.Equal(t, "alice", ev.Approvals()[0].User.Username)

	_, err = FetchEvidence(context.Background(), fakeGetter{}, "7", 0)
	assert.ErrorContains(t, err, "--deployment-id")
	_, err = FetchEvidence(context.Background(), fakeGetter{err: gitlab.ErrNotFound}, "7", 5)
	assert.ErrorIs(t, err, gitlab.ErrNotFound)
	assert.Nil(t, EvidenceFromDeployment(nil))

	// Mutating the returned approvals does not change the evidence.
	ev.Approvals()[0].Status = "approved-by-me"
	assert.Equal(t, "approved", ev.Approvals()[0].Status)
}

func TestDecisionJSON(t *testing.T) {
	b, err := Decide(prodRequest()).JSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, true, m["allowed"])
	assert.Equal(t, []any{}, m["reasons"])
	assert.Equal(t, []any{"alice", "bob"}, m["valid_approvals"])
	assert.Equal(t, float64(2), m["required_approvals"])
	assert.Equal(t, "production", m["env"])
}

// randomRequest draws a request from a small space so that allowed and refused outcomes both occur.
func randomRequest(rng *rand.Rand) Request {
	users := []string{"alice", "bob", "carol", "dave", "erin", "Alice"}
	r := prodRequest()
	r.Env = domain.Environments()[rng.Intn(3)]
	if rng.Intn(8) == 0 {
		r.Env = "qa"
	}
	r.Source = []Source{SourceGitLab, SourceLocal}[rng.Intn(2)]
	r.GateReportGreen = rng.Intn(4) != 0
	r.ScanClean = rng.Intn(4) != 0
	r.PipelineSource = []string{"push", "push", "merge_request_event"}[rng.Intn(3)]
	r.Branch = []string{"main", "main", "feature"}[rng.Intn(3)]
	if rng.Intn(5) == 0 {
		r.Images["api"] = mustRef("registry.gitlab.com/sp/api:latest")
	}
	if rng.Intn(10) == 0 {
		r.Actor = Identity{}
	}
	if rng.Intn(6) != 0 {
		var approvals []gitlab.Approval
		for range rng.Intn(5) {
			u := users[rng.Intn(len(users))]
			if rng.Intn(8) == 0 {
				approvals = append(approvals, reject(u))
			} else {
				approvals = append(approvals, approve(u))
			}
		}
		env := string(r.Env)
		if rng.Intn(8) == 0 {
			env = "staging"
		}
		d := deployment(env, approvals...)
		if rng.Intn(10) == 0 {
			d.SHA = fakeCommit("other")
		}
		r.Evidence = EvidenceFromDeployment(d)
	} else {
		r.Evidence = nil
	}
	return r
}

// worsen applies one defect: something that may add a reason and never removes one.
func worsen(rng *rand.Rand, r Request) (Request, string) {
	r.Images = maps.Clone(r.Images)
	if r.Evidence != nil {
		ev := *r.Evidence
		ev.approvals = slices.Clone(ev.approvals)
		r.Evidence = &ev
	}
	switch rng.Intn(10) {
	case 0:
		r.GateReportGreen = false
		return r, "gate red"
	case 1:
		r.ScanClean = false
		return r, "scan dirty"
	case 2:
		r.Images["worker"] = mustRef("registry.gitlab.com/sp/worker:v1")
		return r, "unpin image"
	case 3:
		if r.Evidence != nil {
			if i := slices.IndexFunc(r.Evidence.approvals, func(a Approval) bool { return a.Status == StatusApproved }); i >= 0 {
				r.Evidence.approvals = slices.Delete(r.Evidence.approvals, i, i+1)
			}
		}
		return r, "drop approval"
	case 4:
		if r.Evidence != nil {
			r.Evidence.approvals = append(r.Evidence.approvals, Approval{User: Identity{Username: "zed"}, Status: StatusRejected})
		}
		return r, "add rejection"
	case 5:
		if r.Evidence != nil {
			r.Evidence.approvals = append(r.Evidence.approvals, Approval{User: Identity{Username: "carol"}, Status: StatusApproved})
		}
		return r, "author approves"
	case 6:
		if r.Evidence != nil {
			r.Evidence.sha = fakeCommit("elsewhere")
		}
		return r, "evidence for another commit"
	case 7:
		r.Evidence = nil
		return r, "drop evidence"
	case 8:
		r.Author = Identity{}
		return r, "author unknown"
	default:
		r.PipelineSource = "schedule"
		return r, "scheduled pipeline"
	}
}

// Property: adding a defect never turns a refusal into an allow, and Allowed ⇔ no reasons.
func TestPropertyMonotone(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	seenAllowed, seenRefused := 0, 0
	for range 20000 {
		r := randomRequest(rng)
		before := Decide(r)
		require.Equal(t, before.Allowed, len(before.Reasons) == 0)
		if before.Allowed {
			seenAllowed++
		} else {
			seenRefused++
		}
		w, what := worsen(rng, r)
		after := Decide(w)
		require.Equal(t, after.Allowed, len(after.Reasons) == 0)
		if !before.Allowed {
			require.False(t, after.Allowed, "%s turned a refusal into an allow: %v", what, before.Reasons)
		}
		if what != "author unknown" { // with no author to exclude, more approvals count, but a reason refuses
			require.LessOrEqual(t, len(after.ValidApprovals), len(before.ValidApprovals), what)
		}
		// Approvals only ever shrink: the required count never passes without enough valid ones.
		if after.Allowed {
			require.GreaterOrEqual(t, len(after.ValidApprovals), after.RequiredApprovals)
		}
	}
	require.Greater(t, seenAllowed, 100, "the generator must produce allowed requests")
	require.Greater(t, seenRefused, 100)
}

// people is who each username of the generated worlds is, by construction: one person may appear
// under several spellings (GitLab usernames are case-insensitive), "" is nobody. The property
// tests' oracles use it, never Identity.SamePerson, which they check.
var people = map[string]string{
	"": "", "alice": "alice", "Alice": "alice", "bob": "bob", "Bob": "bob", "carol": "carol",
	"dave": "dave", "erin": "erin", "mallory": "mallory", "trigger": "trigger",
}

// person is who username is in the generated worlds.
func person(t *testing.T, username string) string {
	t.Helper()
	p, ok := people[username]
	require.True(t, ok, "%q is nobody the generator knows", username)
	return p
}

// Property: a production allow always has ≥ 2 distinct valid approvers, none of them author or actor.
func TestPropertyProductionInvariant(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	checked := 0
	for range 20000 {
		r := randomRequest(rng)
		d := Decide(r)
		if !d.Allowed || r.Env != domain.Production {
			continue
		}
		checked++
		if len(d.ValidApprovals) < 2 {
			t.Fatalf("production allowed with %v", d.ValidApprovals)
		}
		// Who is who, from the generator's own cast (never Identity.SamePerson, which this
		// checks): the author is Carol (Carol Author <carol@example.com>), the actor Dave or
		// nobody, and Dave triggered every generated deployment.
		excluded := map[string]bool{"carol": true, person(t, r.Actor.Username): true, "dave": true}
		seen := map[string]bool{}
		for _, u := range d.ValidApprovals {
			who := person(t, u)
			if seen[who] {
				t.Fatalf("%s counted twice (%v)", who, d.ValidApprovals)
			}
			seen[who] = true
			if excluded[who] {
				t.Fatalf("%s (%s) is the author, the actor or the deployment's trigger", u, who)
			}
		}
		if !r.GateReportGreen || !r.ScanClean {
			t.Fatal("production allowed with a red gate or a dirty scan")
		}
		for _, a := range r.Evidence.approvals {
			if a.Status == StatusRejected {
				t.Fatal("production allowed despite a rejection")
			}
		}
	}
	require.Greater(t, checked, 50, "the generator must produce allowed production requests")
}
