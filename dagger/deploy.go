package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/output"
	"gitlab.com/soccerpredictai/pipeline/ci/policy"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
	"gitlab.com/soccerpredictai/pipeline/ci/reports"
	"gitlab.com/soccerpredictai/pipeline/ci/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/toolbox"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

const (
	ageKeyPath   = "/run/secrets/age.key"
	decryptedDir = "/run/decrypted"
	sopsBin      = "/usr/local/bin/sops-decrypt"
)

// deployRequest is what plan and deploy share: the target, the artifact and the evidence.
type deployRequest struct {
	Env                                 string
	APIImage, WorkerImage, AirflowImage string
	ModelVersion                        string
	Kubeconfig                          *dagger.Secret
	GitLabToken                         *dagger.Secret
	ProjectID                           string
	JobID, DeploymentID                 int
	Actor, PipelineSource               string
	GateReport                          *dagger.File
	ScanReport                          *dagger.Directory
	Chart                               *dagger.Directory
}

// prepared is a deployment ready to plan or apply.
type prepared struct {
	settings configpkg.Settings
	release  helm.Release
	record   trace.Record
	decision policy.Decision
}

// Plan shows what `deploy` would do, applying nothing: the manifests rendered for the
// environment (Secret values redacted), a diff against what is deployed (with --kubeconfig),
// the promotion-policy decision with every reason, and the traceability record. It returns
// manifests.yaml, diff.txt, policy.json and trace.json.
//
// +cache="never"
func (m *SoccerPredict) Plan(
	ctx context.Context,
	// Target environment: dev, staging or production.
	env string,
	// API image by digest, repo@sha256:… (GitLab: $API_IMAGE from publish's dotenv).
	// +optional
	apiImage string,
	// Worker image by digest (GitLab: $WORKER_IMAGE).
	// +optional
	workerImage string,
	// Airflow image by digest (GitLab: $AIRFLOW_IMAGE).
	// +optional
	airflowImage string,
	// Model version to record (default: model_version of metrics/champion.json).
	// +optional
	modelVersion string,
	// Kubeconfig of the target cluster, as a secret (--kubeconfig=env:KUBECONFIG_CONTENT or
	// file:$HOME/.kube/config); without it there is no diff.
	// +optional
	kubeconfig *dagger.Secret,
	// age identity for the environment's SOPS secrets (--age-key=env:SOPS_AGE_KEY): plan renders
	// exactly what deploy installs, so staging and production need it; dev renders without.
	// +optional
	ageKey *dagger.Secret,
	// GitLab token that proves approvals (GitLab: env:GITLAB_DEPLOY_TOKEN).
	// +optional
	gitlabToken *dagger.Secret,
	// GitLab project id (default: CI_PROJECT_ID setting).
	// +optional
	projectId string,
	// The GitLab job running this deploy (GitLab: $CI_JOB_ID); its deployment holds the approvals.
	// +optional
	jobId int,
	// From a laptop: the GitLab deployment whose approvals allow this deploy.
	// +optional
	deploymentId int,
	// Who deploys (GitLab: $GITLAB_USER_LOGIN); on a laptop it is the token's owner.
	// +optional
	actor string,
	// GitLab: $CI_PIPELINE_SOURCE.
	// +optional
	pipelineSource string,
	// gate-report.json of this commit (from gate-report).
	// +optional
	gateReport *dagger.File,
	// The scan-report directory of these images (trivy-<service>.json files).
	// +optional
	scanReport *dagger.Directory,
	// The Helm chart.
	// +defaultPath="/charts/soccer-predict"
	chart *dagger.Directory,
) (*dagger.Directory, error) {
	req := deployRequest{env, apiImage, workerImage, airflowImage, modelVersion, kubeconfig, gitlabToken, projectId, jobId, deploymentId, actor, pipelineSource, gateReport, scanReport, chart}
	p, err := m.prepare(ctx, req)
	if err != nil {
		return nil, err
	}

	ctr, err := m.helmContainer(ctx, chart, kubeconfig)
	if err != nil {
		return nil, err
	}
	if ageKey != nil {
		p.release.SecretsFile = helm.SecretsPlaceholder
	} else if p.release.Env.RequiresTrace() {
		return nil, fmt.Errorf("plan for %s renders the chart with its secrets, like deploy: pass --age-key=env:SOPS_AGE_KEY", req.Env)
	}
	templateArgs, err := helm.TemplateArgs(p.release)
	if err != nil {
		return nil, err
	}
	if ageKey != nil {
		if ctr, templateArgs, err = m.withSecrets(ctx, ctr, chart, ageKey, p.release.Env, templateArgs); err != nil {
			return nil, err
		}
	}
	rendered, err := redacted(ctx, ctr, templateArgs)
	if err != nil {
		return nil, fmt.Errorf("render the chart for %s: %w", req.Env, err)
	}
	deployed := ""
	if kubeconfig != nil {
		if deployed, err = m.deployedManifest(ctx, ctr, p.release); err != nil {
			return nil, err
		}
	}
	diff, err := helm.DiffManifests([]byte(deployed), []byte(rendered), "deployed", "candidate")
	if err != nil {
		return nil, err
	}
	diffText := diff.Summary() + "\n"
	if kubeconfig == nil {
		diffText = "no --kubeconfig: compared with an empty cluster\n" + diffText
	}
	diffText += diff.Unified
	policyJSON, err := p.decision.JSON()
	if err != nil {
		return nil, err
	}
	traceJSON, err := p.record.JSON()
	if err != nil {
		return nil, err
	}
	return dag.Directory().
		WithNewFile(reports.Manifests, rendered).
		WithNewFile(reports.Diff, diffText).
		WithNewFile(reports.Policy, string(policyJSON)).
		WithNewFile(reports.Trace, string(traceJSON)), nil
}

