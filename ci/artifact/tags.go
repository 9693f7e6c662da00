package artifact

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/Masterminds/semver/v3"
)

// Environment names understood by this package.
const (
	// EnvDev is the development environment: branch builds only, no "latest", no release tags.
	EnvDev = "dev"
	// EnvStaging is the staging environment: release tags (pre-releases allowed) and "latest".
	EnvStaging = "staging"
	// EnvProduction is the production environment: final release tags and "latest".
	EnvProduction = "production"
)

const (
	// Latest is the moving tag, allowed only for staging and production.
	Latest = "latest"
	// MaxSlugLength is the byte length GitLab truncates CI_COMMIT_REF_SLUG to.
	MaxSlugLength = 63
	// ShortSHALength is the length of GitLab's CI_COMMIT_SHORT_SHA.
	ShortSHALength = 8
	// MinSHALength is the shortest commit abbreviation accepted (git's default abbreviation).
	MinSHALength = 7
	// MaxSHALength is the longest commit id accepted (a SHA-256 object name).
	MaxSHALength = 64
	// MaxTagLength is the longest tag the OCI distribution specification allows.
	MaxTagLength = 128
)

// tagPattern is the OCI distribution tag grammar.
var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// Environments lists the environments in promotion order.
func Environments() []string { return []string{EnvDev, EnvStaging, EnvProduction} }

// ValidateEnv returns an error naming the accepted values when env is not one of them.
func ValidateEnv(env string) error {
	switch env {
	case EnvDev, EnvStaging, EnvProduction:
		return nil
	}
	return fmt.Errorf("unknown environment %q: use one of %s", env, strings.Join(Environments(), ", "))
}

// ValidateTag reports whether tag satisfies the OCI tag grammar
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func ValidateTag(tag string) error {
	if tag == "" {
		return fmt.Errorf("image tag is empty: a tag is 1 to %d characters from [a-zA-Z0-9_.-]", MaxTagLength)
	}
	if len(tag) > MaxTagLength {
		return fmt.Errorf("image tag %q is %d characters long: shorten it to at most %d", tag, len(tag), MaxTagLength)
	}
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("image tag %q is not a valid OCI tag: use only [a-zA-Z0-9_.-] and do not start with '.' or '-'", tag)
	}
	return nil
}

// Slug returns GitLab's CI_COMMIT_REF_SLUG for ref, computed exactly as GitLab does
// (Gitlab::Utils.slugify): lowercase the ref, replace every character that is not in
// [a-z0-9] by "-", keep the first 63 characters, then trim leading and trailing "-".
//
// Lowercasing follows Ruby's full Unicode case mapping, so "İ" (U+0130) becomes "i"
// followed by a combining dot (which then becomes "-") and the Kelvin sign (U+212A)
// becomes "k". Each invalid UTF-8 byte becomes one "-" (GitLab refuses such refs).
// The result may be empty (for example for "---"); [BranchTag] rejects that.
func Slug(ref string) string {
	out := make([]byte, 0, min(len(ref)+1, MaxSlugLength))
	put := func(c byte) bool {
		if len(out) >= MaxSlugLength {
			return false
		}
		out = append(out, c)
		return true
	}
	for _, r := range ref {
		if r == '\u0130' { // Ruby: "İ".downcase == "i\u0307"
			if !put('i') || !put('-') {
				break
			}
			continue
		}
		lr := unicode.ToLower(r)
		c := byte('-')
		if (lr >= 'a' && lr <= 'z') || (lr >= '0' && lr <= '9') {
			c = byte(lr)
		}
		if !put(c) {
			break
		}
	}
	return strings.Trim(string(out), "-")
}

// ShortSHA returns the first 8 characters of a commit id, like GitLab's
// CI_COMMIT_SHORT_SHA. The input must be 7 to 64 hexadecimal characters (an
// abbreviation of 7 characters yields a 7-character result); it is lowercased.
func ShortSHA(sha string) (string, error) {
	if sha == "" {
		return "", fmt.Errorf("commit sha is empty: pass --commit (GitLab sets CI_COMMIT_SHA)")
	}
	for i := 0; i < len(sha); i++ {
		if !isHex(sha[i]) {
			return "", fmt.Errorf("commit sha %q is not hexadecimal: pass the commit id from `git rev-parse HEAD` (GitLab: CI_COMMIT_SHA)", sha)
		}
	}
	if len(sha) < MinSHALength {
		return "", fmt.Errorf("commit sha %q is %d characters: pass at least %d hex characters, ideally the full id from `git rev-parse HEAD`", sha, len(sha), MinSHALength)
	}
	if len(sha) > MaxSHALength {
		return "", fmt.Errorf("commit sha %q is %d characters, longer than any commit id: pass the id from `git rev-parse HEAD`", sha, len(sha))
	}
	return strings.ToLower(sha[:min(len(sha), ShortSHALength)]), nil
}

// BranchTag returns the branch build tag "<slug>-<short-sha>" for a branch name
// (GitLab's CI_COMMIT_REF_NAME, not "refs/heads/...") and a commit id.
func BranchTag(branch, sha string) (string, error) {
	if branch == "" {
		return "", fmt.Errorf("branch name is empty: pass --ref (GitLab sets CI_COMMIT_REF_NAME)")
	}
	slug := Slug(branch)
	if slug == "" {
		return "", fmt.Errorf("branch %q has an empty slug (it has no letter or digit): rename the branch", branch)
	}
	short, err := ShortSHA(sha)
	if err != nil {
		return "", err
	}
	tag := slug + "-" + short
	if err := ValidateTag(tag); err != nil { // cannot happen: slug and sha are [a-z0-9-]
		return "", err
	}
	return tag, nil
}

