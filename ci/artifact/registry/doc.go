// Package registry promotes images between tags and repositories by digest, with
// go-containerregistry.
//
// A promotion copies the manifest (image or index) that a "repo@sha256:..." reference
// names to one or more "repo:tag" destinations, and then reads every destination back to
// prove it resolves to the same digest. Nothing is rebuilt and the digest never changes:
//
//   - same repository: only the manifest is PUT under the new tag (remote.Tag); no blob
//     is touched;
//   - another repository of the same registry: remote.Write / remote.WriteIndex check
//     each blob with HEAD and skip those already present; missing layers are
//     cross-repository mounted (POST ?mount=<digest>&from=<repo>), config blob included,
//     so no blob is uploaded again;
//   - another registry: every blob the destination lacks is copied once; blobs it already
//     has are skipped.
//
// Tags are immutable here: a destination tag that already points at a different digest
// is refused unless [Options].AllowOverwrite is set. "latest" is the exception, it is
// meant to move. All destinations are checked before anything is written, so a refused
// promotion changes nothing.
//
// Publishing (publish.go, image.go) is the other half: [Normalize] makes every timestamp of
// a built image (config, history, file mtimes newer than the commit) the commit time,
// [WriteImageTarball]/[ReadImageTarball] move it as a deterministic OCI archive (the file
// Trivy scans is the file pushed), and [PublishImage] pushes it under a tag that never moves
// (ci/artifact.DecideTag: push, reuse, or refuse).
//
// Credentials are never read from the process environment implicitly: the caller builds
// them with [LoadCredentials] or [CredentialsFromEnv] and passes them in [Options].
// Plain http is decided by one rule, [PlainHTTP]: loopback registries (localhost,
// 127.0.0.0/8, [::1]) are reached over http when they have no TLS, like publish reaches
// them; any other registry only over https unless its host is listed with
// --insecure-registry ([ParseInsecureRegistries]); production refuses that opt-in
// (ci/deploy/policy.CheckInsecureRegistries, applied by the module before a tool runs). go-containerregistry's silent http fallback for private
// addresses is blocked by [PlainHTTP.Transport].
//
// The evidence of an image (ci/artifact/attest: gate report, Trivy report, SBOM, SLSA provenance) lives
// next to it as OCI 1.1 referrers of its digest: [Attach] writes them (referrers API, or the
// sha256-<hex> tag schema on registries without it), [FetchEvidence] reads them back trusting
// only manifests whose own subject is the digest, and a promotion into another repository or
// registry copies them along ([PromoteAll] does it for every destination).
//
// This package pulls in go-containerregistry and must not be imported by the Dagger
// module; the module runs it through the ci/cmd/oci tool.
package registry
