package sigstore_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore/sigstoretest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
)

// cosignVersion is the cosign CLI the interoperability tests build and run: the release line
// the issue names (github.com/sigstore/cosign/v3, v3.1.x on the Go module proxy).
const cosignVersion = "v3.1.3"

var (
	cosignOnce sync.Once
	cosignBin  string
	cosignErr  error
)

// cosign builds the real cosign CLI from the Go module proxy (`go install
// github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3`) once per cache: the binary is kept under
// the user's cache directory by version, and Go's build cache makes a rebuild a link. It never
// skips: without the CLI the interoperability claim is unproven, so the test fails.
func cosign(t *testing.T) string {
	t.Helper()
	cosignOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cosignErr = err
			return
		}
		dir := filepath.Join(cache, "soccerpredict-tests", "cosign-"+cosignVersion)
		bin := filepath.Join(dir, "cosign")
		if out, err := exec.Command(bin, "version", "--json").Output(); err == nil && bytes.Contains(out, []byte(`"`+cosignVersion+`"`)) {
			cosignBin = bin
			return
		}
		start := time.Now()
		cmd := exec.Command("go", "install", "-trimpath", "github.com/sigstore/cosign/v3/cmd/cosign@"+cosignVersion)
		cmd.Dir = os.TempDir() // outside any module: go install pkg@version builds the release's own go.mod
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			cosignErr = err
			t.Logf("go install cosign: %s", out)
			return
		}
		t.Logf("built cosign %s in %s", cosignVersion, time.Since(start).Round(time.Second))
		cosignBin = bin
	})
	require.NoError(t, cosignErr, "build the cosign CLI from the Go module proxy")
	return cosignBin
}

