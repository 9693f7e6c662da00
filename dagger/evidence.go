package main

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

const (
	evidenceIn  = "/in"
	evidenceOut = "/out/evidence"
	// builderID identifies the builder in the SLSA provenance: this module on the pinned engine.
	builderID = "https://gitlab.com/soccerpredictai/pipeline@dagger-v0.21.8"
)

// Attest attaches a gate report (and, optionally, a Trivy report and an SBOM) to an image in
// its registry as OCI 1.1 referrers of its digest, the way publish does for every image it
// pushes. Use it when publish ran without --gate-report. Nothing is attached unless the gate
// report is the green report of --commit with every blocking gate (see verify-evidence).
//
// +cache="never"
func (m *SoccerPredict) Attest(
	ctx context.Context,
	// Image by digest, repo@sha256:… (GitLab: $API_IMAGE from publish's dotenv).
	image string,
	// gate-report.json of the commit (from `gate-report`, every gate).
	gateReport *dagger.File,
	// trivy-<service>.json of this very image; attached without what may hold a secret in
	// clear (Trivy's code excerpts, layer commands, image config).
	// +optional
	trivy *dagger.File,
	// sbom-<service>.cdx.json of this very image.
	// +optional
	sbom *dagger.File,
	// Registry user (GitLab: $CI_REGISTRY_USER). Omit for a registry without auth.
	// +optional
	username string,
	// Registry password or token, as a secret: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
	// Private key that signs the documents as Sigstore bundles when the committed policy
	// (ci/artifact/attest/trust/sigstore.json) says keyed, as a secret:
	// --signing-key=env:SP_SIGNING_KEY, the private half of ci/artifact/attest/trust/attestation.pub.
	// Refused under the committed keyless policy (pass --sigstore-id-token).
	// +optional
	signingKey *dagger.Secret,
	// Password of a cosign encrypted signing key, as a secret: --signing-key-password=env:COSIGN_PASSWORD.
	// +optional
	signingKeyPassword *dagger.Secret,
	// Registry host[:port] without TLS (a dev k3s registry, an air-gapped mirror) to reach over
	// plain http; repeat for several. Exact host, port included; loopback registries need none;
	// never for production.
	// +optional
	insecureRegistry []string,
	// The CI job's OIDC token, as a secret (GitLab: --sigstore-id-token=env:SIGSTORE_ID_TOKEN from
	// `id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`): signs each document keylessly as a
	// Sigstore bundle (a Fulcio certificate for the pipeline, a Rekor entry) under the committed
	// keyless policy. Without it (or --signing-key) the documents are attached unsigned, which
	// staging and production refuse.
	// +optional
	sigstoreIdToken *dagger.Secret,
) (_ string, err error) {
	defer surface(&err)
	if err := credentialPair(username, password); err != nil {
		return "", err
	}
	signing := signingKeys{sigstoreIdToken, signingKey, signingKeyPassword}
	if _, _, err := attest.SigningFor(committedTrust(), signing.IDToken != nil, signing.Key != nil, signing.Password != nil); err != nil {
		return "", fmt.Errorf("nothing was attached: %w", err)
	}
	s, err := m.settings(ctx)
	if err != nil {
		return "", err
	}
	ref, err := domain.ParsePinnedRef(image)
	if err != nil {
		return "", fmt.Errorf("--image: %w", err)
	}
	insecure, err := m.insecureRegistriesOf(insecureRegistry, []domain.ImageRef{ref})
	if err != nil {
		return "", err
	}
	if err := checkGateReport(ctx, s, gateReport); err != nil {
		return "", err
	}
	if trivy != nil {
		if trivy, err = redactedTrivy(ctx, trivy); err != nil {
			return "", fmt.Errorf("--trivy: %w", err)
		}
	}
	return m.attach(ctx, attachment{Image: ref, GateReport: gateReport, Trivy: trivy, SBOM: sbom, Signing: signing, Insecure: insecure}, username, password)
}

