package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

const (
	ageKeyPath   = "/run/secrets/age.key"
	decryptedDir = "/run/decrypted"
	sopsBin      = "/usr/local/bin/sops-decrypt"
)

// deployRequest is what plan and deploy share: the target, the artifact and the evidence.
type deployRequest struct {
	Env                                 domain.Environment
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
	RegistryUsername                    string
	RegistryPassword                    *dagger.Secret
	// InsecureRegistries are the --insecure-registry opt-ins for reading the evidence.
	InsecureRegistries []string
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
// manifests.yaml, diff.txt, policy.json and trace.json. Like deploy, from a checkout it plans
// HEAD's commit with the images publish pushed for it when no image flag is given.
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
	// Model version to record (default: the version behind MLflow's champion alias when MLFLOW_TRACKING_URI is set, else model_version of metrics/champion.json).
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
	// The GitLab job running this deploy (GitLab: $CI_JOB_ID), proven with --job-token; its
	// deployment holds the approvals. Naming a job makes the run a GitLab run.
	// +optional
	jobId int,
	// From a laptop: the GitLab deployment (created by a deploy job, blocked or running) whose
	// approvals allow this deploy.
	// +optional
	deploymentId int,
	// Display only: who deploys is proven by GitLab (the job's user in CI, the token's owner on a
	// laptop); a different name is refused.
	// +optional
	actor string,
	// GitLab: $CI_PIPELINE_SOURCE.
	// +optional
	pipelineSource string,
	// Offline fallback for dev, and for staging while no attestation key is committed
	// (production refuses it): gate-report.json of this commit. Without it, staging and
	// production read the gate report attached to each image in the registry.
	// +optional
	gateReport *dagger.File,
	// Offline fallback, as --gate-report: the scan-report directory of these images. Without
	// it, the Trivy reports attached to each image in the registry are used.
	// +optional
	scanReport *dagger.Directory,
	// The Helm chart.
	// +defaultPath="/charts/soccer-predict"
	chart *dagger.Directory,
	// GitLab CI: this job's own token (--job-token=env:CI_JOB_TOKEN). GitLab answers GET /job with
	// the job, its user and its pipeline: that is what proves a GitLab run and who deploys.
	// +optional
	jobToken *dagger.Secret,
	// GitLab CI: $CI_PIPELINE_ID; checked against the job's pipeline.
	// +optional
	pipelineId int,
	// Registry user to read the images' evidence and, without image flags, to look up the images
	// published for this commit (GitLab: $CI_REGISTRY_USER).
	// +optional
	registryUsername string,
	// Registry password or token, as a secret (--registry-password=env:CI_REGISTRY_PASSWORD).
	// +optional
	registryPassword *dagger.Secret,
	// The checkout's HEAD: the commit (and branch) planned when --commit (--ref) is not set.
	// +defaultPath="./.git"
	head *dagger.GitRef,
	// A registry without TLS to read the evidence from (host[:port], exact; repeatable). Loopback
	// registries need none; production refuses any.
	// +optional
	insecureRegistry []string,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	if err := credentialPair(registryUsername, registryPassword); err != nil {
		return nil, fmt.Errorf("--registry-username/--registry-password: %w", err)
	}
	penv, err := domain.ParseEnvironment(env)
	if err != nil {
		return nil, err
	}
	req := deployRequest{penv, apiImage, workerImage, airflowImage, modelVersion, kubeconfig, gitlabToken, projectId, jobId, deploymentId, actor, pipelineSource, gateReport, scanReport, chart, registryUsername, registryPassword, insecureRegistry}
	if m, req, err = m.fromCheckout(ctx, head, req); err != nil {
		return nil, err
	}
	p, err := m.prepare(ctx, req, proofFlags{JobToken: jobToken, PipelineID: pipelineId})
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
		WithNewFile(gate.Manifests, rendered).
		WithNewFile(gate.Diff, diffText).
		WithNewFile(gate.Policy, string(policyJSON)).
		WithNewFile(gate.Trace, string(traceJSON)), nil
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
	// Model version to record (default: the version behind MLflow's champion alias when MLFLOW_TRACKING_URI is set, else model_version of metrics/champion.json).
	// +optional
	modelVersion string,
	// GitLab token that proves approvals (GitLab: env:GITLAB_DEPLOY_TOKEN).
	// +optional
	gitlabToken *dagger.Secret,
	// GitLab project id (default: CI_PROJECT_ID setting).
	// +optional
	projectId string,
	// The GitLab job running this deploy (GitLab: $CI_JOB_ID), proven with --job-token; its
	// deployment holds the approvals. Naming a job makes the run a GitLab run.
	// +optional
	jobId int,
	// From a laptop: the GitLab deployment (created by a deploy job, blocked or running) whose
	// approvals allow this deploy.
	// +optional
	deploymentId int,
	// Display only: who deploys is proven by GitLab (the job's user in CI, the token's owner on a
	// laptop); a different name is refused.
	// +optional
	actor string,
	// GitLab: $CI_PIPELINE_SOURCE.
	// +optional
	pipelineSource string,
	// Offline fallback for dev, and for staging while no attestation key is committed
	// (production, and staging once it is, refuse it): gate-report.json of this commit. Without
	// it, staging and production read the gate report attached to each image digest in the
	// registry (publish attaches it; see verify-evidence), signed by the private half of
	// ci/artifact/attest/trust/attestation.pub (production always, staging once that key is committed).
	// +optional
	gateReport *dagger.File,
	// Offline fallback, as --gate-report: the scan-report directory. Without it, the Trivy
	// reports attached to each image digest are used.
	// +optional
	scanReport *dagger.Directory,
	// The Helm chart.
	// +defaultPath="/charts/soccer-predict"
	chart *dagger.Directory,
	// GitLab CI: this job's own token (--job-token=env:CI_JOB_TOKEN). GitLab answers GET /job with
	// the job, its user and its pipeline: that is what proves a GitLab run and who deploys.
	// +optional
	jobToken *dagger.Secret,
	// GitLab CI: $CI_PIPELINE_ID; checked against the job's pipeline.
	// +optional
	pipelineId int,
	// Registry user to read the images' evidence and, without image flags, to look up the images
	// published for this commit (GitLab: $CI_REGISTRY_USER).
	// +optional
	registryUsername string,
	// Registry password or token, as a secret (--registry-password=env:CI_REGISTRY_PASSWORD).
	// +optional
	registryPassword *dagger.Secret,
	// The checkout's HEAD: the commit (and branch) deployed when --commit (--ref) is not set.
	// +defaultPath="./.git"
	head *dagger.GitRef,
	// A registry without TLS to read the evidence from (host[:port], exact; repeatable). Loopback
	// registries need none; production refuses any.
	// +optional
	insecureRegistry []string,
) (_ string, err error) {
	defer surface(&err)
	if err := credentialPair(registryUsername, registryPassword); err != nil {
		return "", fmt.Errorf("--registry-username/--registry-password: %w", err)
	}
	penv, err := domain.ParseEnvironment(env)
	if err != nil {
		return "", err
	}
	if err := policy.MissingDeployInputs(policy.DeployInputs{Env: penv, Kubeconfig: kubeconfig != nil, AgeKey: ageKey != nil}); err != nil {
		return "", err
	}
	req := deployRequest{penv, apiImage, workerImage, airflowImage, modelVersion, kubeconfig, gitlabToken, projectId, jobId, deploymentId, actor, pipelineSource, gateReport, scanReport, chart, registryUsername, registryPassword, insecureRegistry}
	if m, req, err = m.fromCheckout(ctx, head, req); err != nil {
		return "", err
	}
	p, err := m.prepare(ctx, req, proofFlags{JobToken: jobToken, PipelineID: pipelineId})
	if err != nil {
		return "", err
	}
	if err := p.decision.Err(); err != nil {
		_, keyConfigured := trustedPublicKey()
		hints := policy.EvidenceHints(policy.DeployInputs{Env: penv, GitLabToken: gitlabToken != nil, ProjectID: orDefault(projectId, p.settings.ProjectID) != "", GateReport: gateReport != nil, KeyConfigured: keyConfigured})
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
				p.release.Name, p.release.Namespace, exec.ExitCode, strings.Join(gate.Tail(exec.Stderr, 20), "\n"))
		}
		return "", err
	}
	p.record.DeployedAt = time.Now().UTC()
	return fmt.Sprintf("deployed %s to %s (namespace %s)\n\n%s\n%s", p.release.Name, env, p.release.Namespace, p.record.Text(), strings.Join(gate.Tail(out, 15), "\n")), nil
}

