package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

func fakeDigest(label string) string {
	s := sha256.Sum256([]byte(label))
	return "sha256:" + hex.EncodeToString(s[:])
}

func fakeSHA(label string) string {
	s := sha256.Sum256([]byte("commit " + label))
	return hex.EncodeToString(s[:])[:40]
}

func mustV(t *testing.T, s string) domain.Version {
	t.Helper()
	v, ok := domain.ParseVersionTag(s)
	require.True(t, ok, s)
	return v
}

func ver(t testing.TB, s string) domain.Version {
	v, err := domain.ParseVersion(s)
	require.NoError(t, err, s)
	return v
}

func TestSpecOrdering(t *testing.T) {
	// The precedence example of semver §11, plus numeric identifiers beyond 64 bits.
	ordered := []string{
		"v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta", "v1.0.0-beta.2",
		"v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.0.1-0", "v1.0.1-99999999999999999999", "v1.0.1-a", "v1.0.1",
		"v1.1.0", "v1.10.0", "v2.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			a, b := mustV(t, ordered[i]), mustV(t, ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, a.Compare(b), "%s vs %s", ordered[i], ordered[j])
		}
	}
	shuffled := slices.Clone(ordered)
	rand.New(rand.NewSource(1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var got []string
	for _, v := range Versions(append(shuffled, "not-a-version", "release-2020", "latest")) {
		got = append(got, v.String())
	}
	assert.Equal(t, ordered, got)
	assert.Equal(t, 0, mustV(t, "v1.0.0+a").Compare(mustV(t, "v1.0.0+b")), "build metadata is ignored for precedence")
}

func TestCheckNext(t *testing.T) {
	tags := []string{"v1.0.0", "v1.1.0", "v1.2.0-rc.1", "deploy-2024", "data-v3"}
	cases := []struct {
		next string
		ok   bool
		want string
	}{
		{"v1.2.0", true, ""},
		{"v1.2.0-rc.2", true, ""},
		{"v1.3.0", true, ""},
		{"v2.0.0-alpha", true, ""},
		{"v1.2.0-rc.1", false, "already tagged"},
		{"v1.2.0-rc.0", false, "not greater than v1.2.0-rc.1"},
		{"v1.2.0-beta", false, "not greater"},
		{"v1.1.0", false, "not greater"},
		{"v1.1.1", false, "e.g. v1.2.0"},
		{"v0.9.9", false, "not greater"},
	}
	for _, c := range cases {
		err := CheckNext(ver(t, c.next), tags)
		if c.ok {
			require.NoError(t, err, c.next)
			continue
		}
		require.Error(t, err, c.next)
		assert.Contains(t, err.Error(), c.want, c.next)
	}
	err := CheckNext(ver(t, "v1.1.0"), tags)
	assert.True(t, errors.Is(err, ErrNotGreater))

	require.NoError(t, CheckNext(ver(t, "v0.1.0"), nil), "first release")

	// Tags without the v prefix and with build metadata still count.
	err = CheckNext(ver(t, "v1.4.0"), []string{"1.5.0"})
	assert.ErrorContains(t, err, "1.5.0")
	err = CheckNext(ver(t, "v1.5.0"), []string{"v1.5.0+build.1"})
	assert.ErrorContains(t, err, "not greater")

	last, ok := Latest(tags)
	require.True(t, ok)
	assert.Equal(t, "v1.2.0-rc.1", last.String())
	_, ok = Latest([]string{"foo"})
	assert.False(t, ok)
}

func TestClassify(t *testing.T) {
	cases := []struct {
		title, scope, desc string
		section            Section
		breaking           bool
	}{
		{"feat(api): add predictions endpoint", "api", "add predictions endpoint", Features, false},
		{"feat: add thing", "", "add thing", Features, false},
		{"Feat!: drop v1 API", "", "drop v1 API", Features, true},
		{"fix(worker)!: stop retry storm", "worker", "stop retry storm", Fixes, true},
		{"perf: cache features", "", "cache features", Performance, false},
		{"docs: update README", "", "docs: update README", Other, false},
		{"chore(deps)!: bump python", "", "chore(deps)!: bump python", Other, true},
		{"Merge branch 'x' into 'main'", "", "Merge branch 'x' into 'main'", Other, false},
		{"feat:no space", "", "feat:no space", Other, false},
		{"feat(a)(b): nested", "", "feat(a)(b): nested", Other, false},
		{"fix: first line\nsecond line", "", "first line", Fixes, false},
	}
	for _, c := range cases {
		section, scope, desc, breaking := Classify(c.title)
		assert.Equal(t, c.section, section, c.title)
		assert.Equal(t, c.scope, scope, c.title)
		assert.Equal(t, c.desc, desc, c.title)
		assert.Equal(t, c.breaking, breaking, c.title)
	}
}

func TestNotes(t *testing.T) {
	commits := []Commit{
		{SHA: fakeSHA("1"), Title: "feat(api): add predictions endpoint", Author: "Carol C"},
		{SHA: fakeSHA("2"), Title: "fix: handle empty fixtures", Author: "Bob B"},
		{SHA: fakeSHA("3"), Title: "perf(worker): batch inference", Author: "Alice A"},
		{SHA: fakeSHA("4"), Title: "chore: bump deps", Author: "Renovate Bot"},
		{SHA: fakeSHA("5"), Title: "feat!: new model schema", Author: "Carol C"},
		{SHA: fakeSHA("6"), Title: "Update <script>alert(1)</script>", Author: "Mallory"},
		{SHA: fakeSHA("1"), Title: "feat(api): add predictions endpoint", Author: "Carol C"}, // repeated
	}
	got := Notes(ver(t, "v1.3.0"), "v1.2.0", commits)
	want := "# v1.3.0\n\n" +
		"Changes since v1.2.0.\n\n" +
		"## Features\n\n" +
		"- **api:** add predictions endpoint (`" + fakeSHA("1")[:8] + "`, Carol C)\n" +
		"- **BREAKING** new model schema (`" + fakeSHA("5")[:8] + "`, Carol C)\n\n" +
		"## Bug fixes\n\n" +
		"- handle empty fixtures (`" + fakeSHA("2")[:8] + "`, Bob B)\n\n" +
		"## Performance\n\n" +
		"- **worker:** batch inference (`" + fakeSHA("3")[:8] + "`, Alice A)\n\n" +
		"## Other changes\n\n" +
		"- chore: bump deps (`" + fakeSHA("4")[:8] + "`, Renovate Bot)\n" +
		"- Update &lt;script&gt;alert(1)&lt;/script&gt; (`" + fakeSHA("6")[:8] + "`, Mallory)\n"
	assert.Equal(t, want, got)

	assert.Equal(t, "# v0.1.0\n\nFirst release.\n\nNo changes.\n", Notes(ver(t, "v0.1.0"), "", nil))
	only := Notes(ver(t, "v1.0.1"), "v1.0.0", []Commit{{SHA: "abc1234", Title: "fix: x"}})
	assert.NotContains(t, only, "## Features")
	assert.Contains(t, only, "unknown author")
	assert.Contains(t, only, "`abc1234`")
}

func TestCommitsFromGitLab(t *testing.T) {
	in := []gitlab.Commit{
		{ID: fakeSHA("a"), Title: "feat: a", AuthorName: "A", Message: "feat: a\n\nBREAKING CHANGE: schema"},
		{ID: fakeSHA("b"), Title: "", AuthorName: "B", Message: "fix: b\nmore"},
	}
	out := CommitsFromGitLab(in)
	require.Len(t, out, 2)
	assert.True(t, out[0].Breaking)
	assert.Equal(t, "fix: b\nmore", out[1].Title)
	notes := Notes(ver(t, "v1.0.0"), "v0.9.0", out)
	assert.Contains(t, notes, "**BREAKING** a")
	assert.Contains(t, notes, "- b (`")
}

// Property: every distinct commit appears exactly once, in exactly one section.
func TestNotesExactlyOnceProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	types := []string{"feat", "fix", "perf", "docs", "chore", "Feat", "refactor", ""}
	for i := range 1000 {
		n := rng.Intn(30)
		var commits []Commit
		for j := range n {
			typ := types[rng.Intn(len(types))]
			title := fmt.Sprintf("change %d-%d", i, j)
			if typ != "" {
				if rng.Intn(2) == 0 {
					typ += "(scope)"
				}
				title = typ + ": " + title
			}
			commits = append(commits, Commit{SHA: fakeSHA(fmt.Sprint(i, "/", j)), Title: title, Author: "someone"})
		}
		notes := Notes(ver(t, "v1.0.0"), "v0.9.0", commits)
		items := 0
		for _, l := range strings.Split(notes, "\n") {
			if strings.HasPrefix(l, "- ") {
				items++
			}
		}
		require.Equal(t, n, items, notes)
		for _, c := range commits {
			require.Equal(t, 1, strings.Count(notes, "`"+c.SHA[:8]+"`"), "commit %s in\n%s", c.SHA, notes)
			_, _, desc, _ := Classify(c.Title)
			require.Equal(t, 1, strings.Count(notes, " "+desc+" ("), desc)
		}
	}
}