// VerifyEvidence reads, from the registry, the evidence attached to each image digest and
// checks it against --commit: a gate report of that commit with every blocking gate passed,
// a Trivy report and an SBOM of that very image, a SLSA provenance whose subject is the digest,
// and the image's org.opencontainers.image.revision label. Only Sigstore bundles signed as the
// committed policy says count (ci/artifact/attest/trust/sigstore.json, compiled into the module:
// keyless, the project's default-branch pipeline); evidence of the earlier format (unsigned
// documents, DSSE envelopes) is refused: republish. It returns evidence.json, the gate report and
// the Trivy reports that counted, and fails listing every problem with the command that fixes
// it. deploy (staging, production) and release run the same check.
//
// +cache="never"
func (m *SoccerPredict) VerifyEvidence(
	ctx context.Context,
	// API image by digest, repo@sha256:… (GitLab: $API_IMAGE).
	apiImage string,
	// Worker image by digest (GitLab: $WORKER_IMAGE).
	workerImage string,
	// Airflow image by digest (GitLab: $AIRFLOW_IMAGE).
	airflowImage string,
	// Registry user (GitLab: $CI_REGISTRY_USER). Omit for a registry without auth.
	// +optional
	username string,
	// Registry password or token, as a secret: --password=env:CI_REGISTRY_PASSWORD.
	// +optional
	password *dagger.Secret,
	// Registry host[:port] without TLS (a dev k3s registry, an air-gapped mirror) to reach over
	// plain http; repeat for several. Exact host, port included; loopback registries need none;
	// never for production.
	// +optional
	insecureRegistry []string,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	// It checks as staging does, so it builds its verifier as staging does: committed images.
	if m, _, err = m.forEnvironment(ctx, domain.Staging, nil); err != nil {
		return nil, err
	}
	if err := credentialPair(username, password); err != nil {
		return nil, err
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, err
	}
	set, err := artifact.ParseSet(map[domain.Service]string{domain.API: apiImage, domain.Worker: workerImage, domain.Airflow: airflowImage})
	if err != nil {
		return nil, err
	}
	insecure, err := m.insecureRegistriesOf(insecureRegistry, set.References())
	if err != nil {
		return nil, err
	}
	// The staging rule: Sigstore bundles under the committed policy.
	trust, _, err := attest.EvidenceTrust(domain.Staging, committedTrust())
	if err != nil {
		return nil, err
	}
	dir, sum, err := m.fetchEvidence(ctx, s, set, trust, domain.Staging, username, password, insecure)
	if err != nil {
		return nil, err
	}
	if err := sum.Err(); err != nil {
		return nil, err
	}
	return dir, nil
}

// checkGateReport refuses a gate report that is not the green, complete report of the commit.
func checkGateReport(ctx context.Context, s configpkg.Settings, f *dagger.File) error {
	if f == nil {
		return fmt.Errorf("--gate-report is required: pass the gate-report.json of `%s`", strings.Replace(gate.GateReportCommand, "<sha>", orDefault(string(s.Commit), "<sha>"), 1))
	}
	raw, err := f.Contents(ctx)
	if err != nil {
		return err
	}
	if _, err := gate.VerifyReport([]byte(raw), s.Commit); err != nil {
		return fmt.Errorf("--gate-report (nothing was attached): %w", err)
	}
	return nil
}

// attachment is what publish attaches to one pushed image; nil files are skipped.
type attachment struct {
	Image                   domain.ImageRef
	GateReport, Trivy, SBOM *dagger.File
	// Provenance, when set, is the statement (JSON) to attach.
	Provenance string
	// Signing is what every document is signed with (none: attached unsigned).
	Signing signingKeys
	// Insecure are the --insecure-registry opt-ins (insecureRegistriesOf).
	Insecure []string
}

// attach runs `oci attach` for one pushed image: publish calls it once per digest.
func (m *SoccerPredict) attach(ctx context.Context, a attachment, username string, password *dagger.Secret) (string, error) {
	ctr, creds, err := m.toolContainer(ctx, toolchain.OCI, ociBin, username, password, a.Image)
	if err != nil {
		return "", err
	}
	args := []string{ociBin, "attach", "--image", a.Image.String()}
	for _, f := range []struct {
		flag, name string
		file       *dagger.File
	}{{"--gate-report", gate.GateReportJSON, a.GateReport}, {"--trivy", "trivy.json", a.Trivy}, {"--sbom", "sbom.cdx.json", a.SBOM}} {
		if f.file != nil {
			p := path.Join(evidenceIn, f.name)
			ctr = ctr.WithMountedFile(p, f.file)
			args = append(args, f.flag, p)
		}
	}
	if a.Provenance != "" {
		p := path.Join(evidenceIn, "provenance.json")
		ctr = ctr.WithNewFile(p, a.Provenance)
		args = append(args, "--provenance", p)
	}
	ctr, signArgs, err := withSigning(ctr, a.Signing)
	if err != nil {
		return "", err
	}
	args = append(args, signArgs...)
	args = append(args, insecureArgs(a.Insecure, a.Image)...)
	out, err := ctr.
		// Attaching writes to the registry: never answer it from the engine's cache.
		WithEnvVariable("SP_ATTEST_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(append(args, creds...)).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("attach the evidence of %s: %w", a.Image, toolFailure("oci attach", err))
	}
	return strings.TrimSpace(out), nil
}

