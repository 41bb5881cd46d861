package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/testfixture/pushservice"
)

// phoneCrossNodeBound is how soon a change on one node must show on the
// other: PostgreSQL LISTEN/NOTIFY, not the 5 s cache bound.
const phoneCrossNodeBound = time.Second

// TestPhoneTwoNodesPostgres: two Caddy processes on one PostgreSQL
// database. A browser long-polling on node A learns of the phone's answer
// sent to node B at once (LISTEN/NOTIFY), and the other way round; a
// logout on A is refused on B within a second.
func TestPhoneTwoNodesPostgres(t *testing.T) {
	dsn := freshPostgresDB(t)
	up := newUpstream(t)
	ps := pushservice.New(t)
	storage := fmt.Sprintf("postgres %q", dsn)
	nodeA := newPhoneEnv(t, up, phoneOptions{storage: storage, push: ps})
	nodeB := newPhoneEnv(t, up, phoneOptions{storage: storage, push: ps})
	launchGateway(nodeA.g)
	launchGateway(nodeB.g)
	nodeA.g.waitReady()
	nodeB.g.waitReady()

	// Both nodes booted on the empty database at once: one VAPID key.
	keyA := nodeA.newPhone().post("config", struct{}{}).str("vapid_public_key")
	keyB := nodeB.newPhone().post("config", struct{}{}).str("vapid_public_key")
	if keyA == "" || keyA != keyB {
		t.Fatalf("VAPID keys: node A %q, node B %q", keyA, keyB)
	}
	ps.ExpectVAPIDKey(keyA)

	nia := nodeA.newPhoneUser("nia")
	sub := ps.NewSubscription()
	onA := nia.pairPhone(&sub)
	onB := onA.on(nodeB)
	if s := onB.status(); s.status != http.StatusOK || s.body["active"] != true {
		t.Fatalf("phone paired on A, status on B: %s", s.raw)
	}
	// A nonce issued by one node is good once, on any node.
	n := onA.nonce()
	wantPhoneStatus(t, "nonce from A used on B", onB.callNonce("status", struct{}{}, n), http.StatusOK)
	wantPhoneStatus(t, "the same nonce again on A", onA.callNonce("status", struct{}{}, n), http.StatusUnauthorized)

	t.Run("wait on A, answer on B", func(t *testing.T) {
		a := nia.startPushSignIn("/two-nodes")
		if m := phonePushMessage(t, nodeA, sub, 1); m["request"] != a.id {
			t.Fatalf("push message %v, want request %s", m, a.id)
		}
		ch := phoneWaitAsync(t, a.b, a.id)
		phoneStillWaiting(t, ch, "before the answer")
		answered := time.Now()
		wantPhoneStatus(t, "approve on B", onB.answer(a.id, "approve", a.num()), http.StatusOK)
		r := phoneWaitResult(t, ch, 30*time.Second, "after the answer on B")
		delay := r.ended.Sub(answered)
		t.Logf("long-poll on A returned %q %v after the phone answered on B", r.status, delay.Round(time.Millisecond))
		if r.status != "approved" || delay > phoneCrossNodeBound {
			t.Fatalf("long-poll on A: %q %v after the answer on B, want approved within %v", r.status, delay, phoneCrossNodeBound)
		}
		a.completes(t, up, "nia", "/two-nodes")
		wantProxiedAs(t, up, a.b.onNode(nodeB.g).get("/on-b"), "nia", "signed in on A, request on B")

		// Logout on A: the old cookie is refused on B within a second.
		old := a.b.client.Jar.Cookies(mustURL(nodeA.g.url("/")))
		replayOnB := func() page {
			b := newBrowser(t, nodeA.g).onNode(nodeB.g)
			b.client.Jar.SetCookies(mustURL(nodeB.g.url("/")), old)
			return b.get("/after-logout")
		}
		wantProxiedAs(t, up, replayOnB(), "nia", "old cookie on B before the logout")
		loggedOut := time.Now()
		if p := a.b.post("/.mfa/logout", nil); p.status != http.StatusOK || !strings.Contains(p.body, "You have signed out") {
			t.Fatalf("logout on A: %d\n%s", p.status, p.body)
		}
		delay = phoneDeadline(t, "old cookie refused on B after the logout on A", phoneCrossNodeBound, func() bool {
			return replayOnB().status == http.StatusFound
		})
		t.Logf("logout on A: old cookie refused on B %v after the logout returned (%v after it was sent)",
			delay.Round(time.Millisecond), time.Since(loggedOut).Round(time.Millisecond))
	})

	t.Run("wait on B, answer on A", func(t *testing.T) {
		b := newBrowser(t, nodeB.g)
		if p := b.login("nia", nia.pw, "/via-b"); p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
			t.Fatalf("login on B: %d %q", p.status, p.location)
		}
		a := approvalOn(t, b.get("/.mfa/push"))
		a.b = b
		ch := phoneWaitAsync(t, b, a.id)
		phoneStillWaiting(t, ch, "before the answer")
		answered := time.Now()
		wantPhoneStatus(t, "approve on A", onA.answer(a.id, "approve", a.num()), http.StatusOK)
		r := phoneWaitResult(t, ch, 30*time.Second, "after the answer on A")
		delay := r.ended.Sub(answered)
		t.Logf("long-poll on B returned %q %v after the phone answered on A", r.status, delay.Round(time.Millisecond))
		if r.status != "approved" || delay > phoneCrossNodeBound {
			t.Fatalf("long-poll on B: %q %v after the answer on A, want approved within %v", r.status, delay, phoneCrossNodeBound)
		}
		a.completes(t, up, "nia", "/via-b")
	})

	t.Run("request on B replaces the one waiting on A", func(t *testing.T) {
		a := nia.startPushSignIn("/first") // on A
		ch := phoneWaitAsync(t, a.b, a.id)
		phoneStillWaiting(t, ch, "before the sign-in on B")
		b := newBrowser(t, nodeB.g)
		replaced := time.Now()
		if p := b.login("nia", nia.pw, "/second"); p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
			t.Fatalf("login on B: %d %q", p.status, p.location)
		}
		second := approvalOn(t, b.get("/.mfa/push"))
		second.b = b
		r := phoneWaitResult(t, ch, 30*time.Second, "after the request on B")
		delay := r.ended.Sub(replaced)
		t.Logf("long-poll on A of a request replaced on B returned %q %v after the sign-in on B began", r.status, delay.Round(time.Millisecond))
		if r.status != "cancelled" || delay > phoneCrossNodeBound+500*time.Millisecond {
			t.Fatalf("long-poll on A: %q %v after the request on B, want cancelled within about a second", r.status, delay)
		}
		wantPhoneStatus(t, "approve the new request on B", onB.answer(second.id, "approve", second.num()), http.StatusOK)
		second.completes(t, up, "nia", "/second")
		notSignedIn(t, a.b, "browser of the replaced request")
	})
}
