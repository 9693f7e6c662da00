package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Target is the environment a release is for: a release tags what production runs. Whether it
// moves [domain.LatestTag] is Target's rule, [domain.Environment.MovesLatest]: a final release
// does, a pre-release does not.
const Target = domain.Production

// PlanRequest is what a release is planned from.
type PlanRequest struct {
	// Version is the release version.
	Version domain.Version
	// Tags are the repository's existing tags; Version must be greater than all of them.
	Tags []string
	// Images are the images that passed staging, pinned by digest.
	Images artifact.Set
	// GateReportGreen is true when every blocking gate of the commit's gate report passed.
	GateReportGreen bool
}

// Copy promotes one service: the image at Source (exactly Digest) receives every tag in Destinations.
type Copy struct {
	Service      domain.Service    `json:"service"`
	Source       domain.ImageRef   `json:"source"`
	Digest       domain.Digest     `json:"digest"`
	Destinations []domain.ImageRef `json:"destinations"`
}

// Plan is the release plan: one Copy per service, sorted by service.
type Plan struct {
	Version domain.Version `json:"version"`
	// MovesLatest is Target.MovesLatest(Version): false for a pre-release, which does not
	// receive the latest tag.
	MovesLatest bool   `json:"moves_latest"`
	Copies      []Copy `json:"copies"`
}

// ErrPlanRefused is wrapped by the error of NewPlan.
var ErrPlanRefused = errors.New("release refused")

// NewPlan checks the request and returns the plan. It refuses, listing every reason, on a
// version not greater than the last tag, a red gate report, no images, or any image not
// pinned by digest. Every image is tagged with the version; [domain.LatestTag] is added when
// Target.MovesLatest(version) (a final release, never a pre-release).
func NewPlan(req PlanRequest) (Plan, error) {
	var reasons []string
	if err := CheckNext(req.Version, req.Tags); err != nil {
		reasons = append(reasons, err.Error())
	}
	if !req.GateReportGreen {
		reasons = append(reasons, "the gate report is not green: a release promotes only images whose commit passed every blocking gate; fix the gates and re-run `check`")
	}
	if len(req.Images) == 0 {
		reasons = append(reasons, "no images given: pass the images that passed staging, pinned by digest (images.env: API_IMAGE=repo@sha256:…)")
	}
	services := make([]domain.Service, 0, len(req.Images))
	for s := range req.Images {
		services = append(services, s)
	}
	sort.Slice(services, func(i, j int) bool { return services[i] < services[j] })
	var copies []Copy
	for _, s := range services {
		ref := req.Images[s]
		if ref.Digest == "" {
			reasons = append(reasons, fmt.Sprintf("image %s: %s is not pinned by digest: pass repo@sha256:<64 hex> (publish wrote it to images.env)", s, ref))
			continue
		}
		copies = append(copies, Copy{Service: s, Source: domain.Pinned(ref.Repository, ref.Digest), Digest: ref.Digest})
	}
	if len(reasons) > 0 {
		return Plan{}, fmt.Errorf("%w:\n  - %s", ErrPlanRefused, strings.Join(reasons, "\n  - "))
	}
	p := Plan{Version: req.Version, MovesLatest: Target.MovesLatest(req.Version)}
	for i := range copies {
		repo := copies[i].Source.Repository
		copies[i].Destinations = []domain.ImageRef{domain.Tagged(repo, req.Version.Tag())}
		if p.MovesLatest {
			copies[i].Destinations = append(copies[i].Destinations, domain.Tagged(repo, domain.LatestTag))
		}
	}
	p.Copies = copies
	return p, nil
}

// Text renders the plan as one line per destination: "service  source -> destination".
func (p Plan) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s\n", p.Version)
	for _, c := range p.Copies {
		for _, d := range c.Destinations {
			fmt.Fprintf(&b, "  %s: %s -> %s\n", c.Service, c.Source, d)
		}
	}
	return b.String()
}

// JSON renders the plan as indented JSON.
func (p Plan) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render release plan as JSON: %w", err)
	}
	return append(b, '\n'), nil
}
