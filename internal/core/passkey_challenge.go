package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// A passwordless sign-in begins on an anonymous page, so its challenge is
// kept by no store row: it travels, with its expiry, in a short-lived
// cookie under a MAC (HMAC-SHA256 with a key derived from the factor key
// for this purpose alone, bound to the RP ID and the exact origin it was
// made for). Only when an answer arrives is the challenge recorded, as
// used (Tx.UsePasskeyChallenge), in the transaction that applies the
// outcome: a page view stores nothing, and an answer or cookie works once.

// passwordlessChallengeVersion is the token format's first byte.
const passwordlessChallengeVersion = 1

// Lengths of a token's parts: version, expiry (Unix milliseconds),
// challenge, MAC.
const (
	challengeBytes    = 32
	challengeBodyLen  = 1 + 8 + challengeBytes
	challengeTokenLen = challengeBodyLen + sha256.Size
)

// errChallengeToken: the cookie's challenge is missing, malformed,
// forged, made for another site, or expired.
var errChallengeToken = errors.New("no valid passkey challenge")

// passwordlessChallenge is a challenge a passwordless sign-in's options
// carried, as its token holds it.
type passwordlessChallenge struct {
	challenge []byte
	expires   time.Time
}

// hash is the challenge as its use is recorded.
func (c passwordlessChallenge) hash() []byte {
	sum := sha256.Sum256(c.challenge)
	return sum[:]
}

// sealChallenge is the token of c for rpID and origin: base64url of
// version, expiry, challenge and their MAC.
func (p *Passkeys) sealChallenge(c passwordlessChallenge, rpID, origin string) string {
	body := make([]byte, 0, challengeTokenLen)
	body = append(body, passwordlessChallengeVersion)
	body = binary.BigEndian.AppendUint64(body, uint64(c.expires.UnixMilli()))
	body = append(body, c.challenge...)
	return base64.RawURLEncoding.EncodeToString(append(body, p.challengeMAC(body, rpID, origin)...))
}

// openChallenge checks token's MAC (for rpID and origin) and expiry at
// now and returns its challenge; errChallengeToken says why not.
func (p *Passkeys) openChallenge(token, rpID, origin string, now time.Time) (passwordlessChallenge, error) {
	if token == "" {
		return passwordlessChallenge{}, fmt.Errorf("%w: the browser sent none", errChallengeToken)
	}
	// Strict: one token, one spelling (no variants in the unused bits of
	// the last character).
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != challengeTokenLen || raw[0] != passwordlessChallengeVersion {
		return passwordlessChallenge{}, fmt.Errorf("%w: malformed", errChallengeToken)
	}
	body, mac := raw[:challengeBodyLen], raw[challengeBodyLen:]
	if !hmac.Equal(mac, p.challengeMAC(body, rpID, origin)) {
		return passwordlessChallenge{}, fmt.Errorf("%w: its MAC does not match (forged, or made for another site or key)", errChallengeToken)
	}
	c := passwordlessChallenge{challenge: body[9:], expires: time.UnixMilli(int64(binary.BigEndian.Uint64(body[1:9])))}
	if !now.Before(c.expires) {
		return passwordlessChallenge{}, fmt.Errorf("%w: expired at %s", errChallengeToken, c.expires.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// challengeMAC is the MAC of a token's body made for rpID and origin.
func (p *Passkeys) challengeMAC(body []byte, rpID, origin string) []byte {
	m := hmac.New(sha256.New, p.challengeKey)
	m.Write([]byte(rpID))
	m.Write([]byte{0})
	m.Write([]byte(origin))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)
}
