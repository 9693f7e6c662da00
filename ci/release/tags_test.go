package release

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

func randomVersion(rng *rand.Rand) string {
	idents := []string{"alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "A"}
	s := fmt.Sprintf("v%d.%d.%d", rng.Intn(3), rng.Intn(3), rng.Intn(3))
	if rng.Intn(2) == 0 {
		parts := make([]string, 1+rng.Intn(3))
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

func tag(name, target string) gitlab.Tag {
	return gitlab.Tag{Name: name, Target: target, Commit: &gitlab.Commit{ID: target}}
}

func TestPriorTags(t *testing.T) {
	release, other := fakeSHA("release"), fakeSHA("other")
	cases := []struct {
		name string
		list []gitlab.Tag
		want []string
	}{
		{"no tags", nil, []string{}},
		{"the release's own tag on the release commit is left out",
			[]gitlab.Tag{tag("v1.0.0", other), tag("v1.1.0", release)}, []string{"v1.0.0"}},
		{"a tag of the version on another commit is kept (already released)",
			[]gitlab.Tag{tag("v1.0.0", other), tag("v1.1.0", other)}, []string{"v1.0.0", "v1.1.0"}},
		{"other tags on the release commit are kept",
			[]gitlab.Tag{tag("v1.1.0-rc.1", release), tag("deploy-2024", release)}, []string{"v1.1.0-rc.1", "deploy-2024"}},
		{"only the commit id counts when GitLab gives one",
			[]gitlab.Tag{{Name: "v1.1.0", Target: release, Commit: &gitlab.Commit{ID: other}}}, []string{"v1.1.0"}},
		{"an annotated tag's commit id is its commit, not the tag object",
			[]gitlab.Tag{{Name: "v1.1.0", Target: fakeSHA("tag object"), Commit: &gitlab.Commit{ID: release}}}, []string{}},
		{"without a commit the target is the commit",
			[]gitlab.Tag{{Name: "v1.1.0", Target: release}, {Name: "v1.0.0", Target: other, Commit: &gitlab.Commit{}}}, []string{"v1.0.0"}},
		{"an empty commit id falls back to the target",
			[]gitlab.Tag{{Name: "v1.1.0", Target: release, Commit: &gitlab.Commit{}}}, []string{}},
		{"names match exactly",
			[]gitlab.Tag{tag("1.1.0", release), tag("v1.1.0+b1", release), tag("V1.1.0", release)}, []string{"1.1.0", "v1.1.0+b1", "V1.1.0"}},
		{"order is GitLab's",
			[]gitlab.Tag{tag("v2.0.0", other), tag("v1.1.0", release), tag("v0.1.0", other), tag("v1.0.0", other)}, []string{"v2.0.0", "v0.1.0", "v1.0.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, PriorTags(c.list, ver(t, "v1.1.0"), domain.Commit(release)))
		})
	}
}

// The release's own tag left out, a tag pipeline can plan the release; a tag of the same
// version elsewhere makes NewPlan refuse it.
func TestPriorTagsFeedNewPlan(t *testing.T) {
	release := fakeSHA("release")
	own := PriorTags([]gitlab.Tag{tag("v1.0.0", fakeSHA("old")), tag("v1.1.0", release)}, ver(t, "v1.1.0"), domain.Commit(release))
	_, err := NewPlan(PlanRequest{Version: ver(t, "v1.1.0"), Tags: own, Images: images(t), GateReportGreen: true})
	require.NoError(t, err)

	elsewhere := PriorTags([]gitlab.Tag{tag("v1.1.0", fakeSHA("old"))}, ver(t, "v1.1.0"), domain.Commit(release))
	_, err = NewPlan(PlanRequest{Version: ver(t, "v1.1.0"), Tags: elsewhere, Images: images(t), GateReportGreen: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "v1.1.0 is not greater than v1.1.0 (already tagged)")
}

// Property: PriorTags keeps the names of the list in order, leaving out exactly the tags named
// version on the release commit.
func TestPriorTagsProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	names := []string{"v1.0.0", "v1.1.0", "v1.1.0-rc.1", "deploy", "v2.0.0"}
	commits := []string{fakeSHA("a"), fakeSHA("b"), ""}
	for range 2000 {
		version, commit := names[[]int{0, 1, 2, 4}[rng.Intn(4)]], commits[rng.Intn(2)]
		var list []gitlab.Tag
		var want []string
		for range rng.Intn(8) {
			tg := gitlab.Tag{Name: names[rng.Intn(len(names))], Target: commits[rng.Intn(len(commits))]}
			if rng.Intn(2) == 0 {
				tg.Commit = &gitlab.Commit{ID: commits[rng.Intn(len(commits))]}
			}
			list = append(list, tg)
			effective := tg.Target
			if tg.Commit != nil && tg.Commit.ID != "" {
				effective = tg.Commit.ID
			}
			if tg.Name != version || effective != commit {
				want = append(want, tg.Name)
			}
		}
		got := PriorTags(list, ver(t, version), domain.Commit(commit))
		require.Len(t, got, len(want))
		if len(want) > 0 {
			require.Equal(t, want, got)
		}
	}
}

func TestLastTag(t *testing.T) {
	cases := []struct {
		name  string
		names []string
		want  string
	}{
		{"none", nil, ""},
		{"no semantic version", []string{"deploy-2024", "data-v3", "latest", "v1.2", "v01.2.3"}, ""},
		{"highest release", []string{"v1.0.0", "v1.10.0", "v1.9.0", "v1.2.0"}, "v1.10.0"},
		{"a pre-release above the last release", []string{"v1.0.0", "v1.1.0-rc.1", "deploy-2024"}, "v1.1.0-rc.1"},
		{"a release ranks above its pre-releases", []string{"v1.1.0-rc.2", "v1.1.0", "v1.1.0-rc.10"}, "v1.1.0"},
		{"numeric pre-release identifiers compare as numbers", []string{"v2.0.0-rc.2", "v2.0.0-rc.10", "v2.0.0-rc.9"}, "v2.0.0-rc.10"},
		{"alphanumeric identifiers rank above numeric ones", []string{"v2.0.0-1", "v2.0.0-alpha", "v2.0.0-0"}, "v2.0.0-alpha"},
		{"a longer pre-release ranks above its prefix", []string{"v2.0.0-alpha", "v2.0.0-alpha.1", "v1.9.9"}, "v2.0.0-alpha.1"},
		{"semver §11 example", []string{"v1.0.0-beta.11", "v1.0.0-alpha", "v1.0.0-rc.1", "v1.0.0-alpha.beta", "v1.0.0-beta.2", "v1.0.0-alpha.1", "v1.0.0-beta"}, "v1.0.0-rc.1"},
		{"as tagged, without the v", []string{"v1.0.0", "1.2.0", "deploy"}, "1.2.0"},
		{"build metadata is kept", []string{"v1.0.0", "v1.3.0+build.7"}, "v1.3.0+build.7"},
		{"non-semver names around it are ignored", []string{"zzz", "v9", "v1.0.0", "v1.0.0.1"}, "v1.0.0"},
		{"numbers beyond 64 bits", []string{"v1.0.0-18446744073709551616", "v1.0.0-18446744073709551615"}, "v1.0.0-18446744073709551616"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, LastTag(c.names))
		})
	}
}

// nonSemver are tag names that are not semantic versions.
var nonSemver = []string{"deploy-2024", "latest", "v1", "v1.2", "data-v3", "v01.0.0", "v1.0.0-", "1.0.0.0", ""}

// Property: LastTag(names) is one of names (or "" when none is a semantic version), it does not
// depend on the order of names, and no semantic-version name ranks above it (Masterminds as the
// oracle).
func TestLastTagProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for range 5000 {
		var names []string
		for range rng.Intn(7) {
			if rng.Intn(4) == 0 {
				names = append(names, nonSemver[rng.Intn(len(nonSemver))])
				continue
			}
			v := randomVersion(rng)
			if rng.Intn(3) == 0 {
				v = strings.TrimPrefix(v, "v")
			}
			names = append(names, v)
		}
		got := LastTag(names)
		var oracle []*semver.Version
		for _, n := range names {
			if sv, err := semver.StrictNewVersion(strings.TrimPrefix(n, "v")); err == nil {
				oracle = append(oracle, sv)
			}
		}
		if len(oracle) == 0 {
			require.Equal(t, "", got, "%q", names)
			continue
		}
		require.True(t, slices.Contains(names, got), "LastTag(%q) = %q, not a member", names, got)
		best := semver.MustParse(strings.TrimPrefix(got, "v"))
		for _, sv := range oracle {
			require.LessOrEqual(t, sv.Compare(best), 0, "LastTag(%q) = %q, but %s is greater", names, got, sv)
		}
		shuffled := slices.Clone(names)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		require.Equal(t, got, LastTag(shuffled), "order of %q", names)
	}
}

func FuzzLastTag(f *testing.F) {
	for _, s := range []string{"v1.0.0\nv1.1.0-rc.1\ndeploy", "1.2.3\nv1.2.3", "v1.0.0+b\nv1.0.0", "", "\n\n", "v1.0.0-rc.1\nv1.0.0-rc.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names := strings.Split(s, "\n")
		got := LastTag(names)
		if got == "" {
			if _, ok := Latest(names); ok {
				t.Fatalf("LastTag(%q) is empty, but a name is a semantic version", names)
			}
			return
		}
		if !slices.Contains(names, got) {
			t.Fatalf("LastTag(%q) = %q, not one of the names", names, got)
		}
		best, ok := domain.ParseVersionTag(got)
		if !ok {
			t.Fatalf("LastTag(%q) = %q, not a semantic version", names, got)
		}
		for _, n := range names {
			if v, ok := domain.ParseVersionTag(n); ok && best.Compare(v) < 0 {
				t.Fatalf("LastTag(%q) = %q, but %q is greater", names, got, n)
			}
		}
	})
}