// withSecrets prepares ctr to run argv (built with helm.SecretsPlaceholder) under
// `sops-decrypt exec-file`: the age key mounted as a secret file, the environment's encrypted
// values decrypted into a tmpfs only while helm runs, never into a layer or an output.
func (m *SoccerPredict) withSecrets(ctx context.Context, ctr *dagger.Container, chart *dagger.Directory, ageKey *dagger.Secret, env domain.Environment, argv []string) (*dagger.Container, []string, error) {
	rel := strings.TrimPrefix(helm.EncryptedSecretsFile(".", env), "./")
	if ok, err := chart.Exists(ctx, rel); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, fmt.Errorf("no encrypted secrets for %s: create %s in the chart (sops --encrypt, see .sops.yaml); nothing was changed", env, rel)
	}
	encrypted, err := chart.File(rel).Contents(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := helm.CheckSecretsRecipients(env, rel, []byte(encrypted)); err != nil {
		return nil, nil, err
	}
	wrapped, err := helm.WithDecryptedSecrets(sopsBin, ageKeyPath, helm.EncryptedSecretsFile(chartDir, env), decryptedDir, argv)
	if err != nil {
		return nil, nil, err
	}
	sops, err := m.tool(ctx, toolchain.SopsDecrypt)
	if err != nil {
		return nil, nil, err
	}
	return ctr.
		WithFile(sopsBin, sops).
		WithMountedSecret(ageKeyPath, ageKey).
		WithMountedTemp(decryptedDir), wrapped, nil
}

