package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/signing"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// keyFiles writes a fresh P-256 key pair: the private half as PKCS#8 PEM and the public half.
func keyFiles(t *testing.T) (key, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pder, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	dir := t.TempDir()
	return write(t, dir, "attestation.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		write(t, dir, "attestation.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}))
}

func verifySummary(t *testing.T, image string, extra ...string) attest.Summary {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := append([]string{"verify", "--commit", commit, "--image", "api=" + image, "--out", dir}, extra...)
	require.NoError(t, dispatch(context.Background(), args, &out, &errb), errb.String())
	b, err := os.ReadFile(filepath.Join(dir, EvidenceFile))
	require.NoError(t, err)
	var sum attest.Summary
	require.NoError(t, json.Unmarshal(b, &sum))
	return sum
}

func attach(t *testing.T, image string, args ...string) error {
	t.Helper()
	var out, errb bytes.Buffer
	return dispatch(context.Background(), append([]string{"attach", "--image", image}, args...), &out, &errb)
}

// publish -> attach signed -> promote -> verify, against go-containerregistry's registry, with
// and without its referrers API.
func TestSignedEvidenceRoundTripThroughPromotion(t *testing.T) {
	for _, api := range []bool{true, false} {
		reg := startRegistry(t, "", "", api)
		image, config := push(t, reg+"/sp/api:main-01234567", authn.Anonymous)
		key, pub := keyFiles(t)
		require.NoError(t, attach(t, image, append(files(t, image, config), "--signing-key-file", key, "--public-key", pub)...))

		refs, err := referrersOf(image)
		require.NoError(t, err)
		require.Len(t, refs, 4)
		for _, r := range refs {
			assert.Equal(t, attest.TypeDSSE, r.ArtifactType, "only signed envelopes are attached")
		}

		// Promotion to another repository copies the envelopes with the image.
		dst := reg + "/release/api:v1.2.0"
		srcRef, err := domain.ParsePinnedRef(image)
		require.NoError(t, err)
		dstRef, err := domain.ParseTaggedRef(dst)
		require.NoError(t, err)
		_, err = registry.PromoteAll(context.Background(), srcRef, []domain.ImageRef{dstRef}, loopback(t))
		require.NoError(t, err)
		promoted := reg + "/release/api@" + strings.SplitN(image, "@", 2)[1]

		sum := verifySummary(t, promoted, "--public-key", pub)
		require.True(t, sum.OK, "referrers API %v: %v", api, sum.Problems)
		v, err := signing.LoadVerifier(mustRead(t, pub))
		require.NoError(t, err)
		assert.Equal(t, v.KeyID(), sum.KeyID, "the summary names the key it checked against")

		// Another trusted key: nothing counts.
		_, otherPub := keyFiles(t)
		sum = verifySummary(t, promoted, "--public-key", otherPub)
		assert.False(t, sum.OK)
		assert.Contains(t, strings.Join(sum.Problems, "\n"), "no signature by the trusted key")
	}
}

