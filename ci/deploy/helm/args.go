package helm

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Services are the chart's images, the keys of images.<svc> in its values.
var Services = []string{"api", "worker", "airflow"}

// Image is an image repository pinned by digest.
type Image struct {
	// Repository is the image name without tag or digest.
	Repository string `json:"repository"`
	// Digest is "sha256:" + 64 hex.
	Digest string `json:"digest"`
}

// Ref returns repository@digest.
func (i Image) Ref() string { return i.Repository + "@" + i.Digest }

// Validate checks the repository and the digest.
func (i Image) Validate() error {
	if err := ValidateRepository(i.Repository); err != nil {
		return err
	}
	return ValidateDigest(i.Digest)
}

// ParseImageRef splits "repository@sha256:..." (as publish writes it to
// images.env) into an Image. A tag between repository and digest
// ("repo:tag@sha256:...") is dropped: the digest alone identifies the image.
func ParseImageRef(ref string) (Image, error) {
	at := strings.LastIndex(ref, "@")
	if at < 0 {
		return Image{}, fmt.Errorf("image %q has no @sha256: digest: deploy images by digest (use the refs publish wrote to images.env)", ref)
	}
	repo, digest := ref[:at], ref[at+1:]
	if slash := strings.LastIndex(repo, "/"); strings.LastIndex(repo, ":") > slash {
		repo = repo[:strings.LastIndex(repo, ":")]
	}
	img := Image{Repository: repo, Digest: digest}
	if err := img.Validate(); err != nil {
		return Image{}, fmt.Errorf("image %q: %w", ref, err)
	}
	return img, nil
}

// Trace is the traceability record a release carries: the chart writes it
// into the annotations of every workload and of the <release>-trace
// ConfigMap.
type Trace struct {
	// GitCommit is the commit the release was built from.
	GitCommit string `json:"gitCommit"`
	// ImageDigests maps service to image digest. The chart derives it from
	// images.<svc>.digest; it is filled when a Trace is parsed back.
	ImageDigests map[string]string `json:"imageDigests,omitempty"`
	// DatasetVersion is the DVC dataset version the model was trained on.
	DatasetVersion string `json:"datasetVersion"`
	// DatasetPointer is the DVC file DatasetVersion was read from (optional).
	DatasetPointer string `json:"datasetPointer,omitempty"`
	// ModelVersion is the model registry version served.
	ModelVersion string `json:"modelVersion"`
	// Environment is where the release runs.
	Environment Env `json:"environment"`
}