// Deploy checks the promotion policy, then runs `helm upgrade --install --atomic --wait` with
// the environment's values and its SOPS-encrypted secrets, decrypted with the age key into a
// tmpfs only for helm's lifetime. A failed rollout is rolled back by --atomic: the previous
// release keeps serving and the new pods never receive traffic (readiness gates it). Images
// are deployed by digest, exactly as published: never rebuilt.
//
// +cache="never"
func (m *SoccerPredict) Deploy(
	ctx context.Context,
	// Target environment: dev, staging or production.
	env string,
	// API image by digest, repo@sha256:… (GitLab: $API_IMAGE from publish's dotenv). Default:
	// the image published for this commit, <registry>/api:<branch tag>, resolved to its digest.
	// +optional
	apiImage string,
	// Worker image by digest (GitLab: $WORKER_IMAGE). Default: the one published for this commit.
	// +optional
	workerImage string,
	// Airflow image by digest (GitLab: $AIRFLOW_IMAGE). Default: the one published for this commit.
	// +optional
	airflowImage string,
	// Kubeconfig of the target cluster, as a secret (--kubeconfig=env:KUBECONFIG_CONTENT); from a
	// checkout, once in .env: DEPLOY_KUBECONFIG=file://${HOME}/.kube/config.
	// +optional
	kubeconfig *dagger.Secret,
	// age identity that decrypts the environment's SOPS secrets (--age-key=env:SOPS_AGE_KEY);
	// from a checkout, once in .env: DEPLOY_AGEKEY=env://SOPS_AGE_KEY.
	// +optional
	ageKey *dagger.Secret,
	// Model version to record (default: model_version of metrics/champion.json).
	// +optional
	modelVersion string,
	// GitLab token that proves approvals (GitLab: env:GITLAB_DEPLOY_TOKEN).
	// +optional
	gitlabToken *dagger.Secret,
	// GitLab project id (default: CI_PROJECT_ID setting).
	// +optional
	projectId string,
	// The GitLab job running this deploy (GitLab: $CI_JOB_ID); its deployment holds the approvals.
	// +optional
	jobId int,
	// From a laptop: the GitLab deployment whose approvals allow this deploy.
	// +optional
	deploymentId int,
	// Who deploys (GitLab: $GITLAB_USER_LOGIN); on a laptop it is the token's owner.
	// +optional
	actor string,
	// GitLab: $CI_PIPELINE_SOURCE.
	// +optional
	pipelineSource string,
	// gate-report.json of this commit (from gate-report); production needs it green.
	// +optional
	gateReport *dagger.File,
	// The scan-report directory of these images; production needs it clean.
	// +optional
	scanReport *dagger.Directory,
	// The Helm chart.
	// +defaultPath="/charts/soccer-predict"
	chart *dagger.Directory,
	// The checkout's HEAD: the commit (and branch) deployed when --commit (--ref) is not set.
	// +defaultPath="./.git"
	head *dagger.GitRef,
	// Registry user to look up the images published for this commit (default images only).
	// +optional
	registryUsername string,
	// Registry password or token for that lookup, as a secret (--registry-password=env:CI_REGISTRY_PASSWORD).
	// +optional
	registryPassword *dagger.Secret,
) (string, error) {
	penv, err := policy.ParseEnv(env)
	if err != nil {
		return "", err
	}
	if err := policy.MissingDeployInputs(policy.DeployInputs{Env: penv, Kubeconfig: kubeconfig != nil, AgeKey: ageKey != nil}); err != nil {
		return "", err
	}
	if m, err = m.atCheckout(ctx, head, apiImage == "" || workerImage == "" || airflowImage == ""); err != nil {
		return "", err
	}
	imgs, err := m.publishedImages(ctx, map[string]string{"api": apiImage, "worker": workerImage, "airflow": airflowImage}, registryUsername, registryPassword)
	if err != nil {
		return "", err
	}
	apiImage, workerImage, airflowImage = imgs["api"], imgs["worker"], imgs["airflow"]
	req := deployRequest{env, apiImage, workerImage, airflowImage, modelVersion, kubeconfig, gitlabToken, projectId, jobId, deploymentId, actor, pipelineSource, gateReport, scanReport, chart}
	p, err := m.prepare(ctx, req)
	if err != nil {
		return "", err
	}
	if err := p.decision.Err(); err != nil {
		hints := policy.EvidenceHints(policy.DeployInputs{Env: penv, GitLabToken: gitlabToken != nil, ProjectID: orDefault(projectId, p.settings.ProjectID) != "", GateReport: gateReport != nil})
		if hints != "" {
			hints = "\n" + hints
		}
		return "", fmt.Errorf("deploy to %s refused by the promotion policy (nothing was changed): %w%s", env, err, hints)
	}
	p.release.SecretsFile = helm.SecretsPlaceholder // sops-decrypt exec-file puts the tmpfs path there
	upgrade, err := helm.UpgradeArgs(p.release)
	if err != nil {
		return "", err
	}
	ctr, err := m.helmContainer(ctx, chart, kubeconfig)
	if err != nil {
		return "", err
	}
	ctr, args, err := m.withSecrets(ctx, ctr, chart, ageKey, p.release.Env, upgrade)
	if err != nil {
		return "", err
	}
	out, err := ctr.
		// Deploys are never cached: the same inputs must reach the cluster every time.
		WithEnvVariable("SP_DEPLOY_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(args).
		Stdout(ctx)
	if err != nil {
		var exec *dagger.ExecError
		if errors.As(err, &exec) {
			return "", fmt.Errorf("helm upgrade of %s in %s failed (exit %d); --atomic rolled it back, the previous release is still serving:\n%s",
				p.release.Name, p.release.Namespace, exec.ExitCode, strings.Join(output.Tail(exec.Stderr, 20), "\n"))
		}
		return "", err
	}
	p.record.DeployedAt = time.Now().UTC()
	return fmt.Sprintf("deployed %s to %s (namespace %s)\n\n%s\n%s", p.release.Name, env, p.release.Namespace, p.record.Text(), strings.Join(output.Tail(out, 15), "\n")), nil
}

// withSecrets prepares ctr to run argv (built with helm.SecretsPlaceholder) under
// `sops-decrypt exec-file`: the age key mounted as a secret file, the environment's encrypted
// values decrypted into a tmpfs only while helm runs, never into a layer or an output.
func (m *SoccerPredict) withSecrets(ctx context.Context, ctr *dagger.Container, chart *dagger.Directory, ageKey *dagger.Secret, env helm.Env, argv []string) (*dagger.Container, []string, error) {
	rel := strings.TrimPrefix(helm.EncryptedSecretsFile(".", env), "./")
	if ok, err := chart.Exists(ctx, rel); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, fmt.Errorf("no encrypted secrets for %s: create %s in the chart (sops --encrypt, see .sops.yaml); nothing was changed", env, rel)
	}
	wrapped, err := helm.WithDecryptedSecrets(sopsBin, ageKeyPath, helm.EncryptedSecretsFile(chartDir, env), decryptedDir, argv)
	if err != nil {
		return nil, nil, err
	}
	sops, err := m.tool(ctx, toolbox.SopsDecrypt)
	if err != nil {
		return nil, nil, err
	}
	return ctr.
		WithFile(sopsBin, sops).
		WithMountedSecret(ageKeyPath, ageKey).
		WithMountedTemp(decryptedDir), wrapped, nil
}

