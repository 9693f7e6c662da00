package attest

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwt writes a token by hand: header.claims.signature, each base64url without padding.
func jwt(claims string) []byte {
	enc := base64.RawURLEncoding.EncodeToString
	return []byte(enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("not-checked-here")))
}

func TestCheckIDTokenAcceptsAGitLabSigstoreToken(t *testing.T) {
	p := KeylessPolicy{Instance: "https://gitlab.com", Project: "soccerpredictai/soccerpredict", DefaultBranch: "main"}
	now := time.Unix(1_800_000_000, 0)
	for _, claims := range []string{
		`{"iss":"https://gitlab.com","sub":"project_path:soccerpredictai/soccerpredict:ref_type:branch:ref:main","aud":"sigstore","exp":1800000300}`,
		`{"iss":"https://gitlab.com","sub":"s","aud":["other","sigstore"],"exp":1800000001}`,
	} {
		require.NoError(t, CheckIDToken(jwt(claims), p, now), claims)
		require.NoError(t, CheckIDToken(append(jwt(claims), '\n'), p, now), "a token file may end with a newline")
	}
}

func TestCheckIDTokenRefusesWhatFulcioWouldBeforeAnythingIsPushed(t *testing.T) {
	p := KeylessPolicy{Instance: "https://gitlab.com", Project: "soccerpredictai/soccerpredict", DefaultBranch: "main"}
	now := time.Unix(1_800_000_000, 0)
	for name, tc := range map[string]struct {
		token []byte
		want  string
	}{
		"not a JWT":        {[]byte("not-a-jwt"), "is not a JWT (1 dot-separated parts, not 3)"},
		"claims not b64":   {[]byte("a.%%%.c"), "claims are not base64url"},
		"claims not JSON":  {[]byte("a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"), "claims are not a JSON object"},
		"another issuer":   {jwt(`{"iss":"https://gitlab.example.com","sub":"s","aud":"sigstore","exp":1800000300}`), `issued by "https://gitlab.example.com"`},
		"no subject":       {jwt(`{"iss":"https://gitlab.com","aud":"sigstore","exp":1800000300}`), "it has no subject (sub)"},
		"another audience": {jwt(`{"iss":"https://gitlab.com","sub":"s","aud":"https://gitlab.com","exp":1800000300}`), `its audience (aud) does not include "sigstore"`},
		"no expiry":        {jwt(`{"iss":"https://gitlab.com","sub":"s","aud":"sigstore"}`), "it has no expiry (exp)"},
		"expired":          {jwt(`{"iss":"https://gitlab.com","sub":"s","aud":"sigstore","exp":1800000000}`), "it expired at 2027-01-15T08:00:00Z"},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckIDToken(tc.token, p, now)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}", "the error says what to pass")
			for _, part := range strings.Split(string(tc.token), ".") {
				if len(part) > 8 {
					assert.NotContains(t, err.Error(), part, "the token never appears in the error")
				}
			}
		})
	}
}
