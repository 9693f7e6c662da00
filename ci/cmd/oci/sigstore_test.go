package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore/sigstoretest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const (
	keyedPolicy   = `{"mode":"keyed"}`
	testIdentity  = "https://gitlab.example.com/platform/shop//.gitlab-ci.yml@refs/heads/main"
	testIssuer    = "https://gitlab.example.com"
	privatePolicy = `{"mode":"keyless","keyless":{"instance":"https://gitlab.example.com","project":"platform/shop","defaultBranch":"main","fulcioURL":"https://fulcio.example.com","rekorURL":"https://rekor.example.com","trustedRoot":"private_root.json","requireSCT":false}}`
	publicPolicy  = `{"mode":"keyless","keyless":{"instance":"https://gitlab.com","project":"soccerpredictai/soccerpredict","defaultBranch":"main"}}`
)

// Keyed mode end to end through the tool: attach signs Sigstore bundles, verify counts them and
// names the policy in evidence.json, the referrers are cosign's bundles.
func TestAttachAndVerifySigstoreBundlesKeyed(t *testing.T) {
	reg := startRegistry(t, "", "", true)
	image, config := push(t, reg+"/sp/api:main-01234567", authn.Anonymous)
	key, pub := keyFiles(t)
	policy := write(t, t.TempDir(), "sigstore.json", []byte(keyedPolicy))
	require.NoError(t, attach(t, image, append(files(t, image, config), "--sigstore-policy", policy, "--signing-key-file", key, "--public-key", pub)...))

	refs, err := referrersOf(image)
	require.NoError(t, err)
	require.Len(t, refs, 4)
	for _, r := range refs {
		assert.Equal(t, attest.TypeSigstoreBundle, r.ArtifactType, "only Sigstore bundles are attached")
	}
	sum := verifySummary(t, image, "--sigstore-policy", policy, "--public-key", pub)
	require.True(t, sum.OK, "%v", sum.Problems)
	assert.Contains(t, sum.SigstorePolicy, "key sha256:")

	// The legacy verification (DSSE, --public-key alone) does not read bundles...
	legacy := verifySummary(t, image, "--public-key", pub)
	assert.False(t, legacy.OK)
	// ...and another key's policy counts nothing.
	_, otherPub := keyFiles(t)
	other := verifySummary(t, image, "--sigstore-policy", policy, "--public-key", otherPub)
	assert.False(t, other.OK)
	assert.Contains(t, strings.Join(other.Problems, "\n"), "does not verify against key")
}

