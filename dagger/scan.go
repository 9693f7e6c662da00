package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/secretscan"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

const (
	// Where the project's trivy-secret.yaml is mounted for Trivy (--secret-config); with no file
	// there, Trivy uses its built-in rules only.
	secretConfigPath = "/etc/trivy/" + scan.SecretConfigFile
	// Where Trivy writes its own JSON report, which may hold a secret in clear: never exported.
	trivyRawDir = "/raw"
)

// Scan builds the service images (all, or --service) and scans each with Trivy for known
// vulnerabilities and for secrets (keys, tokens, private keys) in the image's files. It fails
// when a finding of a blocking severity (SP_SCAN_SEVERITIES, default HIGH,CRITICAL) is not
// accepted by the project's .trivyignore (secrets also by its trivy-secret.yaml), listing every
// such finding by ID or rule, package or file: never a secret.
//
// +check
// +cache="session"
func (m *SoccerPredict) Scan(
	ctx context.Context,
	// Service to scan: api, worker or airflow (default: all).
	// +optional
	service string,
) (err error) {
	defer surface(&err)
	_, verdicts, err := m.scanAll(ctx, service)
	if err != nil {
		return err
	}
	var errs []string
	for _, svc := range domain.Services() {
		if v, ok := verdicts[svc]; ok {
			if err := v.Err(); err != nil {
				errs = append(errs, fmt.Sprintf("%s image: %v", svc, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("image scan failed:\n%s", strings.Join(errs, "\n"))
	}
	return nil
}

// ScanReport scans the service images like `scan` but never fails on findings: it returns
// trivy-<service>.json (Trivy's report, without its code excerpts or anything else that may hold
// a secret in clear), sbom-<service>.cdx.json (CycloneDX) and gl-container-scanning-report.json,
// the GitLab container_scanning report of every scanned service: vulnerabilities and secrets
// (by file and line, masked), with what the project's allow-list allowed as its messages.
//
// +cache="session"
func (m *SoccerPredict) ScanReport(
	ctx context.Context,
	// Service to scan: api, worker or airflow (default: all).
	// +optional
	service string,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	dir, _, err := m.scanAll(ctx, service)
	return dir, err
}

// SecretScan scans the project's files with Trivy's secret scanner (`trivy fs --scanners
// secret`): a key committed in a file that never enters an image is a leak all the same. It fails
// when a secret of a blocking severity (SP_SCAN_SEVERITIES, default HIGH,CRITICAL) is not allowed
// by the project's own allow-list, trivy-secret.yaml (allow rules by path, disabled rules) and
// .trivyignore (rule IDs), naming each by rule, file and line, never the secret. `gate-report`
// also returns secret-scan.json (Trivy's report, redacted) and gl-secret-detection-report.json
// (GitLab's secret detection report, which lists what the allow-list allowed). Files the source
// leaves out (.git, .env, caches) are not scanned.
//
// +check
// +cache="session"
func (m *SoccerPredict) SecretScan(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.secretScan)
}

func (m *SoccerPredict) secretScan(ctx context.Context) (outcome, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return outcome{}, err
	}
	policy, err := m.scanPolicy(ctx, s)
	if err != nil {
		return outcome{}, err
	}
	rules, err := m.secretRules(ctx)
	if err != nil {
		return outcome{}, err
	}
	ctr, version, err := m.trivy(ctx, rules)
	if err != nil {
		return outcome{}, err
	}
	start := time.Now().UTC()
	raw := trivyRawDir + "/" + gate.SecretScanJSON
	// Trivy runs from / and reads no .trivyignore itself: the verdict applies it, so the reports
	// can show what it accepted.
	out, err := ctr.
		WithMountedDirectory(workdir, m.project()).
		WithExec(scan.SourceScanArgs(workdir, raw, secretConfigPath)).
		File(raw).
		Contents(ctx)
	if err != nil {
		return outcome{}, toolFailure("trivy fs of the project", err)
	}
	o := secretscan.Evaluate([]byte(out), secretscan.Options{
		Policy: policy, Config: rules.config, Commit: string(s.Commit),
		Run: scan.Run{ScannerVersion: version, Start: start, End: time.Now().UTC()},
	})
	res := single(o.Result)
	if len(o.Files) == 0 {
		return res, nil
	}
	names := make([]string, 0, len(o.Files))
	for name := range o.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	files := dag.Directory()
	for _, name := range names {
		files = files.WithNewFile(name, string(o.Files[name]))
	}
	return res.withFiles(files), nil
}

func (m *SoccerPredict) scanAll(ctx context.Context, service string) (*dagger.Directory, map[domain.Service]scan.Verdict, error) {
	services := domain.Services()
	if service != "" {
		svc, err := domain.ParseService(service)
		if err != nil {
			return nil, nil, err
		}
		services = []domain.Service{svc}
	}
	s, err := m.settings(ctx)
	if err != nil {
		return nil, nil, err
	}
	policy, err := m.scanPolicy(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	rules, err := m.secretRules(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := dag.Directory()
	verdicts := map[domain.Service]scan.Verdict{}
	var gitlabReports [][]byte
	for _, svc := range services {
		// Build validation (merge requests): no labels, so a scan needs no --commit and runs as a
		// plain check. Publish scans the very archive it pushes (publishImages).
		ctr, err := m.dockerBuild(ctx, svc)
		if err != nil {
			return nil, nil, err
		}
		files, gl, verdict, err := m.scanImage(ctx, svc, ctr, policy, rules)
		if err != nil {
			return nil, nil, err
		}
		out = out.WithDirectory(".", files)
		verdicts[svc] = verdict
		gitlabReports = append(gitlabReports, gl)
	}
	merged, err := scan.MergeGitLabReports(gitlabReports...)
	if err != nil {
		return nil, nil, err
	}
	return out.WithNewFile(gate.ContainerScanning, string(merged)), verdicts, nil
}

// trivyIgnore reads the project's accepted risks (.trivyignore), if any.
func (m *SoccerPredict) trivyIgnore(ctx context.Context) (scan.IgnoreList, error) {
	data, ok, err := m.projectFile(ctx, scan.IgnoreFile)
	if err != nil || !ok {
		return scan.IgnoreList{}, err
	}
	list, err := scan.ParseIgnore([]byte(data))
	if err != nil {
		return scan.IgnoreList{}, fmt.Errorf("%s: %w", scan.IgnoreFile, err)
	}
	return list, nil
}

// secretRules is the project's trivy-secret.yaml: parsed, and the file Trivy runs with (nil when
// the project has none). It comes from the committed project only: no setting adds to it.
type secretRules struct {
	config scan.SecretConfig
	file   *dagger.File
}

// secretRules reads and checks the project's trivy-secret.yaml, if any.
func (m *SoccerPredict) secretRules(ctx context.Context) (secretRules, error) {
	data, ok, err := m.projectFile(ctx, scan.SecretConfigFile)
	if err != nil || !ok {
		return secretRules{}, err
	}
	cfg, err := scan.ParseSecretConfig([]byte(data))
	if err != nil {
		return secretRules{}, err
	}
	return secretRules{config: cfg, file: m.project().File(scan.SecretConfigFile)}, nil
}

// projectFile reads a file of the project's root; ok is false when there is none.
func (m *SoccerPredict) projectFile(ctx context.Context, name string) (string, bool, error) {
	src := m.project()
	ok, err := src.Exists(ctx, name)
	if err != nil || !ok {
		return "", false, err
	}
	data, err := src.File(name).Contents(ctx)
	return data, err == nil, err
}

// trivy is Trivy's container with the project's trivy-secret.yaml (if any) at secretConfigPath,
// empty /out (reports to export) and trivyRawDir (Trivy creates no directory for --output), and
// the Trivy version (the image's tag) reports name.
func (m *SoccerPredict) trivy(ctx context.Context, rules secretRules) (*dagger.Container, string, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, "", err
	}
	ref := imgs.ImageRef(toolchain.Trivy)
	ctr := dag.Container().
		From(ref.String()).
		WithEnvVariable("TRIVY_NO_PROGRESS", "true").
		WithDirectory("/out", dag.Directory()).
		WithDirectory(trivyRawDir, dag.Directory())
	if rules.file != nil {
		ctr = ctr.WithMountedFile(secretConfigPath, rules.file)
	}
	return ctr, orDefault(string(ref.Tag), "unknown"), nil
}

// scanImage runs Trivy on the image as a tarball (nothing is pushed) with its vulnerability
// database in a cache volume refreshed daily, and turns the result into reports and a verdict.
func (m *SoccerPredict) scanImage(ctx context.Context, svc domain.Service, image *dagger.Container, policy scan.Policy, rules secretRules) (*dagger.Directory, []byte, scan.Verdict, error) {
	return m.scanTarball(ctx, svc, image.AsTarball(), "/tmp/image.tar", policy, rules)
}

// scanTarball is scanImage on an OCI image archive, mounted for Trivy at path (Trivy records
// the path as the report's ArtifactName). Trivy writes its report outside the returned
// directory, which gets the report without what may hold a secret in clear (scan.Redact).
func (m *SoccerPredict) scanTarball(ctx context.Context, svc domain.Service, tarball *dagger.File, path string, policy scan.Policy, rules secretRules) (*dagger.Directory, []byte, scan.Verdict, error) {
	ctr, version, err := m.trivy(ctx, rules)
	if err != nil {
		return nil, nil, scan.Verdict{}, err
	}
	start := time.Now().UTC()
	trivyJSON := gate.TrivyFor(svc)
	sbom := gate.SBOMFor(svc)
	raw := trivyRawDir + "/" + trivyJSON
	done := ctr.
		WithMountedCache("/root/.cache/trivy", dag.CacheVolume("soccer-predict-trivy")).
		WithEnvVariable("TRIVY_CACHE_DIR", "/root/.cache/trivy").
		// A new day means a new vulnerability database: never reuse yesterday's cached scan.
		WithEnvVariable("SP_TRIVY_DB_DAY", start.Format("2006-01-02")).
		WithMountedFile(path, tarball).
		WithExec(scan.ImageScanArgs(path, raw, secretConfigPath)).
		WithExec([]string{"trivy", "image", "--input", path, "--skip-db-update", "--format", "cyclonedx", "--output", "/out/" + sbom})
	out, err := done.File(raw).Contents(ctx)
	if err != nil {
		return nil, nil, scan.Verdict{}, toolFailure("trivy image of "+string(svc), err)
	}
	report, err := scan.ParseImageReport([]byte(out))
	if err != nil {
		return nil, nil, scan.Verdict{}, fmt.Errorf("%s image: %w", svc, err)
	}
	verdict, err := scan.Evaluate(report, policy)
	if err != nil {
		return nil, nil, scan.Verdict{}, err
	}
	redacted, err := scan.Redact([]byte(out))
	if err != nil {
		return nil, nil, scan.Verdict{}, fmt.Errorf("%s image: %w", svc, err)
	}
	gl, err := scan.GitLabReport(verdict.Reported(), verdict.ReportedSecrets(), scan.GitLabOptions{
		Image:           string(svc),
		OperatingSystem: report.OperatingSystem(),
		Run: scan.Run{
			ScannerVersion: version,
			Start:          start,
			End:            time.Now().UTC(),
			Notes:          append(rules.config.Describe(), verdict.IgnoredNotes()...),
		},
	})
	if err != nil {
		return nil, nil, scan.Verdict{}, err
	}
	files := done.Directory("/out").WithNewFile(trivyJSON, string(redacted))
	return files, gl, verdict, nil
}

// redactedTrivy is a Trivy report given by hand without what may hold a secret in clear
// (scan.Redact): what attest attaches.
func redactedTrivy(ctx context.Context, f *dagger.File) (*dagger.File, error) {
	raw, err := f.Contents(ctx)
	if err != nil {
		return nil, err
	}
	b, err := scan.Redact([]byte(raw))
	if err != nil {
		return nil, err
	}
	return dag.File("trivy.json", string(b)), nil
}

// scanPolicy is the scan policy of the settings (blocking severities, unfixed findings) and the
// project's .trivyignore, evaluated now: the one policy scan, publish and deploy apply.
func (m *SoccerPredict) scanPolicy(ctx context.Context, s configpkg.Settings) (scan.Policy, error) {
	severities, err := scan.ParseSeverities(strings.Join(s.ScanSeverities, ","))
	if err != nil {
		return scan.Policy{}, err
	}
	ignore, err := m.trivyIgnore(ctx)
	if err != nil {
		return scan.Policy{}, err
	}
	return scan.Policy{Severities: severities, Ignore: ignore, IgnoreUnfixed: s.IgnoreUnfixed, Now: time.Now().UTC()}, nil
}
