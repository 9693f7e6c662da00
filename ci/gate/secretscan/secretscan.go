// Package secretscan turns Trivy's secret scan of the project's files (`trivy fs --scanners
// secret`, scan.SourceScanArgs) into the secret-scan gate's result and its reports: Trivy's JSON
// without anything that may hold a secret in clear (scan.Redact) and GitLab's secret detection
// report. A key in a file that never enters an image is a leak all the same: the gate blocks on
// the image scan's severities (SP_SCAN_SEVERITIES) with the project's own allow-list
// (trivy-secret.yaml, .trivyignore), which its details show.
package secretscan

import (
	"fmt"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Options are what the verdict and the reports need besides Trivy's output.
type Options struct {
	// Policy is the scan policy: blocking severities, the project's .trivyignore and the time.
	Policy scan.Policy
	// Config is the project's trivy-secret.yaml Trivy ran with (zero when there is none).
	Config scan.SecretConfig
	// Commit is the commit whose files were scanned ("" when unknown).
	Commit string
	// Run is Trivy's run (version, times); its notes are what Evaluate finds the allow-list did.
	Run scan.Run
}

// Outcome is the gate's result and the report files to keep (by name: gate.SecretScanJSON and
// gate.SecretDetection), which are written whatever the verdict; no files when Trivy's output
// could not be read.
type Outcome struct {
	Result gate.Result
	Files  map[string][]byte
}

// Evaluate judges raw, the JSON Trivy wrote. The result fails when a secret of a blocking
// severity is not accepted by .trivyignore, naming each by severity, rule, file and line (never
// the secret); it is an error when the output is not a Trivy report or the policy is invalid.
// The details end with what the project's allow-list allows and accepted.
func Evaluate(raw []byte, o Options) Outcome {
	errored := func(err error) Outcome {
		return Outcome{Result: gate.NewResult(gate.SecretScan, gate.Error, "Trivy's secret scan of the project's files: "+err.Error())}
	}
	rep, err := scan.ParseTrivy(raw)
	if err != nil {
		return errored(err)
	}
	v, err := scan.Evaluate(rep, o.Policy)
	if err != nil {
		return errored(err)
	}
	redacted, err := scan.Redact(raw)
	if err != nil {
		return errored(err)
	}
	notes := append(o.Config.Describe(), v.IgnoredNotes()...)
	run := o.Run
	run.Notes = notes
	gl, err := scan.SecretDetectionReport(v.ReportedSecrets(), scan.SecretDetectionOptions{Commit: o.Commit, Run: run})
	if err != nil {
		return errored(err)
	}
	files := map[string][]byte{gate.SecretScanJSON: redacted, gate.SecretDetection: gl}

	var details []string
	for _, f := range v.BlockingSecrets {
		details = append(details, fmt.Sprintf("%s %s", f.Severity, f))
	}
	for _, f := range v.NonBlockingSecrets {
		details = append(details, fmt.Sprintf("%s %s: below the blocking severities, reported only", f.Severity, f))
	}
	if n := len(v.BlockingSecrets); n > 0 {
		details = append(details, "fix: "+scan.SecretFix)
	}
	for _, n := range notes {
		details = append(details, "allow-list: "+n)
	}
	severities := scan.JoinSeverities(v.Severities)
	if n := len(v.BlockingSecrets); n > 0 {
		summary := fmt.Sprintf("secrets in the project's files: %d of a blocking severity (%s)", n, severities)
		return Outcome{Result: gate.NewResult(gate.SecretScan, gate.Fail, summary, details...), Files: files}
	}
	summary := "no secret of a blocking severity (" + severities + ") in the project's files"
	if n := len(v.NonBlockingSecrets) + len(v.IgnoredSecrets); n > 0 {
		summary += fmt.Sprintf("; %d below them or accepted", n)
	}
	return Outcome{Result: gate.NewResult(gate.SecretScan, gate.Pass, summary, details...), Files: files}
}
