package bruteforce

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

func newLimiter(t *testing.T, cfg Config) (*Limiter, store.Store) {
	t.Helper()
	st := teststore.Open(t)
	return New(st, cfg, []byte("test name key")), st
}

// TestConcurrentClaimsStopAtTheLimit: 100 attempts at once on one account
// get exactly AccountLimit claims; the others are refused without a slot.
func TestConcurrentClaimsStopAtTheLimit(t *testing.T) {
	l, st := newLimiter(t, Config{})
	var mu sync.Mutex
	claimed, refused := 0, 0
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			c, why, err := l.Claim(t.Context(), "alice", "192.0.2."+string(rune('0'+i%10)))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c != nil {
				claimed++
			} else if why == "account locked" {
				refused++
			}
		})
	}
	wg.Wait()
	if claimed != DefaultAccountLimit || refused != 100-DefaultAccountLimit {
		t.Fatalf("%d claimed, %d refused; want %d and %d", claimed, refused, DefaultAccountLimit, 100-DefaultAccountLimit)
	}
	f, err := st.FailuresFor(t.Context(), accountKey("alice"))
	if err != nil || f.Count != DefaultAccountLimit || f.LockedUntil.IsZero() {
		t.Fatalf("account counter = %+v, %v; want %d and locked", f, err, DefaultAccountLimit)
	}
}