// fromCheckout completes req from the checkout's HEAD, as deploy and plan do when flags leave
// them out: the commit (and, when an image is missing, the branch) from head, and every missing
// image from those publish pushed for that commit (publishedImages).
func (m *SoccerPredict) fromCheckout(ctx context.Context, head *dagger.GitRef, req deployRequest) (*SoccerPredict, deployRequest, error) {
	m, err := m.atCheckout(ctx, head, req.APIImage == "" || req.WorkerImage == "" || req.AirflowImage == "")
	if err != nil {
		return nil, req, err
	}
	imgs, err := m.publishedImages(ctx, req.Env, map[domain.Service]string{domain.API: req.APIImage, domain.Worker: req.WorkerImage, domain.Airflow: req.AirflowImage}, req.RegistryUsername, req.RegistryPassword, req.InsecureRegistries)
	if err != nil {
		return nil, req, err
	}
	req.APIImage, req.WorkerImage, req.AirflowImage = imgs[domain.API], imgs[domain.Worker], imgs[domain.Airflow]
	return m, req, nil
}

// proofFlags are the flags GitLab is asked to prove the run with.
type proofFlags struct {
	JobToken   *dagger.Secret
	PipelineID int
}

// prepare validates the request and decides the policy.
func (m *SoccerPredict) prepare(ctx context.Context, req deployRequest, pf proofFlags) (prepared, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return prepared{}, err
	}
	env := req.Env
	set, err := artifact.ParseSet(map[domain.Service]string{domain.API: req.APIImage, domain.Worker: req.WorkerImage, domain.Airflow: req.AirflowImage})
	if err != nil {
		return prepared{}, err
	}
	images := map[domain.Service]domain.ImageRef(set)
	dataset, model, err := m.versions(ctx, req.ModelVersion)
	if err != nil {
		return prepared{}, err
	}
	ds, err := m.dataset(ctx)
	if err != nil {
		return prepared{}, err
	}
	record := trace.Record{
		Environment:    env,
		GitCommit:      s.Commit,
		ImageDigests:   map[domain.Service]domain.Digest{},
		DatasetVersion: dataset,
		DatasetPointer: ds.Pointer,
		ModelVersion:   model,
	}
	for svc, img := range images {
		record.ImageDigests[svc] = img.Digest
	}
	if err := record.Validate(); err != nil {
		return prepared{}, fmt.Errorf("traceability record for %s: %w", env, err)
	}
	rel := helm.Release{
		Name:        s.Release,
		Namespace:   env.Namespace(s.Namespace),
		Env:         env,
		Chart:       chartDir,
		SecretsFile: "/dev/null",
		Timeout:     s.HelmTimeout,
		Images:      images,
		Trace:       record,
	}
	decision, err := m.policyDecision(ctx, s, env, set, images, req, pf)
	if err != nil {
		return prepared{}, err
	}
	return prepared{settings: s, release: rel, record: record, decision: decision}, nil
}

