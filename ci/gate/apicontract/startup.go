package apicontract

import (
	"fmt"
	"strconv"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// StartupSeconds is how long the diagnostic run lets the API live: still running after that
// means it started (and the problem is elsewhere); exiting before means it failed to start.
const StartupSeconds = 20

// timedOut is coreutils timeout's exit code when the command was still running.
const timedOut = 124

// StartupCommand runs the image's own command (entrypoint + default args) for StartupSeconds,
// so that a service that fails at start leaves its exit code and its output.
func StartupCommand(entrypoint, args []string) []string {
	cmd := []string{"timeout", "-s", "INT", strconv.Itoa(StartupSeconds)}
	cmd = append(cmd, entrypoint...)
	return append(cmd, args...)
}

// ServiceFailed is the api-contract result when the probe got no answer from the service
// (probe says why), judged from a diagnostic run of the service's own command (StartupCommand):
// its exit code and output. The result carries the service's last output lines, the reason it
// did not serve. A service that could not run at all (exit 126/127, a missing module) is an
// Error of the gate; a service that crashed at start is a Fail of the project.
func ServiceFailed(probe string, code int, serviceOutput string) gate.Result {
	details := []string{"probe: " + probe, "service output (last lines):"}
	tail := gate.Tail(serviceOutput, 20)
	if len(tail) == 0 {
		tail = []string{"(no output)"}
	}
	details = append(details, tail...)
	var summary string
	switch code {
	case timedOut:
		summary = fmt.Sprintf("the API service kept running for %ds but did not answer the probe: check its port (%s)", StartupSeconds, probe)
	case 0:
		summary = "the API service exited 0 at start: its command must keep serving"
	default:
		summary = fmt.Sprintf("the API service exited %d at start: %s", code, gate.Last(serviceOutput))
	}
	return gate.ClassifyRun(gate.NewResult(gate.APIContract, gate.Fail, summary, details...), code, serviceOutput)
}