// prepare validates the request and decides the policy.
func (m *SoccerPredict) prepare(ctx context.Context, req deployRequest) (prepared, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return prepared{}, err
	}
	env, err := policy.ParseEnv(req.Env)
	if err != nil {
		return prepared{}, err
	}
	set := artifact.Set{}
	for svc, ref := range map[string]string{"api": req.APIImage, "worker": req.WorkerImage, "airflow": req.AirflowImage} {
		if ref != "" {
			set[svc] = ref
		}
	}
	if err := set.Validate(); err != nil {
		return prepared{}, err
	}
	images := map[string]helm.Image{}
	for svc, ref := range set {
		img, err := helm.ParseImageRef(ref)
		if err != nil {
			return prepared{}, err
		}
		images[svc] = img
	}
	dataset, model, err := m.versions(ctx, req.ModelVersion)
	if err != nil {
		return prepared{}, err
	}
	rel := helm.Release{
		Name:        s.Release,
		Namespace:   namespace(s, string(env)),
		Env:         helm.Env(env),
		Chart:       chartDir,
		SecretsFile: "/dev/null",
		Timeout:     s.HelmTimeout,
		Images:      images,
		Trace: helm.Trace{
			GitCommit:      s.Commit,
			DatasetVersion: dataset,
			ModelVersion:   model,
			Environment:    helm.Env(env),
		},
	}
	record := trace.Record{
		Environment:    string(env),
		GitCommit:      s.Commit,
		ImageDigests:   set.Digests(),
		DatasetVersion: dataset,
		ModelVersion:   model,
	}
	if err := rel.Trace.Validate(helm.Env(env)); err != nil {
		return prepared{}, fmt.Errorf("traceability record for %s: %w", env, err)
	}
	preq, err := m.policyRequest(ctx, s, env, set, req)
	if err != nil {
		return prepared{}, err
	}
	return prepared{settings: s, release: rel, record: record, decision: policy.Decide(preq)}, nil
}

