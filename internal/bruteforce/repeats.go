package bruteforce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Repeats of one wrong secret count once, as in Entra's smart lockout: a
// phone or laptop still sending a deleted app password, or a user pressing
// Enter twice on the same typo, learns nothing new by trying it again and
// must not burn the account's (or its address's) attempts. Each counter
// remembers keyed hashes of its last few wrong secrets; an attempt whose
// hash is among them is answered as wrong without claiming a slot or
// judging the secret (no bcrypt either).
const (
	// RecentWrongSecrets is how many wrong secrets a counter remembers.
	RecentWrongSecrets = 5
	// RepeatMemory is how long a wrong secret is remembered.
	RepeatMemory = 24 * time.Hour
)

// Fingerprint is the keyed hash (HMAC-SHA256 under a server key, so a
// leaked database cannot be searched for guessed secrets) that stands for
// secret judged on counter against state: everything the verdict depends
// on besides the secret (the account's password hash, what the secret is
// checked as, a code's time step). The same secret against the same state
// is the same guess; once the state changes (a new password, the next time
// step) it is a new one.
func (l *Limiter) Fingerprint(counter Counter, state, secret string) []byte {
	m := hmac.New(sha256.New, l.secretKey)
	for _, part := range []string{counter.key, state, secret} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return m.Sum(nil)
}

// Repeated reports whether fingerprint is one of counter's recent wrong
// secrets.
func (l *Limiter) Repeated(ctx context.Context, counter Counter, fingerprint []byte) (bool, error) {
	seen, err := l.counters.WrongSecretSeen(ctx, counter.key, fingerprint, l.now().Add(-RepeatMemory))
	if err != nil {
		return false, fmt.Errorf("bruteforce: recent wrong secrets: %w", err)
	}
	return seen, nil
}

// Wrong remembers fingerprint as one of counter's recent wrong secrets
// (after the secret was judged wrong and its slot stayed counted).
func (l *Limiter) Wrong(ctx context.Context, counter Counter, fingerprint []byte) error {
	return l.WrongIn(ctx, l.counters, counter, fingerprint)
}

// WrongIn is Wrong writing through w.
func (l *Limiter) WrongIn(ctx context.Context, w Writer, counter Counter, fingerprint []byte) error {
	now := l.now()
	err := w.RememberWrongSecret(ctx, counter.key, fingerprint, now, RecentWrongSecrets, now.Add(-RepeatMemory))
	if err != nil {
		return fmt.Errorf("bruteforce: remember wrong secret: %w", err)
	}
	return nil
}

// deriveKey derives a key for one purpose from key.
func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
