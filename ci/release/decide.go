package release

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/modelgate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// A release is decided like a deploy, once, from what the module gathered:
//
//  1. Check reads the flags and the settings before anything is read: the version, the release
//     commit, the GitLab project, the images given (or that they come from staging) and the key
//     the registry's evidence must be signed by.
//  2. The module gathers the facts, each after the ones it depends on: the images (given, or the
//     ones the staging release runs: Request.StagedImages), the registry's evidence for each
//     digest, the images' labels, GitLab's tags and the commits since the previous release
//     (Facts.Previous). It stops as soon as what it has is refused (Facts.Refusal): a release
//     whose evidence does not count never asks GitLab.
//  3. Decide judges all of it and returns the Decision the module executes: the copies, the
//     traceability record and the release notes. Copy.Promoted and Copy.Failed say what happened.

// Refused marks a refusal of a release: nothing was promoted.
func Refused(err error) error {
	return fmt.Errorf("release refused, nothing was promoted: %w", err)
}

// Flags are release's arguments as plain values: a secret or a file only says whether it was given.
type Flags struct {
	// Version is --version, unparsed.
	Version string
	// GitLabToken, GateReport and Kubeconfig say whether --gitlab-token, --gate-report and
	// --kubeconfig were given.
	GitLabToken, GateReport, Kubeconfig bool
	// ProjectID is --project-id ("" when not given).
	ProjectID string
	// Images are --api-image, --worker-image and --airflow-image ("" when not given).
	Images map[domain.Service]string
	// Trust are the committed trust files compiled into the module (attest.CommittedTrustFiles).
	Trust attest.TrustFiles
}

// Request is a release whose flags passed Check: what the module gathers facts for.
type Request struct {
	Version domain.Version
	// Commit is the release commit (the settings' --commit).
	Commit domain.Commit
	// Project is the GitLab project asked for the tags and the commits.
	Project string
	// Given are the images given, pinned by digest; nil when the module reads the ones the
	// staging release runs (FromStaging).
	Given       artifact.Set
	FromStaging bool
	// Trust is the committed Sigstore policy the registry's evidence must be signed under (a
	// release is production's: always).
	Trust attest.Trust
	// Registry is the image repository prefix, for a staged image whose repository the live
	// manifest does not name; ScanSeverities are the blocking severities, for the refusal.
	Registry       domain.Repository
	ScanSeverities []string
}

// Check decides what the flags and the settings alone decide, before anything is read: the
// version, the release commit, that no report file is given (a release reads the registry's),
// the GitLab token and project, the images (all three given, or none and a kubeconfig to read the
// ones staging runs) and the committed Sigstore policy the evidence must be signed under. A
// refusal reads and changes nothing.
func Check(f Flags, s config.Settings) (Request, error) {
	v, err := domain.ParseVersion(f.Version)
	if err != nil {
		return Request{}, err
	}
	if s.Commit == "" {
		return Request{}, fmt.Errorf("a release needs its commit: pass --commit=<the 40-hex commit vX.Y.Z tags> to the constructor (GitLab: --commit=$CI_COMMIT_SHA)")
	}
	commit, err := domain.ParseCommit(string(s.Commit))
	if err != nil {
		return Request{}, fmt.Errorf("--commit: %w", err)
	}
	if err := attest.FileEvidence(Target, f.GateReport); err != nil {
		return Request{}, Refused(err)
	}
	if !f.GitLabToken {
		return Request{}, fmt.Errorf("--gitlab-token is required: a GitLab token with read_api, as a secret (--gitlab-token=env:GITLAB_RELEASE_TOKEN)")
	}
	project := f.ProjectID
	if project == "" {
		project = s.ProjectID
	}
	if project == "" {
		return Request{}, fmt.Errorf("no GitLab project: pass --project-id=<id> (GitLab: --project-id=$CI_PROJECT_ID) or set CI_PROJECT_ID in --settings-file")
	}
	req := Request{Version: v, Commit: commit, Project: project, Registry: s.Registry, ScanSeverities: s.ScanSeverities}
	if req.Given, err = givenImages(f); err != nil {
		return Request{}, err
	}
	req.FromStaging = req.Given == nil
	if req.FromStaging && !f.Kubeconfig {
		return Request{}, fmt.Errorf("no images: pass --api-image, --worker-image and --airflow-image (the digests that passed staging), or --kubeconfig to read them from the staging release")
	}
	if req.Trust, _, err = attest.EvidenceTrust(Target, f.Trust); err != nil {
		return Request{}, Refused(err)
	}
	return req, nil
}

