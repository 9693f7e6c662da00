package helm

import (
	"fmt"
	"regexp"
	"strings"
)

// failures are helm's answers when it could not act on the cluster at all, each with the fix. They
// are matched on what helm and client-go print (Helm 4, checked against a real API server in
// tests/chart/live); the first match wins.
var failures = []struct {
	re  *regexp.Regexp
	fix func(m []string) string
}{
	{regexp.MustCompile(`another operation \(install/upgrade/rollback\) is in progress`), func([]string) string {
		return "another deploy or rollback of this release is running: wait for it to finish (a deploy killed half-way is recovered by the next deploy once its --timeout has passed)"
	}},
	{regexp.MustCompile(`context was not found for specified context: (\S+)|context "([^"]*)" does not exist`), func(m []string) string {
		return fmt.Sprintf("the kubeconfig has no context %q: pass the kubeconfig of the target cluster, with its current-context set", m[1]+m[2])
	}},
	{regexp.MustCompile(`x509: certificate signed by unknown authority|x509: certificate is valid for [^,]*, not|tls: failed to verify certificate`), func([]string) string {
		return "the API server's certificate does not match the kubeconfig's certificate authority: the kubeconfig is for another cluster (check its server and certificate-authority-data)"
	}},
	{regexp.MustCompile(`dial tcp ([^:]+:\d+|\[[^\]]+\]:\d+): (connect: connection refused|i/o timeout|connect: no route to host|connect: network is unreachable)|no such host`), func(m []string) string {
		return "the API server in the kubeconfig cannot be reached: check the kubeconfig's server address and that this runner can reach it"
	}},
	{regexp.MustCompile(`(?:Unauthorized|You must be logged in to the server)`), func([]string) string {
		return "the API server refused the kubeconfig's credentials: renew the token or certificate in the kubeconfig"
	}},
	{regexp.MustCompile(`User "([^"]+)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?`), func(m []string) string {
		where := "cluster-wide"
		if m[5] != "" {
			where = "in namespace " + m[5]
		}
		return fmt.Sprintf("RBAC forbids %s to %s %s %s: grant the deploy's ServiceAccount a Role that allows it (helm needs to manage every kind the chart renders and the release's Secrets)", m[1], m[2], m[3], where)
	}},
	{regexp.MustCompile(`namespaces "([^"]+)" not found`), func(m []string) string {
		return fmt.Sprintf("namespace %s does not exist: deploy creates it (--create-namespace), or check SP_NAMESPACE and --env", m[1])
	}},
	{regexp.MustCompile(`release: not found|release "?[^" ]*"? not found`), func([]string) string {
		return "the release is not installed in this namespace: deploy it first, or check SP_RELEASE, SP_NAMESPACE and --env"
	}},
}

// ExplainFailure returns the fix for helm's error output when helm could not act on the cluster
// (unreachable API server, a kubeconfig for another cluster or context, RBAC, a missing namespace
// or release, another operation in progress), or "" when stderr is none of these.
func ExplainFailure(stderr string) string {
	for _, f := range failures {
		if m := f.re.FindStringSubmatch(stderr); m != nil {
			return strings.TrimSpace(f.fix(m))
		}
	}
	return ""
}
