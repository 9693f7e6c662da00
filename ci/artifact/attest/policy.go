package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// The Sigstore trust policy: who signs the evidence deploys and releases accept, committed at
// SigstorePolicyPath (compiled into the module and the tools with the trust directory, so no
// caller argument can change it; changing it is a reviewed commit).
//
//	{
//	  "mode": "keyless",                       // or "keyed": the key at PublicKeyPath
//	  "keyless": {
//	    "instance": "https://gitlab.com",      // the GitLab instance: the OIDC issuer
//	    "project": "soccerpredictai/soccerpredict", // the project whose pipeline signs
//	    "defaultBranch": "main",               // its protected default branch
//	    "fulcioURL": "https://fulcio.sigstore.dev",  // default: public good
//	    "rekorURL": "https://rekor.sigstore.dev",    // default: public good
//	    "trustedRoot": "",                     // a trusted_root.json in the trust directory
//	                                           // for a private Sigstore; "": public good (TUF)
//	    "requireSCT": true                     // default true; a private Fulcio without a CT log: false
//	  }
//	}
//
// Keyless signatures count only from the certificate GitLab's token earns for a pipeline of
// the default branch: identity https://<instance>/<project>//.gitlab-ci.yml@refs/heads/<branch>
// (Fulcio's SAN for GitLab, the token's ci_config_ref_uri), issuer the instance URL.
const (
	// ModeKeyless trusts certificates Fulcio issued to the project's default-branch pipeline.
	ModeKeyless = "keyless"
	// ModeKeyed trusts the public key committed at PublicKeyPath.
	ModeKeyed = "keyed"

	// PublicGoodFulcio and PublicGoodRekor are the Sigstore public-good instances.
	PublicGoodFulcio = "https://fulcio.sigstore.dev"
	PublicGoodRekor  = "https://rekor.sigstore.dev"
)

// SigstorePolicy is the committed trust policy (see the file's format above).
type SigstorePolicy struct {
	Mode    string        `json:"mode"`
	Keyless KeylessPolicy `json:"keyless"`
}

// KeylessPolicy is the keyless half of the policy.
type KeylessPolicy struct {
	Instance      string `json:"instance"`
	Project       string `json:"project"`
	DefaultBranch string `json:"defaultBranch"`
	FulcioURL     string `json:"fulcioURL"`
	RekorURL      string `json:"rekorURL"`
	TrustedRoot   string `json:"trustedRoot"`
	RequireSCT    *bool  `json:"requireSCT"`
}

var (
	projectPath = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)+$`)
	branchName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./-]*$`)
)

// ParseSigstorePolicy reads the policy strictly (unknown fields are an error) and fills the
// defaults: the public-good Fulcio and Rekor, SCTs required.
func ParseSigstorePolicy(data []byte) (SigstorePolicy, error) {
	var p SigstorePolicy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return SigstorePolicy{}, fmt.Errorf("%s: %v", SigstorePolicyPath, err)
	}
	bad := func(format string, args ...any) (SigstorePolicy, error) {
		return SigstorePolicy{}, fmt.Errorf("%s: %s", SigstorePolicyPath, fmt.Sprintf(format, args...))
	}
	switch p.Mode {
	case ModeKeyed:
		return p, nil
	case ModeKeyless:
	default:
		return bad("mode is %q: write \"keyless\" (GitLab's OIDC token, Fulcio and Rekor) or \"keyed\" (the public key at %s)", p.Mode, PublicKeyPath)
	}
	k := &p.Keyless
	if err := httpsURL(k.Instance); err != nil {
		return bad("keyless.instance: %v: write the GitLab instance URL, e.g. https://gitlab.com", err)
	}
	k.Instance = strings.TrimSuffix(k.Instance, "/")
	if !projectPath.MatchString(k.Project) {
		return bad("keyless.project %q is not a GitLab project path: write group/project", k.Project)
	}
	if !branchName.MatchString(k.DefaultBranch) || strings.Contains(k.DefaultBranch, "..") {
		return bad("keyless.defaultBranch %q is not a branch name: write the project's protected default branch, e.g. main", k.DefaultBranch)
	}
	if k.FulcioURL == "" {
		k.FulcioURL = PublicGoodFulcio
	}
	if k.RekorURL == "" {
		k.RekorURL = PublicGoodRekor
	}
	for field, u := range map[string]string{"fulcioURL": k.FulcioURL, "rekorURL": k.RekorURL} {
		if err := httpsURL(u); err != nil {
			return bad("keyless.%s: %v", field, err)
		}
	}
	if k.TrustedRoot != "" && (path.Base(k.TrustedRoot) != k.TrustedRoot || !strings.HasSuffix(k.TrustedRoot, ".json")) {
		return bad("keyless.trustedRoot %q: name a .json file committed next to the policy (in %s)", k.TrustedRoot, path.Dir(SigstorePolicyPath))
	}
	if k.TrustedRoot == "" && (k.FulcioURL != PublicGoodFulcio || k.RekorURL != PublicGoodRekor) {
		return bad("a private Fulcio or Rekor needs its trusted root: commit its trusted_root.json next to the policy and name it in keyless.trustedRoot")
	}
	if k.RequireSCT == nil {
		yes := true
		k.RequireSCT = &yes
	}
	return p, nil
}

func httpsURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%q is not an https URL of a host", s)
	}
	return nil
}

// Identity is the certificate identity (SAN) of the project's default-branch pipeline.
func (k KeylessPolicy) Identity() string {
	host := strings.TrimPrefix(k.Instance, "https://")
	return "https://" + host + "/" + k.Project + "//.gitlab-ci.yml@refs/heads/" + k.DefaultBranch
}

// Issuer is the OIDC issuer of GitLab's tokens: the instance URL.
func (k KeylessPolicy) Issuer() string { return k.Instance }

// TrustedSigstorePolicy returns the committed policy, and false when none is committed.
func TrustedSigstorePolicy() (SigstorePolicy, bool, error) {
	b, err := trustDir.ReadFile(path.Join("trust", path.Base(SigstorePolicyPath)))
	if err != nil {
		return SigstorePolicy{}, false, nil
	}
	p, err := ParseSigstorePolicy(b)
	return p, true, err
}

// TrustedRootFile returns the committed trusted root a keyless policy names (nil for the
// public good, whose root sigstore-go fetches through Sigstore's TUF repository).
func TrustedRootFile(p SigstorePolicy) ([]byte, error) {
	if p.Mode != ModeKeyless || p.Keyless.TrustedRoot == "" {
		return nil, nil
	}
	b, err := trustDir.ReadFile(path.Join("trust", p.Keyless.TrustedRoot))
	if err != nil {
		return nil, fmt.Errorf("%s names the trusted root %s, which is not committed in %s", SigstorePolicyPath, p.Keyless.TrustedRoot, path.Dir(SigstorePolicyPath))
	}
	return b, nil
}
