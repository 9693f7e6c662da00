package main

import (
	"context"
	"fmt"
	"path"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// Where the registry tool (ci/cmd/oci) finds the keys: the signing key and its password only as mounted
// secret files, the trusted public key (compiled into the module) as a file.
const (
	signingKeyFile      = "/run/secrets/signing-key"
	signingPasswordFile = "/run/secrets/signing-key-password"
	trustedKeyFile      = "/trust/attestation.pub"
)

// signingKeys is the private key publish and attest sign the evidence with (both nil: unsigned).
type signingKeys struct {
	Key, Password *dagger.Secret
}

// attestationTrust is the trusted attestation public key (attest.PublicKeyPath, compiled into the
// module, never a flag) and whether the evidence being verified must be signed by it.
type attestationTrust struct {
	Required bool
	// Key is the public key file (nil when none is configured); KeyID identifies it.
	Key   *dagger.File
	KeyID string
}

// trustedPublicKey is the attestation public key compiled into the module (attest.PublicKeyPath,
// go:embed): no argument of any function can replace it. Tests substitute it.
var trustedPublicKey = attest.TrustedPublicKey

// publicKey returns the trusted attestation public key as a file to mount in the registry tool,
// with its key ID; nil when none is committed.
func (m *SoccerPredict) publicKey(ctx context.Context) (*dagger.File, string, error) {
	pem, ok := trustedPublicKey()
	if !ok {
		return nil, "", nil
	}
	id, err := attest.PublicKeyID(pem)
	if err != nil {
		return nil, "", err
	}
	name := path.Base(attest.PublicKeyPath)
	return dag.Directory().WithNewFile(name, string(pem)).File(name), id, nil
}

// attestationTrust decides, with ci/artifact/attest, whether the evidence of a deploy to env (release:
// production) must be signed, and by which key.
func (m *SoccerPredict) attestationTrust(ctx context.Context, env domain.Environment) (attestationTrust, error) {
	key, id, err := m.publicKey(ctx)
	if err != nil {
		return attestationTrust{}, err
	}
	required, err := attest.SignaturesRequired(env, key != nil)
	if err != nil {
		return attestationTrust{}, err
	}
	return attestationTrust{Required: required, Key: key, KeyID: id}, nil
}

// withVerifyKey mounts the trusted key for `oci verify` when signatures are required and
// returns its arguments.
func (t attestationTrust) withVerifyKey(ctr *dagger.Container) (*dagger.Container, []string) {
	if !t.Required {
		return ctr, nil
	}
	return ctr.WithMountedFile(trustedKeyFile, t.Key), []string{"--public-key", trustedKeyFile}
}

// withSigningKey mounts the signing key (and its password) as secret files for
// `oci attach`, with the trusted public key when one is configured (the tool refuses a
// key that is not its private half), and returns the arguments.
func (m *SoccerPredict) withSigningKey(ctx context.Context, ctr *dagger.Container, k signingKeys) (*dagger.Container, []string, error) {
	if k.Key == nil {
		if k.Password != nil {
			return nil, nil, fmt.Errorf("--signing-key-password needs --signing-key (e.g. --signing-key=env:SP_SIGNING_KEY)")
		}
		return ctr, nil, nil
	}
	ctr = ctr.WithMountedSecret(signingKeyFile, k.Key)
	args := []string{"--signing-key-file", signingKeyFile}
	if k.Password != nil {
		ctr = ctr.WithMountedSecret(signingPasswordFile, k.Password)
		args = append(args, "--signing-password-file", signingPasswordFile)
	}
	pub, _, err := m.publicKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	if pub != nil {
		ctr = ctr.WithMountedFile(trustedKeyFile, pub)
		args = append(args, "--public-key", trustedKeyFile)
	}
	return ctr, args, nil
}

// checkSigningKey runs `oci check-key` before publish builds or pushes anything: a key the
// tool cannot read, a wrong cosign password, or a key that is not the private half of the
// trusted public key fails here, not after the images are pushed. No key: nothing to check.
func (m *SoccerPredict) checkSigningKey(ctx context.Context, k signingKeys) error {
	if k.Key == nil && k.Password == nil {
		return nil
	}
	ctr, _, err := m.toolContainer(ctx, toolchain.OCI, ociBin, "", nil)
	if err != nil {
		return err
	}
	ctr, args, err := m.withSigningKey(ctx, ctr, k)
	if err != nil {
		return err
	}
	_, err = ctr.
		// A check of secret inputs: run it every time, never answer it from the cache.
		WithEnvVariable("SP_CHECK_KEY_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(append([]string{ociBin, "check-key"}, args...)).
		Stdout(ctx)
	if err != nil {
		return fmt.Errorf("--signing-key (nothing was built or pushed): %w", toolFailure("oci check-key", err))
	}
	return nil
}
