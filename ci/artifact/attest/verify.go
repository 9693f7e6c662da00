package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/scan"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// LabelRevision is the OCI label holding the commit an image was built from.
const LabelRevision = "org.opencontainers.image.revision"

// Evidence is what the registry holds for one image digest.
type Evidence struct {
	// Service is the service the image is deployed as.
	Service domain.Service `json:"service"`
	// Image is the image by digest: repo@sha256:<64 hex>.
	Image domain.ImageRef `json:"image"`
	// ConfigDigest is the digest of the image's config blob, as the registry serves it.
	ConfigDigest domain.Digest `json:"configDigest"`
	// DiffIDs are the image's layer diff IDs (config rootfs.diff_ids), as the registry serves them.
	DiffIDs []string `json:"diffIDs"`
	// Labels are the image config's labels, as the registry serves them.
	Labels map[string]string `json:"labels"`
	// Documents holds, by artifact type, the content of every unsigned referrer of that type
	// attached to the digest (several when publish ran more than once).
	Documents map[string][][]byte `json:"-"`
	// Envelopes holds every DSSE envelope (TypeDSSE referrer) attached to the digest, unchecked.
	Envelopes [][]byte `json:"-"`
	// Bundles holds every Sigstore bundle (TypeSigstoreBundle referrer) attached to the digest,
	// unchecked.
	Bundles [][]byte `json:"-"`
}

// Verified is the outcome of Verify for one image.
type Verified struct {
	Service domain.Service  `json:"service"`
	Image   domain.ImageRef `json:"image"`
	// GateReport, Trivy, SBOM and Provenance are the documents that counted (nil when none did).
	GateReport []byte `json:"-"`
	Trivy      []byte `json:"-"`
	SBOM       []byte `json:"-"`
	Provenance []byte `json:"-"`
	// Problems lists why the evidence does not count, each with the command that fixes it.
	Problems []string `json:"problems"`
}

// OK reports whether every piece of evidence counted.
func (v Verified) OK() bool { return len(v.Problems) == 0 }

// Commands: what produces each piece of evidence.
const (
	publishCommand = "dagger call --commit=%s --ref=<ref> publish --gate-report=reports/gate-report.json … (publish scans each image and attaches its gate report, Trivy report, SBOM and provenance)"
	attestCommand  = "dagger call --commit=%s attest --image=%s --gate-report=reports/gate-report.json (after `dagger call --commit=%s gate-report export --path=reports`)"
)

// Verify decides whether the documents attached to ev.Image prove what a deploy or a release of
// commit needs. A document counts only when:
//
//   - gate report: gate.VerifyReport(commit) accepts it (that commit's, every blocking gate of
//     the catalog present with the catalog's kind, all passed);
//   - Trivy report: it parses strictly (scan.ParseTrivy) and names this image (scan.Report.Names:
//     its RepoDigests carry the digest, its ImageID is the config digest the registry serves, or
//     its DiffIDs are exactly the image's layers);
//   - SBOM: CycloneDX JSON whose metadata.component names this image the same way (Trivy writes
//     aquasecurity:trivy:RepoDigest, aquasecurity:trivy:ImageID and aquasecurity:trivy:DiffID
//     properties);
//   - provenance: an in-toto v1 Statement with a SLSA v1 predicate whose subject is the digest
//     and whose resolved git commit is commit.
//
// The image itself must carry org.opencontainers.image.revision = commit. Among several
// documents of one type, one that counts is enough (a retried publish attaches several); the
// others are ignored. Whether the Trivy findings block is the scan policy's question (scan.Evaluate).
//
// Verify does not require signatures: the unsigned documents and the statements in the
// envelopes and bundles count alike, their signatures unchecked (trace reads what an image
// carries, in either format). VerifySigned and VerifyBundles do.
func Verify(ev Evidence, commit domain.Commit) Verified { return verify(ev, commit, rule{}) }

// VerifySigned is Verify where only statements signed by the key of v count (the statement's
// subject the digest): unsigned documents, envelopes signed by another key or whose payload
// changed after signing, and statements about another image never count, and the problem says
// so. v must not be nil.
func VerifySigned(ev Evidence, commit domain.Commit, v EnvelopeVerifier) Verified {
	if v == nil {
		return Verified{Service: ev.Service, Image: ev.Image, Problems: []string{"signatures are required but no public key was given"}}
	}
	return verify(ev, commit, rule{env: v})
}

