// Package scan turns a Trivy scan into a verdict and GitLab reports, without ever writing a
// secret Trivy found.
//
//   - [ParseTrivy] reads `trivy image --format json` (or `trivy fs`) output (schema version 2, an
//     ArtifactName: `{}` is refused), and [Report.Names] checks that it is the report of a given
//     image digest; [ImageScanArgs] and [SourceScanArgs] are the command lines that write it
//     (vulnerabilities and secrets of an image; secrets of the project's files);
//   - [ParseIgnore] reads a .trivyignore-style list: one vulnerability ID or secret rule ID a
//     line, "#" comments, and an optional "exp:YYYY-MM-DD" expiry after the ID. As in Trivy,
//     an entry stops ignoring once the scan time is after midnight UTC of its expiry date;
//   - [ParseSecretConfig] reads and checks the project's trivy-secret.yaml (Trivy's secret
//     scanner configuration), and [SecretConfig.Describe] says what it allows;
//   - [ParseSeverities] validates the blocking severities (UNKNOWN, LOW, MEDIUM, HIGH,
//     CRITICAL; default HIGH,CRITICAL);
//   - [Evaluate] sorts every finding, vulnerability or secret, into blocking, non-blocking and
//     ignored, and [Verdict.Err] lists the blocking ones (a secret by rule, file and line; a
//     vulnerability by ID, package, installed → fixed version, severity) with the fix;
//   - [Redact] strips from Trivy's JSON what may hold a secret in clear (code excerpts, unmasked
//     matches, layer commands, the image config): the only form of it the pipeline exports;
//   - [GitLabReport] writes the GitLab container_scanning report and [SecretDetectionReport]
//     the secret_detection report (schema 15.0.7), with what the allow-list allowed as messages.
//
// Besides ci/domain it uses the standard library and gopkg.in/yaml.v3 only; the scan time is always
// passed in.
package scan
