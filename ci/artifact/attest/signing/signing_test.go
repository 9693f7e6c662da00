package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func pkcs8PEM(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func publicPEM(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// cosignPEM writes k the way `cosign generate-key-pair` does: PKCS#8 DER encrypted with
// go-securesystemslib's encrypted package (scrypt + secretbox) in an ENCRYPTED SIGSTORE
// PRIVATE KEY block.
func cosignPEM(t *testing.T, k *ecdsa.PrivateKey, password string) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	enc, err := encrypted.Encrypt(der, []byte(password))
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc})
}

const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"r/api","digest":{"sha256":"aa"}}],"predicateType":"x","predicate":{}}`

func TestSignedEnvelopeIsDSSEv1OverPAE(t *testing.T) {
	k := newKey(t)
	s, err := LoadSigner(pkcs8PEM(t, k), nil)
	require.NoError(t, err)
	raw, err := s.SignStatement([]byte(statement))
	require.NoError(t, err)

	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	require.NoError(t, json.Unmarshal(raw, &env))
	assert.Equal(t, "application/vnd.in-toto+json", env.PayloadType)
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	assert.Equal(t, statement, string(body))
	require.Len(t, env.Signatures, 1)
	wantID, err := attest.KeyID(&k.PublicKey)
	require.NoError(t, err)
	assert.Equal(t, wantID, env.Signatures[0].KeyID)

	// The signature is ECDSA P-256 / SHA-256 (ASN.1) over the PAE written out by hand from the
	// DSSE protocol: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
	pae := "DSSEv1 " + strconv.Itoa(len(env.PayloadType)) + " " + env.PayloadType + " " + strconv.Itoa(len(body)) + " " + string(body)
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	require.NoError(t, err)
	h := sha256.Sum256([]byte(pae))
	assert.True(t, ecdsa.VerifyASN1(&k.PublicKey, h[:], sig))
}

func TestLoadSignerKeyFormats(t *testing.T) {
	k := newKey(t)
	sec1, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	v, err := LoadVerifier(publicPEM(t, k))
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		pem      []byte
		password string
	}{
		"pkcs8 (openssl genpkey)":                 {pkcs8PEM(t, k), ""},
		"sec1 (openssl ecparam -genkey)":          {pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), ""},
		"cosign encrypted with a password":        {cosignPEM(t, k, "correct horse"), "correct horse"},
		"cosign encrypted with an empty password": {cosignPEM(t, k, ""), ""},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := LoadSigner(tc.pem, []byte(tc.password))
			require.NoError(t, err)
			assert.True(t, v.Matches(s))
			assert.Equal(t, v.KeyID(), s.KeyID())
			env, err := s.SignStatement([]byte(statement))
			require.NoError(t, err)
			pt, payload, err := v.VerifyEnvelope(env)
			require.NoError(t, err)
			assert.Equal(t, attest.PayloadTypeInToto, pt)
			assert.Equal(t, statement, string(payload))
		})
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	secret := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("TOP-SECRET-KEY-MATERIAL")})
	for name, tc := range map[string]struct {
		pem      []byte
		password string
		want     string
	}{
		"wrong cosign password": {cosignPEM(t, k, "right"), "wrong", "wrong password?"},
		"not PEM":               {[]byte("hello"), "", "not PEM"},
		"a public key":          {publicPEM(t, k), "", `"PUBLIC KEY" block, not a private key`},
		"rsa":                   {pkcs8PEM(t, rsaKey), "", "not an ECDSA P-256 key"},
		"p-384":                 {pkcs8PEM(t, p384), "", "not an ECDSA P-256 key"},
		"openssl encrypted":     {pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "", "not supported"},
		"garbage in the block":  {secret, "", "cannot be read"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadSigner(tc.pem, []byte(tc.password))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "TOP-SECRET", "an error never quotes the key")
		})
	}
}

func TestVerifyEnvelopeRefusesForgeries(t *testing.T) {
	k, other := newKey(t), newKey(t)
	s, err := LoadSigner(pkcs8PEM(t, k), nil)
	require.NoError(t, err)
	so, err := LoadSigner(pkcs8PEM(t, other), nil)
	require.NoError(t, err)
	v, err := LoadVerifier(publicPEM(t, k))
	require.NoError(t, err)
	good, err := s.SignStatement([]byte(statement))
	require.NoError(t, err)

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	byOther, err := so.SignStatement([]byte(statement))
	require.NoError(t, err)
	cases := map[string]struct {
		env  []byte
		want string
	}{
		"unsigned":    {edit(func(m map[string]any) { m["signatures"] = []any{} }), "not signed"},
		"another key": {byOther, "no signature by the trusted key"},
		"payload swapped": {edit(func(m map[string]any) {
			m["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(statement, `"aa"`, `"bb"`, 1)))
		}), "payload changed after signing"},
		"payloadType swapped": {edit(func(m map[string]any) { m["payloadType"] = "text/plain" }), "no signature by the trusted key"},
		"keyid of the trusted key on another key's signature": {func() []byte {
			var m map[string]any
			require.NoError(t, json.Unmarshal(byOther, &m))
			m["signatures"].([]any)[0].(map[string]any)["keyid"] = v.KeyID()
			b, _ := json.Marshal(m)
			return b
		}(), "no signature by the trusted key"},
		"not JSON":   {[]byte("{"), "not a DSSE envelope"},
		"no payload": {[]byte(`{"payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}`), "no payloadType or payload"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := v.VerifyEnvelope(tc.env)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Several signatures: the trusted key's counts wherever it is.
	both := edit(func(m map[string]any) {
		var o map[string]any
		require.NoError(t, json.Unmarshal(byOther, &o))
		m["signatures"] = append(o["signatures"].([]any), m["signatures"].([]any)...)
	})
	_, _, err = v.VerifyEnvelope(both)
	require.NoError(t, err)
}

