package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SigstoreAudience is the audience Fulcio accepts in an OIDC token (GitLab: id_tokens
// SIGSTORE_ID_TOKEN with aud sigstore).
const SigstoreAudience = "sigstore"

// CheckIDToken checks, before anything is built or pushed, that token can earn a Fulcio
// certificate for the committed keyless policy p: a JWT whose audience includes "sigstore", issued
// by the policy's GitLab, with a subject, not expired at now. Its signature is Fulcio's to check
// (against the issuer's keys); this only turns what would fail after the images are pushed
// ("unable to get subject from identity token") into an error first. The token's contents never
// appear in an error.
func CheckIDToken(token []byte, p KeylessPolicy, now time.Time) error {
	fix := fmt.Sprintf("pass the job's OIDC token: %s, with id_tokens: SIGSTORE_ID_TOKEN: {aud: %s} on the publish job", IDTokenFlag, SigstoreAudience)
	parts := strings.Split(string(bytes.TrimSpace(token)), ".")
	if len(parts) != 3 {
		return fmt.Errorf("--sigstore-id-token is not a JWT (%d dot-separated parts, not 3): %s", len(parts), fix)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return fmt.Errorf("--sigstore-id-token's claims are not base64url: %s", fix)
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp *float64        `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return fmt.Errorf("--sigstore-id-token's claims are not a JSON object: %s", fix)
	}
	var probs []string
	if claims.Iss != p.Issuer() {
		probs = append(probs, fmt.Sprintf("it was issued by %q, and the committed policy (%s) trusts tokens of %q", claims.Iss, SigstorePolicyPath, p.Issuer()))
	}
	if claims.Sub == "" {
		probs = append(probs, "it has no subject (sub)")
	}
	if !hasAudience(claims.Aud, SigstoreAudience) {
		probs = append(probs, fmt.Sprintf("its audience (aud) does not include %q", SigstoreAudience))
	}
	switch {
	case claims.Exp == nil:
		probs = append(probs, "it has no expiry (exp)")
	case !now.Before(time.Unix(int64(*claims.Exp), 0)):
		probs = append(probs, fmt.Sprintf("it expired at %s", time.Unix(int64(*claims.Exp), 0).UTC().Format(time.RFC3339)))
	}
	if len(probs) > 0 {
		return fmt.Errorf("--sigstore-id-token cannot earn a Fulcio certificate: %s; %s", strings.Join(probs, "; "), fix)
	}
	return nil
}

// hasAudience reads aud as the JWT spec allows: one string or an array of strings.
func hasAudience(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, a := range many {
			if a == want {
				return true
			}
		}
	}
	return false
}
