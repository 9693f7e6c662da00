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

// PlanRequest is what a release is planned from.
type PlanRequest struct {
	// Version is the release version (vX.Y.Z).
	Version string
	// Tags are the repository's existing tags; Version must be greater than all of them.
	Tags []string
	// Images maps each service to the image that passed staging, pinned by digest (repo@sha256:…).
	Images map[string]string
	// GateReportGreen is true when every blocking gate of the commit's gate report passed.
	GateReportGreen bool
}

// Copy promotes one service: the image at Source (exactly Digest) receives every tag in Destinations.
type Copy struct {
	Service      string   `json:"service"`
	Source       string   `json:"source"`
	Digest       string   `json:"digest"`
	Destinations []string `json:"destinations"`
}

// Plan is the release plan: one Copy per service, sorted by service.
type Plan struct {
	Version string `json:"version"`
	// MovesLatest is false for a pre-release, which does not receive the latest tag.
	MovesLatest bool   `json:"moves_latest"`
	Copies      []Copy `json:"copies"`
}

// ErrPlanRefused is wrapped by the error of NewPlan.
var ErrPlanRefused = errors.New("release refused")

// NewPlan checks the request and returns the plan. It refuses, listing every reason, on an invalid
// or not-greater version, a red gate report, no images, or any image not pinned by digest. A
// pre-release is tagged vX.Y.Z-pre only; a release is tagged vX.Y.Z and latest.
func NewPlan(req PlanRequest) (Plan, error) {
	var reasons []string
	v, err := CheckNext(req.Version, req.Tags)
	if err != nil {
		reasons = append(reasons, err.Error())
	}
	if !req.GateReportGreen {
		reasons = append(reasons, "the gate report is not green: a release promotes only images whose commit passed every blocking gate; fix the gates and re-run `check`")
	}
	if len(req.Images) == 0 {
		reasons = append(reasons, "no images given: pass the images that passed staging, pinned by digest (images.env: API_IMAGE=repo@sha256:…)")
	}
	services := make([]string, 0, len(req.Images))
	for s := range req.Images {
		services = append(services, s)
	}
	sort.Strings(services)
	var copies []Copy
	for _, s := range services {
		ref, err := domain.ParsePinnedRef(req.Images[s])
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("image %s: %v", s, err))
			continue
		}
		copies = append(copies, Copy{Service: s, Source: ref.ByDigest(), Digest: string(ref.Digest)})
	}
	if len(reasons) > 0 {
		return Plan{}, fmt.Errorf("%w:\n  - %s", ErrPlanRefused, strings.Join(reasons, "\n  - "))
	}
	p := Plan{Version: v.String(), MovesLatest: !v.Prerelease()}
	// A final release is what production runs: it moves `latest` by the one rule of ci/artifact
	// (latest only for staging and production, never for dev).
	latest, err := artifact.LatestTag(artifact.EnvProduction)
	if err != nil {
		return Plan{}, err
	}
	for i := range copies {
		repo := strings.TrimSuffix(copies[i].Source, "@"+copies[i].Digest)
		copies[i].Destinations = []string{repo + ":" + p.Version}
		if p.MovesLatest {
			copies[i].Destinations = append(copies[i].Destinations, repo+":"+latest)
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
