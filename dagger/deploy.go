package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// Deploy checks the promotion policy, then runs `helm upgrade --install --rollback-on-failure --wait=watcher` with
// the environment's values and its SOPS-encrypted secrets, decrypted with the age key into a
// tmpfs only for helm's lifetime. A failed rollout is rolled back by --rollback-on-failure: the previous
// release keeps serving and the new pods never receive traffic (readiness gates it). Images
// are deployed by digest, exactly as published: never rebuilt. A release left pending by a deploy
// killed half-way is first rolled back to its deployed revision, once that deploy's timeout has
// passed (before then it is another deploy in progress, and deploy refuses). With --dry-run it
// applies nothing and returns what it would do: the policy's decision with every reason (a
// refusal is reported, not an error), the traceability record, the diff of the rendered manifests
// against the deployed release (with --kubeconfig) and the manifests, Secret values redacted.
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
	// checkout, once in .env: DEPLOY_KUBECONFIG=file://${HOME}/.kube/config. A dry run without
	// it compares with an empty cluster.
	// +optional
	kubeconfig *dagger.Secret,
	// age identity that decrypts the environment's SOPS secrets (--age-key=env:SOPS_AGE_KEY);
	// from a checkout, once in .env: DEPLOY_AGEKEY=env://SOPS_AGE_KEY. A dry run renders exactly
	// what deploy installs, so staging and production need it; dev renders without.
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
	// Refused for staging and production, which read the gate report attached to each image
	// digest in the registry (publish attaches it; see verify-evidence), counting only Sigstore
	// bundles signed as ci/artifact/attest/trust/sigstore.json says; dev reads no evidence.
	// +optional
	gateReport *dagger.File,
	// Refused like --gate-report: staging and production use the signed Trivy reports attached
	// to each image digest.
	// +optional
	scanReport *dagger.Directory,
	// Dev only: a Helm chart to deploy instead of the one committed with the module
	// (charts/soccer-predict). Staging and production refuse it: they deploy the module's chart.
	// +optional
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
	// Apply nothing: render the chart (`helm template`), compare it with the deployed release
	// (`helm get manifest`, with --kubeconfig) and return the decision, the record, the diff and
	// the manifests; save them with -o plan.txt.
	// +optional
	dryRun bool,
) (_ string, err error) {
	defer surface(&err)
	// The chart and the tool images are trust roots: refused before anything runs.
	if m, chart, err = m.forEnv(ctx, env, chart); err != nil {
		return "", err
	}
	f := deployFlags{env, apiImage, workerImage, airflowImage, modelVersion, kubeconfig, ageKey, gitlabToken, jobToken, projectId, jobId, pipelineId, deploymentId,
		actor, pipelineSource, gateReport, scanReport, chart, registryUsername, registryPassword, head, insecureRegistry}
	mode := deploy.Apply
	if dryRun {
		mode = deploy.Preview
	}
	p, err := m.decide(ctx, f, mode)
	if err != nil {
		return "", err
	}
	ctr, err := m.helmContainer(ctx, chart, kubeconfig)
	if err != nil {
		return "", err
	}
	if ctr, err = m.withSecrets(ctx, ctr, p.Secrets, ageKey); err != nil {
		return "", err
	}
	if p.Mode == deploy.Preview {
		return dryRunOf(ctx, ctr, p)
	}
	recovered, err := recoverPending(ctx, ctr, p.Release)
	if err != nil {
		return "", err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	spent, err := spend(ctx, s, gitlabToken, projectId, p.Policy.Use)
	if err != nil {
		return "", err
	}
	out, err := ctr.
		// Deploys are never cached: the same inputs must reach the cluster every time.
		WithEnvVariable("SP_DEPLOY_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(p.Helm).
		Stdout(ctx)
	if serr := spent(ctx, err == nil); serr != nil && err == nil {
		return "", serr
	}
	if err != nil {
		var exec *dagger.ExecError
		if errors.As(err, &exec) {
			return "", p.UpgradeFailed(exec.ExitCode, exec.Stderr)
		}
		return "", err
	}
	if recovered != "" {
		return recovered + "\n" + p.Deployed(time.Now().UTC(), out), nil
	}
	return p.Deployed(time.Now().UTC(), out), nil
}

// dryRunOf executes a dry run's plan: it renders the chart (Secret values redacted), reads the
// deployed release when the plan says so, and returns the plan's answer.
func dryRunOf(ctx context.Context, ctr *dagger.Container, p deploy.Plan) (string, error) {
	rendered, err := redacted(ctx, ctr, p.Helm)
	if err != nil {
		return "", fmt.Errorf("render the chart for %s: %w", p.Release.Env, err)
	}
	deployed := ""
	if p.ReadDeployed != nil {
		if deployed, err = deployedManifest(ctx, ctr, p.ReadDeployed, p.Release.Name, p.Release.Namespace); err != nil {
			return "", err
		}
	}
	return p.DryRun(rendered, deployed)
}

// deployFlags are deploy's flags, for a dry run or not.
type deployFlags struct {
	Env                                 string
	APIImage, WorkerImage, AirflowImage string
	ModelVersion                        string
	Kubeconfig, AgeKey                  *dagger.Secret
	GitLabToken, JobToken               *dagger.Secret
	ProjectID                           string
	JobID, PipelineID, DeploymentID     int
	Actor, PipelineSource               string
	GateReport                          *dagger.File
	ScanReport                          *dagger.Directory
	Chart                               *dagger.Directory
	RegistryUsername                    string
	RegistryPassword                    *dagger.Secret
	Head                                *dagger.GitRef
	// InsecureRegistries are the --insecure-registry opt-ins for reading the registry.
	InsecureRegistries []string
}

// decide is deploy's one path to its decision: ci/deploy checks the flags before anything is
// read (deploy.Check), the module gathers the facts the request needs (deployFacts), and
// ci/deploy decides once (deploy.Decide). Deploy then only executes the plan: a dry run renders
// and compares, a deploy upgrades.
func (m *SoccerPredict) decide(ctx context.Context, f deployFlags, mode deploy.Mode) (deploy.Plan, error) {
	if err := credentialPair(f.RegistryUsername, f.RegistryPassword); err != nil {
		return deploy.Plan{}, fmt.Errorf("--registry-username/--registry-password: %w", err)
	}
	req, err := deploy.Check(deploy.Flags{
		Mode:               mode,
		Env:                f.Env,
		Images:             f.images(),
		Kubeconfig:         f.Kubeconfig != nil,
		AgeKey:             f.AgeKey != nil,
		GitLabToken:        f.GitLabToken != nil,
		ProjectID:          f.ProjectID,
		GateReport:         f.GateReport != nil,
		ScanReport:         f.ScanReport != nil,
		InsecureRegistries: f.InsecureRegistries,
		Trust:              committedTrust(),
		Claims: policy.Claims{
			Actor: f.Actor, JobID: int64(f.JobID), PipelineID: int64(f.PipelineID),
			DeploymentID: int64(f.DeploymentID), PipelineSource: f.PipelineSource,
		},
	})
	if err != nil {
		return deploy.Plan{}, err
	}
	facts, err := m.deployFacts(ctx, f, req)
	if err != nil {
		return deploy.Plan{}, err
	}
	return deploy.Decide(facts)
}

func (f deployFlags) images() map[domain.Service]string {
	return map[domain.Service]string{domain.API: f.APIImage, domain.Worker: f.WorkerImage, domain.Airflow: f.AirflowImage}
}

// deployFacts gathers what deploy.Decide needs, each fact after the ones it depends on: the
// checkout's commit and branch, the images publish pushed for them (only those not given), the
// dataset and model versions, the evidence of each digest, GitLab's answers and the chart's
// encrypted secrets. It reads; deploy.Decide judges.
func (m *SoccerPredict) deployFacts(ctx context.Context, f deployFlags, req deploy.Request) (deploy.Facts, error) {
	missing := req.Missing()
	m, err := m.atCheckout(ctx, f.Head, len(missing) > 0)
	if err != nil {
		return deploy.Facts{}, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return deploy.Facts{}, err
	}
	images, err := m.publishedImages(ctx, s, f.images(), missing, f.RegistryUsername, f.RegistryPassword, f.InsecureRegistries)
	if err != nil {
		return deploy.Facts{}, err
	}
	set, err := artifact.ParseSet(images)
	if err != nil {
		return deploy.Facts{}, err
	}
	_, model, err := m.versions(ctx, f.ModelVersion)
	if err != nil {
		return deploy.Facts{}, err
	}
	dataset, err := m.dataset(ctx)
	if err != nil {
		return deploy.Facts{}, err
	}
	evidence, err := m.deployEvidence(ctx, s, req.Env, req.Evidence, set, f)
	if err != nil {
		return deploy.Facts{}, err
	}
	proof, author, err := fetchProof(ctx, s, req.Env, f.ProjectID, f.GitLabToken, f.JobToken, req.Claims)
	if err != nil {
		return deploy.Facts{}, err
	}
	secrets, err := chartFile(ctx, f.Chart, req.SecretsFile)
	if err != nil {
		return deploy.Facts{}, err
	}
	return deploy.Facts{
		Request: req, Settings: s, Images: set, Dataset: dataset, ModelVersion: model,
		Evidence: evidence, GitLab: proof, Author: author, Secrets: secrets, ChartDir: chartDir,
	}, nil
}

// deployEvidence reads the gate and scan evidence where src says: none (dev), or what the
// registry tool (oci verify) finds attached to each digest under the committed Sigstore policy,
// whose documents are read only when that evidence counts.
func (m *SoccerPredict) deployEvidence(ctx context.Context, s configpkg.Settings, env domain.Environment, src deploy.EvidenceSource, set artifact.Set, f deployFlags) (deploy.Evidence, error) {
	if src.From != deploy.Registry {
		return deploy.Evidence{}, nil
	}
	insecure, err := m.insecureRegistriesOf(f.InsecureRegistries, set.References())
	if err != nil {
		return deploy.Evidence{}, err
	}
	return m.registryEvidence(ctx, s, set, src.Trust, env, f.RegistryUsername, f.RegistryPassword, insecure)
}

// registryEvidence reads what the registry holds for set: the registry tool's verification of
// each digest (oci verify, Sigstore bundles under trust, env's rule) and, only when that evidence
// counts, the gate report and the Trivy reports attached, with the scan policy they are judged by.
func (m *SoccerPredict) registryEvidence(ctx context.Context, s configpkg.Settings, set artifact.Set, trust attest.Trust, env domain.Environment, username string, password *dagger.Secret, insecure []string) (deploy.Evidence, error) {
	var ev deploy.Evidence
	dir, sum, err := m.fetchEvidence(ctx, s, set, trust, env, username, password, insecure)
	if err != nil {
		return ev, err
	}
	ev.Registry = &sum
	if !sum.OK {
		return ev, nil
	}
	raw, err := dir.File(gate.GateReportJSON).Contents(ctx)
	if err != nil {
		return ev, err
	}
	ev.GateReport = []byte(raw)
	ev.Scan, err = m.scanReports(ctx, s, dir)
	return ev, err
}

// chartFile reads file of the chart; nil when name is "" or the chart has no such file.
func chartFile(ctx context.Context, chart *dagger.Directory, name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	ok, err := chart.Exists(ctx, name)
	if err != nil || !ok {
		return nil, err
	}
	raw, err := chart.File(name).Contents(ctx)
	if err != nil {
		return nil, err
	}
	return []byte(raw), nil
}

// withSecrets gives ctr what the plan's secrets need: the sops-decrypt tool, the age key as a
// mounted secret file and a tmpfs the values are decrypted into only while helm runs, never into
// a layer or an output. No secrets: ctr as it is.
func (m *SoccerPredict) withSecrets(ctx context.Context, ctr *dagger.Container, s *deploy.Secrets, ageKey *dagger.Secret) (*dagger.Container, error) {
	if s == nil {
		return ctr, nil
	}
	sops, err := m.tool(ctx, toolchain.SopsDecrypt)
	if err != nil {
		return nil, err
	}
	ctr = ctr.
		WithFile(s.Tool, sops).
		WithMountedSecret(s.AgeKey, ageKey).
		WithMountedTemp(s.Decrypted)
	if s.RefusedKey != "" {
		// The repository's test key, from the module's own source (never the caller's): the
		// production secrets must not open with it.
		ctr = ctr.WithFile(s.RefusedKey, ownSource().File(helm.RepositoryTestKeyPath))
	}
	return ctr, nil
}

// fetchProof asks GitLab what the policy needs to know: with the job token, the job it belongs
// to (GET /job); with the GitLab token, the commit's author, the job by id when no job token was
// given, the job's own deployment (or --deployment-id's) and, for a run that names no job, the
// token's owner. It only fetches; policy.Resolve judges.
func fetchProof(ctx context.Context, s configpkg.Settings, env domain.Environment, projectID string, gitlabToken, jobToken *dagger.Secret, claims policy.Claims) (policy.Proof, policy.Identity, error) {
	var proof policy.Proof
	var author policy.Identity
	proof.Source.API = s.GitLabAPI
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
	p, err := client.Project(ctx, project)
	if err != nil {
		return proof, author, fmt.Errorf("look up the GitLab project: %w", err)
	}
	proof.Source.Project = p.PathWithNamespace
	if s.Commit != "" {
		c, err := client.Commit(ctx, project, s.Commit)
		if err != nil {
			return proof, author, fmt.Errorf("look up the commit author: %w", err)
		}
		author = policy.Identity{Name: c.AuthorName, Email: c.AuthorEmail}
		if proof.AuthorLinks, err = policy.FetchAuthorLinks(ctx, client, project, s.Commit, c.AuthorEmail); err != nil {
			return proof, author, err
		}
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
	if proof.Later, err = policy.FetchLater(ctx, client, project, proof.Deployment); err != nil {
		return proof, author, err
	}
	if err := policy.CheckApprovers(ctx, client, proof.Deployment); err != nil {
		return proof, author, err
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

// deployedManifest runs argv (helm get manifest) and returns the release's current manifest
// (Secret values redacted), or "" when the release is not installed yet.
func deployedManifest(ctx context.Context, ctr *dagger.Container, argv []string, release, namespace string) (string, error) {
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
	return "", fmt.Errorf("read the deployed release %s in %s: %s", release, namespace, strings.Join(gate.Tail(stderr, 5), " | "))
}
