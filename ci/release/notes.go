package release

import (
	"fmt"
	"regexp"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// Commit is what release notes show of a commit.
type Commit struct {
	// SHA is the commit id (full or abbreviated, at least 7 characters shown).
	SHA string
	// Title is the first line of the message (further lines are ignored).
	Title string
	// Author is the author's name.
	Author string
	// Breaking marks a breaking change announced in the body ("BREAKING CHANGE:").
	Breaking bool
}

// CommitsFromGitLab converts the commits of gitlab.Client.Compare.
func CommitsFromGitLab(in []gitlab.Commit) []Commit {
	out := make([]Commit, 0, len(in))
	for _, c := range in {
		title := c.Title
		if title == "" {
			title = c.Message
		}
		out = append(out, Commit{
			SHA:      c.ID,
			Title:    title,
			Author:   c.AuthorName,
			Breaking: strings.Contains(c.Message, "BREAKING CHANGE:") || strings.Contains(c.Message, "BREAKING-CHANGE:"),
		})
	}
	return out
}

// Section is a group of the release notes.
type Section string

// The sections, in the order the notes show them.
const (
	Features    Section = "Features"
	Fixes       Section = "Bug fixes"
	Performance Section = "Performance"
	Other       Section = "Other changes"
)

var conventional = regexp.MustCompile(`^([A-Za-z]+)(\(([^()]*)\))?(!)?:[ \t]+(\S.*)$`)

// Classify returns the section of a commit title, its scope, its description and whether the
// title marks a breaking change ("feat!: …"). A title that is not a conventional commit is Other
// with the whole title as description.
func Classify(title string) (section Section, scope, description string, breaking bool) {
	title = firstLine(title)
	m := conventional.FindStringSubmatch(title)
	if m == nil {
		return Other, "", title, false
	}
	switch strings.ToLower(m[1]) {
	case "feat":
		section = Features
	case "fix":
		section = Fixes
	case "perf":
		section = Performance
	default:
		return Other, "", title, m[4] == "!"
	}
	return section, strings.TrimSpace(m[3]), m[5], m[4] == "!"
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// shortSHA is the abbreviation the notes show for a commit id GitLab listed: [domain.Commit.Short]
// of a full id; GitLab's ids are full, but the notes never fail on one that is not: its first 8
// alphanumeric characters are shown, "unknown" when there are none.
func shortSHA(sha string) string {
	if c, err := domain.ParseCommit(sha); err == nil {
		return c.Short()
	}
	var b strings.Builder
	for _, c := range sha {
		if b.Len() == domain.ShortCommitLength {
			break
		}
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// mdText neutralizes the characters of free text that could inject HTML or start a Markdown block.
func mdText(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "\\`").Replace(s)
	if strings.HasPrefix(s, "#") || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "*") {
		s = "\\" + s
	}
	return s
}

// Notes renders the Markdown release notes of version from the commits since previous (empty for
// the first release). Commits are grouped into Features, Bug fixes, Performance and Other changes
// (sections without commits are left out), keep their order within a group, and each appears
// exactly once (a repeated SHA is listed once) with its short sha and author.
func Notes(version domain.Version, previous string, commits []Commit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdText(version.String()))
	if previous == "" {
		b.WriteString("First release.\n\n")
	} else {
		fmt.Fprintf(&b, "Changes since %s.\n\n", mdText(previous))
	}
	groups := map[Section][]string{}
	seen := map[string]bool{}
	listed := 0
	for _, c := range commits {
		if key := strings.ToLower(c.SHA); key != "" {
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		listed++
		section, scope, desc, breaking := Classify(c.Title)
		var line strings.Builder
		line.WriteString("- ")
		if breaking || c.Breaking {
			line.WriteString("**BREAKING** ")
		}
		if scope != "" {
			fmt.Fprintf(&line, "**%s:** ", mdText(scope))
		}
		if desc == "" {
			desc = "(no title)"
		}
		author := firstLine(c.Author)
		if author == "" {
			author = "unknown author"
		}
		fmt.Fprintf(&line, "%s (`%s`, %s)", mdText(desc), shortSHA(c.SHA), mdText(author))
		groups[section] = append(groups[section], line.String())
	}
	if listed == 0 {
		b.WriteString("No changes.\n")
		return b.String()
	}
	for _, s := range []Section{Features, Fixes, Performance, Other} {
		if len(groups[s]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", s, strings.Join(groups[s], "\n"))
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
