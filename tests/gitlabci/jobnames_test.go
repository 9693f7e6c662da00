package gitlabci

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// The policy counts only the approvals of the deployment its environment's deploy job (or the
// rollback's job) created, by name: every job that deploys or rolls back in .gitlab-ci.yml carries
// the name policy.DeployJob / policy.RollbackJob give it, and each such name is a job.
func TestJobNamesAreThePolicys(t *testing.T) {
	c := load(t)
	seen := map[string]bool{}
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		require.NoError(t, err)
		calls, err := Calls(job)
		if err != nil {
			continue
		}
		for _, call := range calls {
			fn := call.Chain[0]
			envArg, _ := fn.Arg("env")
			env, err := domain.ParseEnvironment(envArg)
			if err != nil {
				continue
			}
			var want string
			switch fn.Name {
			case "deploy":
				want = policy.DeployJob(env)
			case "rollback-service", "rollback-model":
				want = policy.RollbackJob(fn.Name, env)
			default:
				continue
			}
			assert.Equal(t, want, name, "the job running %s --env=%s", fn.Name, env)
			seen[want] = true
		}
	}
	for _, want := range []string{"deploy-dev", "deploy-staging", "deploy-production", "rollback-service-staging", "rollback-service-production", "rollback-model-production"} {
		assert.True(t, seen[want], "no job %s", want)
	}
}
