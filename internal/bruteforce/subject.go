package bruteforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// unknownPrefix starts every stand-in for a typed name. The colon cannot
// occur in a username, so no account can ever own such a counter.
const unknownPrefix = "unknown:"

// Subject is a typed username as counters and logs may keep it.
type Subject struct {
	// Counter names the account's failure counter: the canonical name
	// when the typed text is a possible username, else Unknown, so that
	// distinct impossible names never share one bucket, nor one with a
	// real account.
	Counter string
	// Unknown is "unknown:" and a short keyed hash of the name: what logs
	// show while no account has it. Never the typed text itself, which
	// may be a password typed into the wrong field.
	Unknown string
}

// SubjectFor maps a typed name. canonical is its normalised form, or ""
// when the typed text cannot be a username.
func (l *Limiter) SubjectFor(typed, canonical string) Subject {
	if canonical == "" {
		u := l.unknown(typed)
		return Subject{Counter: u, Unknown: u}
	}
	return Subject{Counter: canonical, Unknown: l.unknown(canonical)}
}

// unknown hashes name under the limiter's key: 48 bits are plenty to
// correlate attempts in a log, and without the key a leaked log cannot be
// searched for a guessed name or password.
func (l *Limiter) unknown(name string) string {
	m := hmac.New(sha256.New, l.nameKey)
	m.Write([]byte(name))
	return unknownPrefix + hex.EncodeToString(m.Sum(nil)[:6])
}
