package rollback

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

var now = time.Date(2025, 4, 2, 8, 0, 0, 0, time.UTC)

func request() Request {
	return Request{
		Action: RollbackService, Env: "production", Target: "4", From: "5",
		Reason: "5xx spike after v1.3.0", Actor: "alice", Confirm: true,
		Plan: "helm rollback soccer-predict 4 -n production", Now: now,
	}
}

func TestReviewConfirmed(t *testing.T) {
	out, err := Review(request())
	require.NoError(t, err)
	assert.True(t, out.Act)
	assert.Equal(t, Record{
		Action: RollbackService, Env: "production", Target: "4", From: "5", Reason: "5xx spike after v1.3.0",
		Actor: "alice", Confirmed: true, Time: now, Plan: "helm rollback soccer-predict 4 -n production", FollowUp: FollowUp,
	}, out.Record)
	assert.Contains(t, out.Message, "CI must be re-run")
}

func TestReviewUnconfirmed(t *testing.T) {
	r := request()
	r.Confirm = false
	out, err := Review(r)
	require.NoError(t, err)
	assert.False(t, out.Act, "nothing acts without --confirm")
	assert.False(t, out.Record.Confirmed)
	assert.Contains(t, out.Message, `re-run with --confirm --reason="5xx spike after v1.3.0"`)
	assert.Contains(t, out.Message, "nothing was changed")
	assert.Contains(t, out.Message, r.Plan)
	assert.Equal(t, FollowUp, out.Record.FollowUp)

	// Without a reason the plan is still shown, with a placeholder to fill in.
	r.Reason = ""
	out, err = Review(r)
	require.NoError(t, err)
	assert.False(t, out.Act)
	assert.Contains(t, out.Message, `re-run with --confirm --reason="<why, at least 10 characters>"`)
}