func TestSignedVerificationRefusesForgeriesInTheRegistry(t *testing.T) {
	reg := startRegistry(t, "", "", true)
	key, pub := keyFiles(t)
	otherKey, _ := keyFiles(t)
	ctx := context.Background()

	// Unsigned evidence (publish without --signing-key): counts without a key, not with one.
	image, config := push(t, reg+"/sp/api:unsigned", authn.Anonymous)
	require.NoError(t, attach(t, image, files(t, image, config)...))
	assert.True(t, verifySummary(t, image).OK)
	sum := verifySummary(t, image, "--public-key", pub)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), "unsigned gate report(s) attached do not count")

	// Signed by another key.
	image, config = push(t, reg+"/sp/api:otherkey", authn.Anonymous)
	require.NoError(t, attach(t, image, append(files(t, image, config), "--signing-key-file", otherKey)...))
	sum = verifySummary(t, image, "--public-key", pub)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), "no signature by the trusted key")

	// The envelopes of one image attached to another: their subject is not its digest.
	signedFor, configA := push(t, reg+"/sp/api:a", authn.Anonymous)
	target, _ := push(t, reg+"/sp/api:b", authn.Anonymous)
	s, err := signing.LoadSigner(mustRead(t, key), nil)
	require.NoError(t, err)
	var moved []registry.Attachment
	args := files(t, signedFor, configA)
	for i := 0; i < len(args); i += 2 {
		typ := map[string]string{"--gate-report": attest.TypeGateReport, "--trivy": attest.TypeTrivy, "--sbom": attest.TypeSBOM, "--provenance": attest.TypeInToto}[args[i]]
		st, err := attest.StatementFor(signedFor, typ, mustRead(t, args[i+1]))
		require.NoError(t, err)
		env, err := s.SignStatement(st)
		require.NoError(t, err)
		moved = append(moved, registry.Attachment{ArtifactType: attest.TypeDSSE, Data: env})
	}
	targetRef, err := domain.ParsePinnedRef(target)
	require.NoError(t, err)
	_, err = registry.Attach(ctx, targetRef, moved, loopback(t))
	require.NoError(t, err)
	sum = verifySummary(t, target, "--public-key", pub)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), "is about another image")

	// Signed with the trusted key: counts.
	image, config = push(t, reg+"/sp/api:signed", authn.Anonymous)
	require.NoError(t, attach(t, image, append(files(t, image, config), "--signing-key-file", key)...))
	sum = verifySummary(t, image, "--public-key", pub)
	require.True(t, sum.OK, "%v", sum.Problems)

	// A signed envelope whose payload was swapped for a red report after signing, and a red
	// report signed with the right key.
	red := gate.Report{Commit: commit}
	for _, g := range gate.Catalog() {
		st := gate.Pass
		if g.Name == gate.Lint {
			st = gate.Fail
		}
		red.Results = append(red.Results, gate.NewResult(g.Name, st, "x"))
	}
	redJSON, err := red.JSON()
	require.NoError(t, err)
	image2, config2 := push(t, reg+"/sp/api:swapped2", authn.Anonymous)
	goodSt, err := attest.StatementFor(image2, attest.TypeGateReport, gateOf(t, files(t, image2, config2)))
	require.NoError(t, err)
	goodEnv, err := s.SignStatement(goodSt)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(goodEnv, &m))
	redSt2, err := attest.StatementFor(image2, attest.TypeGateReport, redJSON)
	require.NoError(t, err)
	m["payload"] = base64.StdEncoding.EncodeToString(redSt2)
	swapped, err := json.Marshal(m)
	require.NoError(t, err)
	_, err = registry.Attach(ctx, mustPinned(t, image2), []registry.Attachment{{ArtifactType: attest.TypeDSSE, Data: swapped}}, loopback(t))
	require.NoError(t, err)
	sum = verifySummary(t, image2, "--public-key", pub)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), "payload changed after signing")

	image3, config3 := push(t, reg+"/sp/api:red", authn.Anonymous)
	args3 := files(t, image3, config3)
	redFile := write(t, t.TempDir(), "red.json", redJSON)
	for i := range args3 {
		if args3[i] == "--gate-report" {
			args3[i+1] = redFile
		}
	}
	require.NoError(t, attach(t, image3, append(args3, "--signing-key-file", key)...))
	sum = verifySummary(t, image3, "--public-key", pub)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), "lint (fail)")
}

