// Package deploy decides a deployment of the image set to an environment (`deploy`) and what one
// would do (`deploy --dry-run`). The module reads the world; this package decides, in two steps a
// reader follows top-down:
//
//  1. Check reads the flags before anything is read: the environment, the inputs deploy cannot
//     run without, where the gate and scan evidence comes from (report files, the registry, none)
//     and whether it must be signed. Its Request tells the module which facts to gather.
//  2. Decide takes the Facts the module gathered (the checkout's settings, the images, the
//     dataset and model, the evidence, GitLab's answers, the chart's encrypted secrets) and
//     decides once: the traceability record, the evidence's verdict, the promotion policy
//     (ci/deploy/policy), helm's command line and the secrets helm needs. The module executes
//     the Plan; Plan.Deployed, Plan.UpgradeFailed and Plan.DryRun say what happened.
package deploy

import (
	"fmt"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Mode is what the caller does with the plan.
type Mode int

const (
	// Apply is `deploy`: helm upgrade, only when the promotion policy allows it.
	Apply Mode = iota
	// Preview is `deploy --dry-run`: helm template and a diff with the cluster, whatever the
	// policy says; nothing is applied.
	Preview
)

// Where helm's container holds what Plan.Secrets needs: the decryption tool, the age key (a
// mounted secret file) and the tmpfs the values are decrypted into while helm runs.
const (
	SopsTool     = "/usr/local/bin/sops-decrypt"
	AgeKeyFile   = "/run/secrets/age.key"
	DecryptedDir = "/run/decrypted"
	// RefusedKeyFile is where production's helm container holds the repository's test key
	// (helm.RepositoryTestKeyPath, from the module's own source) that must not open its secrets.
	RefusedKeyFile = "/run/refused/test-age.key"
)

// Flags are the arguments of deploy (dry run or not) as plain values: a secret or a file only says
// whether it was given.
type Flags struct {
	Mode Mode
	// Env is --env, unparsed.
	Env string
	// Images are --api-image, --worker-image and --airflow-image ("" when not given).
	Images map[domain.Service]string
	// Kubeconfig, AgeKey and GitLabToken say whether --kubeconfig, --age-key and --gitlab-token were given.
	Kubeconfig, AgeKey, GitLabToken bool
	// ProjectID is --project-id ("" when not given).
	ProjectID string
	// GateReport and ScanReport say whether the offline report files were given.
	GateReport, ScanReport bool
	// InsecureRegistries are the --insecure-registry opt-ins.
	InsecureRegistries []string
	// Trust are the committed trust files compiled into the module (attest.CommittedTrustFiles):
	// the Sigstore policy the evidence must be signed under, never an argument.
	Trust attest.TrustFiles
	// Claims are what the command line says about the run (--actor, --job-id, …): GitLab checks them.
	Claims policy.Claims
}

// Source is where the gate and scan evidence of a deploy comes from.
type Source int

const (
	// NoEvidence: dev needs none, and none is read (its --gate-report and --scan-report are
	// ignored: a convenience that proves nothing).
	NoEvidence Source = iota
	// Registry: the evidence attached to each image digest, read and verified by the registry tool.
	Registry
)

// EvidenceSource says where the evidence comes from and, for the registry, the trust its
// Sigstore bundles are checked against.
type EvidenceSource struct {
	From Source
	// Trust is the committed Sigstore policy the registry's evidence must be signed under
	// (From == Registry: staging and production count only such bundles).
	Trust attest.Trust
}

// Request is a deploy (or dry run) whose flags passed Check: what the module gathers facts for.
type Request struct {
	Flags
	Env domain.Environment
	// Evidence says what evidence to read, and from where.
	Evidence EvidenceSource
	// SecretsFile is the environment's SOPS file, relative to the chart, when helm runs with the
	// decrypted secrets (deploy always, a dry run with --age-key); "" when it runs without.
	SecretsFile string
}

// Check decides what the flags alone decide, before anything is read: the environment, the
// inputs deploy cannot run without, the --insecure-registry opt-ins production refuses, and where
// the evidence comes from.
// A refusal here reads nothing and changes nothing.
func Check(f Flags) (Request, error) {
	env, err := domain.ParseEnvironment(f.Env)
	if err != nil {
		return Request{}, err
	}
	if f.Mode == Apply {
		if err := policy.MissingDeployInputs(policy.DeployInputs{Env: env, Kubeconfig: f.Kubeconfig, AgeKey: f.AgeKey}); err != nil {
			return Request{}, err
		}
	}
	if err := policy.CheckInsecureRegistries(env, f.InsecureRegistries); err != nil {
		return Request{}, err
	}
	src, err := evidenceSource(env, f)
	if err != nil {
		return Request{}, err
	}
	req := Request{Flags: f, Env: env, Evidence: src}
	if f.Mode == Apply || f.AgeKey {
		req.SecretsFile = strings.TrimPrefix(helm.EncryptedSecretsFile(".", env), "./")
	}
	return req, nil
}

// evidenceSource decides where a deploy to env reads its evidence: dev reads none; staging and
// production read the registry and count only the Sigstore bundles the committed policy trusts
// (report files are refused: they are not signed).
func evidenceSource(env domain.Environment, f Flags) (EvidenceSource, error) {
	if err := attest.FileEvidence(env, f.GateReport || f.ScanReport); err != nil {
		return EvidenceSource{}, err
	}
	if !attest.FromRegistry(env) {
		return EvidenceSource{From: NoEvidence}, nil
	}
	trust, _, err := attest.EvidenceTrust(env, f.Trust)
	if err != nil {
		return EvidenceSource{}, fmt.Errorf("deploy to %s refused, nothing was changed: %w", env, err)
	}
	return EvidenceSource{From: Registry, Trust: trust}, nil
}

// Missing are the services whose image was not given: the module looks up the ones publish
// pushed for the checkout's commit.
func (r Request) Missing() []domain.Service {
	var out []domain.Service
	for _, svc := range domain.Services() {
		if r.Images[svc] == "" {
			out = append(out, svc)
		}
	}
	return out
}

// Facts are what the module gathered for a Request.
type Facts struct {
	Request Request
	// Settings are the pipeline's settings at the checkout: the commit and branch are HEAD's
	// when --commit and --ref were not given.
	Settings config.Settings
	// Images are the images deployed: the flags', and publish's for the commit where none was given.
	Images artifact.Set
	// Dataset is the dataset the model was trained on; ModelVersion the model's version.
	Dataset      dvc.Dataset
	ModelVersion string
	// Evidence is the gate and scan evidence read as Request.Evidence said.
	Evidence Evidence
	// GitLab is what GitLab answered about the run: the job, the deployment, the token's owner.
	GitLab policy.Proof
	// Author is the commit's author as GitLab reports it.
	Author policy.Identity
	// Secrets is the chart's encrypted secrets file (Request.SecretsFile), nil when the chart has
	// none; not read when Request.SecretsFile is "".
	Secrets []byte
	// ChartDir is where the chart is in helm's container.
	ChartDir string
}

// Secrets is what helm's container must hold to run Plan.Helm: the decryption tool, the age key
// as a mounted secret file and a tmpfs for the decrypted values (never a layer or an output).
type Secrets struct {
	Tool, AgeKey, Decrypted string
	// RefusedKey, when set (production), is where the container must hold the repository's test
	// key (helm.RepositoryTestKeyPath, read from the module's own source): sops-decrypt refuses
	// secrets it opens.
	RefusedKey string
}

// Plan is the decision the module executes.
type Plan struct {
	Mode Mode
	// Release is the helm release: its name and namespace say where.
	Release helm.Release
	// Record is the traceability record the release carries.
	Record trace.Record
	// Policy is the promotion policy's decision: deploy runs only when it allows; a dry run
	// reports it.
	Policy policy.Decision
	// Helm is helm's command line: upgrade (Apply) or template (Preview), under sops-decrypt
	// exec-file when Secrets is set.
	Helm []string
	// Secrets, when set, is what helm's container must hold for Helm.
	Secrets *Secrets
	// ReadDeployed, for a Preview with a kubeconfig, prints the release's deployed manifest.
	ReadDeployed []string
}

// Decide decides a deploy (or its dry run) from the facts: the traceability record, the evidence's
// verdict, the promotion policy and helm's command line with its secrets. For Apply a refusal
// of the policy is an error listing every reason and what is missing to prove it; for Preview the
// plan carries the decision, and staging and production are rendered only with their secrets,
// like deploy installs them (--age-key).
func Decide(f Facts) (Plan, error) {
	req, s, env := f.Request, f.Settings, f.Request.Env
	record := trace.Record{
		Environment:    env,
		GitCommit:      s.Commit,
		ImageDigests:   f.Images.Digests(),
		DatasetVersion: f.Dataset.Version,
		DatasetPointer: f.Dataset.Pointer,
		ModelVersion:   f.ModelVersion,
	}
	if err := record.Validate(); err != nil {
		return Plan{}, fmt.Errorf("traceability record for %s: %w", env, err)
	}
	images := map[domain.Service]domain.ImageRef(f.Images)
	rel := helm.Release{
		Name:        s.Release,
		Namespace:   env.Namespace(s.Namespace),
		Env:         env,
		Chart:       f.ChartDir,
		SecretsFile: "/dev/null",
		Timeout:     s.HelmTimeout,
		Images:      images,
		Trace:       record,
	}
	verdict, err := f.Evidence.judge(req.Evidence.From, env, s.Commit)
	if err != nil {
		return Plan{}, err
	}
	branch := s.Ref
	if s.Tag != "" {
		branch = ""
	}
	decision := policy.Resolve(policy.Request{
		Env:             env,
		Commit:          s.Commit,
		PipelineSource:  req.Claims.PipelineSource,
		Branch:          branch,
		DefaultBranch:   s.DefaultBranch,
		Images:          images,
		GateReportGreen: verdict.green,
		ScanClean:       verdict.clean,
		FirstModel:      verdict.firstModel,
		Author:          f.Author,
	}, req.Claims, f.GitLab)
	switch {
	case req.Mode == Preview && !req.AgeKey && env.RequiresTrace():
		return Plan{}, fmt.Errorf("a dry run for %s renders the chart with its secrets, like deploy: pass --age-key=env:SOPS_AGE_KEY", env)
	case req.Mode == Apply:
		if err := decision.Err(); err != nil {
			hints := policy.EvidenceHints(policy.DeployInputs{Env: env, GitLabToken: req.GitLabToken, ProjectID: orDefault(req.ProjectID, s.ProjectID) != "", GateReport: req.GateReport, ScanReport: req.ScanReport})
			if hints != "" {
				hints = "\n" + hints
			}
			return Plan{}, fmt.Errorf("deploy to %s refused by the promotion policy (nothing was changed): %w%s", env, err, hints)
		}
	}
	if req.SecretsFile != "" {
		rel.SecretsFile = helm.SecretsPlaceholder // sops-decrypt exec-file puts the tmpfs path there
	}
	p := Plan{Mode: req.Mode, Release: rel, Record: record, Policy: decision}
	if req.Mode == Apply {
		p.Helm, err = helm.UpgradeArgs(rel)
	} else {
		p.Helm, err = helm.TemplateArgs(rel)
	}
	if err != nil {
		return Plan{}, err
	}
	if req.SecretsFile != "" {
		if p.Helm, err = withSecrets(req.SecretsFile, f.Secrets, f.ChartDir, env, p.Helm); err != nil {
			return Plan{}, err
		}
		p.Secrets = &Secrets{Tool: SopsTool, AgeKey: AgeKeyFile, Decrypted: DecryptedDir, RefusedKey: refusedKey(env)}
	}
	if req.Mode == Preview && req.Kubeconfig {
		if p.ReadDeployed, err = helm.GetManifestArgs(rel.Name, rel.Namespace, 0); err != nil {
			return Plan{}, err
		}
	}
	return p, nil
}

// withSecrets wraps argv (built with helm.SecretsPlaceholder) to run under `sops-decrypt
// exec-file`, once the environment's encrypted file is known to be in the chart and encrypted to
// the environment's own keys.
func withSecrets(file string, encrypted []byte, chartDir string, env domain.Environment, argv []string) ([]string, error) {
	if encrypted == nil {
		return nil, fmt.Errorf("no encrypted secrets for %s: create %s in the chart (sops --encrypt, see .sops.yaml); nothing was changed", env, file)
	}
	if err := helm.CheckSecretsRecipients(env, file, encrypted); err != nil {
		return nil, err
	}
	return helm.WithDecryptedSecrets(SopsTool, AgeKeyFile, refusedKey(env), helm.EncryptedSecretsFile(chartDir, env), DecryptedDir, argv)
}

// refusedKey is the key file sops-decrypt must find unable to open env's secrets: the
// repository's test key for production; none elsewhere (dev and staging may use it).
func refusedKey(env domain.Environment) string {
	if env.IsProduction() {
		return RefusedKeyFile
	}
	return ""
}

// Deployed is deploy's answer once helm upgrade succeeded at the time at: where, the record, and
// helm's last lines.
func (p Plan) Deployed(at time.Time, helmOutput string) string {
	rec := p.Record
	rec.DeployedAt = at.UTC()
	return fmt.Sprintf("deployed %s to %s (namespace %s)\n\n%s\n%s", p.Release.Name, p.Release.Env, p.Release.Namespace, rec.Text(), strings.Join(gate.Tail(helmOutput, 15), "\n"))
}

// UpgradeFailed is deploy's error when helm upgrade exited with code: helm could not act on the
// cluster at all (helm.ExplainFailure names the fix), or --rollback-on-failure rolled it back.
func (p Plan) UpgradeFailed(code int, stderr string) error {
	if fix := helm.ExplainFailure(stderr); fix != "" {
		return fmt.Errorf("helm upgrade of %s in %s failed (exit %d): %s:\n%s",
			p.Release.Name, p.Release.Namespace, code, fix, strings.Join(gate.Tail(stderr, 20), "\n"))
	}
	return fmt.Errorf("helm upgrade of %s in %s failed (exit %d); --rollback-on-failure rolled it back, the previous release is still serving:\n%s",
		p.Release.Name, p.Release.Namespace, code, strings.Join(gate.Tail(stderr, 20), "\n"))
}

// DryRun is `deploy --dry-run`'s answer: a summary (where, the policy's decision with every
// reason, the diff's counts), then four documents, each under a `==> name <==` header (as
// `tail` prints several files): policy.json (the decision), trace.json (the record), diff.txt
// (the rendered manifests against the deployed ones; against an empty cluster without a
// kubeconfig or before the first install) and manifests.yaml (rendered, Secret values redacted).
func (p Plan) DryRun(rendered, deployed string) (string, error) {
	diff, err := helm.DiffManifests([]byte(deployed), []byte(rendered), "deployed", "candidate")
	if err != nil {
		return "", err
	}
	diffText := diff.Summary() + "\n"
	if p.ReadDeployed == nil {
		diffText = "no --kubeconfig: compared with an empty cluster\n" + diffText
	}
	diffText += diff.Unified
	policyJSON, err := p.Policy.JSON()
	if err != nil {
		return "", err
	}
	traceJSON, err := p.Record.JSON()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dry run of deploy %s to %s (namespace %s): nothing was applied\n", p.Release.Name, p.Release.Env, p.Release.Namespace)
	if p.Policy.Allowed {
		b.WriteString("promotion policy: deploy would be allowed\n")
	} else {
		fmt.Fprintf(&b, "promotion policy: deploy would be refused:\n  - %s\n", strings.Join(p.Policy.Reasons, "\n  - "))
	}
	fmt.Fprintf(&b, "diff with the deployed release: %s\n", diff.Summary())
	for _, doc := range []struct{ name, text string }{
		{gate.Policy, string(policyJSON)},
		{gate.Trace, string(traceJSON)},
		{gate.Diff, diffText},
		{gate.Manifests, rendered},
	} {
		fmt.Fprintf(&b, "\n==> %s <==\n%s", doc.name, doc.text)
		if !strings.HasSuffix(doc.text, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
