// Package gitlabci tests the repository's .gitlab-ci.yml, the GitLab shim over the Dagger module.
//
// The tests parse the file with gopkg.in/yaml.v3, resolve `extends`, evaluate `workflow:rules` and
// job `rules` for synthetic pipeline contexts with a small evaluator of GitLab's `rules:if`
// expressions (the subset the file uses: $VAR, "string", /regex/, ==, !=, =~, &&, || and
// parentheses), and check the file against the product's policy, against the report file names the
// module exports (ci/gate, reports.go) and against GitLab's JSON Schema (path in GITLAB_CI_SCHEMA).
//
// Nothing here talks to the network or needs a container engine.
package gitlabci