// provenance builds the SLSA provenance statement of one pushed image: the base images are
// the Dockerfile's FROM images as the engine resolves them (by digest, never guessed).
func (m *SoccerPredict) provenance(ctx context.Context, s configpkg.Settings, svc domain.Service, image domain.ImageRef, pipeline, dataset, model string, started, finished time.Time) (string, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return "", err
	}
	df, err := m.project().File(svc.Dockerfile()).Contents(ctx)
	if err != nil {
		return "", err
	}
	froms, err := artifact.BaseImages([]byte(df), map[string]string{"BASE_IMAGE": imgs.Ref(toolchain.Python)})
	if err != nil {
		return "", fmt.Errorf("%s: %w", svc.Dockerfile(), err)
	}
	var bases []domain.ImageRef
	for _, ref := range froms {
		resolved, err := dag.Container().From(ref).ImageRef(ctx)
		if err != nil {
			return "", fmt.Errorf("resolve the base image %s: %w", ref, err)
		}
		pinned, err := domain.ParsePinnedRef(resolved)
		if err != nil {
			return "", fmt.Errorf("the engine resolved the base image %s to %q: %w", ref, resolved, err)
		}
		bases = append(bases, pinned)
	}
	commit, err := settingsCommit(s)
	if err != nil {
		return "", err
	}
	st, err := attest.NewProvenance(attest.BuildInput{
		Image: image, Service: svc, Commit: commit, Ref: orDefault(s.Tag, s.Ref), SourceURL: s.ProjectURL,
		Pipeline: orDefault(pipeline, "local"), BuilderID: builderID, DatasetVersion: dataset, ModelVersion: model,
		Registry: string(s.Registry), BaseImages: bases, StartedOn: started, FinishedOn: finished,
	})
	if err != nil {
		return "", err
	}
	b, err := st.JSON()
	return string(b), err
}

// fetchEvidence runs `oci verify` for the set under the committed trust and env's rule: the
// directory holds evidence.json and the documents that counted. The answer must be about this
// very question (attest.Summary.Check: commit, images, env, this run's nonce, the policy).
func (m *SoccerPredict) fetchEvidence(ctx context.Context, s configpkg.Settings, set artifact.Set, trust attest.Trust, env domain.Environment, username string, password *dagger.Secret, insecure []string) (*dagger.Directory, attest.Summary, error) {
	if s.Commit == "" {
		return nil, attest.Summary{}, fmt.Errorf("verifying the evidence needs the commit: pass --commit=$CI_COMMIT_SHA to the constructor")
	}
	commit, err := settingsCommit(s)
	if err != nil {
		return nil, attest.Summary{}, err
	}
	ctr, creds, err := m.toolContainer(ctx, toolchain.OCI, ociBin, username, password, set.References()...)
	if err != nil {
		return nil, attest.Summary{}, err
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, attest.Summary{}, err
	}
	args := []string{ociBin, "verify", "--commit", commit.String(), "--out", evidenceOut, "--env", string(env), "--nonce", nonce}
	for _, svc := range domain.Services() {
		args = append(args, "--image", string(svc)+"="+set[svc].String())
	}
	for _, h := range insecure {
		args = append(args, "--insecure-registry", h)
	}
	ctr, trustArgs := withTrust(ctr, trust)
	args = append(args, trustArgs...)
	dir := ctr.
		// The registry is the source of truth: read it every time.
		WithEnvVariable("SP_EVIDENCE_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(append(args, creds...)).
		Directory(evidenceOut)
	raw, err := dir.File("evidence.json").Contents(ctx)
	if err != nil {
		return nil, attest.Summary{}, fmt.Errorf("read the evidence of the images from the registry: %w", toolFailure("oci verify", err))
	}
	sum, err := attest.ParseSummary([]byte(raw), commit)
	if err != nil {
		return nil, attest.Summary{}, err
	}
	if err := sum.Check(attest.Asked{Commit: commit, Images: set, Env: env, Nonce: nonce, Trust: trust.Name}); err != nil {
		return nil, attest.Summary{}, err
	}
	return dir, sum, nil
}

// scanReports reads dir's trivy-<service>.json files with the scan policy they are judged by
// (scanPolicy); nil when there is no directory.
func (m *SoccerPredict) scanReports(ctx context.Context, s configpkg.Settings, dir *dagger.Directory) (*deploy.Scan, error) {
	if dir == nil {
		return nil, nil
	}
	pol, err := m.scanPolicy(ctx, s)
	if err != nil {
		return nil, err
	}
	sc := &deploy.Scan{Reports: map[domain.Service][]byte{}, Policy: pol}
	for _, svc := range domain.Services() {
		name := gate.TrivyFor(svc)
		ok, err := dir.Exists(ctx, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		raw, err := dir.File(name).Contents(ctx)
		if err != nil {
			return nil, err
		}
		sc.Reports[svc] = []byte(raw)
	}
	return sc, nil
}

// publishEvidence attaches the evidence of one pushed image (ref: repo@sha256:…): the gate
// report (when given), the Trivy report and SBOM of the very archive pushed, and its SLSA
// provenance. Publish calls it once per pushed digest.
func (m *SoccerPredict) publishEvidence(ctx context.Context, s configpkg.Settings, svc domain.Service, ref domain.ImageRef,
	gateReport, trivy, sbom *dagger.File, pipeline, modelVersion string, started time.Time, username string, password *dagger.Secret, signing signingKeys, insecure []string) error {
	dataset, model, err := m.versions(ctx, modelVersion)
	if err != nil {
		return err
	}
	prov, err := m.provenance(ctx, s, svc, ref, pipeline, dataset, model, started, time.Now().UTC())
	if err != nil {
		return err
	}
	_, err = m.attach(ctx, attachment{Image: ref, GateReport: gateReport, Trivy: trivy, SBOM: sbom, Provenance: prov, Signing: signing, Insecure: insecure}, username, password)
	return err
}