// policyDecision gathers the evidence the promotion policy needs (the gate report, the scan, and
// GitLab's answers about the job, the token's owner and the deployment) and lets ci/deploy/policy decide.
// Nothing here decides who deploys or from where: policy.Resolve does, from the evidence.
func (m *SoccerPredict) policyDecision(ctx context.Context, s configpkg.Settings, env domain.Environment, set artifact.Set, images map[domain.Service]domain.ImageRef, req deployRequest, pf proofFlags) (policy.Decision, error) {
	preq := policy.Request{
		Env:            env,
		Commit:         s.Commit,
		PipelineSource: req.PipelineSource,
		Branch:         s.Ref,
		DefaultBranch:  s.DefaultBranch,
		Images:         images,
	}
	if s.Tag != "" {
		preq.Branch = ""
	}
	green, clean, report, err := m.evidence(ctx, s, env, set, req)
	if err != nil {
		return policy.Decision{}, err
	}
	preq.GateReportGreen, preq.ScanClean = green, clean
	if preq.FirstModel, err = m.gateReportFirstModel(ctx, report); err != nil {
		return policy.Decision{}, err
	}
	claims := policy.Claims{
		Actor: req.Actor, JobID: int64(req.JobID), PipelineID: int64(pf.PipelineID),
		DeploymentID: int64(req.DeploymentID), PipelineSource: req.PipelineSource,
	}
	proof, author, err := fetchProof(ctx, s, env, req.ProjectID, req.GitLabToken, pf.JobToken, claims)
	if err != nil {
		return policy.Decision{}, err
	}
	preq.Author = author
	return policy.Resolve(preq, claims, proof), nil
}

