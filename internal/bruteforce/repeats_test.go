package bruteforce

import (
	"bytes"
	"testing"
	"time"
)

// TestBasicAuthOnlyCounterIsItsOwn: claims on an account's
// basic-auth-only counter lock that counter alone, never the account's.
func TestBasicAuthOnlyCounterIsItsOwn(t *testing.T) {
	l, st := newLimiter(t, Config{AccountLimit: 3, IPLimit: 100})
	for i := range 3 {
		if c, why, err := l.ClaimOn(t.Context(), BasicAuthOnly("alice"), "192.0.2.1"); c == nil || err != nil {
			t.Fatalf("claim %d refused (%q) or failed: %v", i, why, err)
		}
	}
	if c, why, _ := l.ClaimOn(t.Context(), BasicAuthOnly("alice"), "192.0.2.1"); c != nil || why != "account locked" {
		t.Fatalf("claim past the basic-auth-only limit: %v %q", c, why)
	}
	if c, why, err := l.Claim(t.Context(), "alice", "192.0.2.1"); c == nil || err != nil {
		t.Fatalf("the account's counter refused (%q) or failed: %v", why, err)
	}
	if f, _ := st.FailuresFor(t.Context(), AccountKey("alice")); f.Count != 1 {
		t.Fatalf("account counter = %+v, want the one claim made on it", f)
	}
	if f, _ := st.FailuresFor(t.Context(), BasicAuthOnlyKey("alice")); f.Count != 3 || f.LockedUntil.IsZero() {
		t.Fatalf("basic-auth-only counter = %+v, want 3 and locked", f)
	}
}

// TestRepeatsAreRecognisedByKeyedHash: a wrong secret is recognised again
// on its own counter, against the same state, for RepeatMemory; the hash
// depends on the server key, the counter, the state and the secret.
func TestRepeatsAreRecognisedByKeyedHash(t *testing.T) {
	l, _ := newLimiter(t, Config{})
	clock := time.Now()
	l.now = func() time.Time { return clock }
	acct := Account("alice")
	fp := l.Fingerprint(acct, "state", "summer2024")
	if seen, err := l.Repeated(t.Context(), acct, fp); seen || err != nil {
		t.Fatalf("unknown secret seen: %v %v", seen, err)
	}
	if err := l.Wrong(t.Context(), acct, fp); err != nil {
		t.Fatal(err)
	}
	if seen, err := l.Repeated(t.Context(), acct, fp); !seen || err != nil {
		t.Fatalf("remembered wrong secret not seen: %v %v", seen, err)
	}
	for what, other := range map[string][]byte{
		"another counter": l.Fingerprint(BasicAuthOnly("alice"), "state", "summer2024"),
		"another state":   l.Fingerprint(acct, "new password hash", "summer2024"),
		"another secret":  l.Fingerprint(acct, "state", "summer2025"),
		"another key":     New(nil, Config{}, []byte("another key")).Fingerprint(acct, "state", "summer2024"),
		"shifted parts":   l.Fingerprint(acct, "statesummer", "2024"),
	} {
		if bytes.Equal(other, fp) {
			t.Errorf("%s gives the same hash", what)
		}
	}
	if bytes.Contains(fp, []byte("summer2024")) {
		t.Fatal("the hash holds the secret")
	}
	clock = clock.Add(RepeatMemory + time.Second)
	if seen, _ := l.Repeated(t.Context(), acct, fp); seen {
		t.Fatal("a wrong secret is remembered past RepeatMemory")
	}
}
