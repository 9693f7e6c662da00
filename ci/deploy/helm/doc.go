// Package helm decides how helm is invoked for the soccer-predict chart and
// reads what helm prints back. It builds argv slices (helm runs in a
// container; this package never runs it), validates release inputs, parses
// `helm history -o json`, diffs two rendered manifests and splits a
// `helm get manifest` output into the objects ci/trace reads the
// traceability record from (TraceObjects). The record itself, and the chart
// values that carry it, are ci/trace's (trace.Record.ChartValues).
//
// It is plain Go with no helm, Kubernetes or SOPS import, so the Dagger module
// can import it. Argv slices start with "helm" and target helm v3 flags
// (--atomic).
package helm
