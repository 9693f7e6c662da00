package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

const trivyIgnoreFile = ".trivyignore"

// Scan builds the service images (all, or --service) and scans each with Trivy. It fails when
// a finding of a blocking severity (SP_SCAN_SEVERITIES, default HIGH,CRITICAL) is not covered
// by the project's .trivyignore, listing every such finding.
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
// trivy-<service>.json, sbom-<service>.cdx.json (CycloneDX) and gl-container-scanning-report.json,
// the GitLab container_scanning report of every scanned service.
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
		files, gl, verdict, err := m.scanImage(ctx, svc, ctr, policy)
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
	src := m.project()
	ok, err := src.Exists(ctx, trivyIgnoreFile)
	if err != nil || !ok {
		return scan.IgnoreList{}, err
	}
	data, err := src.File(trivyIgnoreFile).Contents(ctx)
	if err != nil {
		return scan.IgnoreList{}, err
	}
	list, err := scan.ParseIgnore([]byte(data))
	if err != nil {
		return scan.IgnoreList{}, fmt.Errorf("%s: %w", trivyIgnoreFile, err)
	}
	return list, nil
}

// scanImage runs Trivy on the image as a tarball (nothing is pushed) with its vulnerability
// database in a cache volume refreshed daily, and turns the result into reports and a verdict.
func (m *SoccerPredict) scanImage(ctx context.Context, svc domain.Service, image *dagger.Container, policy scan.Policy) (*dagger.Directory, []byte, scan.Verdict, error) {
	return m.scanTarball(ctx, svc, image.AsTarball(), "/tmp/image.tar", policy)
}

// scanTarball is scanImage on an OCI image archive, mounted for Trivy at path (Trivy records
// the path as the report's ArtifactName).
func (m *SoccerPredict) scanTarball(ctx context.Context, svc domain.Service, tarball *dagger.File, path string, policy scan.Policy) (*dagger.Directory, []byte, scan.Verdict, error) {
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, nil, scan.Verdict{}, err
	}
	trivyRef := imgs.ImageRef(toolchain.Trivy)
	start := time.Now().UTC()
	trivyJSON := gate.TrivyFor(svc)
	sbom := gate.SBOMFor(svc)
	done := dag.Container().
		From(trivyRef.String()).
		WithMountedCache("/root/.cache/trivy", dag.CacheVolume("soccer-predict-trivy")).
		WithEnvVariable("TRIVY_CACHE_DIR", "/root/.cache/trivy").
		WithEnvVariable("TRIVY_NO_PROGRESS", "true").
		// A new day means a new vulnerability database: never reuse yesterday's cached scan.
		WithEnvVariable("SP_TRIVY_DB_DAY", start.Format("2006-01-02")).
		WithMountedFile(path, tarball).
		WithDirectory("/out", dag.Directory()).
		WithExec([]string{"trivy", "image", "--input", path, "--scanners", "vuln", "--format", "json", "--output", "/out/" + trivyJSON, "--exit-code", "0"}).
		WithExec([]string{"trivy", "image", "--input", path, "--skip-db-update", "--format", "cyclonedx", "--output", "/out/" + sbom})
	raw, err := done.File("/out/" + trivyJSON).Contents(ctx)
	if err != nil {
		return nil, nil, scan.Verdict{}, toolFailure("trivy image of "+string(svc), err)
	}
	report, err := scan.ParseTrivy([]byte(raw))
	if err != nil {
		return nil, nil, scan.Verdict{}, fmt.Errorf("%s image: %w", svc, err)
	}
	verdict, err := scan.Evaluate(report, policy)
	if err != nil {
		return nil, nil, scan.Verdict{}, err
	}
	gl, err := scan.GitLabReport(verdict.Reported(), scan.GitLabOptions{
		Image:           string(svc),
		OperatingSystem: report.OperatingSystem(),
		ScannerVersion:  orDefault(string(trivyRef.Tag), "unknown"),
		Start:           start,
		End:             time.Now().UTC(),
	})
	if err != nil {
		return nil, nil, scan.Verdict{}, err
	}
	return done.Directory("/out"), gl, verdict, nil
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
