package helm

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Release describes one helm release of the chart.
type Release struct {
	// Name is the helm release name (DNS-1123 label, starts with a letter).
	Name string
	// Namespace is the Kubernetes namespace.
	Namespace string
	// Env selects values-<env>.yaml.
	Env domain.Environment
	// Chart is the chart directory as helm sees it (e.g.
	// /src/charts/soccer-predict); values.yaml and values-<env>.yaml are
	// read from it.
	Chart string
	// SecretsFile is the decrypted secret values file, or "{}" when helm
	// runs under `sops-decrypt exec-file`, which substitutes the path.
	SecretsFile string
	// Timeout bounds helm's --wait (upgrade only; default DefaultTimeout).
	Timeout time.Duration
	// Images maps every service of domain.Services to its image, pinned by digest.
	Images map[domain.Service]domain.ImageRef
	// Trace is the traceability record the chart writes (trace.Record.ChartValues). Its
	// Environment defaults to Env and must equal it; its ImageDigests default to the digests of
	// Images and, when set, must equal them (the chart derives the recorded digests from Images).
	Trace trace.Record
}

// DefaultTimeout is used when Release.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// validate checks everything before any argv is built.
func (r Release) validate() error {
	if err := domain.ValidateReleaseName(r.Name); err != nil {
		return err
	}
	if err := domain.ValidateNamespace(r.Namespace); err != nil {
		return err
	}
	if _, err := domain.ParseEnvironment(string(r.Env)); err != nil {
		return err
	}
	if r.Chart == "" {
		return fmt.Errorf("chart directory is empty: pass the path of charts/soccer-predict inside the helm container")
	}
	if r.SecretsFile == "" {
		return fmt.Errorf("secrets file is empty: pass the decrypted values file, or {} when helm runs under sops-decrypt exec-file")
	}
	if r.Timeout != 0 {
		if err := validateTimeout(r.Timeout); err != nil {
			return err
		}
	}
	for _, svc := range domain.Services() {
		img, ok := r.Images[svc]
		if !ok {
			return fmt.Errorf("no image for service %s: pass --%s-image (the %s publish wrote to images.env)", svc, svc, svc.ImageVar())
		}
		if img.Digest == "" {
			return fmt.Errorf("service %s: image %s is not pinned by digest: deploy images by digest (the %s publish wrote to images.env)", svc, img, svc.ImageVar())
		}
	}
	if len(r.Images) != len(domain.Services()) {
		return fmt.Errorf("images for services the chart does not have: the chart has %v", domain.Services())
	}
	rec := r.record()
	if rec.Environment != r.Env {
		return fmt.Errorf("trace environment %q differs from the target environment %q: build the trace for the environment you deploy to", r.Trace.Environment, r.Env)
	}
	for svc, d := range rec.ImageDigests {
		if img, ok := r.Images[svc]; !ok || img.Digest != d {
			return fmt.Errorf("the trace records image %s as %s but the release deploys %s: build the trace from the images you deploy", svc, d, img)
		}
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("traceability record for %s: %w", r.Env, err)
	}
	return nil
}

// record is r.Trace with its Environment defaulted to r.Env and its ImageDigests to the digests
// of r.Images (what the chart records).
func (r Release) record() trace.Record {
	rec := r.Trace
	if rec.Environment == "" {
		rec.Environment = r.Env
	}
	if rec.ImageDigests == nil {
		rec.ImageDigests = map[domain.Service]domain.Digest{}
		for svc, img := range r.Images {
			rec.ImageDigests[svc] = img.Digest
		}
	}
	return rec
}

// valuesArgs returns the -f and --set-string arguments shared by upgrade
// and template.
func (r Release) valuesArgs() []string {
	args := []string{
		"-f", path.Join(r.Chart, "values.yaml"),
		"-f", path.Join(r.Chart, "values-"+string(r.Env)+".yaml"),
		"-f", r.SecretsFile,
	}
	svcs := domain.Services()
	sort.Slice(svcs, func(i, j int) bool { return svcs[i] < svcs[j] })
	for _, svc := range svcs {
		img := r.Images[svc]
		args = append(args,
			"--set-string", setString("images."+svc.ChartKey()+".repository", string(img.Repository)),
			"--set-string", setString("images."+svc.ChartKey()+".digest", string(img.Digest)),
		)
	}
	for _, kv := range r.record().ChartValues() {
		args = append(args, "--set-string", setString(kv[0], kv[1]))
	}
	return args
}

