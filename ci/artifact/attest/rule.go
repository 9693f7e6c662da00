package attest

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// The rules of signed evidence, as the module applies them (ci/artifact/attest/sigstore and the
// registry tool sign and check; this file decides):
//
//   - publish and attest sign every document as a Sigstore bundle under the committed policy
//     (SigstorePolicyPath): keyless with the job's OIDC token, or keyed with the private half
//     of PublicKeyPath when the policy says keyed (SigningFor); without either, dev's
//     convenience, the documents are attached unsigned;
//   - deploys to staging and production, releases and verify-evidence count only the bundles
//     that policy trusts (EvidenceTrust): unsigned documents and the DSSE envelopes of earlier
//     releases are refused with RepublishFix, report files (FileEvidence) too;
//   - the verifier's answer (evidence.json) is bound to the question (Asked): commit, images,
//     environment, the run's nonce and the policy it was checked against.

// RepublishFix is what a refusal of evidence in the earlier format (unsigned documents under the
// project's own artifact types, or DSSE envelopes, signed or not) tells the caller to do.
const RepublishFix = "republish the images with this version's publish (or attach the evidence with `attest`): deploys and releases accept only Sigstore bundles signed as " + SigstorePolicyPath + " says"

// TrustFiles are the committed trust files as the module compiled them in (nil: not committed):
// the Sigstore policy, the public key of a keyed policy, the trusted root a private Sigstore's
// policy names.
type TrustFiles struct {
	Policy, PublicKey, TrustedRoot []byte
}

// CommittedTrustFiles reads the trust directory compiled into the module and the tools.
func CommittedTrustFiles() TrustFiles {
	var f TrustFiles
	f.Policy, _ = trustDir.ReadFile(path.Join("trust", path.Base(SigstorePolicyPath)))
	f.PublicKey, _ = TrustedPublicKey()
	if p, ok, err := TrustedSigstorePolicy(); ok && err == nil {
		f.TrustedRoot, _ = TrustedRootFile(p)
	}
	return f
}

// Trust is the committed trust, checked: what signs and what verifies the evidence.
type Trust struct {
	// Files are the committed files the registry tool is given (mounted, never arguments).
	Files TrustFiles
	// Policy is the parsed Sigstore policy.
	Policy SigstorePolicy
	// Name is what the policy trusts, as `oci verify` names it in evidence.json
	// (Summary.SigstorePolicy): "identity <SAN> issued by <issuer>" or "key sha256:<hex>".
	Name string
}

// Keyless reports whether the policy is keyless.
func (t Trust) Keyless() bool { return t.Policy.Mode == ModeKeyless }

// Trust checks the committed files: a policy that parses, the public key a keyed policy needs
// (PublicKeyPath), the trusted root a keyless policy names.
func (f TrustFiles) Trust() (Trust, error) {
	if len(f.Policy) == 0 {
		return Trust{}, fmt.Errorf("no Sigstore policy is committed at %s: commit one (docs/evidence.md \"Signing\"; keyless with GitLab's OIDC token is the default)", SigstorePolicyPath)
	}
	p, err := ParseSigstorePolicy(f.Policy)
	if err != nil {
		return Trust{}, err
	}
	t := Trust{Files: f, Policy: p}
	switch p.Mode {
	case ModeKeyed:
		if len(f.PublicKey) == 0 {
			return Trust{}, fmt.Errorf("%s says keyed and no public key is committed at %s: commit the public half of the signing key there, or make the policy keyless", SigstorePolicyPath, PublicKeyPath)
		}
		id, err := PublicKeyID(f.PublicKey)
		if err != nil {
			return Trust{}, err
		}
		t.Name = KeyTrust(id)
	case ModeKeyless:
		if p.Keyless.TrustedRoot != "" && len(f.TrustedRoot) == 0 {
			return Trust{}, fmt.Errorf("%s names the trusted root %s, which is not committed in %s", SigstorePolicyPath, p.Keyless.TrustedRoot, path.Dir(SigstorePolicyPath))
		}
		if p.Keyless.TrustedRoot == "" {
			t.Files.TrustedRoot = nil
		}
		t.Name = IdentityTrust(p.Keyless.Identity(), p.Keyless.Issuer())
	}
	return t, nil
}

// KeyTrust names a keyed policy's trust (BundleVerifier.Policy): "key sha256:<hex>".
func KeyTrust(keyID string) string { return "key " + keyID }

// IdentityTrust names a keyless policy's trust (BundleVerifier.Policy): the certificate
// identity and its OIDC issuer.
func IdentityTrust(san, issuer string) string {
	return fmt.Sprintf("identity %s issued by %s", san, issuer)
}

