package engines

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

// kyvernoPolicy is the ClusterPolicy docs/evidence.md ships, with what the test changes and why:
//
//   - the image pattern's registry host, registry.gitlab.com, becomes the loopback registry's
//     host:port (the repository path, shippedPath, is kept).
//
// Nothing else: the attestors' keyless subject and issuer are the shipped ones (the evidence is
// signed for the committed identity), and the trust in the Sigstore instance is not in the
// policy: Kyverno reads trusted_root.json through sigstore's TUF client, which its admission
// controller initialises from --tufMirror/--tufRoot and which the test initialises in TUF_ROOT
// from its own mirror (the policy's rekor url is not contacted for SigstoreBundle: the bundle
// carries its log entry).
func kyvernoPolicy(t *testing.T, w *world) string {
	t.Helper()
	return substitute(t, shipped(t, "ClusterPolicy"), `"`+shippedRegistry+"/"+shippedPath+`/*"`, `"`+w.registryHost+"/"+shippedPath+`/*"`, 1)
}

// kyvernoPod is the resource Kyverno admits or refuses: a Pod running image.
func kyvernoPod(image string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: default
spec:
  containers:
    - name: api
      image: %s
`, image)
}

// What Kyverno says of each refused image: the attestation whose conditions failed, or that no
// bundle verified (Kyverno does not say why a bundle did not verify: another identity, an
// untrusted Sigstore and no bundle at all read the same).
func kyvernoReason(c admissionCase) string {
	conditions := func(predicateType string) string {
		return "attestation checks failed for " + c.image + " and predicate " + predicateType
	}
	switch c.name {
	case failingGate:
		return conditions(attest.PredicateGateReport)
	case highFinding, criticalFinding:
		return conditions(attest.PredicateVuln)
	case anotherIdentity, untrustedSigstore, noAttestations:
		return "sigstore bundle verification failed: no matching signatures found"
	}
	return ""
}

// Kyverno's closing count: one result per rule it applied (the rule and its digest mutation).
var (
	allPassed = regexp.MustCompile(`(?m)^pass: [1-9][0-9]*, fail: 0, warn: 0, error: 0, skip: 0 *$`)
	failed    = regexp.MustCompile(`(?m)^pass: 0, fail: [1-9][0-9]*, warn: 0, error: 0, skip: 0 *$`)
)

func TestKyvernoEvaluatesTheShippedClusterPolicy(t *testing.T) {
	bin := kyvernoCLI.build(t)
	w := theWorldOf(t)
	// Kyverno splits --resource at commas: the files are named by index, not by the case.
	dir := t.TempDir()
	policy := writeFile(t, dir, "policy.yaml", []byte(kyvernoPolicy(t, w)))
	for i, c := range w.cases(t) {
		t.Run(c.name, func(t *testing.T) {
			pod := writeFile(t, dir, fmt.Sprintf("pod-%d.yaml", i), []byte(kyvernoPod(c.image)))
			stdout, stderr, ok := run(t, isolatedEnv(t, w.tufCache), bin, "apply", policy, "--resource", pod, "--registry")
			out := stdout + stderr
			if c.admit() {
				require.True(t, ok, "kyverno refused:\n%s", out)
				assert.Regexp(t, allPassed, stdout)
				return
			}
			require.False(t, ok, "kyverno admitted:\n%s", out)
			assert.Regexp(t, failed, stdout)
			assert.Contains(t, stdout, "policy soccerpredict-evidence -> resource default/Pod/api failed")
			assert.Contains(t, stdout, kyvernoReason(c), "kyverno's reason")
		})
	}
}
