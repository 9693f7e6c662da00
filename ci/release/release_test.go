package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func TestParseVersion(t *testing.T) {
	for _, ok := range []string{"v0.0.0", "v1.2.3", "v10.20.30", "v1.0.0-rc.1", "v1.0.0-alpha-beta.0.x", "v2.0.0-0"} {
		v, err := ParseVersion(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, ok, v.String())
	}
	cases := map[string]string{
		"1.2.3":          "must start with v",
		"":               "must start with v",
		"v1.2":           "not a semantic version",
		"v1.2.3.4":       "not a semantic version",
		"v01.2.3":        "not a semantic version",
		"v1.2.3-":        "not a semantic version",
		"v1.2.3-rc..1":   "not a semantic version",
		"v1.2.3-01":      "not a semantic version",
		"v1.2.3+build.5": "build metadata",
		"V1.2.3":         "must start with v",
		"v1.2.3 ":        "not a semantic version",
		"vv1.2.3":        "not a semantic version",
		"v-1.2.3":        "not a semantic version",
	}
	for in, want := range cases {
		_, err := ParseVersion(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Contains(t, err.Error(), "--version", in)
	}
}

func mustV(t *testing.T, s string) Version {
	t.Helper()
	v, ok := parseTag(s)
	require.True(t, ok, s)
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

func randomVersion(rng *rand.Rand) string {
	idents := []string{"alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "A"}
	s := fmt.Sprintf("v%d.%d.%d", rng.Intn(3), rng.Intn(3), rng.Intn(3))
	if rng.Intn(2) == 0 {
		n := 1 + rng.Intn(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = idents[rng.Intn(len(idents))]
		}
		s += "-" + strings.Join(parts, ".")
	}
	if rng.Intn(6) == 0 {
		s += "+b" + fmt.Sprint(rng.Intn(3))
	}
	return s
}

// Property: Compare is consistent with semver (Masterminds as the oracle), antisymmetric and
// transitive, and Less is a strict total order.
func TestOrderingProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for range 20000 {
		sa, sb, sc := randomVersion(rng), randomVersion(rng), randomVersion(rng)
		a, b, c := mustV(t, sa), mustV(t, sb), mustV(t, sc)
		oa := semver.MustParse(strings.TrimPrefix(sa, "v"))
		ob := semver.MustParse(strings.TrimPrefix(sb, "v"))
		if got, want := a.Compare(b), oa.Compare(ob); got != want {
			t.Fatalf("Compare(%s, %s) = %d, semver says %d", sa, sb, got, want)
		}
		if a.Compare(b) != -b.Compare(a) {
			t.Fatalf("not antisymmetric: %s %s", sa, sb)
		}
		if a.Compare(b) <= 0 && b.Compare(c) <= 0 && a.Compare(c) > 0 {
			t.Fatalf("not transitive: %s %s %s", sa, sb, sc)
		}
		// Less: exactly one of a<b, b<a, a==b (same text).
		lt, gt := Less(a, b), Less(b, a)
		if lt && gt || (!lt && !gt && sa != sb) {
			t.Fatalf("Less is not total on %s %s", sa, sb)
		}
		if Less(a, b) && Less(b, c) && !Less(a, c) {
			t.Fatalf("Less not transitive: %s %s %s", sa, sb, sc)
		}
	}
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
		{"1.3.0", false, "must start with v"},
	}
	for _, c := range cases {
		v, err := CheckNext(c.next, tags)
		if c.ok {
			require.NoError(t, err, c.next)
			assert.Equal(t, c.next, v.String())
			continue
		}
		require.Error(t, err, c.next)
		assert.Contains(t, err.Error(), c.want, c.next)
	}
	_, err := CheckNext("v1.1.0", tags)
	assert.True(t, errors.Is(err, ErrNotGreater))

	v, err := CheckNext("v0.1.0", nil)
	require.NoError(t, err, "first release")
	assert.Equal(t, "v0.1.0", v.String())

	// Tags without the v prefix and with build metadata still count.
	_, err = CheckNext("v1.4.0", []string{"1.5.0"})
	assert.ErrorContains(t, err, "1.5.0")
	_, err = CheckNext("v1.5.0", []string{"v1.5.0+build.1"})
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
	got := Notes("v1.3.0", "v1.2.0", commits)
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

	assert.Equal(t, "# v0.1.0\n\nFirst release.\n\nNo changes.\n", Notes("v0.1.0", "", nil))
	only := Notes("v1.0.1", "v1.0.0", []Commit{{SHA: "abc1234", Title: "fix: x"}})
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
	notes := Notes("v1.0.0", "v0.9.0", out)
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
		notes := Notes("v1.0.0", "v0.9.0", commits)
		items := 0
		for _, l := range strings.Split(notes, "\n") {
			if strings.HasPrefix(l, "- ") {
				items++
			}
		}
		require.Equal(t, n, items, notes)
		for _, c := range commits {
			require.Equal(t, 1, strings.Count(notes, "`"+ShortSHA(c.SHA)+"`"), "commit %s in\n%s", c.SHA, notes)
			_, _, desc, _ := Classify(c.Title)
			require.Equal(t, 1, strings.Count(notes, " "+desc+" ("), desc)
		}
	}
}

