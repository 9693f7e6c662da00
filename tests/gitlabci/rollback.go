package gitlabci

import (
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// IsRollbackJob reports whether a job calls one of the module's rollback-* functions.
func IsRollbackJob(job map[string]any) bool {
	calls, err := Calls(job)
	if err != nil {
		return false
	}
	for _, c := range calls {
		if strings.HasPrefix(c.Function(), "rollback-") {
			return true
		}
	}
	return false
}

// CheckRollbackJobs: every rollback job is manual (never automatic), only in a push pipeline of
// the default branch (so never in a merge-request pipeline), creates a GitLab deployment of its
// environment (action start, so a protected environment holds it for approvals), has that
// environment's resource group, and its single dagger call carries the identity flags deploy uses,
// --confirm=true and a quoted --reason variable. Production needs a service and a model rollback.
func CheckRollbackJobs(c *Config) []string {
	var problems []string
	have := map[string]bool{}
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		if err != nil || !IsRollbackJob(job) {
			continue
		}
		calls, _ := Calls(job)
		if len(calls) != 1 {
			problems = append(problems, fmt.Sprintf("job %s: a rollback job runs exactly one dagger call, got %d", name, len(calls)))
			continue
		}
		fn := calls[0].Chain[0]
		envArg, _ := fn.Arg("env")
		env, err := domain.ParseEnvironment(envArg)
		if err != nil {
			problems = append(problems, fmt.Sprintf("job %s: %s --env=%s: %v", name, fn.Name, envArg, err))
			continue
		}
		have[fn.Name+"/"+string(env)] = true
		e, _ := job["environment"].(map[string]any)
		if e == nil || e["name"] != string(env) || !deploys(e) {
			problems = append(problems, fmt.Sprintf("job %s: needs environment: {name: %s, action: start} so GitLab creates a deployment that the protected environment holds for approval, got %v", name, env, job["environment"]))
		} else if e["deployment_tier"] != tierName[env] {
			problems = append(problems, fmt.Sprintf("job %s: deployment_tier is %v, want %s", name, e["deployment_tier"], tierName[env]))
		}
		if rg, _ := job["resource_group"].(string); rg != string(env) {
			problems = append(problems, fmt.Sprintf("job %s: resource_group is %q, want %q so a rollback never overlaps a deploy to %s", name, rg, env, env))
		}
		want := map[string]string{
			"project-id":   "$CI_PROJECT_ID",
			"job-id":       "$CI_JOB_ID",
			"pipeline-id":  "$CI_PIPELINE_ID",
			"job-token":    "env:CI_JOB_TOKEN",
			"gitlab-token": "env:GITLAB_DEPLOY_TOKEN",
			"confirm":      "true",
		}
		for k, v := range want {
			if got, _ := fn.Arg(k); got != v {
				problems = append(problems, fmt.Sprintf("job %s: %s --%s=%s, want --%s=%s", name, fn.Name, k, got, k, v))
			}
		}
		if a, ok := fn.Arg("actor"); ok {
			problems = append(problems, fmt.Sprintf("job %s: %s --actor=%s: drop it, who rolls back is proven by GitLab from --job-token", name, fn.Name, a))
		}
		if r, _ := fn.Arg("reason"); !strings.HasPrefix(r, "$") || !strings.Contains(calls[0].Line, `--reason="`+r+`"`) {
			problems = append(problems, fmt.Sprintf("job %s: pass the reason as --reason=\"$ROLLBACK_REASON\" (quoted, set when running the manual job), got %q", name, r))
		}
		rules, err := ParseRules(job["rules"])
		if err != nil || len(rules) == 0 {
			problems = append(problems, fmt.Sprintf("job %s: a rollback job needs rules limiting it to manual runs on the default branch (%v)", name, err))
			continue
		}
		for i, r := range rules {
			if r.When == "never" {
				continue
			}
			if r.When != "manual" {
				problems = append(problems, fmt.Sprintf("job %s rule %d: a rollback is never automatic: when: manual, got %q", name, i, r.When))
			}
			if r.If == "" {
				problems = append(problems, fmt.Sprintf("job %s rule %d: a rollback rule needs an if: limiting it to the default branch", name, i))
				continue
			}
			ex, err := ParseExpr(r.If)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if !onlyDefaultBranch(ex) {
				problems = append(problems, fmt.Sprintf("job %s rule %d: %q may match outside pushes to the default branch (e.g. a merge-request pipeline)", name, i, r.If))
			}
		}
	}
	for _, fn := range []string{"rollback-service", "rollback-model"} {
		if !have[fn+"/"+string(domain.Production)] {
			problems = append(problems, fmt.Sprintf("no manual %s job for production: add one with environment: {name: production, action: start}", fn))
		}
	}
	return problems
}
