// Package config holds the pipeline's typed settings.
//
// Settings come from GitLab's predefined CI variables (CI_COMMIT_SHA, CI_REGISTRY_IMAGE, ...)
// and the pipeline's own SP_* variables. Module functions run inside a container where the
// host's environment is invisible, so nothing here reads the process environment: values
// arrive as function arguments or a `.env`-format file, and Load decodes them with
// go-envconfig from an explicit lookuper.
package config

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/sethvargo/go-envconfig"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// The settings that hold the project's training commands (see project.ParseCommand).
const (
	TrainCommandSetting = "SP_TRAIN_COMMAND"
	SmokeCommandSetting = "SP_SMOKE_COMMAND"
)

// Settings is every setting the pipeline reads. The README's settings table documents each
// field; Catalog lists them for that table and for tests.
type Settings struct {
	Commit          domain.Commit     `env:"CI_COMMIT_SHA"`
	Ref             string            `env:"CI_COMMIT_REF_NAME"`
	Tag             string            `env:"CI_COMMIT_TAG"`
	CommitTime      string            `env:"CI_COMMIT_TIMESTAMP"`
	DefaultBranch   string            `env:"CI_DEFAULT_BRANCH, default=main"`
	ProjectURL      string            `env:"CI_PROJECT_URL, default=https://gitlab.com/soccerpredictai/soccerpredict"`
	Registry        domain.Repository `env:"CI_REGISTRY_IMAGE, default=registry.gitlab.com/soccerpredictai/soccerpredict"`
	RegistryMirror  string            `env:"SP_REGISTRY_MIRROR"`
	GateConcurrency int               `env:"SP_GATE_CONCURRENCY, default=4"`
	RuffVersion     string            `env:"SP_RUFF_VERSION"`
	ModelTolerances string            `env:"SP_MODEL_TOLERANCES, default=accuracy=0.002,brier=0.001,log_loss=0.001"`
	PerfBudgetPct   float64           `env:"SP_PERF_BUDGET_PCT, default=10"`
	FirstModel      bool              `env:"SP_FIRST_MODEL, default=false"`
	TrainCmd        string            `env:"SP_TRAIN_COMMAND, default=python -m soccerpredict.pipeline.train --full --out {metrics} --model-out {model}"`
	SmokeCmd        string            `env:"SP_SMOKE_COMMAND, default=python -m soccerpredict.pipeline.train --smoke --out {metrics} --model-out {model}"`
	ScanSeverities  []string          `env:"SP_SCAN_SEVERITIES, default=HIGH,CRITICAL"`
	IgnoreUnfixed   bool              `env:"SP_SCAN_IGNORE_UNFIXED, default=true"`
	HelmTimeout     time.Duration     `env:"SP_HELM_TIMEOUT, default=10m"`
	Namespace       string            `env:"SP_NAMESPACE, default=soccerpredict"`
	Release         string            `env:"SP_RELEASE, default=soccer-predict"`
	MLflowURL       string            `env:"MLFLOW_TRACKING_URI"`
	MLflowModel     string            `env:"SP_MLFLOW_MODEL, default=soccer-predict"`
	MLflowUsername  string            `env:"MLFLOW_TRACKING_USERNAME"`
	GitLabAPI       string            `env:"CI_API_V4_URL, default=https://gitlab.com/api/v4"`
	ProjectID       string            `env:"CI_PROJECT_ID"`
}

// Setting documents one variable.
type Setting struct {
	Name        string
	Default     string
	Description string
}