// policyRequest gathers the evidence the promotion policy needs: the gate report, the scan,
// and the GitLab deployment whose approvals are proven through the GitLab API.
func (m *SoccerPredict) policyRequest(ctx context.Context, s configpkg.Settings, env policy.Env, set artifact.Set, req deployRequest) (policy.Request, error) {
	preq := policy.Request{
		Env:            env,
		Source:         policy.SourceLocal,
		Commit:         s.Commit,
		Actor:          policy.Identity{Username: req.Actor},
		PipelineSource: req.PipelineSource,
		Branch:         s.Ref,
		DefaultBranch:  s.DefaultBranch,
		Images:         set,
	}
	if req.JobID != 0 {
		preq.Source = policy.SourceGitLab
	}
	if s.Tag != "" {
		preq.Branch = ""
	}
	green, err := m.gateReportGreen(ctx, s, req.GateReport)
	if err != nil {
		return policy.Request{}, err
	}
	preq.GateReportGreen = green
	clean, err := m.scanClean(ctx, s, req.ScanReport)
	if err != nil {
		return policy.Request{}, err
	}
	preq.ScanClean = clean
	if req.GitLabToken == nil {
		return preq, nil // no evidence: staging and production are refused with that reason
	}
	client, err := gitlabClient(ctx, s, req.GitLabToken)
	if err != nil {
		return policy.Request{}, err
	}
	project := orDefault(req.ProjectID, s.ProjectID)
	if project == "" {
		return policy.Request{}, fmt.Errorf("proving approvals needs the GitLab project: pass --project-id=$CI_PROJECT_ID or set CI_PROJECT_ID")
	}
	if s.Commit != "" {
		c, err := client.Commit(ctx, project, s.Commit)
		if err != nil {
			return policy.Request{}, fmt.Errorf("look up the commit author: %w", err)
		}
		preq.Author = policy.Identity{Name: c.AuthorName, Email: c.AuthorEmail}
	}
	switch {
	case req.JobID != 0:
		d, err := client.JobDeployment(ctx, project, string(env), int64(req.JobID))
		if err != nil {
			return policy.Request{}, fmt.Errorf("find the deployment of job %d: %w", req.JobID, err)
		}
		preq.Evidence = policy.EvidenceFromDeployment(d)
	case req.DeploymentID != 0:
		ev, err := policy.FetchEvidence(ctx, client, project, int64(req.DeploymentID))
		if err != nil {
			return policy.Request{}, err
		}
		preq.Evidence = ev
	case env != policy.Dev && s.Commit != "":
		// From a checkout: the deployment the commit's pipeline created for this environment.
		d, err := client.CommitDeployment(ctx, project, string(env), s.Commit)
		if err != nil {
			return policy.Request{}, err
		}
		preq.Evidence = policy.EvidenceFromDeployment(d)
	}
	if preq.Source == policy.SourceLocal {
		u, err := client.CurrentUser(ctx)
		if err != nil {
			return policy.Request{}, fmt.Errorf("identify the deployer from the GitLab token: %w", err)
		}
		preq.Actor = policy.Identity{Username: u.Username, Name: u.Name, Email: u.PublicEmail}
	}
	return preq, nil
}