func TestReviewErrors(t *testing.T) {
	cases := map[string]struct {
		mut  func(*Request)
		want []string
	}{
		"no reason":           {func(r *Request) { r.Reason = "" }, []string{"at least 10 characters", "--reason", "ROLLBACK_REASON"}},
		"short reason":        {func(r *Request) { r.Reason = "  broken  " }, []string{"got 6"}},
		"unknown action":      {func(r *Request) { r.Action = "rollback-all" }, []string{"unknown rollback action"}},
		"unknown env":         {func(r *Request) { r.Env = "prod" }, []string{"dev, staging, production"}},
		"bad helm revision":   {func(r *Request) { r.Target = "0" }, []string{"helm revision"}},
		"bad model version":   {func(r *Request) { r.Action, r.Target = RollbackModel, "champion" }, []string{"model version"}},
		"bad data rev":        {func(r *Request) { r.Action, r.Target = RollbackData, "--upload-pack=x" }, []string{"data rev"}},
		"no actor":            {func(r *Request) { r.Actor = " " }, []string{"no actor"}},
		"no plan":             {func(r *Request) { r.Plan = "" }, []string{"no plan"}},
		"unconfirmed but bad": {func(r *Request) { r.Confirm, r.Target = false, "-1" }, []string{"helm revision"}},
		"several at once":     {func(r *Request) { r.Env, r.Actor, r.Target = "qa", "", "x" }, []string{"environment", "no actor", "helm revision"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := request()
			c.mut(&r)
			out, err := Review(r)
			require.Error(t, err)
			assert.False(t, out.Act)
			assert.Equal(t, Outcome{}, out)
			assert.Contains(t, err.Error(), "nothing was changed")
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestRecordJSON(t *testing.T) {
	out, err := Review(request())
	require.NoError(t, err)
	b, err := out.Record.JSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "rollback-service", m["action"])
	assert.Equal(t, "2025-04-02T08:00:00Z", m["time"])
	assert.Equal(t, true, m["confirmed"])
	assert.Equal(t, FollowUp, m["follow_up"])
	for _, k := range []string{"env", "target", "from", "reason", "actor", "plan"} {
		assert.Contains(t, m, k)
	}
	// The follow-up is present even on a record built by hand.
	b, err = Record{Action: RollbackData}.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), "CI must be re-run")
}

func TestTargets(t *testing.T) {
	for _, ok := range []string{"", "1", "42", "123456789"} {
		assert.NoError(t, ValidateHelmRevision(ok), ok)
	}
	for _, bad := range []string{"0", "-1", "01", "1.5", "latest", " 3", "+3", "9999999999999999999999"} {
		assert.Error(t, ValidateHelmRevision(bad), bad)
	}
	for _, ok := range []string{"1", "17"} {
		assert.NoError(t, ValidateModelVersion(ok), ok)
	}
	for _, bad := range []string{"", "0", "v3", "champion", "-2"} {
		assert.Error(t, ValidateModelVersion(bad), bad)
	}
	for _, ok := range []string{"abc1234", "0123456789abcdef0123456789abcdef01234567", "v1.2.0", "data/2024-05", "main", "release-1.x", "feature/new_data", "HEAD"} {
		assert.NoError(t, ValidateDVCRev(ok), ok)
	}
	for _, bad := range []string{"", "-rf", "--upload-pack=evil", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "/a", "a/", "a.", ".hidden", "a/.b", "x.lock", "a/b.lock/c", "a@{1}", "@", "a//b", "tab\there", strings.Repeat("a", 256)} {
		assert.Error(t, ValidateDVCRev(bad), bad)
	}
	assert.NoError(t, ValidateTarget(RollbackService, ""))
	assert.Error(t, ValidateTarget(RollbackModel, ""))
	assert.Error(t, ValidateTarget(RollbackData, ""))
	_, err := ParseAction("rollback-model")
	require.NoError(t, err)
}

// Property: Act is true only when confirmed with a valid reason; an accepted record always carries
// the follow-up.
func TestReviewProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	reasons := []string{"", "short", "0123456789", "   0123456789   ", "model drifted after retrain"}
	targets := []string{"", "0", "3", "abc1234", "main", "-x"}
	for range 5000 {
		r := request()
		r.Action = Actions()[rng.Intn(3)]
		r.Target = targets[rng.Intn(len(targets))]
		r.Reason = reasons[rng.Intn(len(reasons))]
		r.Confirm = rng.Intn(2) == 0
		out, err := Review(r)
		if err != nil {
			require.False(t, out.Act)
			continue
		}
		require.Equal(t, FollowUp, out.Record.FollowUp)
		if out.Act {
			require.True(t, r.Confirm)
			require.NoError(t, ValidateReason(r.Reason))
			require.NoError(t, ValidateTarget(r.Action, r.Target))
		} else {
			require.False(t, r.Confirm)
			require.Contains(t, out.Message, "--confirm")
		}
	}
}

func FuzzValidateDVCRev(f *testing.F) {
	for _, s := range []string{"main", "v1.0.0", "abc1234", "-x", "a..b", "a/.b", "x.lock", "@", "a@{1}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		if ValidateDVCRev(rev) != nil {
			return
		}
		if rev == "" || strings.HasPrefix(rev, "-") || strings.Contains(rev, "..") || strings.ContainsAny(rev, " ~^:?*[\\\x00\n") {
			t.Fatalf("accepted unsafe rev %q", rev)
		}
	})
}

func FuzzReview(f *testing.F) {
	f.Add("rollback-service", "production", "4", "a good reason here", "alice", true)
	f.Add("rollback-model", "staging", "x", "", "", false)
	f.Fuzz(func(t *testing.T, action, env, target, reason, actor string, confirm bool) {
		out, err := Review(Request{Action: Action(action), Env: domain.Environment(env), Target: target, Reason: reason, Actor: actor, Confirm: confirm, Plan: "p", Now: now})
		if err != nil {
			if out.Act {
				t.Fatal("acts despite an error")
			}
			return
		}
		if out.Act && (!confirm || ValidateReason(reason) != nil) {
			t.Fatalf("acts without confirmation or reason: %+v", out)
		}
	})
}