// setString formats key=value for --set-string, escaping the characters
// helm's parser treats specially in values.
func setString(key, value string) string {
	value = strings.ReplaceAll(value, `\`, `\\`)
	value = strings.ReplaceAll(value, ",", `\,`)
	return key + "=" + value
}

// UpgradeArgs returns the argv of
//
//	helm upgrade --install --rollback-on-failure --wait=watcher --timeout <d> --namespace <ns> --create-namespace
//	  <release> <chart> -f <chart>/values.yaml -f <chart>/values-<env>.yaml -f <secrets>
//	  --set-string images.<svc>.repository=... --set-string images.<svc>.digest=...
//	  --set-string trace.gitCommit=... trace.datasetVersion=... trace.modelVersion=... trace.environment=<env>
func UpgradeArgs(r Release) ([]string, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	args := []string{"helm", "upgrade", "--install", "--rollback-on-failure", "--wait=watcher",
		"--timeout", timeout.String(),
		"--namespace", r.Namespace, "--create-namespace",
		r.Name, r.Chart}
	return append(args, r.valuesArgs()...), nil
}

// TemplateArgs returns the argv of `helm template` with the same values as
// UpgradeArgs (for deploy --dry-run). Its output holds the Secret: pass it through
// RedactSecrets before storing it.
func TemplateArgs(r Release) ([]string, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	args := []string{"helm", "template", r.Name, r.Chart, "--namespace", r.Namespace}
	return append(args, r.valuesArgs()...), nil
}

// GetManifestArgs returns the argv of `helm get manifest <release>
// --namespace <ns>`, for the given revision when revision > 0 (0: current).
func GetManifestArgs(release, namespace string, revision int) ([]string, error) {
	if err := validateTarget(release, namespace); err != nil {
		return nil, err
	}
	if revision < 0 {
		return nil, fmt.Errorf("revision %d is negative: use 0 for the current revision or a number from helm history", revision)
	}
	args := []string{"helm", "get", "manifest", release, "--namespace", namespace}
	if revision > 0 {
		args = append(args, "--revision", strconv.Itoa(revision))
	}
	return args, nil
}

// Rollback describes a helm rollback.
type Rollback struct {
	// Release and Namespace name the release.
	Release, Namespace string
	// Revision to roll back to; 0 means the previous revision.
	Revision int
	// Timeout bounds --wait (default DefaultTimeout).
	Timeout time.Duration
}

// RollbackArgs returns the argv of
// `helm rollback <release> [revision] --namespace <ns> --wait=watcher --timeout <d>`.
func RollbackArgs(rb Rollback) ([]string, error) {
	if err := validateTarget(rb.Release, rb.Namespace); err != nil {
		return nil, err
	}
	if rb.Revision < 0 {
		return nil, fmt.Errorf("revision %d is negative: use 0 for the previous revision or a number from helm history", rb.Revision)
	}
	timeout := rb.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if err := validateTimeout(timeout); err != nil {
		return nil, err
	}
	args := []string{"helm", "rollback", rb.Release}
	if rb.Revision > 0 {
		args = append(args, strconv.Itoa(rb.Revision))
	}
	return append(args, "--namespace", rb.Namespace, "--wait=watcher", "--timeout", timeout.String()), nil
}

// HistoryArgs returns the argv of `helm history <release> --namespace <ns>
// -o json`, limited to the last max revisions when max > 0.
func HistoryArgs(release, namespace string, max int) ([]string, error) {
	if err := validateTarget(release, namespace); err != nil {
		return nil, err
	}
	if max < 0 {
		return nil, fmt.Errorf("max %d is negative: use 0 for helm's default or a positive count", max)
	}
	args := []string{"helm", "history", release, "--namespace", namespace, "-o", "json"}
	if max > 0 {
		args = append(args, "--max", strconv.Itoa(max))
	}
	return args, nil
}

func validateTarget(release, namespace string) error {
	if err := domain.ValidateReleaseName(release); err != nil {
		return err
	}
	return domain.ValidateNamespace(namespace)
}