// Keyless verification under a private Sigstore's policy (here sigstore-go's virtual one): the
// default branch's pipeline counts, another project's does not; DSSE envelopes of the earlier
// format are refused with "republish".
func TestVerifySigstoreBundlesKeylessAndTheEarlierFormat(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	rootJSON, err := ss.TrustedRootJSON()
	require.NoError(t, err)
	dir := t.TempDir()
	policy := write(t, dir, "sigstore.json", []byte(privatePolicy))
	root := write(t, dir, "private_root.json", rootJSON)
	reg := startRegistry(t, "", "", true)

	attachAs := func(t *testing.T, san string) string {
		image, config := push(t, reg+"/sp/api:"+strings.ReplaceAll(filepath.Base(san), "@", "-"), authn.Anonymous)
		s, err := ss.Signer(san, testIssuer)
		require.NoError(t, err)
		docs, err := sigstoretest.Documents(image, commit, config)
		require.NoError(t, err)
		var list []registry.Attachment
		for _, typ := range attest.Types() {
			list = append(list, registry.Attachment{ArtifactType: typ, Data: docs[typ]})
		}
		bundles, err := sigstore.SignAll(context.Background(), s, image, list)
		require.NoError(t, err)
		_, err = registry.Attach(context.Background(), mustPinned(t, image), bundles, loopback(t))
		require.NoError(t, err)
		return image
	}
	good := attachAs(t, testIdentity)
	sum := verifySummary(t, good, "--sigstore-policy", policy, "--trusted-root", root, "--env", "production", "--nonce", "run-42")
	require.True(t, sum.OK, "%v", sum.Problems)
	assert.Equal(t, attest.IdentityTrust(testIdentity, testIssuer), sum.SigstorePolicy, "the name the module expects (attest.Trust.Name)")
	assert.Equal(t, "identity "+testIdentity+" issued by "+testIssuer, sum.SigstorePolicy)
	assert.Equal(t, domain.Production, sum.Environment, "the environment asked is echoed")
	assert.Equal(t, "run-42", sum.Nonce, "the run's nonce is echoed")
	other := verifySummary(t, good, "--sigstore-policy", policy, "--trusted-root", root, "--env", "staging", "--nonce", "run-43")
	assert.Equal(t, domain.Staging, other.Environment)
	assert.Equal(t, "run-43", other.Nonce, "each run its own")
	var out, errb bytes.Buffer
	err = dispatch(context.Background(), []string{"verify", "--commit", commit, "--image", "api=" + good, "--out", t.TempDir(), "--env", "prod"}, &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--env")
	assert.Equal(t, 2, exitCode(err))

	fork := attachAs(t, "https://gitlab.example.com/someone/shop//.gitlab-ci.yml@refs/heads/main")
	sum = verifySummary(t, fork, "--sigstore-policy", policy, "--trusted-root", root)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), "does not verify against identity")

	// An image published in the earlier format (DSSE envelopes signed with a key).
	old, config := push(t, reg+"/sp/api:earlier", authn.Anonymous)
	key, pub := keyFiles(t)
	require.NoError(t, attach(t, old, append(files(t, old, config), "--signing-key-file", key, "--public-key", pub)...))
	assert.True(t, verifySummary(t, old).OK, "trace still reads it")
	sum = verifySummary(t, old, "--sigstore-policy", policy, "--trusted-root", root)
	assert.False(t, sum.OK)
	assert.Contains(t, strings.Join(sum.Problems, "\n"), attest.RepublishFix)

	// What trace reads of a published image, in either format: the image's own labels (`oci
	// labels`, the commit it was built from), which its referrers, old or new, do not change;
	// and, without a signature rule, the documents of both formats (attest.Verify).
	assert.True(t, verifySummary(t, good).OK, "the new format is read without a signature rule too")
	out.Reset()
	errb.Reset()
	require.NoError(t, runLabels(context.Background(), []string{"--image", old, "--image", good}, &out, &errb), errb.String())
	var labels map[string]map[string]string
	require.NoError(t, json.Unmarshal(out.Bytes(), &labels))
	for _, img := range []string{old, good} {
		assert.Equal(t, commit, labels[img][attest.LabelRevision], "%s: trace reads the commit of an image in either format", img)
	}
}

func TestSigstoreFlagsRefuseWhatThePolicyDoesNotSay(t *testing.T) {
	reg := startRegistry(t, "", "", true)
	image, config := push(t, reg+"/sp/api:flags", authn.Anonymous)
	dir := t.TempDir()
	key, _ := keyFiles(t)
	keyed := write(t, dir, "keyed.json", []byte(keyedPolicy))
	keyless := write(t, dir, "keyless.json", []byte(publicPolicy))
	private := write(t, dir, "private.json", []byte(privatePolicy))
	token := write(t, dir, "token", []byte("header.payload.signature\n"))
	empty := write(t, dir, "empty", nil)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"keyless without the job token":         {[]string{"--sigstore-policy", keyless}, "id_tokens SIGSTORE_ID_TOKEN"},
		"keyless with an empty token":           {[]string{"--sigstore-policy", keyless, "--id-token-file", empty}, "the OIDC token file is empty"},
		"keyless given a key":                   {[]string{"--sigstore-policy", keyless, "--signing-key-file", key}, "pass --id-token-file, not --signing-key-file"},
		"keyed given a token":                   {[]string{"--sigstore-policy", keyed, "--id-token-file", token}, "pass --signing-key-file, not --id-token-file"},
		"keyed without the trusted key":         {[]string{"--sigstore-policy", keyed, "--signing-key-file", key}, "--public-key"},
		"private Sigstore without its root":     {[]string{"--sigstore-policy", private, "--id-token-file", token}, "pass it with --trusted-root"},
		"a token without a policy":              {[]string{"--id-token-file", token}, "--id-token-file needs --sigstore-policy"},
		"keyless with a token Fulcio refuses":   {[]string{"--sigstore-policy", keyless, "--id-token-file", token}, "--sigstore-id-token's claims are not a JSON object"},
		"a trusted root the policy never named": {[]string{"--sigstore-policy", keyless, "--trusted-root", token, "--id-token-file", token}, "--trusted-root is only for"},
	} {
		t.Run(name, func(t *testing.T) {
			err := attach(t, image, append(files(t, image, config), tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, 2, exitCode(err), "a usage error")
			assert.NotContains(t, err.Error(), "header.payload.signature", "the token never appears in an error")
		})
	}
	// Nothing was attached by the refused calls.
	refs, err := referrersOf(image)
	require.NoError(t, err)
	assert.Empty(t, refs)
}
