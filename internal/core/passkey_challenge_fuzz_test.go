package core

import (
	"bytes"
	"testing"
	"time"
)

// FuzzOpenChallenge: a passwordless challenge cookie is the client's to
// send: whatever it holds never panics, and only a token this key sealed
// for this RP ID and origin, before its expiry, opens (to its own
// challenge).
func FuzzOpenChallenge(f *testing.F) {
	p := &Passkeys{challengeKey: []byte("0123456789abcdef0123456789abcdef")}
	now := time.UnixMilli(1_800_000_000_000)
	c := passwordlessChallenge{challenge: bytes.Repeat([]byte{7}, challengeBytes), expires: now.Add(PasskeyChallengeLifetime)}
	good := p.sealChallenge(c, "example.com", "https://app.example.com")
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)-1] + "A")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := p.openChallenge(token, "example.com", "https://app.example.com", now)
		if err != nil {
			return
		}
		if token != good || !bytes.Equal(got.challenge, c.challenge) || !got.expires.Equal(c.expires) {
			t.Fatalf("token %q opened to %+v; only the sealed one may open", token, got)
		}
	})
}
