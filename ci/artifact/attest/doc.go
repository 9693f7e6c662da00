// Package attest is the evidence attached to an image in its registry, the way Tekton Chains
// and cosign attach theirs: OCI 1.1 referrers (manifests whose `subject` is the image digest)
// carrying the gate report of the commit, the Trivy JSON and the CycloneDX SBOM of that digest,
// and an in-toto v1 Statement with a SLSA v1 provenance predicate.
//
//   - the artifact types ([TypeGateReport], [TypeTrivy], [TypeSBOM], [TypeInToto]);
//   - [NewProvenance] builds the provenance statement from what publish knows (builder, commit,
//     ref, pipeline, dataset and model versions, base images by digest), [ParseStatement]
//     reads it back strictly;
//   - [Verify] decides whether the documents attached to one digest prove what a deploy or a
//     release needs: a gate report of the commit with every blocking gate passed (ci/gate), a
//     Trivy report and an SBOM of that very image (ci/artifact/scan), a provenance statement whose subject
//     is the digest and whose source is the commit, and an image whose
//     org.opencontainers.image.revision label is the commit. Every problem says what is
//     missing and which command produces it;
//   - [FileEvidence] is the rule for caller-supplied report files: only dev takes them;
//   - signed evidence (dsse.go): [StatementFor] wraps each document in an in-toto v1 Statement
//     about the digest, signed in a DSSE envelope ([TypeDSSE]) by ci/artifact/attest/signing;
//     [VerifySigned] counts only statements whose signature an [EnvelopeVerifier] accepts and
//     whose subject is the digest (the earlier format, still read by trace); [ParsePublicKey]
//     and [KeyID] read a keyed policy's key.
//   - Sigstore bundles (bundle.go, policy.go): the referrer layout cosign v3 writes
//     ([TypeSigstoreBundle] and its annotations), cosign's vuln predicate for the Trivy report,
//     [VerifyBundles] counting only bundles a [BundleVerifier] accepts (envelopes of the
//     earlier format: "republish"), and the committed trust policy ([SigstorePolicyPath],
//     [ParseSigstorePolicy], [TrustedSigstorePolicy]); signing and checking them is
//     ci/artifact/attest/sigstore's job (sigstore-go, its own Go module, tools and tests only);
//   - the rules of the module (rule.go): [EvidenceTrust] (staging and production count only
//     bundles under the committed policy), [SigningFor] (the signing flag of the policy's mode),
//     [Summary.Check] (the verifier's answer is about this run's question), [RepublishFix].
//
// The package is plain Go (standard library and ci/ packages) so the module may build
// statements and apply the rules; reading and writing referrers is ci/artifact/registry's job
// (go-containerregistry) and signing is ci/artifact/attest/signing's (go-securesystemslib), both run as
// the ci/cmd/oci tool. Unsigned documents are bound to the image only by the referrer's
// subject digest: anyone with push access to the repository could attach one, which is why
// staging and production count only signed statements.
package attest