func TestAttachRefusesAKeyThatIsNotTheTrustedKeysPrivateHalf(t *testing.T) {
	reg := startRegistry(t, "", "", true)
	image, config := push(t, reg+"/sp/api:main-01234567", authn.Anonymous)
	key, pub := keyFiles(t)
	otherKey, _ := keyFiles(t)
	err := attach(t, image, append(files(t, image, config), "--signing-key-file", otherKey, "--public-key", pub)...)
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	assert.Contains(t, err.Error(), "not the private half of the trusted public key")
	refs, err := referrersOf(image)
	require.NoError(t, err)
	assert.Empty(t, refs, "nothing was attached")

	// cosign's encrypted key, its password from a file (a trailing newline is not part of it).
	block, _ := pem.Decode(mustRead(t, key))
	enc, err := encrypted.Encrypt(block.Bytes, []byte("s3cret pass"))
	require.NoError(t, err)
	dir := t.TempDir()
	cosignKey := write(t, dir, "cosign.key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc}))
	pass := write(t, dir, "pass", []byte("s3cret pass\n"))
	var out, errb bytes.Buffer
	require.NoError(t, dispatch(context.Background(), append([]string{"attach", "--image", image, "--signing-key-file", cosignKey, "--signing-password-file", pass, "--public-key", pub}, files(t, image, config)...), &out, &errb))
	assert.NotContains(t, out.String()+errb.String(), "s3cret")
	assert.True(t, verifySummary(t, image, "--public-key", pub).OK)

	wrong := write(t, dir, "wrong", []byte("nope"))
	err = dispatch(context.Background(), append([]string{"attach", "--image", image, "--signing-key-file", cosignKey, "--signing-password-file", wrong}, files(t, image, config)...), &out, &errb)
	assert.Equal(t, 2, exitCode(err))
	assert.Contains(t, err.Error(), "wrong password?")

	for name, args := range map[string][]string{
		"password without key":   {"--signing-password-file", pass},
		"public key without key": {"--public-key", pub},
		"missing key file":       {"--signing-key-file", filepath.Join(dir, "absent")},
		"bad public key":         {"--signing-key-file", key, "--public-key", key},
	} {
		err := attach(t, image, append(files(t, image, config), args...)...)
		assert.Equal(t, 2, exitCode(err), "%s: %v", name, err)
	}
	// check-key: what publish runs before it pushes anything.
	out.Reset()
	require.NoError(t, dispatch(context.Background(), []string{"check-key", "--signing-key-file", cosignKey, "--signing-password-file", pass, "--public-key", pub}, &out, &errb))
	v, err := signing.LoadVerifier(mustRead(t, pub))
	require.NoError(t, err)
	assert.Equal(t, v.KeyID()+"\n", out.String())
	for name, args := range map[string][]string{
		"not the trusted key's half": {"--signing-key-file", otherKey, "--public-key", pub},
		"wrong password":             {"--signing-key-file", cosignKey, "--signing-password-file", wrong},
		"no key":                     {"--public-key", pub},
	} {
		err := dispatch(context.Background(), append([]string{"check-key"}, args...), &out, &errb)
		assert.Equal(t, 2, exitCode(err), "%s: %v", name, err)
	}
	err = dispatch(context.Background(), []string{"verify", "--commit", commit, "--image", "api=" + image, "--out", dir, "--public-key", key}, &out, &errb)
	assert.Equal(t, 2, exitCode(err), "a private key is not a trusted public key")
}

func loopback(t *testing.T) registry.Options {
	t.Helper()
	plain, err := registry.ParseInsecureRegistries(nil)
	require.NoError(t, err)
	return registry.Options{PlainHTTP: plain}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func gateOf(t *testing.T, args []string) []byte {
	t.Helper()
	for i := range args {
		if args[i] == "--gate-report" {
			return mustRead(t, args[i+1])
		}
	}
	t.Fatal("no gate report")
	return nil
}

// referrersOf lists the referrers of image ("repo@sha256:…") with go-containerregistry's own
// client (the referrers API, or its tag-schema fallback), each with the artifactType its own
// manifest declares (the fallback index may not repeat it).
func referrersOf(image string) ([]v1.Descriptor, error) {
	d, err := name.NewDigest(image, name.Insecure)
	if err != nil {
		return nil, err
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Descriptor, 0, len(m.Manifests))
	for _, desc := range m.Manifests {
		got, err := remote.Get(d.Context().Digest(desc.Digest.String()))
		if err != nil {
			return nil, err
		}
		var man struct {
			ArtifactType string `json:"artifactType"`
		}
		if err := json.Unmarshal(got.Manifest, &man); err != nil {
			return nil, err
		}
		desc.ArtifactType = man.ArtifactType
		out = append(out, desc)
	}
	return out, nil
}

func mustPinned(t *testing.T, s string) domain.ImageRef {
	t.Helper()
	r, err := domain.ParsePinnedRef(s)
	require.NoError(t, err)
	return r
}

// check-key under the keyless policy checks the job's OIDC token before publish pushes anything:
// a token Fulcio would refuse fails here, with the reason and not the token.
func TestCheckKeyChecksTheKeylessToken(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "sigstore.json")
	require.NoError(t, os.WriteFile(policy, []byte(`{"mode":"keyless","keyless":{"instance":"https://gitlab.com","project":"soccerpredictai/soccerpredict","defaultBranch":"main","fulcioURL":"https://fulcio.sigstore.dev","rekorURL":"https://rekor.sigstore.dev"}}`), 0o600))
	enc := base64.RawURLEncoding.EncodeToString
	token := func(claims string) string {
		p := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(p, []byte(enc([]byte(`{"alg":"RS256"}`))+"."+enc([]byte(claims))+".c2ln"), 0o600))
		return p
	}
	exp := time.Now().Add(time.Hour).Unix()
	good := token(fmt.Sprintf(`{"iss":"https://gitlab.com","sub":"project_path:soccerpredictai/soccerpredict:ref_type:branch:ref:main","aud":"sigstore","exp":%d}`, exp))
	var out, errb bytes.Buffer
	require.NoError(t, dispatch(context.Background(), []string{"check-key", "--sigstore-policy", policy, "--id-token-file", good}, &out, &errb))
	assert.Equal(t, "ok\n", out.String())

	badFile := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(badFile, []byte("not-a-jwt"), 0o600))
	err := dispatch(context.Background(), []string{"check-key", "--sigstore-policy", policy, "--id-token-file", badFile}, &out, &errb)
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	assert.Contains(t, err.Error(), "is not a JWT")
	assert.NotContains(t, err.Error(), "not-a-jwt")

	wrongAud := token(fmt.Sprintf(`{"iss":"https://gitlab.com","sub":"s","aud":"https://gitlab.com","exp":%d}`, exp))
	err = dispatch(context.Background(), []string{"check-key", "--sigstore-policy", policy, "--id-token-file", wrongAud}, &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `does not include "sigstore"`)

	err = dispatch(context.Background(), []string{"check-key", "--id-token-file", good}, &out, &errb)
	assert.ErrorContains(t, err, "--id-token-file needs --sigstore-policy")
}