// Release is a parsed release version "v<major>.<minor>.<patch>[-<prerelease>]".
type Release struct {
	Major, Minor, Patch uint64
	// Prerelease is the dot-separated pre-release part without the leading "-", or "".
	Prerelease string
}

// IsPrerelease reports whether r carries a pre-release part (for example "rc.1").
func (r Release) IsPrerelease() bool { return r.Prerelease != "" }

// Tag returns the image tag for r: "v1.2.3" or "v1.2.3-rc.1".
func (r Release) Tag() string {
	t := fmt.Sprintf("v%d.%d.%d", r.Major, r.Minor, r.Patch)
	if r.Prerelease != "" {
		t += "-" + r.Prerelease
	}
	return t
}

// String returns r.Tag().
func (r Release) String() string { return r.Tag() }

// ParseRelease parses a release version: a "v" followed by a strict semantic version
// (no leading zeros, exactly three numbers). A pre-release part is accepted here (the
// caller decides where it may go); build metadata ("+...") is rejected because "+" is not
// allowed in an OCI tag.
func ParseRelease(version string) (Release, error) {
	const fix = `write it as v<major>.<minor>.<patch>, e.g. v1.4.0 (or v1.4.0-rc.1 for a staging pre-release)`
	if version == "" {
		return Release{}, fmt.Errorf("release version is empty: %s", fix)
	}
	if !strings.HasPrefix(version, "v") {
		return Release{}, fmt.Errorf("release version %q has no \"v\" prefix: %s", version, fix)
	}
	body := version[1:]
	if strings.Contains(body, "+") {
		return Release{}, fmt.Errorf("release version %q has build metadata (+...), which an image tag cannot carry: drop the +... part", version)
	}
	v, err := semver.StrictNewVersion(body)
	if err != nil {
		return Release{}, fmt.Errorf("release version %q is not strict semantic versioning (%v): %s", version, err, fix)
	}
	r := Release{Major: v.Major(), Minor: v.Minor(), Patch: v.Patch(), Prerelease: v.Prerelease()}
	if body != strings.TrimPrefix(r.Tag(), "v") {
		return Release{}, fmt.Errorf("release version %q is not in canonical form: %s", version, fix)
	}
	if err := validatePrerelease(r.Prerelease); err != nil {
		return Release{}, fmt.Errorf("release version %q: %w: %s", version, err, fix)
	}
	if err := ValidateTag(r.Tag()); err != nil {
		return Release{}, fmt.Errorf("release version %q cannot be an image tag: %w", version, err)
	}
	return r, nil
}

// validatePrerelease applies the semver 2.0.0 rules to a pre-release part: non-empty
// dot-separated identifiers of [0-9A-Za-z-], numeric identifiers without leading zeros.
func validatePrerelease(pre string) error {
	if pre == "" {
		return nil
	}
	for _, id := range strings.Split(pre, ".") {
		if id == "" {
			return fmt.Errorf("pre-release %q has an empty identifier", pre)
		}
		numeric := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				numeric = false
			default:
				return fmt.Errorf("pre-release %q has a character outside [0-9A-Za-z-]", pre)
			}
		}
		if numeric && len(id) > 1 && id[0] == '0' {
			return fmt.Errorf("pre-release %q has a numeric identifier with a leading zero", pre)
		}
	}
	return nil
}

// ReleaseTag returns the tag for a final release version such as "v1.4.0". Pre-releases
// are refused here; use [ReleaseTagFor] with the staging environment for those.
func ReleaseTag(version string) (string, error) {
	r, err := ParseRelease(version)
	if err != nil {
		return "", err
	}
	if r.IsPrerelease() {
		return "", fmt.Errorf("release version %q is a pre-release: pre-releases go to %s only; publish a final version (v%d.%d.%d)", version, EnvStaging, r.Major, r.Minor, r.Patch)
	}
	return r.Tag(), nil
}

// ReleaseTagFor returns the tag for version in env. Staging accepts pre-releases
// ("v1.4.0-rc.1"); dev and production accept final releases only.
func ReleaseTagFor(env, version string) (string, error) {
	if err := ValidateEnv(env); err != nil {
		return "", err
	}
	r, err := ParseRelease(version)
	if err != nil {
		return "", err
	}
	if r.IsPrerelease() && env != EnvStaging {
		return "", fmt.Errorf("release version %q is a pre-release and cannot go to %s: pre-releases go to %s only; release v%d.%d.%d instead", version, env, EnvStaging, r.Major, r.Minor, r.Patch)
	}
	return r.Tag(), nil
}

// LatestTag returns "latest" for staging and production and an error for dev (dev
// images are only ever addressed by their branch tag or digest).
func LatestTag(env string) (string, error) {
	if err := ValidateEnv(env); err != nil {
		return "", err
	}
	if env == EnvDev {
		return "", fmt.Errorf("the %q tag is not used for %s: address dev images by their branch tag (<branch-slug>-<short-sha>) or digest", Latest, EnvDev)
	}
	return Latest, nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