// Validate checks the record for env: staging and production need every
// field; in dev empty fields are allowed but set ones must be well formed.
func (t Trace) Validate(env Env) error {
	if _, err := ParseEnv(string(env)); err != nil {
		return err
	}
	if t.Environment != "" && t.Environment != env {
		return fmt.Errorf("trace environment %q differs from the target environment %q: build the trace for the environment you deploy to", t.Environment, env)
	}
	fields := []struct {
		name, flag, value string
		check             func(string) error
	}{
		{"git commit", "--commit", t.GitCommit, ValidateGitCommit},
		{"dataset version", "the dataset's DVC pointer: track the dataset with `dvc add` and commit its .dvc file (e.g. data/raw/matches.csv.dvc), or commit a dvc.lock whose stages record it", t.DatasetVersion, func(v string) error { return ValidateVersion("dataset version", v) }},
		{"model version", "the model version (model registry)", t.ModelVersion, func(v string) error { return ValidateVersion("model version", v) }},
	}
	for _, f := range fields {
		if f.value == "" {
			if env.RequiresTrace() {
				return fmt.Errorf("trace: %s is empty: %s deploys must record it; pass %s", f.name, env, f.flag)
			}
			continue
		}
		if err := f.check(f.value); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
	if t.DatasetPointer != "" {
		if err := trace.ValidateDatasetPointer(t.DatasetPointer); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
	for svc, d := range t.ImageDigests {
		if err := ValidateDigest(d); err != nil {
			return fmt.Errorf("trace: image %s: %w", svc, err)
		}
	}
	return nil
}

// Release describes one helm release of the chart.
type Release struct {
	// Name is the helm release name (DNS-1123 label, starts with a letter).
	Name string
	// Namespace is the Kubernetes namespace.
	Namespace string
	// Env selects values-<env>.yaml.
	Env Env
	// Chart is the chart directory as helm sees it (e.g.
	// /src/charts/soccer-predict); values.yaml and values-<env>.yaml are
	// read from it.
	Chart string
	// SecretsFile is the decrypted secret values file, or "{}" when helm
	// runs under `sops-decrypt exec-file`, which substitutes the path.
	SecretsFile string
	// Timeout bounds helm's --wait (upgrade only; default DefaultTimeout).
	Timeout time.Duration
	// Images maps every service in Services to its image.
	Images map[string]Image
	// Trace is the traceability record; its Environment defaults to Env.
	Trace Trace
}

// DefaultTimeout is used when Release.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// validate checks everything before any argv is built.
func (r Release) validate() error {
	if err := ValidateReleaseName(r.Name); err != nil {
		return err
	}
	if err := ValidateNamespace(r.Namespace); err != nil {
		return err
	}
	if _, err := ParseEnv(string(r.Env)); err != nil {
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
	known := map[string]bool{}
	for _, svc := range Services {
		known[svc] = true
		img, ok := r.Images[svc]
		if !ok {
			return fmt.Errorf("no image for service %s: pass all of %s (from publish's images.env)", svc, strings.Join(Services, ", "))
		}
		if err := img.Validate(); err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
	}
	for svc := range r.Images {
		if !known[svc] {
			return fmt.Errorf("image for unknown service %q: the chart has %s", svc, strings.Join(Services, ", "))
		}
	}
	if len(r.Trace.ImageDigests) > 0 {
		return fmt.Errorf("trace.ImageDigests is set: leave it empty, the chart derives it from Images")
	}
	return r.Trace.Validate(r.Env)
}

// valuesArgs returns the -f and --set-string arguments shared by upgrade
// and template.
func (r Release) valuesArgs() []string {
	args := []string{
		"-f", path.Join(r.Chart, "values.yaml"),
		"-f", path.Join(r.Chart, "values-"+string(r.Env)+".yaml"),
		"-f", r.SecretsFile,
	}
	svcs := append([]string(nil), Services...)
	sort.Strings(svcs)
	for _, svc := range svcs {
		img := r.Images[svc]
		args = append(args,
			"--set-string", setString("images."+svc+".repository", img.Repository),
			"--set-string", setString("images."+svc+".digest", img.Digest),
		)
	}
	args = append(args,
		"--set-string", setString("trace.gitCommit", r.Trace.GitCommit),
		"--set-string", setString("trace.datasetVersion", r.Trace.DatasetVersion),
		"--set-string", setString("trace.modelVersion", r.Trace.ModelVersion),
		"--set-string", setString("trace.environment", string(r.Env)),
	)
	if r.Trace.DatasetPointer != "" {
		args = append(args, "--set-string", setString("trace.datasetPointer", r.Trace.DatasetPointer))
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
//	helm upgrade --install --atomic --wait --timeout <d> --namespace <ns> --create-namespace
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
	args := []string{"helm", "upgrade", "--install", "--atomic", "--wait",
		"--timeout", timeout.String(),
		"--namespace", r.Namespace, "--create-namespace",
		r.Name, r.Chart}
	return append(args, r.valuesArgs()...), nil
}

// TemplateArgs returns the argv of `helm template` with the same values as
// UpgradeArgs (for plan). Its output holds the Secret: pass it through
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
// `helm rollback <release> [revision] --namespace <ns> --wait --timeout <d>`.
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
	return append(args, "--namespace", rb.Namespace, "--wait", "--timeout", timeout.String()), nil
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
	if err := ValidateReleaseName(release); err != nil {
		return err
	}
	return ValidateNamespace(namespace)
}
