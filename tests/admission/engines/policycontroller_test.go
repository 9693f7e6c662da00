package engines

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clusterImagePolicy is the ClusterImagePolicy docs/evidence.md ships, with what the test
// changes and why:
//
//   - the image glob's registry host, registry.gitlab.com, becomes the loopback registry's
//     host:port (the repository path, shippedPath, is kept);
//   - keyless.insecureIgnoreSCT: true, because sigstoretest's virtual Fulcio issues
//     certificates without an embedded SCT (no CT log runs here; without it the tester refuses
//     even the positive twin: "only able to verify 0 SCT entries"); the certificate chain, the
//     identity, the issuer, the Rekor entry and its signed timestamp are all still checked.
//
// The trust in the Sigstore instance is not in the policy: with no trustRootRef the
// policy-controller reads trusted_root.json through sigstore's TUF client, which its webhook
// initialises from --tuf-mirror/--tuf-root and which the test initialises in TUF_ROOT from its
// own mirror.
func clusterImagePolicy(t *testing.T, w *world) string {
	t.Helper()
	p := substitute(t, shipped(t, "ClusterImagePolicy"), `"`+shippedRegistry+"/"+shippedPath+`/**"`, `"`+w.registryHost+"/"+shippedPath+`/**"`, 1)
	return substitute(t, p, "      keyless:\n", "      keyless:\n        insecureIgnoreSCT: true\n", 1)
}

// What the policy-controller says of each refused image.
var policyControllerReasons = map[string][]string{
	failingGate:       {"failed evaluating cue policy for green-gate-report", `predicate.verdict: conflicting values "fail" and "pass"`},
	highFinding:       {"failed evaluating cue policy for clean-scan", `Severity: invalid value "HIGH"`},
	criticalFinding:   {"failed evaluating cue policy for clean-scan", `Severity: invalid value "CRITICAL"`},
	anotherIdentity:   {"attestation keyless validation failed for authority gitlab-default-branch", `got "https://gitlab.com/someone/else//.gitlab-ci.yml@refs/heads/main"`},
	untrustedSigstore: {"attestation keyless validation failed for authority gitlab-default-branch", "not enough verified log entries from transparency log: 0 < 1"},
	noAttestations:    {"attestation keyless validation failed for authority gitlab-default-branch", "no valid bundles exist in registry"},
}

func TestPolicyControllerEvaluatesTheShippedClusterImagePolicy(t *testing.T) {
	bin := policyTester.build(t)
	w := theWorldOf(t)
	policy := writeFile(t, t.TempDir(), "cip.yaml", []byte(clusterImagePolicy(t, w)))
	for _, c := range w.cases(t) {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, ok := run(t, isolatedEnv(t, w.tufCache), bin, "-policy", policy, "-image", c.image, "-log-level", "warn")
			// The tester prints {"errors": [...], "warnings": [...]} when it refuses, nothing when
			// it admits; a warning (a deprecated field, say) fails the test either way.
			var answer struct{ Errors, Warnings []string }
			if strings.TrimSpace(stdout) != "" {
				require.NoError(t, json.Unmarshal([]byte(stdout), &answer), "the tester's answer:\n%s%s", stdout, stderr)
			}
			assert.Empty(t, answer.Warnings, "the policy-controller warns of the shipped policy")
			if c.admit() {
				require.True(t, ok, "the policy-controller refused:\n%s%s", stdout, stderr)
				assert.Empty(t, answer.Errors)
				return
			}
			require.False(t, ok, "the policy-controller admitted:\n%s", stderr)
			require.Len(t, answer.Errors, 1, "%s", stderr)
			for _, want := range policyControllerReasons[c.name] {
				assert.Contains(t, answer.Errors[0], want, "the policy-controller's reason")
			}
		})
	}
}
