// Package scan turns a Trivy image scan into a verdict and a GitLab report.
//
//   - [ParseTrivy] reads `trivy image --format json` output (schema version 2, an ArtifactName:
//     `{}` is refused), and [Report.Names] checks that it is the report of a given image digest;
//   - [ParseIgnore] reads a .trivyignore-style list: one vulnerability ID a line,
//     "#" comments, and an optional "exp:YYYY-MM-DD" expiry after the ID. As in Trivy,
//     an entry stops ignoring once the scan time is after midnight UTC of its expiry date;
//   - [ParseSeverities] validates the blocking severities (UNKNOWN, LOW, MEDIUM, HIGH,
//     CRITICAL; default HIGH,CRITICAL);
//   - [Evaluate] sorts every finding into blocking, non-blocking and ignored, and
//     [Verdict.Err] lists the blocking ones (ID, package, installed → fixed version,
//     severity) with the fix;
//   - [GitLabReport] writes the GitLab container_scanning report (schema 15.0.7).
//
// The package uses the standard library only; the scan time is always passed in.
package scan
