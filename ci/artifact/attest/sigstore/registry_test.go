package sigstore_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/signing"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore/sigstoretest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// pushImage pushes a random image labelled with commit to an in-process registry (OCI 1.1
// referrers API) and returns it by digest and its config digest.
func pushImage(t *testing.T) (image, config string) {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(true)))
	t.Cleanup(srv.Close)
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	img, err = mutate.Config(img, v1.Config{Labels: map[string]string{attest.LabelRevision: commit}})
	require.NoError(t, err)
	tag, err := name.NewTag(strings.TrimPrefix(srv.URL, "http://")+"/sp/api:main", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img))
	d, _ := img.Digest()
	c, _ := img.ConfigName()
	return tag.Context().String() + "@" + d.String(), c.String()
}

func loopback(t *testing.T) registry.Options {
	t.Helper()
	plain, err := registry.ParseInsecureRegistries(nil)
	require.NoError(t, err)
	return registry.Options{PlainHTTP: plain}
}

func pinned(t *testing.T, s string) domain.ImageRef {
	t.Helper()
	r, err := domain.ParsePinnedRef(s)
	require.NoError(t, err)
	return r
}

// attachAll signs every document of img with s and attaches the bundles, as publish does.
func attachAll(t *testing.T, s *sigstore.Signer, img, config string) []registry.Attached {
	t.Helper()
	docs, err := sigstoretest.Documents(img, commit, config)
	require.NoError(t, err)
	var list []registry.Attachment
	for _, typ := range attest.Types() {
		list = append(list, registry.Attachment{ArtifactType: typ, Data: docs[typ]})
	}
	bundles, err := sigstore.SignAll(context.Background(), s, img, list)
	require.NoError(t, err)
	att, err := registry.Attach(context.Background(), pinned(t, img), bundles, loopback(t))
	require.NoError(t, err)
	return att
}

func TestAttachedBundlesAreCosignsLayoutAndCountForDeploys(t *testing.T) {
	ss, err := sigstoretest.New()
	require.NoError(t, err)
	for modeName, m := range map[string]mode{"keyed": keyed(t), "keyless": keyless(t, ss)} {
		t.Run(modeName, func(t *testing.T) {
			img, config := pushImage(t)
			att := attachAll(t, m.signer, img, config)
			require.Len(t, att, 4)

			// The layout cosign v3.1.3 writes (ociremote.WriteAttestationNewBundleFormat).
			predicates := map[string]bool{}
			for _, a := range att {
				ref, err := name.NewDigest(pinned(t, img).Repository.String()+"@"+a.Digest, name.Insecure)
				require.NoError(t, err)
				raw, err := remote.Get(ref)
				require.NoError(t, err)
				var m struct {
					MediaType    string `json:"mediaType"`
					ArtifactType string `json:"artifactType"`
					Config       struct {
						MediaType    string `json:"mediaType"`
						ArtifactType string `json:"artifactType"`
					} `json:"config"`
					Layers      []struct{ MediaType string } `json:"layers"`
					Subject     struct{ Digest string }      `json:"subject"`
					Annotations map[string]string            `json:"annotations"`
				}
				require.NoError(t, json.Unmarshal(raw.Manifest, &m))
				assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", m.MediaType)
				assert.Equal(t, "application/vnd.dev.sigstore.bundle.v0.3+json", m.ArtifactType)
				assert.Equal(t, "application/vnd.oci.empty.v1+json", m.Config.MediaType)
				assert.Equal(t, m.ArtifactType, m.Config.ArtifactType)
				require.Len(t, m.Layers, 1)
				assert.Equal(t, m.ArtifactType, m.Layers[0].MediaType)
				assert.Equal(t, pinned(t, img).Digest.String(), m.Subject.Digest)
				assert.Equal(t, "dsse-envelope", m.Annotations["dev.sigstore.bundle.content"])
				assert.NotEmpty(t, m.Annotations["org.opencontainers.image.created"])
				predicates[m.Annotations["dev.sigstore.bundle.predicateType"]] = true
			}
			assert.Equal(t, map[string]bool{
				"https://gitlab.com/soccerpredictai/pipeline/attestation/gate-report/v1": true,
				"https://cosign.sigstore.dev/attestation/vuln/v1":                        true,
				"https://cyclonedx.org/bom":                                              true,
				"https://slsa.dev/provenance/v1":                                         true,
			}, predicates)

			ev, err := registry.FetchEvidence(context.Background(), "api", pinned(t, img), loopback(t))
			require.NoError(t, err)
			assert.Len(t, ev.Bundles, 4)
			v := attest.VerifyBundles(ev, commit, m.verifier)
			require.True(t, v.OK(), "%v", v.Problems)
			assert.NotEmpty(t, v.GateReport)
			assert.NotEmpty(t, v.Trivy)
			assert.NotEmpty(t, v.SBOM)
			assert.NotEmpty(t, v.Provenance)
			// trace reads them without a policy too.
			assert.True(t, attest.Verify(ev, commit).OK())
		})
	}
}

func TestDeploysRefuseTheEarlierFormatAndSayToRepublish(t *testing.T) {
	img, config := pushImage(t)
	docs, err := sigstoretest.Documents(img, commit, config)
	require.NoError(t, err)
	k := newKey(t)
	old, err := signing.SignerFromKey(k)
	require.NoError(t, err)
	var envs []registry.Attachment
	for _, typ := range attest.Types() {
		st, err := attest.StatementFor(img, typ, docs[typ])
		require.NoError(t, err)
		env, err := old.SignStatement(st)
		require.NoError(t, err)
		envs = append(envs, registry.Attachment{ArtifactType: attest.TypeDSSE, Data: env})
	}
	_, err = registry.Attach(context.Background(), pinned(t, img), envs, loopback(t))
	require.NoError(t, err)
	ev, err := registry.FetchEvidence(context.Background(), "api", pinned(t, img), loopback(t))
	require.NoError(t, err)

	// trace still reads the earlier format...
	assert.True(t, attest.Verify(ev, commit).OK())
	// ...deploys and releases, even with the very key that signed it, do not.
	v, err := sigstore.NewKeyedVerifier(&k.PublicKey)
	require.NoError(t, err)
	got := attest.VerifyBundles(ev, commit, v)
	require.False(t, got.OK())
	assert.Contains(t, strings.Join(got.Problems, "\n"), "earlier evidence format does not count: "+attest.RepublishFix)
}
