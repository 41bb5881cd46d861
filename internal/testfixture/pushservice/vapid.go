package pushservice

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// errVAPID is returned for a missing or invalid VAPID authorization.
var errVAPID = errors.New("VAPID authorization refused")

// maxVAPIDLifetime is how far in the future a token may expire
// (RFC 8292, section 2: no more than 24 hours from the request).
const maxVAPIDLifetime = 24 * time.Hour

// vapidClaims are the JWT claims RFC 8292 defines.
type vapidClaims struct {
	Aud string      `json:"aud"`
	Exp json.Number `json:"exp"`
	Sub string      `json:"sub"`
}

// vapidAuth is what a valid Authorization header tells.
type vapidAuth struct {
	key        string // k: the sender's public key, base64url
	subscriber string // sub claim
}

// checkVAPID verifies an "Authorization: vapid t=JWT, k=KEY" header
// (RFC 8292, section 3) for a message to audience (the endpoint's origin).
// The check is written from the RFC with the standard library, not with
// the JWT library the sender uses, so a mistake in one is not repeated in
// the other.
func checkVAPID(header, audience string, now time.Time) (vapidAuth, error) {
	token, key, err := parseVAPIDHeader(header)
	if err != nil {
		return vapidAuth{}, err
	}
	claims, err := verifyES256(token, key)
	if err != nil {
		return vapidAuth{}, err
	}
	if claims.Aud != audience {
		return vapidAuth{}, fmt.Errorf("%w: aud %q is not the endpoint's origin %q", errVAPID, claims.Aud, audience)
	}
	exp, err := claims.Exp.Int64()
	if err != nil {
		return vapidAuth{}, fmt.Errorf("%w: exp is not an integer", errVAPID)
	}
	expiry := time.Unix(exp, 0)
	if !expiry.After(now) {
		return vapidAuth{}, fmt.Errorf("%w: token expired at %s", errVAPID, expiry.UTC())
	}
	if expiry.After(now.Add(maxVAPIDLifetime)) {
		return vapidAuth{}, fmt.Errorf("%w: exp more than 24 hours ahead", errVAPID)
	}
	if claims.Sub == "" {
		return vapidAuth{}, fmt.Errorf("%w: no sub claim", errVAPID)
	}
	return vapidAuth{key: key, subscriber: claims.Sub}, nil
}

// parseVAPIDHeader splits the header into its t and k parameters.
func parseVAPIDHeader(header string) (token, key string, err error) {
	scheme, params, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "vapid") {
		return "", "", fmt.Errorf("%w: Authorization is not of the vapid scheme", errVAPID)
	}
	for param := range strings.SplitSeq(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		switch name {
		case "t":
			token = value
		case "k":
			key = value
		}
	}
	if token == "" || key == "" {
		return "", "", fmt.Errorf("%w: t or k parameter missing", errVAPID)
	}
	return token, key, nil
}

// verifyES256 checks the JWT's ES256 signature with the base64url public
// key and returns its claims.
func verifyES256(token, key string) (vapidClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return vapidClaims{}, fmt.Errorf("%w: t is not a JWT", errVAPID)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeJSONPart(parts[0], &header); err != nil || header.Alg != "ES256" {
		return vapidClaims{}, fmt.Errorf("%w: JWT header is not ES256", errVAPID)
	}
	pub, err := parsePublicKey(key)
	if err != nil {
		return vapidClaims{}, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return vapidClaims{}, fmt.Errorf("%w: JWT signature is not 64 bytes of base64url", errVAPID)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return vapidClaims{}, fmt.Errorf("%w: JWT signature does not verify with k", errVAPID)
	}
	var claims vapidClaims
	if err := decodeJSONPart(parts[1], &claims); err != nil {
		return vapidClaims{}, fmt.Errorf("%w: JWT claims: %w", errVAPID, err)
	}
	return claims, nil
}

// parsePublicKey decodes k, an uncompressed P-256 point in base64url.
func parsePublicKey(key string) (*ecdsa.PublicKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(key, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: k is not base64url", errVAPID)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: k is not a P-256 public key: %w", errVAPID, err)
	}
	return pub, nil
}

// decodeJSONPart decodes one base64url JWT segment into v.
func decodeJSONPart(part string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	return dec.Decode(v)
}
