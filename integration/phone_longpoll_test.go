package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// phoneStillWaiting fails if the long-poll ch has already returned after
// a moment: it must be waiting (on the server) when the test goes on.
func phoneStillWaiting(t *testing.T, ch <-chan waitResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s: long-poll returned %q after %v, before anything happened", what, r.status, r.took)
	case <-time.After(300 * time.Millisecond):
	}
}

// phoneWaitResult takes the long-poll's result, failing after limit.
func phoneWaitResult(t *testing.T, ch <-chan waitResult, limit time.Duration, what string) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(limit):
		t.Fatalf("%s: long-poll still waiting after %v", what, limit)
	}
	return waitResult{}
}

// TestPhoneLongPoll: the approval page's long-poll returns as soon as the
// phone answers, and a config reload ends it promptly without losing the
// sign-in.
func TestPhoneLongPoll(t *testing.T) {
	up := newUpstream(t)
	e := startPhoneEnv(t, up, phoneOptions{})
	lou := e.newPairedUser("lou")

	t.Run("returns when the phone approves", func(t *testing.T) {
		a := lou.startPushSignIn("/long-poll")
		ch := phoneWaitAsync(t, a.b, a.id)
		phoneStillWaiting(t, ch, "before the answer")
		answered := time.Now()
		wantPhoneStatus(t, "approve", lou.phone.answer(a.id, "approve", a.num()), http.StatusOK)
		r := phoneWaitResult(t, ch, 30*time.Second, "after the approval")
		delay := r.ended.Sub(answered)
		t.Logf("long-poll returned %q %v after the phone's answer was sent (%v waiting in all)", r.status, delay.Round(time.Millisecond), r.took.Round(time.Millisecond))
		if r.status != "approved" || delay > time.Second {
			t.Fatalf("long-poll: %q %v after the answer, want approved within 1 s", r.status, delay)
		}
		a.completes(t, up, "lou", "/long-poll")
	})

	t.Run("replaced by another sign-in", func(t *testing.T) {
		// At most one pending request per user: a second browser's
		// sign-in cancels the first's, whose page must learn it at once.
		a := lou.startPushSignIn("/first")
		ch := phoneWaitAsync(t, a.b, a.id)
		phoneStillWaiting(t, ch, "before the other sign-in")
		replaced := time.Now()
		b := lou.startPushSignIn("/second")
		r := phoneWaitResult(t, ch, 30*time.Second, "after the other sign-in")
		delay := r.ended.Sub(replaced)
		t.Logf("long-poll of a replaced request returned %q %v after the other sign-in began", r.status, delay.Round(time.Millisecond))
		if r.status != "cancelled" || delay > time.Second {
			t.Fatalf("long-poll of a replaced request: %q after %v, want cancelled within 1 s", r.status, delay)
		}
		if p := a.b.get("/.mfa/push"); p.status != http.StatusOK || !strings.Contains(p.body, "replaced by a newer one") {
			t.Fatalf("page of the replaced request: %d\n%s", p.status, p.body)
		}
		wantPhoneStatus(t, "approve the replaced request", lou.phone.answer(a.id, "approve", a.num()), http.StatusConflict)
		notSignedIn(t, a.b, "replaced request")
		wantPhoneStatus(t, "approve the new request", lou.phone.answer(b.id, "approve", b.num()), http.StatusOK)
		b.completes(t, up, "lou", "/second")
	})

	t.Run("reload during a wait", func(t *testing.T) {
		a := lou.startPushSignIn("/after-reload")
		ch := phoneWaitAsync(t, a.b, a.id)
		phoneStillWaiting(t, ch, "before the reload")
		reloaded := time.Now()
		e.phoneForceReload()
		r := phoneWaitResult(t, ch, 30*time.Second, "after the reload")
		delay := r.ended.Sub(reloaded)
		t.Logf("reload: long-poll returned %q %v after the reload began (reload command took %v)", r.status, delay.Round(time.Millisecond), time.Since(reloaded).Round(time.Millisecond))
		if r.status != "pending" || delay > 5*time.Second {
			t.Fatalf("long-poll across a reload: %q after %v, want pending within 5 s (not the 25 s long-poll)", r.status, delay)
		}
		// The page polls again, on the new config, and the sign-in
		// completes.
		ch = phoneWaitAsync(t, a.b, a.id)
		phoneStillWaiting(t, ch, "after the reload")
		answered := time.Now()
		wantPhoneStatus(t, "approve after the reload", lou.phone.answer(a.id, "approve", a.num()), http.StatusOK)
		r = phoneWaitResult(t, ch, 30*time.Second, "approval after the reload")
		t.Logf("after the reload: long-poll returned %q %v after the answer", r.status, r.ended.Sub(answered).Round(time.Millisecond))
		if r.status != "approved" || r.ended.Sub(answered) > time.Second {
			t.Fatalf("long-poll after the reload: %q %v after the answer", r.status, r.ended.Sub(answered))
		}
		a.completes(t, up, "lou", "/after-reload")
	})
}