// VerifyBundles is Verify where only the statements of Sigstore bundles that bv verifies count
// (the trust policy of deploys and releases): unsigned documents, DSSE envelopes of the earlier
// format (the problem says to republish), bundles signed otherwise than the policy says and
// statements about another image never count. bv must not be nil.
func VerifyBundles(ev Evidence, commit domain.Commit, bv BundleVerifier) Verified {
	if bv == nil {
		return Verified{Service: ev.Service, Image: ev.Image, Problems: []string{"signatures are required but no Sigstore policy was given"}}
	}
	return verify(ev, commit, rule{bundle: bv})
}

// rule is what counts: with neither verifier, every document unchecked; with env, statements in
// DSSE envelopes it verifies; with bundle, statements in Sigstore bundles it verifies.
type rule struct {
	env    EnvelopeVerifier
	bundle BundleVerifier
}

func (r rule) signed() bool { return r.env != nil || r.bundle != nil }

func verify(ev Evidence, commit domain.Commit, sv rule) Verified {
	v := Verified{Service: ev.Service, Image: ev.Image, Problems: []string{}}
	add := func(format string, args ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, args...)) }
	ref := ev.Image
	if ref.Digest == "" {
		add("%s: image %s is not pinned by digest: pass repo@sha256:<64 hex> (the value publish wrote to images.env)", ev.Service, ev.Image)
		return v
	}
	if commit == "" {
		add("the commit being verified is empty: pass --commit=$CI_COMMIT_SHA to the constructor")
		return v
	}
	publish := fmt.Sprintf(publishCommand, commit)
	img := scan.Image{Repository: ref.Repository, Digest: ref.Digest, ConfigDigest: ev.ConfigDigest, DiffIDs: ev.DiffIDs}

	if got := ev.Labels[LabelRevision]; got != string(commit) {
		if got == "" {
			got = "no label"
		}
		add("%s: image %s was built from %s (%s), not from commit %s: deploy the images that commit's publish wrote to images.env", ev.Service, ev.Image, got, LabelRevision, commit)
	}
	candidates, why := ev.candidates(ref.Digest, sv)
	fixFor := func(typ string) string {
		fix := publish
		if typ == TypeGateReport {
			fix = fmt.Sprintf(attestCommand, commit, ev.Image, commit)
		}
		switch {
		case sv.bundle != nil:
			fix += ", signing as the committed Sigstore policy (" + SigstorePolicyPath + ") says: " + sv.bundle.Policy()
		case sv.env != nil:
			fix += " with --signing-key=env:SP_SIGNING_KEY, the private half of " + PublicKeyPath
		}
		return fix
	}
	pick := func(typ string, check func([]byte) error) []byte {
		docs := candidates[typ]
		reasons := append(append([]string{}, why[typ]...), why[""]...)
		if len(docs) == 0 {
			if len(reasons) == 0 {
				add("%s: no %s is attached to %s: run %s", ev.Service, describeSigned(typ, sv), ev.Image, fixFor(typ))
			} else {
				add("%s: no %s attached to %s counts: %s; run %s", ev.Service, describeSigned(typ, sv), ev.Image, strings.Join(reasons, " | "), fixFor(typ))
			}
			return nil
		}
		var errs []string
		for _, d := range docs {
			err := check(d)
			if err == nil {
				return d
			}
			errs = appendUnique(errs, err.Error())
		}
		errs = append(errs, why[typ]...)
		add("%s: no %s attached to %s counts (%d attached): %s; run %s", ev.Service, describeSigned(typ, sv), ev.Image, len(docs), strings.Join(errs, " | "), fixFor(typ))
		return nil
	}
	v.GateReport = pick(TypeGateReport, func(b []byte) error {
		_, err := gate.VerifyReport(b, commit)
		return err
	})
	v.Trivy = pick(TypeTrivy, func(b []byte) error {
		r, err := scan.ParseTrivy(b)
		if err != nil {
			return err
		}
		return r.Names(img)
	})
	v.SBOM = pick(TypeSBOM, func(b []byte) error { return sbomNames(b, img) })
	v.Provenance = pick(TypeInToto, func(b []byte) error {
		s, err := ParseStatement(b)
		if err != nil {
			return err
		}
		if !s.Covers(ref.Digest) {
			return fmt.Errorf("the provenance is about another image (its subject is not %s)", ref.Digest)
		}
		if c := s.Commit(); c != string(commit) {
			return fmt.Errorf("the provenance says commit %q was built, not %s", c, commit)
		}
		return nil
	})
	return v
}