// EvidenceTrust decides how the evidence of a deploy to env (a release and verify-evidence:
// production's and staging's rule) is checked: staging and production count only Sigstore
// bundles the committed policy trusts (required), and refuse when the committed trust is
// missing or broken; dev reads no evidence.
func EvidenceTrust(env domain.Environment, f TrustFiles) (t Trust, required bool, err error) {
	if !FromRegistry(env) {
		return Trust{}, false, nil
	}
	t, err = f.Trust()
	if err != nil {
		return Trust{}, false, fmt.Errorf("%s counts only Sigstore-signed evidence: %w", env, err)
	}
	return t, true, nil
}

// Signing is how publish and attest sign the evidence.
type Signing int

const (
	// Unsigned attaches the documents unsigned: dev's convenience, refused by staging and
	// production.
	Unsigned Signing = iota
	// SignKeyless signs with a Fulcio certificate for the job's OIDC token (--sigstore-id-token).
	SignKeyless
	// SignKeyed signs with the private half of PublicKeyPath (--signing-key).
	SignKeyed
)

// Flags publish and attest sign with, as the caller writes them.
const (
	IDTokenFlag    = "--sigstore-id-token=env:SIGSTORE_ID_TOKEN"
	SigningKeyFlag = "--signing-key=env:SP_SIGNING_KEY"
)

// ErrSigningInput marks signing flags that do not fit the committed policy.
var ErrSigningInput = errors.New("the signing flags do not fit the committed Sigstore policy")

// SigningFor decides, from which signing flags were given, how publish and attest sign under
// the committed trust: the flag of the policy's mode signs, the other mode's flag is refused
// naming the right one, and no flag at all attaches unsigned evidence (staging and production
// will refuse it). The policy's files are checked only when something is signed.
func SigningFor(f TrustFiles, idToken, key, password bool) (Signing, Trust, error) {
	if !idToken && !key && !password {
		return Unsigned, Trust{}, nil
	}
	t, err := f.Trust()
	if err != nil {
		return Unsigned, Trust{}, err
	}
	refuse := func(format string, args ...any) (Signing, Trust, error) {
		return Unsigned, Trust{}, fmt.Errorf("%w: %s", ErrSigningInput, fmt.Sprintf(format, args...))
	}
	switch t.Policy.Mode {
	case ModeKeyless:
		if key || password {
			return refuse("%s is keyless (GitLab's OIDC token, Fulcio, Rekor): pass %s (GitLab: id_tokens SIGSTORE_ID_TOKEN with aud sigstore), not --signing-key or --signing-key-password", SigstorePolicyPath, IDTokenFlag)
		}
		return SignKeyless, t, nil
	case ModeKeyed:
		if idToken {
			return refuse("%s is keyed: pass %s (the private half of %s), not --sigstore-id-token", SigstorePolicyPath, SigningKeyFlag, PublicKeyPath)
		}
		if !key {
			return refuse("--signing-key-password needs --signing-key (e.g. %s)", SigningKeyFlag)
		}
		return SignKeyed, t, nil
	}
	return refuse("unreachable: a parsed policy has a mode")
}

// Asked is what the module asked `oci verify` for: the answer (Summary) must be about exactly
// that.
type Asked struct {
	Commit domain.Commit
	Images map[domain.Service]domain.ImageRef
	// Env is the environment whose rule was applied (release: production).
	Env domain.Environment
	// Nonce is the random value of this run: an answer without it is another run's.
	Nonce string
	// Trust is the trust the bundles had to be checked against (Trust.Name).
	Trust string
}

// Check refuses an answer that is not about what was asked: another commit, other images,
// another environment, another run (nonce), or bundles checked against another policy (or
// none). Each refusal says to verify again.
func (s Summary) Check(a Asked) error {
	if s.Commit != a.Commit {
		return fmt.Errorf("evidence.json is about commit %q, not %s: re-run the verification of this commit", s.Commit, a.Commit)
	}
	if err := s.CheckImages(a.Images); err != nil {
		return err
	}
	var wrong []string
	if s.Environment != a.Env {
		wrong = append(wrong, fmt.Sprintf("environment %q, not %s", s.Environment, a.Env))
	}
	if a.Nonce == "" || s.Nonce != a.Nonce {
		wrong = append(wrong, fmt.Sprintf("nonce %q, not this run's", s.Nonce))
	}
	if s.SigstorePolicy != a.Trust {
		got := s.SigstorePolicy
		if got == "" {
			got = "no Sigstore policy (signatures unchecked)"
		}
		wrong = append(wrong, fmt.Sprintf("checked against %s, not against the committed policy %s (%s)", got, SigstorePolicyPath, a.Trust))
	}
	if len(wrong) == 0 {
		return nil
	}
	return fmt.Errorf("evidence.json is not this run's answer (%s): it proves nothing about this deploy; re-run the verification", strings.Join(wrong, "; "))
}