// givenImages are the three images given, pinned; nil when none is given.
func givenImages(f Flags) (artifact.Set, error) {
	given := false
	for _, ref := range f.Images {
		given = given || ref != ""
	}
	if !given {
		return nil, nil
	}
	for _, svc := range domain.Services() {
		if f.Images[svc] == "" {
			return nil, fmt.Errorf("--%s-image is missing: pass all three images that passed staging (--api-image, --worker-image, --airflow-image), or none to read them from staging", svc)
		}
	}
	return artifact.ParseSet(f.Images)
}

// StagedImages are the images the staging release runs, from its traceability record and the
// repositories its manifest names (repos, by digest; else the registry's repository of the
// service). Staging must run the release commit.
func (r Request) StagedImages(rec trace.Record, repos map[domain.Digest]domain.Repository) (artifact.Set, error) {
	if rec.GitCommit != r.Commit {
		return nil, Refused(fmt.Errorf("staging runs commit %s, not the release commit %s: deploy the release commit to staging first, or pass the images", rec.GitCommit, r.Commit))
	}
	set := artifact.Set{}
	for svc, digest := range rec.ImageDigests {
		repo, ok := repos[digest]
		if !ok {
			repo = r.Registry.Service(svc)
		}
		set[svc] = domain.Pinned(repo, digest)
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("the staging release's images: %w", err)
	}
	return set, nil
}

// Facts are what the module gathered for a Request. A fact not gathered yet is nil.
type Facts struct {
	Request Request
	// Images are the images released: Request.Given, or Request.StagedImages.
	Images artifact.Set
	// Staged is the staging release's traceability record when the images were read from it.
	Staged *trace.Record
	// Evidence is what the registry holds for Images: the registry tool's verification of each
	// digest and, when it counts, the gate report and the Trivy reports attached.
	Evidence deploy.Evidence
	// Labels are the OCI labels of each image, by service.
	Labels map[domain.Service]map[string]string
	// Tags are the GitLab project's tags.
	Tags []gitlab.Tag
	// Commits are the commits since the previous release (GitLab's compare); nil when there is
	// no previous release (Previous is "").
	Commits []Commit
}

// Refusal judges the facts gathered so far, in the order the module gathers them, and returns
// the first refusal; nil when nothing gathered refuses. The evidence must count for the release
// commit (Sigstore bundles the committed policy trusts), its gate report be the commit's green report with a model
// compared to a champion, and its Trivy reports have no blocking finding; the images' labels must
// say they are the build of the release commit.
func (f Facts) Refusal() error {
	if _, err := f.evidence(); err != nil {
		return err
	}
	if f.Labels == nil {
		return nil
	}
	return f.labels()
}

// labels checks that the images' labels say they are the build of the release commit (and of
// the staged record's versions).
func (f Facts) labels() error {
	if err := f.record().CheckLabels(f.Labels); err != nil {
		return Refused(fmt.Errorf("the images are not the build of the release commit %s:\n%w", f.Request.Commit, err))
	}
	return nil
}

// evidence judges the registry's evidence and reports whether the gate report that counted is
// green (it is, when there is no refusal).
func (f Facts) evidence() (bool, error) {
	ev := f.Evidence
	if ev.Registry == nil {
		return false, Refused(errors.New("the evidence of the images was not read from the registry"))
	}
	if err := ev.Registry.Err(); err != nil {
		return false, Refused(err)
	}
	rep, err := gate.VerifyReport(ev.GateReport, f.Request.Commit)
	if err != nil {
		return false, Refused(fmt.Errorf("gate report: %w", err))
	}
	if err := policy.CheckFirstModel(Target, modelgate.UsedFirstModel(rep)); err != nil {
		return false, Refused(err)
	}
	if ev.Scan != nil {
		if err := ev.Scan.Policy.CheckFor(Target); err != nil {
			return false, Refused(err)
		}
	}
	clean, err := ev.Scan.Clean()
	if err != nil {
		return false, Refused(err)
	}
	if !clean {
		return false, Refused(fmt.Errorf("the Trivy reports attached to the images have blocking findings (%s): fix them, publish and deploy a new commit to staging, then tag it", strings.Join(f.Request.ScanSeverities, ",")))
	}
	return true, nil
}