// describeSigned names an artifact type, "signed …" when signatures are required.
func describeSigned(typ string, sv rule) string {
	if sv.signed() {
		return "signed " + Describe(typ)
	}
	return Describe(typ)
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// sbomNames checks a CycloneDX JSON SBOM and that its metadata.component is img.
func sbomNames(data []byte, img scan.Image) error {
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component struct {
				BOMRef     string `json:"bom-ref"`
				Properties []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"properties"`
			} `json:"component"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		return fmt.Errorf("the SBOM is not valid JSON: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" {
		return fmt.Errorf("the SBOM is not CycloneDX (bomFormat %q, specVersion %q)", bom.BOMFormat, bom.SpecVersion)
	}
	var diffIDs []string
	for _, p := range bom.Metadata.Component.Properties {
		switch p.Name {
		case "aquasecurity:trivy:DiffID":
			diffIDs = append(diffIDs, p.Value)
		case "aquasecurity:trivy:RepoDigest":
			if strings.HasSuffix(p.Value, "@"+string(img.Digest)) {
				return nil
			}
		case "aquasecurity:trivy:ImageID":
			if img.ConfigDigest != "" && p.Value == string(img.ConfigDigest) {
				return nil
			}
		}
	}
	if strings.Contains(bom.Metadata.Component.BOMRef, "@"+string(img.Digest)) || scan.SameLayers(diffIDs, img.DiffIDs) {
		return nil
	}
	return fmt.Errorf("the SBOM's metadata.component names neither %s, nor the image config %s, nor the image's %d layers", img.Digest, orUnknown(string(img.ConfigDigest)), len(img.DiffIDs))
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// Set is the verification of every image of a deploy or a release.
type Set []Verified

// Problems lists every problem of every image, sorted.
func (s Set) Problems() []string {
	var out []string
	for _, v := range s {
		out = append(out, v.Problems...)
	}
	sort.Strings(out)
	return out
}

// Err is nil when every image's evidence counts, else one error listing every problem.
func (s Set) Err() error {
	p := s.Problems()
	if len(s) == 0 {
		p = append(p, "no image was verified: pass the images by digest (--api-image, --worker-image, --airflow-image)")
	}
	if len(p) == 0 {
		return nil
	}
	return problemsError(p)
}

// ErrFileEvidence marks report files given where only registry evidence counts.
var ErrFileEvidence = errors.New("report files are not evidence here")

// FileEvidence is the rule for caller-supplied report files (--gate-report, --scan-report):
// they are an offline fallback for dev only. Staging and production (and releases) count only
// the Sigstore bundles attached to each image digest in the registry (EvidenceTrust): a file is
// not signed and proves nothing about the image it names.
func FileEvidence(env domain.Environment, given bool) error {
	if !given {
		return nil
	}
	if env.IsProduction() {
		return fmt.Errorf("%w: production reads the gate report and the scan attached to each image in the registry: drop --gate-report and --scan-report (publish attaches them; `dagger call verify-evidence` shows what the registry holds)", ErrFileEvidence)
	}
	if FromRegistry(env) {
		return fmt.Errorf("%w: %s counts only evidence signed as %s says, and report files are not signed: drop --gate-report and --scan-report (and DEPLOY_GATEREPORT from .env) and deploy images publish attached signed evidence to (`dagger call verify-evidence` shows what the registry holds)", ErrFileEvidence, env, SigstorePolicyPath)
	}
	return nil
}

// FromRegistry reports whether a deploy to env reads evidence from the registry (when no
// report file is given): staging and production need it, dev does not.
func FromRegistry(env domain.Environment) bool {
	return env == domain.Staging || env == domain.Production
}

// Summary is evidence.json, what `oci verify` (ci/cmd/oci) writes for the module.
type Summary struct {
	// Commit is the commit the images were verified against.
	Commit domain.Commit `json:"commit"`
	// OK is true when every image's evidence counts.
	OK bool `json:"ok"`
	// Problems lists every problem of every image (see Set.Problems).
	Problems []string `json:"problems"`
	// KeyID identifies the public key the signatures were checked against (see KeyID); empty
	// when signatures were not required.
	KeyID string `json:"keyID,omitempty"`
	// SigstorePolicy names the Sigstore trust policy the bundles were checked against
	// (BundleVerifier.Policy, Trust.Name); empty when Sigstore bundles were not required.
	SigstorePolicy string `json:"sigstorePolicy,omitempty"`
	// Environment is the environment the verification was asked for (`oci verify --env`),
	// echoed so the module can refuse another run's answer (Summary.Check).
	Environment domain.Environment `json:"environment,omitempty"`
	// Nonce is the random value of the run that asked (`oci verify --nonce`), echoed.
	Nonce string `json:"nonce,omitempty"`
	// Images is the verification of each image.
	Images []Verified `json:"images"`
}

// NewSummary summarises the verification of a set of images for commit.
func NewSummary(commit domain.Commit, s Set) Summary {
	p := s.Problems()
	if p == nil {
		p = []string{}
	}
	return Summary{Commit: commit, OK: s.Err() == nil, Problems: p, Images: s}
}

// ParseSummary reads evidence.json and checks that it is about commit and consistent: OK
// exactly when no problem is listed and some image was verified.
func ParseSummary(data []byte, commit domain.Commit) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return Summary{}, fmt.Errorf("evidence.json is not valid JSON (%v): re-run `dagger call verify-evidence`", err)
	}
	if s.Commit != commit {
		return Summary{}, fmt.Errorf("evidence.json is about commit %q, not %s", s.Commit, commit)
	}
	if s.OK != (len(s.Problems) == 0 && len(s.Images) > 0) {
		return Summary{}, fmt.Errorf("evidence.json is inconsistent: ok=%v with %d problems and %d images", s.OK, len(s.Problems), len(s.Images))
	}
	return s, nil
}

// CheckImages is nil when the summary is about exactly the images asked for: every service of
// want verified as that very reference, and no other. An evidence.json about other digests (a
// stale file, another run's) proves nothing about the images being deployed.
func (s Summary) CheckImages(want map[domain.Service]domain.ImageRef) error {
	got := map[domain.Service]domain.ImageRef{}
	var wrong []string
	for _, v := range s.Images {
		if _, twice := got[v.Service]; twice {
			wrong = append(wrong, fmt.Sprintf("%s is listed twice", v.Service))
		}
		got[v.Service] = v.Image
		if _, asked := want[v.Service]; !asked {
			wrong = append(wrong, fmt.Sprintf("%s (%s) was not asked for", v.Service, v.Image))
		}
	}
	for svc, ref := range want {
		switch g, ok := got[svc]; {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("%s (%s) was not verified", svc, ref))
		case g != ref:
			wrong = append(wrong, fmt.Sprintf("%s: it verified %s, not %s", svc, g, ref))
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	sort.Strings(wrong)
	return fmt.Errorf("evidence.json is not about the images being deployed (%s): re-run the verification of these images", strings.Join(wrong, "; "))
}

// Err is nil when the evidence counts, else the error listing every problem.
func (s Summary) Err() error {
	if s.OK {
		return nil
	}
	return problemsError(s.Problems)
}

// problemsError lists problems as one error a reader can act on. A problem ends with the command
// that fixes it ("…; run <fix>" or "…: run <fix>"); a fix shared by several problems (the same
// publish for every image's missing evidence) is written once, numbered, after the list, and
// RepublishFix's explanation once, where it first appears.
func problemsError(problems []string) error {
	type item struct{ what, sep, fix string }
	items := make([]item, len(problems))
	shared := map[string]int{}
	for i, p := range problems {
		items[i].what = p
		if j := max(strings.LastIndex(p, "; run "), strings.LastIndex(p, ": run ")); j >= 0 {
			items[i] = item{p[:j], p[j : j+len("; run ")], p[j+len("; run "):]}
			shared[items[i].fix]++
		}
	}
	var b strings.Builder
	b.WriteString("evidence in the registry does not count:")
	var fixes []string
	number := map[string]int{}
	explained := false
	for _, it := range items {
		if strings.Contains(it.what, RepublishFix) {
			if explained {
				it.what = strings.ReplaceAll(it.what, RepublishFix, "republish (as above)")
			}
			explained = true
		}
		switch {
		case it.fix == "":
			b.WriteString("\n  - " + it.what)
		case shared[it.fix] == 1:
			b.WriteString("\n  - " + it.what + it.sep + it.fix)
		default:
			if number[it.fix] == 0 {
				fixes = append(fixes, it.fix)
				number[it.fix] = len(fixes)
			}
			fmt.Fprintf(&b, "\n  - %s (fix %d)", it.what, number[it.fix])
		}
	}
	if len(fixes) > 0 {
		b.WriteString("\nto fix:")
		for i, f := range fixes {
			fmt.Fprintf(&b, "\n  %d. run %s", i+1, f)
		}
	}
	return errors.New(b.String())
}