func images() map[string]string {
	return map[string]string{
		"api":     "registry.gitlab.com/sp/api@" + fakeDigest("api"),
		"worker":  "registry.gitlab.com/sp/worker:main@" + fakeDigest("worker"),
		"airflow": "localhost:5000/sp/airflow@" + fakeDigest("airflow"),
	}
}

func TestNewPlan(t *testing.T) {
	p, err := NewPlan(PlanRequest{Version: "v1.3.0", Tags: []string{"v1.2.0"}, Images: images(), GateReportGreen: true})
	require.NoError(t, err)
	assert.Equal(t, "v1.3.0", p.Version)
	assert.True(t, p.MovesLatest)
	require.Len(t, p.Copies, 3)
	assert.Equal(t, Copy{
		Service: "airflow", Source: "localhost:5000/sp/airflow@" + fakeDigest("airflow"), Digest: fakeDigest("airflow"),
		Destinations: []string{"localhost:5000/sp/airflow:v1.3.0", "localhost:5000/sp/airflow:latest"},
	}, p.Copies[0])
	assert.Equal(t, "api", p.Copies[1].Service)
	assert.Equal(t, "registry.gitlab.com/sp/worker@"+fakeDigest("worker"), p.Copies[2].Source, "the tag is dropped: the digest is the source")
	assert.Equal(t, []string{"registry.gitlab.com/sp/worker:v1.3.0", "registry.gitlab.com/sp/worker:latest"}, p.Copies[2].Destinations)

	text := p.Text()
	assert.Contains(t, text, "api: registry.gitlab.com/sp/api@"+fakeDigest("api")+" -> registry.gitlab.com/sp/api:latest")
	b, err := p.JSON()
	require.NoError(t, err)
	var back Plan
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p, back)

	pre, err := NewPlan(PlanRequest{Version: "v1.3.0-rc.1", Tags: []string{"v1.2.0"}, Images: images(), GateReportGreen: true})
	require.NoError(t, err)
	assert.False(t, pre.MovesLatest)
	for _, c := range pre.Copies {
		assert.Len(t, c.Destinations, 1)
		assert.True(t, strings.HasSuffix(c.Destinations[0], ":v1.3.0-rc.1"))
	}
}

func TestNewPlanRefusals(t *testing.T) {
	cases := map[string]struct {
		req  PlanRequest
		want []string
	}{
		"gate red":       {PlanRequest{Version: "v1.3.0", Images: images()}, []string{"gate report is not green"}},
		"tag not digest": {PlanRequest{Version: "v1.3.0", Images: map[string]string{"api": "registry.gitlab.com/sp/api:v1"}, GateReportGreen: true}, []string{"image api: image reference \"registry.gitlab.com/sp/api:v1\" is not pinned by digest"}},
		"no images":      {PlanRequest{Version: "v1.3.0", GateReportGreen: true}, []string{"no images"}},
		"old version":    {PlanRequest{Version: "v1.1.0", Tags: []string{"v1.2.0"}, Images: images(), GateReportGreen: true}, []string{"not greater"}},
		"bad version":    {PlanRequest{Version: "1.3", Images: images(), GateReportGreen: true}, []string{"must start with v"}},
		"everything": {PlanRequest{Version: "v1.1.0", Tags: []string{"v1.2.0"}, Images: map[string]string{"api": "a:latest", "worker": "w@sha256:00"}},
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

var versionish = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?$`)

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"v1.2.3", "v1.0.0-rc.1", "v01.2.3", "v1.2.3+meta", "1.2.3", "", "v1.2.3-", "v1.2.3-a..b", "v99999999999999999999.0.0", "v1.2.3-00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--version") {
				t.Fatalf("error does not name the fix: %v", err)
			}
			return
		}
		if v.String() != s {
			t.Fatalf("ParseVersion(%q).String() = %q", s, v.String())
		}
		if !versionish.MatchString(s) {
			t.Fatalf("accepted %q, which is not a strict semver release version", s)
		}
		if v.Compare(v) != 0 {
			t.Fatal("not reflexive")
		}
	})
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
		notes := Notes("v1.0.0", "", []Commit{{SHA: "abcdef0123", Title: title, Author: "x"}})
		if strings.Count(notes, "`abcdef01`") != 1 {
			t.Fatalf("commit not listed exactly once:\n%s", notes)
		}
		if strings.Contains(notes, "<") {
			t.Fatalf("raw < in notes:\n%s", notes)
		}
	})
}