// Catalog lists every setting with its default and meaning, in README order.
func Catalog() []Setting {
	return []Setting{
		{"CI_COMMIT_SHA", "", "Commit being built: the full id, 40 (or 64) lowercase hex. Labels images and the traceability record; `--commit`."},
		{"CI_COMMIT_REF_NAME", "", "Branch or tag name; the branch tag is its slug plus the short sha; `--ref`."},
		{"CI_COMMIT_TAG", "", "Release tag `vX.Y.Z` when the pipeline runs for a tag; `--tag`."},
		{"CI_COMMIT_TIMESTAMP", "", "Commit time (RFC 3339). Every timestamp in a built image comes from it, never from the clock (the Dockerfiles get it as `SOURCE_DATE_EPOCH`); `build`/`publish` need it; `--commit-time`."},
		{"CI_DEFAULT_BRANCH", "main", "Branch whose pushes deploy to dev."},
		{"CI_PROJECT_URL", "https://gitlab.com/soccerpredictai/soccerpredict", "Source URL written into `org.opencontainers.image.source`."},
		{"CI_REGISTRY_IMAGE", "registry.gitlab.com/soccerpredictai/soccerpredict", "Image repository prefix; services push to `<prefix>/<service>`; `--registry`."},
		{"SP_REGISTRY_MIRROR", "", "Prefix for every tool image (GitLab Dependency Proxy or an air-gapped mirror); `--registry-mirror`. Staging and production (deploy, the rollbacks, release) accept only the prefix committed in `ci/toolchain/pins.go`, GitLab's Dependency Proxy of the project's group `gitlab.com:443/soccerpredictai/dependency_proxy/containers` (what `$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX` is in CI), or none."},
		{"SP_GATE_CONCURRENCY", "4", "Gates `check` runs at once (1-16)."},
		{"SP_RUFF_VERSION", "", "ruff release `X.Y.Z` the lint gate runs when the project's `requirements-dev.txt` does not list ruff (its pin always wins); installed with pip unless the python image's ruff is that version. Unset: the image's ruff, its version named in the report."},
		{"SP_MODEL_TOLERANCES", "accuracy=0.002,brier=0.001,log_loss=0.001", "Per-metric absolute tolerance vs the champion: numerical noise between library builds (one match in 500 for accuracy), far below a real regression. `accuracy=0` makes the gate exact. Bounded in the module's code (0.05 for a quality metric, 50 for `latency_ms_p95`): a larger value is refused; the gate report records the tolerances that judged it, and deploy refuses a report that does not, or whose tolerances exceed the bounds."},
		{"SP_PERF_BUDGET_PCT", "10", "Latency increase (percent) that raises the perf-regression signal."},
		{"SP_FIRST_MODEL", "false", "`true` only for the very first model: the model gate accepts a candidate when there is no champion (else no champion is an error); production refuses a gate report that used it. `model-gate --first-model` sets it for one call."},
		{TrainCommandSetting, project.DefaultTrainCommand, "The project's training command on its full data: the model gate's candidate, and how `metrics/champion.json` is written (`{metrics}` = `metrics/champion.json`). Run without a shell, words split as `sh` would; `{metrics}` (required) is replaced by the metrics JSON path the gate reads back, `{model}` by where to save the model. The default fits the bundled sample; a project without `--full` sets its own, e.g. `python -m soccerpredict.pipeline.train --out {metrics} --model-out {model}`."},
		{SmokeCommandSetting, project.DefaultSmokeCommand, "The project's smoke training command (the `smoke` gate: the pipeline runs end to end on the reduced dataset), with the same placeholders as `SP_TRAIN_COMMAND`."},
		{"SP_SCAN_SEVERITIES", "HIGH,CRITICAL", "Trivy severities that block (from UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL): vulnerabilities and secrets alike, in the images and in the project's files. Staging, production and `release` always block HIGH and CRITICAL (fixed in `ci/artifact/scan`): a value that blocks fewer is refused there."},
		{"SP_SCAN_IGNORE_UNFIXED", "true", "Vulnerabilities with no fixed version are reported but do not block (Trivy's --ignore-unfixed). Never applies to a secret."},
		{"SP_HELM_TIMEOUT", "10m", "`helm upgrade --timeout` (Go duration, 30s-1h)."},
		{"SP_NAMESPACE", "soccerpredict", "Kubernetes namespace prefix; the environment is appended (`soccerpredict-staging`)."},
		{"SP_RELEASE", "soccer-predict", "Helm release name, at most 47 characters: its rollback audit release `<name>-audit` must be one too."},
		{"MLFLOW_TRACKING_URI", "", "MLflow server; when set, the champion baseline comes from its `champion` alias."},
		{"SP_MLFLOW_MODEL", "soccer-predict", "Registered model name in MLflow (the model gate's champion). `rollback-model` moves only `soccer-predict`, the model production serves (fixed in code, `mlflow.ProductionModel`): another value is refused there."},
		{"MLFLOW_TRACKING_USERNAME", "", "Username for an MLflow server with HTTP Basic login (`mlflow server --app-name basic-auth`), with the password as `--mlflow-password`: as in MLflow's own client, username and password are sent as Basic and win over `--mlflow-token` (sent as Bearer)."},
		{"CI_API_V4_URL", "https://gitlab.com/api/v4", "GitLab API used to prove deployment approvals. Staging and production count only the answers of `https://gitlab.com/api/v4` about project `soccerpredictai/soccerpredict`, fixed in the module's code (`policy.TrustedGitLabAPI`, `policy.TrustedProject`): another value is refused there."},
		{"CI_PROJECT_ID", "", "GitLab project id for the approvals and release-notes API calls."},
	}
}