// fetchProof asks GitLab what the policy needs to know: with the job token, the job it belongs
// to (GET /job); with the GitLab token, the commit's author, the job by id when no job token was
// given, the job's own deployment (or --deployment-id's) and, for a run that names no job, the
// token's owner. It only fetches; policy.Resolve judges.
func fetchProof(ctx context.Context, s configpkg.Settings, env domain.Environment, projectID string, gitlabToken, jobToken *dagger.Secret, claims policy.Claims) (policy.Proof, policy.Identity, error) {
	var proof policy.Proof
	var author policy.Identity
	if jobToken != nil {
		jc, err := gitlabClient(ctx, s, jobToken, gitlab.WithJobToken())
		if err != nil {
			return proof, author, err
		}
		j, err := jc.TokenJob(ctx)
		if err != nil {
			return proof, author, fmt.Errorf("prove this GitLab job with --job-token: %w; nothing was changed", err)
		}
		proof.Job = policy.JobFromGitLab(j, true)
	}
	if gitlabToken == nil {
		return proof, author, nil // no evidence: staging and production are refused with that reason
	}
	client, err := gitlabClient(ctx, s, gitlabToken)
	if err != nil {
		return proof, author, err
	}
	project := orDefault(projectID, s.ProjectID)
	if project == "" {
		return proof, author, fmt.Errorf("proving approvals needs the GitLab project: pass --project-id=$CI_PROJECT_ID or set CI_PROJECT_ID")
	}
	if s.Commit != "" {
		c, err := client.Commit(ctx, project, s.Commit)
		if err != nil {
			return proof, author, fmt.Errorf("look up the commit author: %w", err)
		}
		author = policy.Identity{Name: c.AuthorName, Email: c.AuthorEmail}
	}
	jobID := claims.JobID
	if proof.Job != nil {
		jobID = proof.Job.ID() // the job GitLab vouched for, not the one named
	}
	if jobID != 0 && proof.Job == nil {
		j, err := client.ProjectJob(ctx, project, jobID)
		if err != nil {
			return proof, author, fmt.Errorf("look up job %d: %w", jobID, err)
		}
		proof.Job = policy.JobFromGitLab(j, false)
	}
	switch {
	case jobID != 0:
		d, err := client.JobDeployment(ctx, project, env, jobID)
		if err != nil {
			return proof, author, fmt.Errorf("find the deployment of job %d: %w", jobID, err)
		}
		proof.Deployment = policy.EvidenceFromDeployment(d)
	case claims.DeploymentID != 0:
		ev, err := policy.FetchEvidence(ctx, client, project, claims.DeploymentID)
		if err != nil {
			return proof, author, err
		}
		proof.Deployment = ev
	case env != domain.Dev && s.Commit != "" && claims.PipelineID == 0:
		// From a checkout: the deployment the commit's pipeline created for this environment.
		d, err := client.CommitDeployment(ctx, project, env, s.Commit)
		if err != nil {
			return proof, author, err
		}
		proof.Deployment = policy.EvidenceFromDeployment(d)
	}
	if jobID == 0 && claims.PipelineID == 0 {
		u, err := client.CurrentUser(ctx)
		if err != nil {
			return proof, author, fmt.Errorf("identify the deployer from the GitLab token: %w", err)
		}
		proof.TokenOwner = u
	}
	return proof, author, nil
}

// gateReportGreen reads a gate report: green only when it is the report of the commit being
// deployed with every blocking gate of the catalog present and passed (gate.VerifyReport:
// kinds from the catalog, never from the file). Anything else is refused with what is missing.
func (m *SoccerPredict) gateReportGreen(ctx context.Context, s configpkg.Settings, f *dagger.File) (bool, error) {
	if f == nil {
		return false, nil
	}
	raw, err := f.Contents(ctx)
	if err != nil {
		return false, err
	}
	if _, err := gate.VerifyReport([]byte(raw), s.Commit); err != nil {
		return false, fmt.Errorf("gate report: %w", err)
	}
	return true, nil
}

// scanClean re-evaluates the scan reports of every service with the blocking severities and
// the project's .trivyignore: clean when no service has a blocking finding.
func (m *SoccerPredict) scanClean(ctx context.Context, s configpkg.Settings, dir *dagger.Directory) (bool, error) {
	if dir == nil {
		return false, nil
	}
	pol, err := m.scanPolicy(ctx, s)
	if err != nil {
		return false, err
	}
	for _, svc := range domain.Services() {
		name := gate.TrivyFor(svc)
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
		v, err := scan.Evaluate(rep, pol)
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
	return "", fmt.Errorf("read the deployed release %s in %s: %s", rel.Name, rel.Namespace, strings.Join(gate.Tail(stderr, 5), " | "))
}
