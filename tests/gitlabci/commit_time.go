package gitlabci

import "fmt"

// BuildFunctions build images for push: their timestamps come from the commit, so every call
// passes --commit-time=$CI_COMMIT_TIMESTAMP (the module refuses to build without it).
var BuildFunctions = map[string]bool{"build": true, "build-all": true, "publish": true}

// CheckCommitTime: every call of a build function passes the commit time.
func CheckCommitTime(c *Config) []string {
	return eachJob(c, func(name string, _ map[string]any, calls []DaggerCall) []string {
		var p []string
		for _, d := range calls {
			if !BuildFunctions[d.Function()] {
				continue
			}
			if v, ok := d.CtorArg("commit-time"); !ok || v != OptionalCtorFlags["commit-time"] {
				p = append(p, fmt.Sprintf("job %s: %s builds images: pass --commit-time=%s (image timestamps come from the commit)", name, d.Function(), OptionalCtorFlags["commit-time"]))
			}
		}
		return p
	})
}
