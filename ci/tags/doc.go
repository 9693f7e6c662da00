// Package tags decides the names images are published under.
//
// Three kinds of tag exist:
//
//   - branch builds: "<branch-slug>-<short-sha>", where the slug is exactly GitLab's
//     CI_COMMIT_REF_SLUG (see [Slug]) and the short sha is the first 8 hex characters of
//     the commit, like GitLab's CI_COMMIT_SHORT_SHA (see [ShortSHA]);
//   - releases: "v<major>.<minor>.<patch>", strict semantic versioning with a mandatory
//     "v" prefix (see [ReleaseTag]). Pre-releases such as "v1.2.0-rc.1" are accepted for
//     the staging environment only (see [ReleaseTagFor]); build metadata ("+build.5") is
//     always rejected because "+" is not allowed in an OCI tag;
//   - "latest": a moving tag that exists only in the staging and production
//     environments (see [LatestTag]).
//
// Every tag produced here satisfies the OCI distribution tag grammar
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} (see [ValidateTag]).
//
// The package also parses and builds image references ("repo:tag",
// "repo@sha256:<64 hex>") for the per-service images "<registry>/<service>".
//
// It depends on the standard library and github.com/Masterminds/semver/v3 only, so the
// Dagger module can import it.
package tags