// TestReleasedClaimsNeverLock: right secrets give their slots back, so any
// number of them never locks the account or the IP.
func TestReleasedClaimsNeverLock(t *testing.T) {
	l, st := newLimiter(t, Config{AccountLimit: 3, IPLimit: 3})
	for range 50 {
		c, why, err := l.Claim(t.Context(), "alice", "192.0.2.1")
		if err != nil || c == nil {
			t.Fatalf("claim refused (%q) or failed: %v", why, err)
		}
		if err := l.Release(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{accountKey("alice"), ipKey("192.0.2.1")} {
		if f, err := st.FailuresFor(t.Context(), k); err != nil || f.Count != 0 || !f.LockedUntil.IsZero() {
			t.Fatalf("%s = %+v, %v; want empty", k, f, err)
		}
	}
}

// TestIPRefusalGivesTheAccountSlotBack: an attempt refused by its IP's
// counter must not use up the account's slots.
func TestIPRefusalGivesTheAccountSlotBack(t *testing.T) {
	l, st := newLimiter(t, Config{AccountLimit: 5, IPLimit: 2})
	for range 2 {
		if c, _, _ := l.Claim(t.Context(), "mallory", "192.0.2.1"); c == nil {
			t.Fatal("first claims refused")
		}
	}
	for range 10 {
		if c, why, err := l.Claim(t.Context(), "alice", "192.0.2.1"); c != nil || why != "ip locked" || err != nil {
			t.Fatalf("claim from a locked IP: %v %q %v", c, why, err)
		}
	}
	if f, _ := st.FailuresFor(t.Context(), accountKey("alice")); f.Count != 0 {
		t.Fatalf("alice's counter = %+v after refusals by IP, want 0", f)
	}
}

// TestSubjectsNeverShareABucket: impossible names get a counter of their
// own, distinct from each other and from every possible username, and
// logs see only a keyed hash.
func TestSubjectsNeverShareABucket(t *testing.T) {
	l, _ := newLimiter(t, Config{})
	other := New(nil, Config{}, []byte("another key"))
	a, b := l.SubjectFor("Bad User 1!", ""), l.SubjectFor("Bad User 2!", "")
	if a.Counter == b.Counter || a.Counter == "invalid" || !strings.HasPrefix(a.Counter, "unknown:") {
		t.Fatalf("counters %q and %q", a.Counter, b.Counter)
	}
	if again := l.SubjectFor("Bad User 1!", ""); again != a {
		t.Fatalf("same typed name, different subject: %+v %+v", a, again)
	}
	if other.SubjectFor("Bad User 1!", "") == a {
		t.Fatal("the hash does not depend on the key")
	}
	valid := l.SubjectFor("Alice", "alice")
	if valid.Counter != "alice" || strings.Contains(valid.Unknown, "alice") || !strings.HasPrefix(valid.Unknown, "unknown:") {
		t.Fatalf("valid name: %+v", valid)
	}
	if len(a.Unknown) != len("unknown:")+12 {
		t.Fatalf("label %q, want 12 hex digits", a.Unknown)
	}
}

// TestExpiredLockStartsAfreshWindow: after the lock, the account gets a
// full window again (and not one more guess per expired lock).
func TestExpiredLockStartsAfreshWindow(t *testing.T) {
	l, _ := newLimiter(t, Config{AccountLimit: 2, Window: time.Hour, Lockout: time.Minute})
	clock := time.Now()
	l.now = func() time.Time { return clock }
	for range 2 {
		if _, _, err := l.Claim(t.Context(), "alice", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	if c, _, _ := l.Claim(t.Context(), "alice", "192.0.2.1"); c != nil {
		t.Fatal("claim while locked")
	}
	clock = clock.Add(time.Minute)
	for i := range 2 {
		if c, why, _ := l.Claim(t.Context(), "alice", "192.0.2.1"); c == nil {
			t.Fatalf("claim %d after the lock refused: %s", i+1, why)
		}
	}
	if c, _, _ := l.Claim(t.Context(), "alice", "192.0.2.1"); c != nil {
		t.Fatal("third claim after the lock accepted (limit 2)")
	}
}

// TestAddressOnlyClaims: a claim naming no account takes a slot in the
// IP's counter alone, locks at the IP limit, and its release gives that
// slot back without touching any account counter.
func TestAddressOnlyClaims(t *testing.T) {
	l, st := newLimiter(t, Config{IPLimit: 3})
	for range 3 {
		c, why, err := l.ClaimAddressIn(t.Context(), st, "192.0.2.9")
		if err != nil || c == nil {
			t.Fatalf("claim refused (%q) or failed: %v", why, err)
		}
	}
	if c, why, err := l.ClaimAddressIn(t.Context(), st, "192.0.2.9"); err != nil || c != nil || why != "ip locked" {
		t.Fatalf("fourth claim = %v, %q, %v; want refused as ip locked", c, why, err)
	}
	f, err := st.FailuresFor(t.Context(), ipKey("192.0.2.9"))
	if err != nil || f.Count != 3 {
		t.Fatalf("ip counter = %+v, %v; want 3", f, err)
	}
	l2, st2 := newLimiter(t, Config{})
	c, _, err := l2.ClaimAddressIn(t.Context(), st2, "192.0.2.10")
	if err != nil || c == nil {
		t.Fatal(err)
	}
	if err := l2.ReleaseIn(t.Context(), st2, c); err != nil {
		t.Fatal(err)
	}
	if f, err := st2.FailuresFor(t.Context(), ipKey("192.0.2.10")); err != nil || f.Count != 0 {
		t.Fatalf("ip counter after release = %+v, %v; want 0", f, err)
	}
}

// TestConsecutiveLimitNeverAboveNIST: the cap on consecutive failures
// defaults to NIST SP 800-63B-4's 100 and is never above it, whatever the
// configuration says; lower values stand. The clock is the configured one.
func TestConsecutiveLimitNeverAboveNIST(t *testing.T) {
	for set, want := range map[int]int{0: 100, -3: 100, 101: 100, 5000: 100, 100: 100, 50: 50, 10: 10} {
		l, _ := newLimiter(t, Config{ConsecutiveLimit: set})
		if got := l.ConsecutiveLimit(); got != want {
			t.Errorf("ConsecutiveLimit %d: %d, want %d", set, got, want)
		}
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if l, _ := newLimiter(t, Config{Now: func() time.Time { return at }}); !l.Now().Equal(at) {
		t.Errorf("Now() = %v, want the configured clock's %v", l.Now(), at)
	}
}
