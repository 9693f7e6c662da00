package policy

import "strings"

// The GitLab that proves the approvals of staging and production, fixed in the module's code: a
// caller who could choose it (CI_API_V4_URL in a settings file, --project-id) could answer with a
// fake server, or with a project of their own whose approvers they are. Changing them is a
// reviewed commit of this repository; dev keeps whatever the settings say.
const (
	// TrustedGitLabAPI is the API root of the GitLab instance ($CI_API_V4_URL of its pipelines).
	TrustedGitLabAPI = "https://gitlab.com/api/v4"
	// TrustedProject is the project, as GitLab names it (path_with_namespace): a numeric
	// --project-id counts when GitLab answers with this path for it.
	TrustedProject = "soccerpredictai/soccerpredict"
)

// ProofSource is where a Proof came from: the GitLab API it was asked (CI_API_V4_URL) and the
// project GitLab answered for the project id given (path_with_namespace; "" when not asked).
type ProofSource struct {
	API, Project string
}

// checkSource refuses, for staging and production, a proof GitLab did not give from the fixed
// instance and project.
func checkSource(src ProofSource, refuse func(string, ...any)) {
	if !strings.EqualFold(strings.TrimSuffix(src.API, "/"), TrustedGitLabAPI) {
		refuse("approvals are proven by %s, not by the GitLab fixed for staging and production (%s, policy.TrustedGitLabAPI): drop CI_API_V4_URL from the settings", orUnknown(src.API), TrustedGitLabAPI)
	}
	if !strings.EqualFold(src.Project, TrustedProject) {
		refuse("approvals are proven in project %s, not in %s (policy.TrustedProject): pass --project-id of %s", orUnknown(src.Project), TrustedProject, TrustedProject)
	}
}