var (
	severities  = []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	ruffRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// Load decodes settings from lookup (flags and file values merged by the caller) and
// validates them. Every problem is reported, each naming the variable and what it accepts.
func Load(ctx context.Context, values map[string]string) (Settings, error) {
	var s Settings
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &s,
		Lookuper: envconfig.MapLookuper(values),
	}); err != nil {
		return Settings{}, fmt.Errorf("settings: %w (check the value's type: integers, durations like 10m, comma-separated lists)", err)
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate checks every field and joins all problems into one error.
func (s Settings) Validate() error {
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	if s.Commit != "" {
		if _, err := domain.ParseCommit(string(s.Commit)); err != nil {
			add("CI_COMMIT_SHA=%q: %v", s.Commit, err)
		}
	}
	if s.CommitTime != "" {
		if _, err := parseCommitTime(s.CommitTime); err != nil {
			add("%v", err)
		}
	}
	if _, err := domain.ParseRepository(string(s.Registry)); err != nil {
		add("CI_REGISTRY_IMAGE=%q: want an image repository such as registry.gitlab.com/group/project (lowercase, no tag): %v", s.Registry, err)
	}
	if s.RegistryMirror != "" && !validMirror(strings.TrimSuffix(s.RegistryMirror, "/")) {
		add("SP_REGISTRY_MIRROR=%q: want a registry prefix such as gitlab.example.com:443/group/dependency_proxy/containers", s.RegistryMirror)
	}
	if s.RuffVersion != "" && !ruffRelease.MatchString(s.RuffVersion) {
		add("SP_RUFF_VERSION=%q: want a ruff release X.Y.Z, e.g. 0.16.4", s.RuffVersion)
	}
	if s.GateConcurrency < 1 || s.GateConcurrency > 16 {
		add("SP_GATE_CONCURRENCY=%d: want an integer from 1 to 16", s.GateConcurrency)
	}
	if s.PerfBudgetPct <= 0 || s.PerfBudgetPct > 1000 {
		add("SP_PERF_BUDGET_PCT=%g: want a percentage above 0 and at most 1000", s.PerfBudgetPct)
	}
	if len(s.ScanSeverities) == 0 {
		add("SP_SCAN_SEVERITIES is empty: want one or more of %s", strings.Join(severities, ","))
	}
	for _, sev := range s.ScanSeverities {
		if !contains(severities, sev) {
			add("SP_SCAN_SEVERITIES has %q: want a comma-separated subset of %s", sev, strings.Join(severities, ","))
		}
	}
	for _, c := range []struct{ setting, line string }{{TrainCommandSetting, s.TrainCmd}, {SmokeCommandSetting, s.SmokeCmd}} {
		if _, err := command(c.setting, c.line); err != nil {
			add("%v", err)
		}
	}
	if s.HelmTimeout < 30*time.Second || s.HelmTimeout > time.Hour {
		add("SP_HELM_TIMEOUT=%s: want a duration from 30s to 1h, e.g. 10m", s.HelmTimeout)
	}
	// The prefix must give a valid namespace for every environment (domain.Environment.Namespace).
	for _, env := range domain.Environments() {
		if err := domain.ValidateNamespace(env.Namespace(s.Namespace)); err != nil {
			add("SP_NAMESPACE=%q: want a DNS label prefix (lowercase letters, digits, '-') that leaves room for -%s: %v", s.Namespace, env, err)
			break
		}
	}
	if err := domain.ValidateReleaseName(s.Release); err != nil {
		add("SP_RELEASE=%q: want a Helm release name: %v", s.Release, err)
	} else if err := domain.ValidateReleaseName(domain.AuditRelease(s.Release)); err != nil {
		add("SP_RELEASE=%q: its rollback audit release %s must be a Helm release name too (%v): shorten SP_RELEASE to at most %d characters", s.Release, domain.AuditRelease(s.Release), err, domain.MaxReleaseNameLen-len(domain.AuditRelease("")))
	}
	for name, raw := range map[string]string{"MLFLOW_TRACKING_URI": s.MLflowURL, "CI_API_V4_URL": s.GitLabAPI, "CI_PROJECT_URL": s.ProjectURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("%s=%q: want an http(s) URL", name, raw)
		}
	}
	if s.MLflowModel == "" {
		add("SP_MLFLOW_MODEL is empty: want the registered model name")
	}
	if s.ProjectID != "" && strings.ContainsAny(s.ProjectID, " /?#") {
		add("CI_PROJECT_ID=%q: want the numeric project id (or URL-encoded path)", s.ProjectID)
	}
	if len(probs) == 0 {
		return nil
	}
	sort.Strings(probs)
	return fmt.Errorf("invalid settings:\n  - %s", strings.Join(probs, "\n  - "))
}