// verifyAttestation runs `cosign verify-attestation` on image for predicate type typ
// (cosign's short name or a URI) with the given trust flags; it returns the output and
// whether cosign accepted.
func verifyAttestation(t *testing.T, image, typ string, trust ...string) (string, bool) {
	t.Helper()
	home := t.TempDir()
	args := append([]string{"verify-attestation", "--type", typ, "--allow-http-registry"}, trust...)
	args = append(args, image)
	cmd := exec.Command(cosign(t), args...)
	// A private home: no cached TUF root or credentials of the machine running the test.
	cmd.Env = append(os.Environ(), "HOME="+home, "TUF_ROOT="+filepath.Join(home, ".sigstore"), "DOCKER_CONFIG="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String() + stderr.String(), err == nil
}

// cosignTypes are the --type each attached document is verified with: cosign's names for the
// well-known predicates, the project's URI for the gate report.
var cosignTypes = map[string]string{
	attest.TypeGateReport: attest.PredicateGateReport,
	attest.TypeTrivy:      "vuln",
	attest.TypeSBOM:       "cyclonedx",
	attest.TypeInToto:     "slsaprovenance1",
}

// trustFlags are cosign's flags for the policy a verifier of this test holds.
type trustFlags struct {
	keyed   []string
	keyless []string
}

func cosignTrust(t *testing.T, pubPEM []byte, ss *sigstoretest.Sigstore, san, issuer string) trustFlags {
	t.Helper()
	dir := t.TempDir()
	pub := filepath.Join(dir, "attestation.pub")
	require.NoError(t, os.WriteFile(pub, pubPEM, 0o600))
	tr, err := ss.TrustedRootJSON()
	require.NoError(t, err)
	root := filepath.Join(dir, "trusted_root.json")
	require.NoError(t, os.WriteFile(root, tr, 0o600))
	return trustFlags{
		// Keyed bundles carry no transparency-log entry (air-gapped signing).
		keyed: []string{"--key", pub, "--insecure-ignore-tlog=true"},
		// The virtual CA's certificates embed no SCT; everything else is checked: chain to the
		// trusted root, identity, issuer, Rekor entry and its signed timestamp.
		keyless: []string{"--trusted-root", root, "--certificate-identity", san, "--certificate-oidc-issuer", issuer, "--insecure-ignore-sct=true"},
	}
}

func pubPEMOf(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestCosignVerifiesEveryAttestationWeAttach(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	k := newKey(t)
	ks, err := sigstore.NewKeyedSigner(k)
	require.NoError(t, err)
	kv, err := sigstore.NewKeyedVerifier(&k.PublicKey)
	require.NoError(t, err)
	trust := cosignTrust(t, pubPEMOf(t, &k.PublicKey), ss, identity, issuer)
	for modeName, tc := range map[string]struct {
		m     mode
		flags []string
	}{
		"keyed":   {mode{ks, kv}, trust.keyed},
		"keyless": {keyless(t, ss), trust.keyless},
	} {
		t.Run(modeName, func(t *testing.T) {
			img, config := pushImage(t)
			attachAll(t, tc.m.signer, img, config)
			for _, typ := range attest.Types() {
				out, ok := verifyAttestation(t, img, cosignTypes[typ], tc.flags...)
				require.True(t, ok, "cosign verify-attestation --type %s refused the %s:\n%s", cosignTypes[typ], attest.Describe(typ), out)
				assert.Equal(t, attest.PredicateTypeOf(typ), printedPredicateType(t, out), "cosign printed the %s's statement", attest.Describe(typ))
			}
		})
	}
}

func TestCosignAndWeRefuseTheSameAttestations(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	k := newKey(t)
	ks, err := sigstore.NewKeyedSigner(k)
	require.NoError(t, err)
	kv, err := sigstore.NewKeyedVerifier(&k.PublicKey)
	require.NoError(t, err)
	kl := keyless(t, ss)
	trust := cosignTrust(t, pubPEMOf(t, &k.PublicKey), ss, identity, issuer)
	other := "https://gitlab.com/someone/else//.gitlab-ci.yml@refs/heads/main"
	otherTrust := cosignTrust(t, pubPEMOf(t, &newKey(t).PublicKey), ss, other, issuer)
	otherKey, err := sigstore.NewKeyedVerifier(&newKey(t).PublicKey)
	require.NoError(t, err)
	otherIdentity, err := sigstore.NewKeylessVerifier(mustRoot(t, ss), sigstore.Identity{SAN: other, Issuer: issuer}, false)
	require.NoError(t, err)

	for modeName, tc := range map[string]struct {
		signer            *sigstore.Signer
		verifier          *sigstore.Verifier
		flags, otherFlags []string
		otherVerifier     *sigstore.Verifier
		// What sigstore-go (cosign's verifier and ours) says of a bundle signed otherwise than
		// the policy says, and of a payload changed after signing.
		otherSigner, tampered string
	}{
		"keyed":   {ks, kv, trust.keyed, otherTrust.keyed, otherKey, "could not verify envelope", "could not verify envelope"},
		"keyless": {kl.signer, kl.verifier, trust.keyless, otherTrust.keyless, otherIdentity, `expected SAN value "` + other + `"`, "does not match envelope payload hash"},
	} {
		t.Run(modeName, func(t *testing.T) {
			gateType := cosignTypes[attest.TypeGateReport]
			bothRefuse := func(t *testing.T, img string, flags []string, v *sigstore.Verifier, want string) {
				t.Helper()
				out, ok := verifyAttestation(t, img, gateType, flags...)
				assert.False(t, ok, "cosign accepted:\n%s", out)
				assert.Contains(t, out, want, "cosign's reason")
				ev, err := registry.FetchEvidence(context.Background(), "api", pinned(t, img), loopback(t))
				require.NoError(t, err)
				got := attest.VerifyBundles(ev, commit, v)
				require.False(t, got.OK(), "we accepted what cosign refused")
				assert.Contains(t, strings.Join(got.Problems, "\n"), "a Sigstore bundle does not count")
				assert.Contains(t, strings.Join(got.Problems, "\n"), want, "our reason is cosign's")
			}

			// Positive twin: the genuine attestation passes both.
			img, config := pushImage(t)
			attachAll(t, tc.signer, img, config)
			out, ok := verifyAttestation(t, img, gateType, tc.flags...)
			require.True(t, ok, out)

			t.Run("another identity or key", func(t *testing.T) {
				bothRefuse(t, img, tc.otherFlags, tc.otherVerifier, tc.otherSigner)
			})
			t.Run("a statement about another digest", func(t *testing.T) {
				// The bundles signed for img, attached to another image.
				target, _ := pushImage(t)
				docs, err := sigstoretest.Documents(img, commit, config)
				require.NoError(t, err)
				bundles, err := sigstore.SignAll(context.Background(), tc.signer, img, []registry.Attachment{{ArtifactType: attest.TypeGateReport, Data: docs[attest.TypeGateReport]}})
				require.NoError(t, err)
				_, err = registry.Attach(context.Background(), pinned(t, target), bundles, loopback(t))
				require.NoError(t, err)
				bothRefuse(t, target, tc.flags, tc.verifier, "provided artifact digest does not match any digest in statement")
			})
			t.Run("a payload changed after signing", func(t *testing.T) {
				target, config := pushImage(t)
				docs, err := sigstoretest.Documents(target, commit, config)
				require.NoError(t, err)
				bundles, err := sigstore.SignAll(context.Background(), tc.signer, target, []registry.Attachment{{ArtifactType: attest.TypeGateReport, Data: docs[attest.TypeGateReport]}})
				require.NoError(t, err)
				red, err := attest.StatementFor(target, attest.TypeGateReport, bytes.Replace(docs[attest.TypeGateReport], []byte(`"pass"`), []byte(`"fail"`), 1))
				require.NoError(t, err)
				bundles[0].Data = tamper(t, bundles[0].Data, func(e map[string]any) { e["payload"] = red })
				_, err = registry.Attach(context.Background(), pinned(t, target), bundles, loopback(t))
				require.NoError(t, err)
				bothRefuse(t, target, tc.flags, tc.verifier, tc.tampered)
			})
		})
	}
}

func mustRoot(t *testing.T, ss *sigstoretest.Sigstore) *root.TrustedRoot {
	t.Helper()
	tr, err := ss.TrustedRoot()
	require.NoError(t, err)
	return tr
}

// printedPredicateType is the predicateType of the statement in the envelope cosign prints on
// its first line after a successful verification.
func printedPredicateType(t *testing.T, out string) string {
	t.Helper()
	line, _, _ := strings.Cut(out, "\n")
	var env struct {
		Payload []byte `json:"payload"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &env), out)
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	require.NoError(t, json.Unmarshal(env.Payload, &st))
	return st.PredicateType
}