// Previous is the release before this one, from GitLab's tags: the tag the release notes start
// from, "" for a first release. The tags must not already hold the version or a greater one.
func (f Facts) Previous() (string, error) {
	prior := PriorTags(f.Tags, f.Request.Version, f.Request.Commit)
	if err := CheckNext(f.Request.Version, prior); err != nil {
		return "", fmt.Errorf("%w:\n  - %s; nothing was promoted", ErrPlanRefused, err)
	}
	return LastTag(prior), nil
}

// record is the traceability record of the release: the staging record when the images were
// read from staging, else one of the release commit, the images and their labels' versions.
func (f Facts) record() trace.Record {
	if f.Staged != nil {
		rec := *f.Staged
		rec.Release = f.Request.Version.String()
		return rec
	}
	rec := trace.Record{Environment: domain.Staging, GitCommit: f.Request.Commit, ImageDigests: f.Images.Digests(), Release: f.Request.Version.String()}
	services := make([]domain.Service, 0, len(f.Labels))
	for svc := range f.Labels {
		services = append(services, svc)
	}
	sort.Slice(services, func(i, j int) bool { return services[i] < services[j] })
	for _, svc := range services {
		if rec.DatasetVersion == "" {
			rec.DatasetVersion = f.Labels[svc][trace.LabelDatasetVersion]
			rec.DatasetPointer = f.Labels[svc][trace.LabelDatasetPointer]
		}
		if rec.ModelVersion == "" {
			rec.ModelVersion = f.Labels[svc][trace.LabelModelVersion]
		}
	}
	return rec
}

// Decision is a release the module executes: promote each copy, then return the files.
type Decision struct {
	// Plan is the copies, by digest, to the version's tag (and latest for a final release).
	Plan Plan
	// Record is the traceability record of the release; Notes its release notes.
	Record trace.Record
	Notes  string
}

// Decide decides the release from all the facts: every refusal of Refusal, the version against
// GitLab's tags, then the plan (NewPlan, with the gate report's verdict), the record and the
// notes of the commits since the previous release.
func Decide(f Facts) (Decision, error) {
	green, err := f.evidence()
	if err != nil {
		return Decision{}, err
	}
	if f.Labels == nil {
		return Decision{}, Refused(errors.New("the images' labels were not read: they prove each image is the build of the release commit"))
	}
	if err := f.labels(); err != nil {
		return Decision{}, err
	}
	previous, err := f.Previous()
	if err != nil {
		return Decision{}, err
	}
	plan, err := NewPlan(PlanRequest{Version: f.Request.Version, Tags: PriorTags(f.Tags, f.Request.Version, f.Request.Commit), Images: f.Images, GateReportGreen: green})
	if err != nil {
		return Decision{}, fmt.Errorf("%w; nothing was promoted", err)
	}
	return Decision{Plan: plan, Record: f.record(), Notes: Notes(plan.Version, previous, f.Commits)}, nil
}

// Promoted checks what the registry tool answered for c: the destinations must resolve to c's
// digest.
func (c Copy) Promoted(digest string) error {
	if digest != string(c.Digest) {
		return fmt.Errorf("promote %s: the destinations resolve to %s, not %s: check the registry", c.Service, digest, c.Digest)
	}
	return nil
}

// Failed is release's error when promoting c failed with err.
func (c Copy) Failed(err error) error {
	return fmt.Errorf("promote %s (%s): %w; copies are by digest and idempotent: fix the cause and re-run release", c.Service, c.Source, err)
}

// File is one file release returns.
type File struct{ Name, Contents string }

// Files are release's answer: the release notes, the traceability record and the plan.
func (d Decision) Files() ([]File, error) {
	planJSON, err := d.Plan.JSON()
	if err != nil {
		return nil, err
	}
	traceJSON, err := d.Record.JSON()
	if err != nil {
		return nil, err
	}
	return []File{
		{gate.ReleaseNotes, d.Notes},
		{gate.Trace, string(traceJSON)},
		{gate.ReleasePlan, string(planJSON)},
	}, nil
}
