package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Trace formats.
const (
	traceFormatText = "text"
	traceFormatJSON = "json"
)

// traceLabels are the OCI labels an image says what it was built from with.
var traceLabels = []string{trace.LabelRevision, trace.LabelDatasetVersion, trace.LabelDatasetPointer, trace.LabelModelVersion}

// Trace tells what runs in an environment: the git commit, the image digests, the dataset and
// model versions, read from the annotations the chart writes on the live Helm release (`helm
// get manifest`, Secret values blanked in the container). It then reads the OCI labels of every
// image digest (revision, dataset and model versions) and checks that they agree with the
// release's record: a mismatch is an error that shows the record and every disagreement. It
// also shows the environment's last rollback (the audit release rollback-service keeps).
// Read-only.
//
// +cache="never"
func (m *SoccerPredict) Trace(
	ctx context.Context,
	// Environment to trace: dev, staging or production.
	env string,
	// Kubeconfig of the cluster, as a secret (--kubeconfig=env:KUBECONFIG_CONTENT or
	// file:$HOME/.kube/config).
	kubeconfig *dagger.Secret,
	// Output format: text or json.
	// +optional
	// +default="text"
	format string,
	// Registry user, to read the labels of private images (GitLab: $CI_REGISTRY_USER).
	// +optional
	username string,
	// Registry password or token, as a secret: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
	// A Helm chart to trace dev with, for a chart still in review. Refused for staging and
	// production, which are traced with the module's own committed chart.
	// +optional
	chart *dagger.Directory,
) (_ string, err error) {
	defer surface(&err)
	format = strings.ToLower(strings.TrimSpace(format))
	if format == "" {
		format = traceFormatText
	}
	if format != traceFormatText && format != traceFormatJSON {
		return "", fmt.Errorf("--format=%q: use text or json", format)
	}
	if err := credentialPair(username, password); err != nil {
		return "", err
	}
	e, err := domain.ParseEnvironment(env)
	if err != nil {
		return "", err
	}
	if m, chart, err = m.forEnvironment(ctx, e, chart); err != nil {
		return "", err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	rec, repos, err := m.liveTrace(ctx, s, e, kubeconfig, chart)
	if err != nil {
		return "", err
	}
	labels, refs, err := m.traceImageLabels(ctx, s, rec, repos, username, password)
	if err != nil {
		return "", err
	}
	checkErr := checkedRecord(rec).CheckLabels(labels)
	report := traceReport{Record: rec, Images: refs, Labels: labels, Consistent: checkErr == nil}
	report.LastRollback, report.LastRollbackError = m.traceLastRollback(ctx, s, e, kubeconfig, chart)
	if checkErr != nil {
		report.Problems = strings.Split(checkErr.Error(), "\n")
	}
	var out string
	if format == traceFormatJSON {
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return "", err
		}
		out = string(b) + "\n"
	} else {
		out = report.Text()
	}
	if checkErr != nil {
		return "", fmt.Errorf("%s\nthe images running in %s do not match the release's traceability record: redeploy the published digests with `deploy`", out, e)
	}
	return out, nil
}

// traceReport is what trace prints.
type traceReport struct {
	Record trace.Record `json:"record"`
	// Images maps a service to the image reference whose labels were read.
	Images map[domain.Service]string `json:"images"`
	// Labels maps a service to the traceability labels of its image.
	Labels map[domain.Service]map[string]string `json:"labels"`
	// Consistent is true when the labels agree with the record.
	Consistent bool `json:"consistent"`
	// Problems lists every disagreement.
	Problems []string `json:"problems,omitempty"`
	// LastRollback is the record of the environment's last rollback-service (nil: none stored);
	// LastRollbackError says why it could not be read.
	LastRollback      *rollback.Record `json:"lastRollback,omitempty"`
	LastRollbackError string           `json:"lastRollbackError,omitempty"`
}

// traceLastRollback reads the last rollback record of env; a failure to read it does not fail
// trace, it is reported.
func (m *SoccerPredict) traceLastRollback(ctx context.Context, s configpkg.Settings, env domain.Environment, kubeconfig *dagger.Secret, chart *dagger.Directory) (*rollback.Record, string) {
	ctr, err := m.helmContainer(ctx, chart, kubeconfig)
	if err != nil {
		return nil, err.Error()
	}
	r, err := lastRollback(ctx, ctr, s, env.Namespace(s.Namespace))
	if err != nil {
		return nil, err.Error()
	}
	return r, ""
}