func images(t testing.TB) artifact.Set {
	s, err := artifact.ParseSet(map[domain.Service]string{
		domain.API:     "registry.gitlab.com/sp/api@" + fakeDigest("api"),
		domain.Worker:  "registry.gitlab.com/sp/worker@" + fakeDigest("worker"),
		domain.Airflow: "localhost:5000/sp/airflow@" + fakeDigest("airflow"),
	})
	require.NoError(t, err)
	return s
}

func refs(t testing.TB, ss ...string) []domain.ImageRef {
	var out []domain.ImageRef
	for _, s := range ss {
		r, err := domain.ParseImageRef(s)
		require.NoError(t, err, s)
		out = append(out, r)
	}
	return out
}

func TestNewPlan(t *testing.T) {
	p, err := NewPlan(PlanRequest{Version: ver(t, "v1.3.0"), Tags: []string{"v1.2.0"}, Images: images(t), GateReportGreen: true})
	require.NoError(t, err)
	assert.Equal(t, "v1.3.0", p.Version.String())
	assert.True(t, p.MovesLatest)
	require.Len(t, p.Copies, 3)
	assert.Equal(t, Copy{
		Service: domain.Airflow, Source: refs(t, "localhost:5000/sp/airflow@"+fakeDigest("airflow"))[0], Digest: domain.Digest(fakeDigest("airflow")),
		Destinations: refs(t, "localhost:5000/sp/airflow:v1.3.0", "localhost:5000/sp/airflow:latest"),
	}, p.Copies[0])
	assert.Equal(t, domain.API, p.Copies[1].Service)
	assert.Equal(t, refs(t, "registry.gitlab.com/sp/worker:v1.3.0", "registry.gitlab.com/sp/worker:latest"), p.Copies[2].Destinations)

	text := p.Text()
	assert.Contains(t, text, "api: registry.gitlab.com/sp/api@"+fakeDigest("api")+" -> registry.gitlab.com/sp/api:latest")
	b, err := p.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"registry.gitlab.com/sp/api:latest"`, "references are written as strings")
	var back Plan
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p.Text(), back.Text())
	assert.Equal(t, p.Copies, back.Copies)
	assert.Equal(t, p.MovesLatest, back.MovesLatest)
	assert.Equal(t, 0, p.Version.Compare(back.Version))
}

// The latest rule, decided by ci/domain only: a final release moves latest, a pre-release does
// not, and it is the release target's rule (dev never gets latest).
func TestNewPlanLatestRule(t *testing.T) {
	require.Equal(t, domain.Production, Target)
	for _, c := range []struct {
		version string
		latest  bool
	}{{"v1.3.0", true}, {"v2.0.0", true}, {"v1.3.0-rc.1", false}, {"v2.0.0-alpha", false}} {
		v := ver(t, c.version)
		p, err := NewPlan(PlanRequest{Version: v, Tags: []string{"v1.2.0"}, Images: images(t), GateReportGreen: true})
		require.NoError(t, err)
		assert.Equal(t, c.latest, p.MovesLatest, c.version)
		assert.Equal(t, Target.MovesLatest(v), p.MovesLatest, "the plan follows domain's rule")
		assert.False(t, domain.Dev.MovesLatest(v), "dev never moves latest")
		for _, cp := range p.Copies {
			var tags []domain.Tag
			for _, d := range cp.Destinations {
				require.Equal(t, cp.Source.Repository, d.Repository)
				require.Empty(t, d.Digest)
				tags = append(tags, d.Tag)
			}
			want := []domain.Tag{v.Tag()}
			if c.latest {
				want = append(want, domain.LatestTag)
			}
			assert.Equal(t, want, tags, "%s %s", c.version, cp.Service)
		}
	}
}

func TestNewPlanRefusals(t *testing.T) {
	tagged := artifact.Set{domain.API: domain.Tagged("registry.gitlab.com/sp/api", "v1")}
	cases := map[string]struct {
		req  PlanRequest
		want []string
	}{
		"gate red":       {PlanRequest{Version: ver(t, "v1.3.0"), Images: images(t)}, []string{"gate report is not green"}},
		"tag not digest": {PlanRequest{Version: ver(t, "v1.3.0"), Images: tagged, GateReportGreen: true}, []string{"image api: registry.gitlab.com/sp/api:v1 is not pinned by digest"}},
		"no images":      {PlanRequest{Version: ver(t, "v1.3.0"), GateReportGreen: true}, []string{"no images"}},
		"old version":    {PlanRequest{Version: ver(t, "v1.1.0"), Tags: []string{"v1.2.0"}, Images: images(t), GateReportGreen: true}, []string{"not greater"}},
		"everything": {PlanRequest{Version: ver(t, "v1.1.0"), Tags: []string{"v1.2.0"}, Images: artifact.Set{domain.API: domain.Tagged("a", "latest"), domain.Worker: domain.Tagged("w", "x")}},
			[]string{"not greater", "gate report", "image api", "image worker"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := NewPlan(c.req)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrPlanRefused))
			assert.Equal(t, Plan{}, p)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, len(c.want), strings.Count(err.Error(), "\n  - "), err.Error())
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"feat(api): x", "fix!: y", "chore: z", "plain title", "feat(: x", "perf()!:  ", "feat: a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		section, _, desc, _ := Classify(title)
		switch section {
		case Features, Fixes, Performance, Other:
		default:
			t.Fatalf("unknown section %q", section)
		}
		if strings.ContainsAny(desc, "\r\n") {
			t.Fatalf("description spans lines: %q", desc)
		}
		notes := Notes(ver(t, "v1.0.0"), "", []Commit{{SHA: "abcdef0123", Title: title, Author: "x"}})
		if strings.Count(notes, "`abcdef01`") != 1 {
			t.Fatalf("commit not listed exactly once:\n%s", notes)
		}
		if strings.Contains(notes, "<") {
			t.Fatalf("raw < in notes:\n%s", notes)
		}
	})
}