// TrainCommand is SP_TRAIN_COMMAND: the project's training run on its full data.
func (s Settings) TrainCommand() (project.Command, error) {
	return command(TrainCommandSetting, s.TrainCmd)
}

// SmokeCommand is SP_SMOKE_COMMAND: the project's training run on the reduced dataset.
func (s Settings) SmokeCommand() (project.Command, error) {
	return command(SmokeCommandSetting, s.SmokeCmd)
}

func command(setting, line string) (project.Command, error) {
	c, err := project.ParseCommand(setting, line)
	if err != nil {
		return project.Command{}, fmt.Errorf("%s=%q: %w", setting, line, err)
	}
	return c, nil
}

// ParseDotenv reads `.env`-format content (KEY=VALUE lines, comments, quotes). Unknown keys
// are an error that lists the known ones, so a typo never passes silently.
func ParseDotenv(content string) (map[string]string, error) {
	m, err := godotenv.Unmarshal(content)
	if err != nil {
		return nil, fmt.Errorf("config file: %w: use KEY=VALUE lines", err)
	}
	known := map[string]bool{}
	var names []string
	for _, s := range Catalog() {
		known[s.Name] = true
		names = append(names, s.Name)
	}
	var unknown []string
	for k := range m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("config file: unknown setting(s) %s: known settings are %s", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return m, nil
}

// Merge layers value maps: later maps win, empty values never override.
func Merge(layers ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, l := range layers {
		for k, v := range l {
			if v != "" {
				out[k] = v
			}
		}
	}
	return out
}

// Environ renders values as sorted KEY=VALUE lines (the module keeps its settings this way).
func Environ(values map[string]string) []string {
	out := make([]string, 0, len(values))
	for k, v := range values {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// FromEnviron is the inverse of Environ.
func FromEnviron(lines []string) map[string]string {
	out := make(map[string]string, len(lines))
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// commitTimeFix says how to pass the commit time.
const commitTimeFix = "pass --commit-time=$CI_COMMIT_TIMESTAMP in GitLab, or --commit-time=$(git show -s --format=%cI HEAD) locally"

// parseCommitTime reads an RFC 3339 commit time; it must not precede the Unix epoch
// (SOURCE_DATE_EPOCH and image timestamps count seconds from it).
func parseCommitTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || strings.TrimSpace(v) != v {
		return time.Time{}, fmt.Errorf("CI_COMMIT_TIMESTAMP=%q: want the commit's RFC 3339 time such as 2025-03-01T09:00:00+01:00: %s", v, commitTimeFix)
	}
	if t.Before(time.Unix(0, 0)) {
		return time.Time{}, fmt.Errorf("CI_COMMIT_TIMESTAMP=%q: is before 1970-01-01T00:00:00Z, not a commit time: %s", v, commitTimeFix)
	}
	return t, nil
}

// CommitTimestamp is the commit's time in UTC, whole seconds: the one source of every
// timestamp in a built image (label org.opencontainers.image.created, the image config's
// created and history). It is an error when the setting is missing, naming the flag.
func (s Settings) CommitTimestamp() (time.Time, error) {
	if s.CommitTime == "" {
		return time.Time{}, fmt.Errorf("the commit time is not set: image timestamps come from the commit, never from the clock: %s", commitTimeFix)
	}
	t, err := parseCommitTime(s.CommitTime)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Truncate(time.Second), nil
}

// validMirror reports whether m is a registry prefix: a repository name (a bare host such as
// "mirror.example.com:5000" is one too, with any path component appended).
func validMirror(m string) bool {
	_, err := domain.ParseRepository(m + "/x")
	return err == nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
