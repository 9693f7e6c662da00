package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// Where the registry tool (ci/cmd/oci) finds what it signs and verifies with: the job's OIDC
// token, the signing key and its password only as mounted secret files; the committed trust (the
// Sigstore policy, a keyed policy's public key, a private Sigstore's trusted root), compiled into
// the module, as files.
const (
	idTokenFile         = "/run/secrets/sigstore-id-token"
	signingKeyFile      = "/run/secrets/signing-key"
	signingPasswordFile = "/run/secrets/signing-key-password"
	sigstorePolicyFile  = "/trust/sigstore.json"
	trustedKeyFile      = "/trust/attestation.pub"
	trustedRootFile     = "/trust/trusted_root.json"
)

// signingKeys are the signing inputs of publish and attest (all nil: unsigned).
type signingKeys struct {
	IDToken, Key, Password *dagger.Secret
}

// committedTrust is the trust directory compiled into the module (attest.CommittedTrustFiles,
// go:embed): no argument of any function can replace it. Tests substitute it.
var committedTrust = attest.CommittedTrustFiles

// withTrust mounts the committed trust for the registry tool and returns its arguments: the
// Sigstore policy always, the public key of a keyed policy, the trusted root of a private
// Sigstore.
func withTrust(ctr *dagger.Container, t attest.Trust) (*dagger.Container, []string) {
	ctr = ctr.WithNewFile(sigstorePolicyFile, string(t.Files.Policy))
	args := []string{"--sigstore-policy", sigstorePolicyFile}
	if !t.Keyless() {
		ctr = ctr.WithNewFile(trustedKeyFile, string(t.Files.PublicKey))
		args = append(args, "--public-key", trustedKeyFile)
	}
	if t.Keyless() && t.Files.TrustedRoot != nil {
		ctr = ctr.WithNewFile(trustedRootFile, string(t.Files.TrustedRoot))
		args = append(args, "--trusted-root", trustedRootFile)
	}
	return ctr, args
}

// withSigning mounts what `oci attach` signs with, as ci/artifact/attest.SigningFor decides from
// the committed policy: keyless, the job's OIDC token as a secret file; keyed, the signing key
// (and its password) as secret files with the trusted public key (the tool refuses a key that is
// not its private half); nothing given, nothing (the evidence is attached unsigned).
func withSigning(ctr *dagger.Container, k signingKeys) (*dagger.Container, []string, error) {
	how, trust, err := k.decide()
	if err != nil {
		return ctr, nil, err
	}
	ctr, args := mountSigning(ctr, how, trust, k)
	return ctr, args, nil
}

// decide is attest.SigningFor for these inputs under the committed trust.
func (k signingKeys) decide() (attest.Signing, attest.Trust, error) {
	return attest.SigningFor(committedTrust(), k.IDToken != nil, k.Key != nil, k.Password != nil)
}

// mountSigning mounts what was decided (how, trust) and returns the tool's arguments; nothing
// when unsigned.
func mountSigning(ctr *dagger.Container, how attest.Signing, trust attest.Trust, k signingKeys) (*dagger.Container, []string) {
	if how == attest.Unsigned {
		return ctr, nil
	}
	ctr, args := withTrust(ctr, trust)
	switch how {
	case attest.SignKeyless:
		ctr = ctr.WithMountedSecret(idTokenFile, k.IDToken)
		args = append(args, "--id-token-file", idTokenFile)
	case attest.SignKeyed:
		ctr = ctr.WithMountedSecret(signingKeyFile, k.Key)
		args = append(args, "--signing-key-file", signingKeyFile)
		if k.Password != nil {
			ctr = ctr.WithMountedSecret(signingPasswordFile, k.Password)
			args = append(args, "--signing-password-file", signingPasswordFile)
		}
	}
	return ctr, args
}

// checkSigning runs before publish builds or pushes anything: signing flags that do not fit the
// committed policy are refused here, and `oci check-key` checks the credential with what attach
// will sign with (mountSigning): under a keyed policy the key (one the tool cannot read, a wrong
// cosign password, or a key that is not the private half of the trusted public key), under the
// keyless policy the job's OIDC token (not a JWT, another GitLab, another audience, expired:
// attest.CheckIDToken) fail here, not after the images are pushed. No flag: nothing to check.
func (m *SoccerPredict) checkSigning(ctx context.Context, k signingKeys) error {
	how, trust, err := k.decide()
	if err != nil {
		return fmt.Errorf("nothing was built or pushed: %w", err)
	}
	if how == attest.Unsigned {
		return nil
	}
	ctr, _, err := m.toolContainer(ctx, toolchain.OCI, ociBin, "", nil)
	if err != nil {
		return err
	}
	ctr, args := mountSigning(ctr, how, trust, k)
	_, err = ctr.
		// A check of secret inputs: run it every time, never answer it from the cache.
		WithEnvVariable("SP_CHECK_KEY_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(append([]string{ociBin, "check-key"}, args...)).
		Stdout(ctx)
	if err != nil {
		flag := "--signing-key"
		if how == attest.SignKeyless {
			flag = "--sigstore-id-token"
		}
		return fmt.Errorf("%s (nothing was built or pushed): %w", flag, toolFailure("oci check-key", err))
	}
	return nil
}

// newNonce is a random value for one verification: `oci verify` echoes it in evidence.json, so an
// answer of another run (a cached or planted file) is told apart (attest.Summary.Check).
func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
