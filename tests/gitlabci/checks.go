package gitlabci

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Every check below returns the problems it found (nil when there are none), so the tests can
// show that each check fails on a broken copy of the file.

// InstallLine is the only non-dagger line a job may run: the official install script, which reads
// the pinned version from $DAGGER_VERSION and verifies the download's checksum.
const InstallLine = "wget -qO- https://dl.dagger.io/dagger/install.sh | BIN_DIR=/usr/local/bin sh"

// ProxyLoginLine logs the job's Docker client in to GitLab's Dependency Proxy, whose pulls need
// credentials: the Dagger CLI hands the client's registry credentials to the engine, so every
// image pulled through --registry-mirror (tool images, Dockerfile FROM lines) is authenticated.
// The password goes through stdin, never an argument.
const ProxyLoginLine = `echo "$CI_DEPENDENCY_PROXY_PASSWORD" | docker login --username "$CI_DEPENDENCY_PROXY_USER" --password-stdin "$CI_DEPENDENCY_PROXY_SERVER"`

// Stages is the stage list the issue fixes.
var Stages = []string{"base", "linting", "build", "deploy-images", "deploy", "release", "pages"}

// CtorFlags are the constructor flags every `dagger call` passes, with their GitLab variables.
var CtorFlags = map[string]string{
	"commit":          "$CI_COMMIT_SHA",
	"ref":             "$CI_COMMIT_REF_NAME",
	"registry":        "$CI_REGISTRY_IMAGE",
	"registry-mirror": "$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX",
}

// OptionalCtorFlags may be passed in addition (tag pipelines).
var OptionalCtorFlags = map[string]string{"tag": "$CI_COMMIT_TAG", "commit-time": "$CI_COMMIT_TIMESTAMP",
	// rollback-model-production: a GitLab File variable with MLFLOW_TRACKING_URI=... (docs/gitlab.md).
	"settings-file": "$SOCCERPREDICT_SETTINGS"}

// SecretFlags are the module flags of type Secret: their value must be an env:NAME reference.
var SecretFlags = map[string]bool{"password": true, "gitlab-token": true, "kubeconfig": true, "age-key": true, "signing-key": true, "signing-key-password": true, "sigstore-id-token": true}

// SigningFunctions attach evidence: under the committed keyless Sigstore policy their job signs
// with its own OIDC token (IDTokenVariable, audience IDTokenAudience).
var SigningFunctions = map[string]bool{"publish": true, "attest": true}

// The job's OIDC token publish and attest sign with: GitLab's id_tokens entry and the audience
// Sigstore's Fulcio accepts.
const (
	IDTokenVariable = "SIGSTORE_ID_TOKEN"
	IDTokenAudience = "sigstore"
)

// secretName matches variable names that hold credentials.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|TOKEN|SECRET|PRIVATE|CREDENTIAL|KUBECONFIG|AGE_KEY|_KEY$)`)