// The manual verification of an envelope of the earlier format (DSSE), with the openssl CLI: our signature verifies
// with `openssl dgst -sha256 -verify`, and openssl's signature over the PAE verifies with ours.
func TestOpenSSLInterop(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	k := newKey(t)
	keyFile, pubFile := filepath.Join(dir, "attestation.key"), filepath.Join(dir, "attestation.pub")
	require.NoError(t, os.WriteFile(keyFile, pkcs8PEM(t, k), 0o600))
	require.NoError(t, os.WriteFile(pubFile, publicPEM(t, k), 0o644))
	s, err := LoadSigner(pkcs8PEM(t, k), nil)
	require.NoError(t, err)
	raw, err := s.SignStatement([]byte(statement))
	require.NoError(t, err)
	var env struct {
		PayloadType, Payload string
		Signatures           []struct{ Sig string }
	}
	require.NoError(t, json.Unmarshal(raw, &env))
	body, _ := base64.StdEncoding.DecodeString(env.Payload)
	pae := filepath.Join(dir, "pae.bin")
	require.NoError(t, os.WriteFile(pae, []byte("DSSEv1 "+strconv.Itoa(len(env.PayloadType))+" "+env.PayloadType+" "+strconv.Itoa(len(body))+" "+string(body)), 0o644))
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	sigFile := filepath.Join(dir, "sig.der")
	require.NoError(t, os.WriteFile(sigFile, sig, 0o644))
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, pae).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "Verified OK")

	// The key ID is what the docs compute with openssl.
	der, err := exec.Command("openssl", "pkey", "-pubin", "-in", pubFile, "-outform", "DER").Output()
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	assert.Equal(t, s.KeyID(), "sha256:"+strings.ToLower(strings.TrimSpace(hexOf(sum[:]))))

	// openssl signs the PAE; the envelope built from it verifies.
	osig, err := exec.Command("openssl", "dgst", "-sha256", "-sign", keyFile, pae).Output()
	require.NoError(t, err)
	v, err := LoadVerifier(publicPEM(t, k))
	require.NoError(t, err)
	built, _ := json.Marshal(map[string]any{"payloadType": env.PayloadType, "payload": env.Payload, "signatures": []any{map[string]string{"keyid": "", "sig": base64.StdEncoding.EncodeToString(osig)}}})
	_, _, err = v.VerifyEnvelope(built)
	require.NoError(t, err)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func FuzzVerifyEnvelope(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	s, err := LoadSigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		f.Fatal(err)
	}
	pder, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	v, err := LoadVerifier(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}))
	if err != nil {
		f.Fatal(err)
	}
	good, err := s.SignStatement([]byte(statement))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"MEUCIQ=="}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pt, payload, err := v.VerifyEnvelope(data)
		if err != nil {
			return
		}
		// Whatever verifies carries a signature by the key over PAE(pt, payload).
		var env struct {
			Signatures []struct{ Sig string } `json:"signatures"`
		}
		if json.Unmarshal(data, &env) != nil {
			t.Fatalf("accepted non-JSON %q", data)
		}
		pae := "DSSEv1 " + strconv.Itoa(len(pt)) + " " + pt + " " + strconv.Itoa(len(payload)) + " " + string(payload)
		h := sha256.Sum256([]byte(pae))
		for _, sg := range env.Signatures {
			raw, err := base64.StdEncoding.DecodeString(sg.Sig)
			if err != nil {
				raw, _ = base64.URLEncoding.DecodeString(sg.Sig)
			}
			if ecdsa.VerifyASN1(&k.PublicKey, h[:], raw) {
				return
			}
		}
		t.Fatalf("accepted an envelope without a valid signature: %q", data)
	})
}
