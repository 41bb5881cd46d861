package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/store"
)

// testWrongSecrets: a remembered digest is seen under its own key only and
// only since when it was remembered; a key keeps its keep most recent
// digests; remembering forgets every key's digests older than before.
func testWrongSecrets(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := ms(base())
	const keep = 3
	d := func(i int) []byte { return []byte{byte(i), 0xa5, 0x5a} }
	seen := func(key string, i int, since time.Time) bool {
		t.Helper()
		ok, err := s.WrongSecretSeen(ctx, key, d(i), since)
		noErr(t, "WrongSecretSeen", err)
		return ok
	}
	remember := func(key string, i int, at time.Time) {
		t.Helper()
		noErr(t, "RememberWrongSecret", s.RememberWrongSecret(ctx, key, d(i), at, keep, t0.Add(-time.Hour)))
	}
	if seen("acct:a", 1, t0.Add(-time.Hour)) {
		t.Fatal("a digest never remembered is seen")
	}
	remember("acct:a", 1, t0)
	if !seen("acct:a", 1, t0) || !seen("acct:a", 1, t0.Add(-time.Minute)) {
		t.Error("a remembered digest is not seen")
	}
	if seen("acct:a", 1, t0.Add(time.Millisecond)) {
		t.Error("a digest remembered before since is seen")
	}
	if seen("basic:a", 1, t0.Add(-time.Hour)) || seen("acct:a", 2, t0.Add(-time.Hour)) {
		t.Error("a digest is seen under another key, or another digest under its key")
	}

	// Remembered again: its time moves, and it is stored once.
	remember("acct:a", 1, t0.Add(time.Second))
	if !seen("acct:a", 1, t0.Add(time.Second)) {
		t.Error("remembering again did not move the digest's time")
	}

	// The keep most recent stay; the oldest goes; other keys are untouched.
	remember("acct:b", 9, t0)
	for i := 2; i <= keep+1; i++ {
		remember("acct:a", i, t0.Add(time.Duration(i)*time.Second))
	}
	if seen("acct:a", 1, t0.Add(-time.Hour)) {
		t.Errorf("the oldest of %d digests is still remembered, keep %d", keep+1, keep)
	}
	for i := 2; i <= keep+1; i++ {
		if !seen("acct:a", i, t0.Add(-time.Hour)) {
			t.Errorf("digest %d of the %d most recent was forgotten", i, keep)
		}
	}
	if !seen("acct:b", 9, t0.Add(-time.Hour)) {
		t.Error("trimming one key forgot another key's digest")
	}

	// Digests older than before go, whatever their key.
	later := t0.Add(2 * time.Hour)
	noErr(t, "RememberWrongSecret(later)", s.RememberWrongSecret(ctx, "acct:c", d(1), later, keep, later.Add(-time.Hour)))
	if seen("acct:b", 9, t0.Add(-time.Hour)) || seen("acct:a", keep+1, t0.Add(-time.Hour)) {
		t.Error("digests older than before were kept")
	}
	if !seen("acct:c", 1, later) {
		t.Error("the digest just remembered was forgotten")
	}
}

// testWrongSecretsConcurrent: remembering from many goroutines at once,
// on shared keys and while old digests are forgotten, fails none of them
// and leaves at most keep digests per key.
func testWrongSecretsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := ms(base())
	const keep, workers = 3, 16
	for i := range 40 { // old digests, forgotten by the first remembering
		noErr(t, "RememberWrongSecret(old)", s.RememberWrongSecret(ctx, fmt.Sprintf("old:%d", i), []byte{byte(i)}, t0, 100, t0.Add(-time.Hour)))
	}
	errs := make(chan error, workers*5)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range 5 {
				at := t0.Add(time.Hour + time.Duration(w*5+j)*time.Millisecond)
				errs <- s.RememberWrongSecret(ctx, fmt.Sprintf("k:%d", w%3), []byte{byte(w), byte(j)}, at, keep, t0.Add(time.Minute))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "RememberWrongSecret(concurrent)", err)
	}
	for i := range 40 {
		if ok, _ := s.WrongSecretSeen(ctx, fmt.Sprintf("old:%d", i), []byte{byte(i)}, t0.Add(-time.Hour)); ok {
			t.Fatalf("old digest %d kept", i)
		}
	}
	// Concurrent trims may each keep their own view of the most recent
	// digests, but the last remembering of a key trims it to keep.
	for k := range 3 {
		noErr(t, "RememberWrongSecret(last)", s.RememberWrongSecret(ctx, fmt.Sprintf("k:%d", k), []byte{0xff}, t0.Add(2*time.Hour), keep, t0.Add(time.Minute)))
		n := 0
		for w := range workers {
			for j := range 5 {
				if ok, _ := s.WrongSecretSeen(ctx, fmt.Sprintf("k:%d", k), []byte{byte(w), byte(j)}, t0); ok {
					n++
				}
			}
		}
		if n != keep-1 {
			t.Errorf("key k:%d keeps %d older digests besides the last, want %d", k, n, keep-1)
		}
	}
}
