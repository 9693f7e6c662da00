package gitlabci

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A quoted variable is one argument (no word-splitting of a reason with spaces); every other
// quoting stays forbidden, so a line still cannot hide commands or literals from the checks.
func TestParseDaggerCallQuotedVariable(t *testing.T) {
	d, err := ParseDaggerCall(`dagger call rollback-service --env=production --confirm=true --reason="$ROLLBACK_REASON"`)
	require.NoError(t, err)
	r, ok := d.Chain[0].Arg("reason")
	assert.True(t, ok)
	assert.Equal(t, "$ROLLBACK_REASON", r)
	for _, line := range []string{
		`dagger call rollback-service --reason="INC-1 latency"`,          // literal with spaces: split by the shell
		`dagger call rollback-service --reason="$(id)"`,                  // substitution
		`dagger call rollback-service --reason="$R"; rm -rf /`,           // a second command
		`dagger call rollback-service --reason='$ROLLBACK_REASON'`,       // single quotes: no expansion
		`dagger call rollback-service --reason="$ROLLBACK_REASON`,        // unbalanced
		`dagger call rollback-service --reason="${ROLLBACK_REASON}"`,     // braces
		`dagger call rollback-service --reason="$ROLLBACK_REASON"x`,      // trailing text
		`dagger call rollback-service "--reason=$ROLLBACK_REASON"`,       // quoted flag name
		"dagger call rollback-service --reason=\"$ROLLBACK_REASON\"\nid", // two lines
	} {
		_, err := ParseDaggerCall(line)
		assert.Error(t, err, line)
	}
}

func TestRollbackJobsCatchBrokenCopies(t *testing.T) {
	base := load(t)
	ev := engineVersion(t)
	rule := func(t *testing.T, d map[string]any, job string) map[string]any {
		return node(t, d, job)["rules"].([]any)[0].(map[string]any)
	}
	cases := []struct {
		name, check string
		edit        func(t *testing.T, d map[string]any)
		want        string
	}{
		{"an automatic production rollback", "rollback", func(t *testing.T, d map[string]any) {
			delete(rule(t, d, "rollback-service-production"), "when")
		}, "a rollback is never automatic"},
		{"a rollback in merge-request pipelines", "rollback", func(t *testing.T, d map[string]any) {
			j := node(t, d, "rollback-model-production")
			j["rules"] = append(j["rules"].([]any), map[string]any{"if": `$CI_PIPELINE_SOURCE == "merge_request_event"`, "when": "manual"})
		}, "may match outside pushes to the default branch"},
		{"a rollback without rules", "rollback", func(t *testing.T, d map[string]any) {
			delete(node(t, d, "rollback-service-staging"), "rules")
		}, "needs rules"},
		{"a rollback that creates no deployment", "rollback", func(t *testing.T, d map[string]any) {
			node(t, d, "rollback-service-production", "environment")["action"] = "access"
		}, "action: start"},
		{"a rollback of another environment", "rollback", func(t *testing.T, d map[string]any) {
			editScript(t, d, "rollback-service-staging", "--env=staging", "--env=production")
		}, "needs environment: {name: production"},
		{"a rollback in another resource group", "rollback", func(t *testing.T, d map[string]any) {
			node(t, d, "rollback-model-production")["resource_group"] = "staging"
		}, `resource_group is "staging", want "production"`},
		{"no job token", "rollback", func(t *testing.T, d map[string]any) {
			editScript(t, d, "rollback-service-production", " --job-token=env:CI_JOB_TOKEN", "")
		}, "want --job-token=env:CI_JOB_TOKEN"},
		{"a declared actor", "rollback", func(t *testing.T, d map[string]any) {
			editScript(t, d, "rollback-model-production", "--confirm=true", "--confirm=true --actor=alice")
		}, "drop it"},
		{"an unquoted reason", "rollback", func(t *testing.T, d map[string]any) {
			editScript(t, d, "rollback-service-production", `--reason="$ROLLBACK_REASON"`, `--reason=$ROLLBACK_REASON`)
		}, "quoted"},
		{"no production model rollback", "rollback", func(t *testing.T, d map[string]any) {
			delete(d, "rollback-model-production")
		}, "no manual rollback-model job for production"},
		{"a rollback from a CI job", "scripts", func(t *testing.T, d map[string]any) {
			editScript(t, d, "deploy-dev", " deploy --env=dev", " rollback-service --env=dev")
		}, "rollbacks are never run by CI"},
		{"a rollback job taken for the production deploy", "deploy", func(t *testing.T, d map[string]any) {
			delete(d, "deploy-production")
		}, "no job deploys to production"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := mutate(t, base, func(d map[string]any) { tc.edit(t, d) })
			problems := checks[tc.check](broken, ev)
			require.NotEmpty(t, problems, "check %s accepted a broken copy", tc.check)
			assert.Contains(t, strings.Join(problems, "\n"), tc.want)
		})
	}
}