var (
	envRef   = regexp.MustCompile(`^env:[A-Z_][A-Z0-9_]*$`)
	varRef   = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`)
	pinnedV  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	daggerV  = regexp.MustCompile(`^v?([0-9]+\.[0-9]+\.[0-9]+)$`)
	tierName = map[domain.Environment]string{domain.Dev: "development", domain.Staging: "staging", domain.Production: "production"}
)

// SideEffectFunctions change something outside the engine (registry, cluster, GitLab).
var SideEffectFunctions = map[string]bool{"publish-base": true, "publish": true, "promote": true, "deploy": true, "release": true}

// ReportProducers names the module function whose exported directory holds each report file.
var ReportProducers = map[string]string{
	gate.CodeQuality:       "gate-report",
	gate.SecretDetection:   "gate-report",
	gate.JUnit:             "gate-report",
	gate.Coverage:          "gate-report",
	gate.GateReportJSON:    "gate-report",
	gate.ContainerScanning: "scan-report",
	gate.SBOM:              "scan-report",
	gate.ImagesEnv:         "publish",
}

// Calls returns a resolved job's script as parsed `dagger call` lines.
func Calls(job map[string]any) ([]DaggerCall, error) {
	lines, ok := job["script"].([]any)
	if !ok {
		return nil, fmt.Errorf("script must be a list of lines")
	}
	var out []DaggerCall
	for _, l := range lines {
		s, ok := l.(string)
		if !ok {
			return nil, fmt.Errorf("script line %v is not a string", l)
		}
		d, err := ParseDaggerCall(s)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// eachJob runs fn on every visible job, resolved; resolution and script errors become problems.
func eachJob(c *Config, fn func(name string, job map[string]any, calls []DaggerCall) []string) []string {
	var problems []string
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		calls, err := Calls(job)
		if err != nil {
			problems = append(problems, fmt.Sprintf("job %s: %v", name, err))
			continue
		}
		problems = append(problems, fn(name, job, calls)...)
	}
	return problems
}

// CheckScripts: every job runs one or two `dagger call` lines, its before_script only installs
// the pinned CLI, it has no after_script, no global script sections exist, and no rollback is
// ever called from CI.
func CheckScripts(c *Config) []string {
	var problems []string
	for _, k := range []string{"before_script", "after_script", "default"} {
		if _, ok := c.Doc[k]; ok {
			problems = append(problems, fmt.Sprintf("top-level %s is not allowed: keep the shared setup in the .dagger hidden job", k))
		}
	}
	if len(c.JobNames()) == 0 {
		problems = append(problems, "no jobs")
	}
	return append(problems, eachJob(c, func(name string, job map[string]any, calls []DaggerCall) []string {
		var p []string
		if n := len(calls); n < 1 || n > 2 {
			p = append(p, fmt.Sprintf("job %s runs %d dagger lines: one or two", name, n))
		}
		bs := stringList(job["before_script"])
		if len(bs) != 2 || bs[0] != InstallLine || bs[1] != ProxyLoginLine {
			p = append(p, fmt.Sprintf("job %s: before_script must be exactly [%q, %q], got %q", name, InstallLine, ProxyLoginLine, bs))
		}
		if _, ok := job["after_script"]; ok {
			p = append(p, fmt.Sprintf("job %s: after_script is not allowed", name))
		}
		for _, d := range calls {
			// A rollback runs only from its own manual job (CheckRollbackJobs), never from CI's jobs.
			if strings.HasPrefix(d.Function(), "rollback") && !strings.HasPrefix(name, "rollback-") {
				p = append(p, fmt.Sprintf("job %s calls %s: rollbacks are never run by CI, only by a manual rollback-* job", name, d.Function()))
			}
		}
		return p
	})...)
}

// CheckDaggerVersion: every job pins DAGGER_VERSION to the module's engineVersion.
func CheckDaggerVersion(c *Config, engineVersion string) []string {
	m := daggerV.FindStringSubmatch(engineVersion)
	if m == nil {
		return []string{fmt.Sprintf("engineVersion %q in dagger.json is not vX.Y.Z", engineVersion)}
	}
	return eachJob(c, func(name string, job map[string]any, _ []DaggerCall) []string {
		vars, _ := job["variables"].(map[string]any)
		if got := fmt.Sprint(vars["DAGGER_VERSION"]); got != m[1] {
			return []string{fmt.Sprintf("job %s: DAGGER_VERSION is %q, want %q (dagger.json engineVersion %s)", name, got, m[1], engineVersion)}
		}
		return nil
	})
}

// CheckEngine: every job uses the same pinned docker CLI image and docker-in-docker service over
// TLS, and nothing in the file sets _EXPERIMENTAL_DAGGER_RUNNER_HOST (a runner or CI/CD variable
// does, to switch to a shared engine).
func CheckEngine(c *Config) []string {
	var problems []string
	if strings.Contains(fmt.Sprint(c.Doc), "_EXPERIMENTAL_DAGGER_RUNNER_HOST") {
		problems = append(problems, "_EXPERIMENTAL_DAGGER_RUNNER_HOST must not be set in .gitlab-ci.yml: set it as a CI/CD variable or in the runner's environment")
	}
	want := map[string]string{
		"DOCKER_HOST":        "tcp://docker:2376",
		"DOCKER_TLS_CERTDIR": "/certs",
		"DOCKER_TLS_VERIFY":  "1",
		"DOCKER_CERT_PATH":   "/certs/client",
	}
	return append(problems, eachJob(c, func(name string, job map[string]any, _ []DaggerCall) []string {
		var p []string
		vars, _ := job["variables"].(map[string]any)
		for k, v := range want {
			if got := fmt.Sprint(vars[k]); got != v {
				p = append(p, fmt.Sprintf("job %s: %s is %q, want %q", name, k, got, v))
			}
		}
		dv := fmt.Sprint(vars["DOCKER_VERSION"])
		if !pinnedV.MatchString(dv) {
			p = append(p, fmt.Sprintf("job %s: DOCKER_VERSION %q must be an exact X.Y.Z tag", name, dv))
		}
		if img := fmt.Sprint(job["image"]); img != "docker:${DOCKER_VERSION}-cli" {
			p = append(p, fmt.Sprintf("job %s: image is %q, want docker:${DOCKER_VERSION}-cli", name, img))
		}
		svcs := stringList(job["services"])
		if len(svcs) != 1 || svcs[0] != "docker:${DOCKER_VERSION}-dind" {
			p = append(p, fmt.Sprintf("job %s: services are %q, want [docker:${DOCKER_VERSION}-dind]", name, svcs))
		}
		return p
	})...)
}

// CheckCtorFlags: every call passes the GitLab variables the module needs, explicitly, as
// constructor flags.
func CheckCtorFlags(c *Config) []string {
	return eachJob(c, func(name string, _ map[string]any, calls []DaggerCall) []string {
		var p []string
		for _, d := range calls {
			seen := map[string]bool{}
			for _, a := range d.Ctor {
				want, ok := CtorFlags[a.Name]
				if !ok {
					want, ok = OptionalCtorFlags[a.Name]
				}
				switch {
				case !ok:
					p = append(p, fmt.Sprintf("job %s: unexpected constructor flag --%s", name, a.Name))
				case a.Value != want:
					p = append(p, fmt.Sprintf("job %s: --%s=%s, want --%s=%s", name, a.Name, a.Value, a.Name, want))
				case seen[a.Name]:
					p = append(p, fmt.Sprintf("job %s: --%s given twice", name, a.Name))
				}
				seen[a.Name] = true
			}
			for f := range CtorFlags {
				if !seen[f] {
					p = append(p, fmt.Sprintf("job %s: %s: constructor flag --%s=%s is missing", name, d.Function(), f, CtorFlags[f]))
				}
			}
		}
		return p
	})
}

// CheckSecrets: credentials reach the module only as env:NAME secret references; no script line
// expands a credential variable and the file defines no credential variable.
func CheckSecrets(c *Config) []string {
	var problems []string
	var walkVars func(where string, v any)
	walkVars = func(where string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if k == "variables" {
					if vars, ok := e.(map[string]any); ok {
						for name := range vars {
							if secretName.MatchString(name) {
								problems = append(problems, fmt.Sprintf("%s defines variable %s: credentials are CI/CD variables in GitLab's settings, never in the file", where, name))
							}
						}
					}
				}
				walkVars(where+"."+k, e)
			}
		case []any:
			for _, e := range t {
				walkVars(where, e)
			}
		}
	}
	walkVars("file", c.Doc)
	return append(problems, eachJob(c, func(name string, _ map[string]any, calls []DaggerCall) []string {
		var p []string
		for _, d := range calls {
			for _, a := range d.AllArgs() {
				if SecretFlags[a.Name] && !envRef.MatchString(a.Value) {
					p = append(p, fmt.Sprintf("job %s: --%s=%s: pass credentials as --%s=env:NAME", name, a.Name, a.Value, a.Name))
				}
			}
			for _, m := range varRef.FindAllStringSubmatch(d.Line, -1) {
				if secretName.MatchString(m[1]) {
					p = append(p, fmt.Sprintf("job %s expands $%s on the command line: pass it as env:%s", name, m[1], m[1]))
				}
			}
		}
		return p
	})...)
}

// CheckSigning: every job that calls publish or attest declares the OIDC token Fulcio accepts
// (`id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`) and passes it as
// --sigstore-id-token=env:SIGSTORE_ID_TOKEN, the committed keyless policy's signing input; the
// publish job must exist and sign. A job passing --signing-key would be refused by the module
// under the keyless policy.
func CheckSigning(c *Config) []string {
	signed := false
	problems := eachJob(c, func(name string, job map[string]any, calls []DaggerCall) []string {
		var p []string
		for _, d := range calls {
			if !SigningFunctions[d.Function()] {
				continue
			}
			arg, _ := d.Chain[0].Arg("sigstore-id-token")
			if arg != "env:"+IDTokenVariable {
				p = append(p, fmt.Sprintf("job %s: %s must sign keylessly: pass --sigstore-id-token=env:%s", name, d.Function(), IDTokenVariable))
			}
			if _, ok := d.Chain[0].Arg("signing-key"); ok {
				p = append(p, fmt.Sprintf("job %s: %s passes --signing-key, which the committed keyless policy refuses: pass --sigstore-id-token=env:%s", name, d.Function(), IDTokenVariable))
			}
			tokens, _ := job["id_tokens"].(map[string]any)
			tok, _ := tokens[IDTokenVariable].(map[string]any)
			if !hasAudience(tok["aud"], IDTokenAudience) {
				p = append(p, fmt.Sprintf("job %s: declare `id_tokens: %s: {aud: %s}` (the OIDC token Fulcio accepts)", name, IDTokenVariable, IDTokenAudience))
			}
			if d.Function() == "publish" && len(p) == 0 {
				signed = true
			}
		}
		return p
	})
	if !signed {
		problems = append(problems, "no publish job signs its evidence keylessly: the publish job needs id_tokens SIGSTORE_ID_TOKEN (aud sigstore) and --sigstore-id-token=env:SIGSTORE_ID_TOKEN")
	}
	return problems
}

// hasAudience reports whether an id_tokens aud (a string or a list) is exactly want or lists it.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, e := range a {
			if e == want {
				return true
			}
		}
	}
	return false
}

// exportDirs returns the export directories of a job's calls, by function.
func exportDirs(calls []DaggerCall) map[string]string {
	out := map[string]string{}
	for _, d := range calls {
		if p, ok := d.ExportPath(); ok {
			out[d.Function()] = strings.TrimSuffix(p, "/")
		}
	}
	return out
}

// CheckArtifacts: artifacts are exactly what the job's calls export, every artifact expires,
// report artifacts are uploaded `when: always`, each report's path is the file the producing
// function exports (ci/gate, reports.go), and every report type the module writes is wired.
func CheckArtifacts(c *Config) []string {
	known := gate.GitLabReports()
	wired := map[string]bool{}
	problems := eachJob(c, func(name string, job map[string]any, calls []DaggerCall) []string {
		art, ok := job["artifacts"].(map[string]any)
		if !ok {
			return nil
		}
		var p []string
		dirs := exportDirs(calls)
		exported := map[string]bool{}
		for _, d := range dirs {
			exported[d] = true
		}
		if s, _ := art["expire_in"].(string); s == "" {
			p = append(p, fmt.Sprintf("job %s: artifacts need expire_in", name))
		}
		paths := stringList(art["paths"])
		if len(paths) == 0 {
			p = append(p, fmt.Sprintf("job %s: artifacts need paths", name))
		}
		for _, ap := range paths {
			if !exported[strings.TrimSuffix(ap, "/")] {
				p = append(p, fmt.Sprintf("job %s: artifact path %s is not a directory the job exports (exports: %v)", name, ap, dirs))
			}
		}
		reps, ok := art["reports"].(map[string]any)
		if !ok {
			return p
		}
		if art["when"] != "always" {
			p = append(p, fmt.Sprintf("job %s: report artifacts need when: always, so reports are uploaded even when a gate fails", name))
		}
		for typ, v := range reps {
			file, ok := known[typ]
			if !ok {
				p = append(p, fmt.Sprintf("job %s: report type %s is not one the module exports (ci/gate.GitLabReports)", name, typ))
				continue
			}
			wired[typ] = true
			got, _ := v.(string)
			if typ == gate.GitLabCoverageReport {
				m, _ := v.(map[string]any)
				got, _ = m["path"].(string)
				if m["coverage_format"] != "cobertura" {
					p = append(p, fmt.Sprintf("job %s: coverage_report needs coverage_format: cobertura", name))
				}
			}
			dir, ok := dirs[ReportProducers[file]]
			if !ok {
				p = append(p, fmt.Sprintf("job %s: report %s (%s) comes from %s, which this job does not export", name, typ, file, ReportProducers[file]))
				continue
			}
			if want := path.Join(dir, file); got != want {
				p = append(p, fmt.Sprintf("job %s: report %s is %q, want %q", name, typ, got, want))
			}
		}
		return p
	})
	var missing []string
	for typ := range known {
		if !wired[typ] {
			missing = append(missing, typ)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("report types the module exports but no job uploads: %v", missing))
	}
	return problems
}

// sideEffects reports why a job changes something outside the engine ("" when it does not).
func sideEffects(job map[string]any, calls []DaggerCall) string {
	if job["environment"] != nil {
		return "it deploys to an environment"
	}
	if job["resource_group"] != nil {
		return "it holds a resource group"
	}
	for _, d := range calls {
		if SideEffectFunctions[d.Function()] {
			return "it calls " + d.Function()
		}
		for _, a := range d.AllArgs() {
			if SecretFlags[a.Name] {
				return "it passes a credential (--" + a.Name + ")"
			}
		}
	}
	return ""
}

// CheckInterruptible: every job says explicitly whether a newer pipeline may cancel it: gates and
// builds may be interrupted, jobs with side effects (push, deploy, release) never.
func CheckInterruptible(c *Config) []string {
	return eachJob(c, func(name string, job map[string]any, calls []DaggerCall) []string {
		got, ok := job["interruptible"].(bool)
		if !ok {
			return []string{fmt.Sprintf("job %s: set interruptible explicitly", name)}
		}
		why := sideEffects(job, calls)
		if want := why == ""; got != want {
			if why == "" {
				why = "it has no side effect"
			}
			return []string{fmt.Sprintf("job %s: interruptible is %v, want %v because %s", name, got, want, why)}
		}
		return nil
	})
}

// Need is one entry of a job's `needs`.
type Need struct {
	Job       string
	Artifacts bool
}

// Needs returns a job's needs (artifacts default to true, as in GitLab).
func Needs(job map[string]any) []Need {
	seq, _ := job["needs"].([]any)
	var out []Need
	for _, e := range seq {
		switch t := e.(type) {
		case string:
			out = append(out, Need{Job: t, Artifacts: true})
		case map[string]any:
			n := Need{Artifacts: true}
			n.Job, _ = t["job"].(string)
			if a, ok := t["artifacts"].(bool); ok {
				n.Artifacts = a
			}
			out = append(out, n)
		}
	}
	return out
}

// producer returns the job whose calls export fn's output, and the export directory.
func producer(c *Config, fn string) (string, string) {
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		if err != nil {
			continue
		}
		calls, err := Calls(job)
		if err != nil {
			continue
		}
		if dir, ok := exportDirs(calls)[fn]; ok {
			return name, dir
		}
	}
	return "", ""
}

// DeployJob returns the name of the job deploying to env ("" when there is none).
func DeployJob(c *Config, env domain.Environment) string {
	for _, name := range c.JobNames() {
		job, err := c.Job(name)
		if err != nil {
			continue
		}
		if e, ok := job["environment"].(map[string]any); ok && e["name"] == string(env) && deploys(e) && !IsRollbackJob(job) {
			return name
		}
	}
	return ""
}

// deploys reports whether an environment: entry creates a deployment (action start, the
// default); action access only reads the environment's variables, e.g. release reading
// staging's kubeconfig to find the digests that passed staging.
func deploys(env map[string]any) bool {
	action, _ := env["action"].(string)
	return action == "" || action == "start"
}

// CheckDeployJobs: one deploy job per environment of the policy, with its GitLab environment and
// deployment tier, its own resource group, the images from publish's dotenv, the gate and scan
// reports from the jobs that export them (downloaded through needs), manual exactly when the
// policy requires approvals, and only ever from the default branch.
func CheckDeployJobs(c *Config) []string {
	var problems []string
	gatesJob, _ := producer(c, "gate-report")
	scanJob, _ := producer(c, "scan-report")
	publishJob, _ := producer(c, "publish")
	if gatesJob == "" || scanJob == "" || publishJob == "" {
		return []string{"the jobs exporting gate-report, scan-report and publish must all exist"}
	}
	groups := map[string]string{}
	deployJobs := map[string]bool{}
	for _, env := range domain.Environments() {
		name := DeployJob(c, env)
		if name == "" {
			problems = append(problems, fmt.Sprintf("no job deploys to %s: add one with environment: {name: %s}", env, env))
			continue
		}
		deployJobs[name] = true
		job, _ := c.Job(name)
		calls, err := Calls(job)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		envMap := job["environment"].(map[string]any)
		if envMap["deployment_tier"] != tierName[env] {
			problems = append(problems, fmt.Sprintf("job %s: deployment_tier is %v, want %s", name, envMap["deployment_tier"], tierName[env]))
		}
		rg, _ := job["resource_group"].(string)
		if rg != string(env) {
			problems = append(problems, fmt.Sprintf("job %s: resource_group is %q, want %q so deploys to %s never overlap", name, rg, env, env))
		}
		if other, dup := groups[rg]; dup && rg != "" {
			problems = append(problems, fmt.Sprintf("jobs %s and %s share resource_group %s", other, name, rg))
		}
		groups[rg] = name
		var deploy *DaggerCall
		for i := range calls {
			if calls[i].Function() == "deploy" {
				deploy = &calls[i]
			}
		}
		if deploy == nil {
			problems = append(problems, fmt.Sprintf("job %s does not call deploy", name))
			continue
		}
		fn := deploy.Chain[0]
		// The gate report and the scans are read from the registry, attached to each digest
		// (publish attaches them): never from files, which production refuses.
		for _, file := range []string{"gate-report", "scan-report"} {
			if v, ok := fn.Arg(file); ok {
				problems = append(problems, fmt.Sprintf("job %s: deploy --%s=%s: drop it, deploy reads the evidence of each digest from the registry", name, file, v))
			}
		}
		want := map[string]string{
			"env":               string(env),
			"registry-username": "$CI_REGISTRY_USER",
			"registry-password": "env:CI_REGISTRY_PASSWORD",
			"project-id":        "$CI_PROJECT_ID",
			"job-id":            "$CI_JOB_ID",
			// Who deploys is proven by GitLab with the job's own token, never declared (--actor).
			"pipeline-id":     "$CI_PIPELINE_ID",
			"job-token":       "env:CI_JOB_TOKEN",
			"pipeline-source": "$CI_PIPELINE_SOURCE",
		}
		for _, svc := range domain.Services() {
			want[string(svc)+"-image"] = "$" + strings.ToUpper(string(svc)) + "_IMAGE"
		}
		for k, v := range want {
			if got, _ := fn.Arg(k); got != v {
				problems = append(problems, fmt.Sprintf("job %s: deploy --%s=%s, want --%s=%s", name, k, got, k, v))
			}
		}
		for _, s := range []string{"kubeconfig", "age-key", "gitlab-token", "registry-password"} {
			if _, ok := fn.Arg(s); !ok {
				problems = append(problems, fmt.Sprintf("job %s: deploy needs --%s=env:NAME", name, s))
			}
		}
		if a, ok := fn.Arg("actor"); ok {
			problems = append(problems, fmt.Sprintf("job %s: deploy --actor=%s: drop it, the deployer is the job's user as GitLab reports it for --job-token", name, a))
		}
		needs := map[string]bool{}
		for _, n := range Needs(job) {
			needs[n.Job] = n.Artifacts
		}
		for _, j := range []string{gatesJob, scanJob, publishJob} {
			if !needs[j] {
				problems = append(problems, fmt.Sprintf("job %s must need %s with its artifacts", name, j))
			}
		}
		rules, err := ParseRules(job["rules"])
		if err != nil {
			problems = append(problems, fmt.Sprintf("job %s: %v", name, err))
			continue
		}
		manual := env.Approvals() > 0
		for i, r := range rules {
			if r.When == "never" {
				continue
			}
			if manual && r.When != "manual" {
				problems = append(problems, fmt.Sprintf("job %s rule %d: %s needs approvals, so the deploy must be when: manual", name, i, env))
			}
			if manual && (r.AllowFailure == nil || *r.AllowFailure) {
				problems = append(problems, fmt.Sprintf("job %s rule %d: a manual deploy must be blocking (allow_failure: false) so a failure never unlocks the next environment", name, i))
			}
			if !manual && r.When != "" && r.When != "on_success" {
				problems = append(problems, fmt.Sprintf("job %s rule %d: %s deploys automatically after CI passed (when: on_success), got %s", name, i, env, r.When))
			}
			if r.If != "" {
				e, err := ParseExpr(r.If)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				if !onlyDefaultBranch(e) {
					problems = append(problems, fmt.Sprintf("job %s rule %d: %q may match outside pushes to the default branch", name, i, r.If))
				}
			} else {
				problems = append(problems, fmt.Sprintf("job %s rule %d: a deploy rule needs an if: limiting it to the default branch", name, i))
			}
		}
	}
	for _, name := range c.JobNames() {
		job, _ := c.Job(name)
		if e, ok := job["environment"].(map[string]any); ok && deploys(e) && !deployJobs[name] && !IsRollbackJob(job) {
			problems = append(problems, fmt.Sprintf("job %s targets environment %v, which the policy does not know", name, job["environment"]))
		}
	}
	return problems
}

// onlyDefaultBranch reports whether e can hold only in a push pipeline of the default branch: it
// is tried on every combination of the variables that decide the pipeline kind.
func onlyDefaultBranch(e Expr) bool {
	sources := []string{"push", "merge_request_event", "schedule", "web", "api", "trigger", "pipeline", "parent_pipeline"}
	branches := []string{"", "main", "feature/x"}
	tagsv := []string{"", "v1.2.3"}
	for _, src := range sources {
		for _, br := range branches {
			for _, tg := range tagsv {
				if br != "" && tg != "" {
					continue // GitLab never sets both: a pipeline is for a branch or for a tag
				}
				vars := map[string]string{"CI_PIPELINE_SOURCE": src, "CI_DEFAULT_BRANCH": "main"}
				if br != "" {
					vars["CI_COMMIT_BRANCH"] = br
				}
				if tg != "" {
					vars["CI_COMMIT_TAG"] = tg
				}
				if e.Eval(vars) && !(src == "push" && br == "main" && tg == "") {
					return false
				}
			}
		}
	}
	return true
}