// gateReportGreen reads a gate report: green when no blocking gate failed and it is the
// report of the commit being deployed.
func (m *SoccerPredict) gateReportGreen(ctx context.Context, s configpkg.Settings, f *dagger.File) (bool, error) {
	if f == nil {
		return false, nil
	}
	raw, err := f.Contents(ctx)
	if err != nil {
		return false, err
	}
	rep, err := gate.ReportFor([]byte(raw), s.Commit)
	if err != nil {
		return false, fmt.Errorf("--gate-report: %w", err)
	}
	return rep.Verdict().Pass, nil
}

// scanClean re-evaluates the scan reports of every service with the blocking severities and
// the project's .trivyignore: clean when no service has a blocking finding.
func (m *SoccerPredict) scanClean(ctx context.Context, s configpkg.Settings, dir *dagger.Directory) (bool, error) {
	if dir == nil {
		return false, nil
	}
	severities, err := scan.ParseSeverities(strings.Join(s.ScanSeverities, ","))
	if err != nil {
		return false, err
	}
	ignore, err := m.trivyIgnore(ctx)
	if err != nil {
		return false, err
	}
	for _, svc := range projectpkg.Services() {
		name := reports.TrivyFor(string(svc))
		ok, err := dir.Exists(ctx, name)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("--scan-report has no %s: pass the directory scan-report exported", name)
		}
		raw, err := dir.File(name).Contents(ctx)
		if err != nil {
			return false, err
		}
		rep, err := scan.ParseTrivy([]byte(raw))
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		v, err := scan.Evaluate(rep, scan.Policy{Severities: severities, Ignore: ignore, IgnoreUnfixed: s.IgnoreUnfixed, Now: time.Now().UTC()})
		if err != nil {
			return false, err
		}
		if !v.Passed() {
			return false, nil
		}
	}
	return true, nil
}

// deployedManifest returns the release's current manifest (Secret values redacted), or ""
// when the release is not installed yet.
func (m *SoccerPredict) deployedManifest(ctx context.Context, ctr *dagger.Container, rel helm.Release) (string, error) {
	argv, err := helm.GetManifestArgs(rel.Name, rel.Namespace, 0)
	if err != nil {
		return "", err
	}
	stdout, stderr, code, err := live(ctx, ctr, redacting(argv))
	if err != nil {
		return "", err
	}
	if code == 0 {
		return stdout, nil
	}
	if strings.Contains(stderr, "release: not found") {
		return "", nil
	}
	return "", fmt.Errorf("read the deployed release %s in %s: %s", rel.Name, rel.Namespace, strings.Join(output.Tail(stderr, 5), " | "))
}