// Text renders the report for a terminal.
func (r traceReport) Text() string {
	var b strings.Builder
	b.WriteString(r.Record.Text())
	b.WriteString("\nimage labels:\n")
	services := make([]domain.Service, 0, len(r.Images))
	for svc := range r.Images {
		services = append(services, svc)
	}
	sort.Slice(services, func(i, j int) bool { return services[i] < services[j] })
	for _, svc := range services {
		fmt.Fprintf(&b, "  %s (%s)\n", svc, r.Images[svc])
		for _, k := range traceLabels {
			v := r.Labels[svc][k]
			if v == "" {
				v = "(none)"
			}
			fmt.Fprintf(&b, "    %s: %s\n", k, v)
		}
	}
	switch {
	case r.LastRollback != nil:
		fmt.Fprintf(&b, "\nlast rollback: %s\n", r.LastRollback.Summary())
	case r.LastRollbackError != "":
		fmt.Fprintf(&b, "\nlast rollback: could not be read (%s)\n", r.LastRollbackError)
	default:
		b.WriteString("\nlast rollback: none recorded\n")
	}
	if r.Consistent {
		b.WriteString("\nconsistency: OK (every image label agrees with the record)\n")
	} else {
		b.WriteString("\nconsistency: MISMATCH\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	return b.String()
}

// liveTrace reads the traceability record of the release deployed in env, and the repository
// of each image digest as the manifest names it.
func (m *SoccerPredict) liveTrace(ctx context.Context, s configpkg.Settings, env domain.Environment, kubeconfig *dagger.Secret, chart *dagger.Directory) (trace.Record, map[domain.Digest]domain.Repository, error) {
	if kubeconfig == nil {
		return trace.Record{}, nil, fmt.Errorf("reading what runs in %s needs --kubeconfig (a secret: --kubeconfig=env:KUBECONFIG_CONTENT or file:$HOME/.kube/config)", env)
	}
	ns := env.Namespace(s.Namespace)
	argv, err := helm.GetManifestArgs(s.Release, ns, 0)
	if err != nil {
		return trace.Record{}, nil, err
	}
	ctr, err := m.helmContainer(ctx, chart, kubeconfig)
	if err != nil {
		return trace.Record{}, nil, err
	}
	manifest, err := liveRead(ctx, ctr, redacting(argv),
		fmt.Sprintf("the release %s in namespace %s", s.Release, ns))
	if err != nil {
		return trace.Record{}, nil, err
	}
	objs, err := helm.TraceObjects([]byte(manifest))
	if err != nil {
		return trace.Record{}, nil, fmt.Errorf("release %s in %s: %w", s.Release, ns, err)
	}
	rec, err := trace.FromManifest(objs, s.Release)
	if err != nil {
		return trace.Record{}, nil, fmt.Errorf("release %s in %s: %w", s.Release, ns, err)
	}
	if rec.Environment != env {
		return trace.Record{}, nil, fmt.Errorf("release %s in namespace %s records environment %q, not %q: check SP_NAMESPACE and --env", s.Release, ns, rec.Environment, env)
	}
	repos, err := helm.ImageRepositories([]byte(manifest))
	if err != nil {
		return trace.Record{}, nil, fmt.Errorf("release %s in %s: read the image repositories of its workloads: %w", s.Release, ns, err)
	}
	return rec, repos, nil
}

// traceImageLabels reads the traceability labels of every image of the record that has a
// digest. Repositories come from the manifest; a digest the manifest does not name is looked
// up under <registry>/<service>.
func (m *SoccerPredict) traceImageLabels(ctx context.Context, s configpkg.Settings, rec trace.Record, repos map[domain.Digest]domain.Repository, username string, password *dagger.Secret) (map[domain.Service]map[string]string, map[domain.Service]string, error) {
	pinned := map[domain.Service]domain.ImageRef{}
	var all []domain.ImageRef
	for _, svc := range domain.Services() {
		digest := rec.ImageDigests[svc]
		if digest == "" {
			continue // dev may run an image by tag: nothing to read
		}
		repo, ok := repos[digest]
		if !ok {
			repo = s.Registry.Service(svc)
		}
		pinned[svc] = domain.Pinned(repo, digest)
		all = append(all, pinned[svc])
	}
	read, err := m.imageLabels(ctx, all, username, password, nil)
	if err != nil {
		return nil, nil, err
	}
	labels := map[domain.Service]map[string]string{}
	refs := map[domain.Service]string{}
	for svc, ref := range pinned {
		labels[svc], refs[svc] = read[ref.String()], ref.String()
	}
	return labels, refs, nil
}

// checkedRecord is the record restricted to the images that have a digest (the only ones
// whose labels can be read).
func checkedRecord(rec trace.Record) trace.Record {
	out := rec
	out.ImageDigests = map[domain.Service]domain.Digest{}
	for svc, d := range rec.ImageDigests {
		if d != "" {
			out.ImageDigests[svc] = d
		}
	}
	return out
}

// imageLabels reads the traceability labels of images by digest (image config only; nothing
// runs) with the registry tool, `oci labels`, so that every registry the tool reaches can be read:
// a loopback one through --local-registry included, which the engine itself cannot pull from.
// The answer is keyed by each reference's string; absent labels are left out. insecure are the
// --insecure-registry opt-ins of the caller (nil: none).
func (m *SoccerPredict) imageLabels(ctx context.Context, refs []domain.ImageRef, username string, password *dagger.Secret, insecure []string) (map[string]map[string]string, error) {
	if len(refs) == 0 {
		return map[string]map[string]string{}, nil
	}
	ctr, creds, err := m.toolContainer(ctx, toolchain.OCI, ociBin, username, password, refs...)
	if err != nil {
		return nil, err
	}
	args := []string{ociBin, "labels"}
	for _, r := range refs {
		args = append(args, "--image", r.String())
	}
	args = append(args, creds...)
	args = append(args, insecureArgs(insecure, refs...)...)
	// An image by digest never changes: its labels may come from the cache.
	out, err := ctr.WithExec(args).Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the labels of the images: %w", toolFailure("oci labels", err))
	}
	var read map[string]map[string]string
	if err := json.Unmarshal([]byte(out), &read); err != nil {
		return nil, fmt.Errorf("oci labels printed %q: %w", strings.TrimSpace(out), err)
	}
	res := map[string]map[string]string{}
	for _, r := range refs {
		all, ok := read[r.String()]
		if !ok {
			return nil, fmt.Errorf("oci labels did not answer for %s", r)
		}
		res[r.String()] = map[string]string{}
		for _, k := range traceLabels {
			if v := all[k]; v != "" {
				res[r.String()][k] = v
			}
		}
	}
	return res, nil
}

// liveRead runs argv, a read of the cluster's live state, in ctr and returns its stdout. It
// never comes from the cache (the cluster changes under the same inputs); a non-zero exit is
// an error naming what was read, with the tail of helm's stderr.
func liveRead(ctx context.Context, ctr *dagger.Container, argv []string, what string) (string, error) {
	stdout, stderr, code, err := live(ctx, ctr, argv)
	if err != nil {
		return "", err
	}
	if code != 0 {
		hint := ""
		if strings.Contains(stderr, "not found") {
			hint = ": is it deployed? check --env, SP_NAMESPACE and SP_RELEASE"
		}
		return "", fmt.Errorf("read %s (exit %d)%s: %s", what, code, hint, strings.Join(gate.Tail(stderr, 5), " | "))
	}
	return stdout, nil
}

// live runs argv against the cluster's live state, whatever its exit code, never from the
// cache (the cluster changes under the same inputs).
func live(ctx context.Context, ctr *dagger.Container, argv []string) (stdout, stderr string, code int, err error) {
	done := ctr.
		WithEnvVariable("SP_READ_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(argv, anyExit)
	if code, err = done.ExitCode(ctx); err != nil {
		return "", "", 0, err
	}
	if stdout, err = done.Stdout(ctx); err != nil {
		return "", "", 0, err
	}
	if code != 0 {
		stderr, err = done.Stderr(ctx)
	}
	return stdout, stderr, code, err
}
