// Package helm decides how helm is invoked for the soccer-predict chart and
// reads what helm prints back. It builds argv slices (helm runs in a
// container; this package never runs it), validates release inputs, parses
// `helm history -o json`, diffs two rendered manifests and splits a
// `helm get manifest` output into the objects ci/trace reads the
// traceability record from (TraceObjects). The record itself, and the chart
// values that carry it, are ci/trace's (trace.Record.ChartValues).
//
// It is plain Go with no helm, Kubernetes or SOPS import, so the Dagger module
// can import it. Argv slices start with "helm" and target Helm 4's flags (the
// toolchain's helm image is Helm 4): --rollback-on-failure (Helm 3's --atomic, deprecated in 4)
// and --wait=watcher (kstatus readiness; a bare --wait is Helm 3's boolean form, deprecated).
package helm
