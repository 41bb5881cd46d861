package integration

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/caddyproc"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// Sentences of the sign-in pages.
const (
	phoneMsgWrongNumber = "The number entered on your phone did not match. The request was cancelled."
	phoneMsgDenied      = "The sign-in request was denied on your phone."
	phoneMsgExpired     = "hear from your phone in time. The request has expired."
	phoneMsgTooMany     = "Too many sign-in requests: use a verification code instead"
	phoneMsgBlocked     = "Sign-in to this account is blocked because a sign-in request was reported as suspicious."
	phoneMsgIncorrect   = "Your account or password is incorrect."
)

// phoneStore opens the gateway's SQLite store (for the audit log and the
// failure counters) until the test ends.
func phoneStore(t *testing.T, e *phoneEnv) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(e.g.dir, "mfagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// phoneAuditEvents returns user's audit events of kind event.
func phoneAuditEvents(t *testing.T, st *sqlite.Store, user, event string) []model.AuditEvent {
	t.Helper()
	all, err := st.AuditEvents(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.AuditEvent
	for _, ev := range all {
		if ev.Username == user && ev.Event == event {
			out = append(out, ev)
		}
	}
	return out
}

// phoneFailures reads a failure counter ("acct:NAME", "ip:ADDR").
func phoneFailures(t *testing.T, st *sqlite.Store, key string) int {
	t.Helper()
	f, err := st.FailuresFor(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return f.Count
}

// loginWithAgent posts the login form with a User-Agent of its own.
func loginWithAgent(b *browser, user, pw, rd, agent string) page {
	b.t.Helper()
	form := url.Values{"username": {user}, "password": {pw}, "rd": {rd}}
	req, err := http.NewRequest(http.MethodPost, b.g.url("/.mfa/login"), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	caddyproc.SameOrigin(req, b.g.url(""))
	req.Header.Set("User-Agent", agent)
	return b.do(req)
}

// TestPhoneSignIn: sign-in with approval on a paired phone against a real
// Caddy: number matching, wrong numbers, deny, report and unblock, signed
// calls (replayed nonces, other users' devices), sessions that must not
// share an approval, removed devices and the request limit.
func TestPhoneSignIn(t *testing.T) {
	up := newUpstream(t)
	e := startPhoneEnv(t, up, phoneOptions{})
	st := phoneStore(t, e)
	// A Host that is an IP address is shown by the listener's port.
	site := "this site (port " + strconv.Itoa(e.g.httpPort) + ")"
	ann := e.newPairedUser("ann")
	fay := e.newPairedUser("fay")

	t.Run("approve with the right number", func(t *testing.T) {
		a := ann.startPushSignIn("/docs/page?x=1")
		req := ann.phone.pending()
		if req == nil || req["id"] != a.id {
			t.Fatalf("phone's pending request %v, want id %s", req, a.id)
		}
		if _, ok := req["number"]; ok {
			t.Fatalf("the phone sees the number: %v", req)
		}
		for k, v := range map[string]string{"issuer": "Test Corp", "site": site, "ip": "127.0.0.1"} {
			if req[k] != v {
				t.Errorf("pending %s = %v, want %q", k, req[k], v)
			}
		}
		// The page again: the same request, no new one.
		if again := approvalOn(t, a.b.get("/.mfa/push")); again.id != a.id || again.number != a.number {
			t.Fatalf("reloaded approval page shows request %s/%d, want %s/%d", again.id, again.number, a.id, a.number)
		}
		notSignedIn(t, a.b, "before the answer")
		r := ann.phone.answer(a.id, "approve", a.num())
		wantPhoneStatus(t, "approve", r, http.StatusOK)
		if r.str("status") != "approved" {
			t.Fatalf("approve: %s", r.raw)
		}
		if s, _ := a.wait(); s != "approved" {
			t.Fatalf("wait after approval: %q", s)
		}
		a.completes(t, up, "ann", "/docs/page?x=1")
		wantPhoneStatus(t, "answer a used request", ann.phone.answer(a.id, "approve", a.num()), http.StatusConflict)
		if len(phoneAuditEvents(t, st, "ann", audit.PushApproved)) != 1 {
			t.Error("approval not audited")
		}
	})

	t.Run("replayed nonce", func(t *testing.T) {
		n := ann.phone.nonce()
		body := []byte(`{}`)
		req := ann.phone.signedRequest("pending", body, n)
		wantPhoneStatus(t, "first use", ann.phone.send(req, body), http.StatusOK)
		r := ann.phone.send(req, body)
		wantPhoneStatus(t, "replayed call", r, http.StatusUnauthorized)
		if r.body["unpaired"] == true {
			t.Fatalf("a replay must not tell the phone to forget its key: %s", r.raw)
		}
		// The same nonce in a freshly signed call is refused too.
		wantPhoneStatus(t, "nonce reused", ann.phone.callNonce("status", struct{}{}, n), http.StatusUnauthorized)
		// A nonce issued to another device is refused.
		wantPhoneStatus(t, "another device's nonce", ann.phone.callNonce("status", struct{}{}, fay.phone.nonce()), http.StatusUnauthorized)
	})

	t.Run("approval of session A never signs in session B", func(t *testing.T) {
		a := ann.startPushSignIn("/from-a")
		// Approve A, and replay the very same signed answer.
		body := phoneJSON(t, map[string]string{"request_id": a.id, "decision": "approve", "number": a.num()})
		areq := ann.phone.signedRequest("answer", body, ann.phone.nonce())
		wantPhoneStatus(t, "approve A", ann.phone.send(areq, body), http.StatusOK)
		wantPhoneStatus(t, "replayed answer", ann.phone.send(areq, body), http.StatusUnauthorized)

		// B signs in with the same password meanwhile: its own request.
		b := ann.startPushSignIn("/from-b")
		if b.id == a.id {
			t.Fatal("B was given A's request")
		}
		if s, _ := phoneWait(b.b, a.id); s != "replaced" {
			t.Fatalf("B waiting on A's request id: %q, want replaced", s)
		}
		if again := approvalOn(t, b.b.get("/.mfa/push")); again.id != b.id {
			t.Fatalf("B's page shows request %s, want its own %s", again.id, b.id)
		}
		notSignedIn(t, b.b, "B after A's approval")

		// Another user's phone cannot answer B's request, by its own
		// device or by claiming ann's.
		wantPhoneStatus(t, "fay answers ann's request", fay.phone.answer(b.id, "approve", b.num()), http.StatusConflict)
		wantPhoneStatus(t, "fay denies ann's request", fay.phone.answer(b.id, "deny", ""), http.StatusConflict)
		if req := fay.phone.pending(); req != nil {
			t.Fatalf("fay's phone sees %v", req)
		}
		forged := phoneJSON(t, map[string]string{"request_id": b.id, "decision": "approve", "number": b.num()})
		freq, _ := http.NewRequest(http.MethodPost, fay.phone.url("answer"), nil)
		freq.Header.Set("Content-Type", "application/json")
		h, err := fay.phone.Sign(devicekey.Request{Method: "POST", Host: freq.Host, Path: freq.URL.RequestURI(),
			DeviceID: ann.phone.DeviceID(), Nonce: ann.phone.nonce(), Body: forged})
		if err != nil {
			t.Fatal(err)
		}
		freq.Header.Set("Authorization", h)
		wantPhoneStatus(t, "fay's key as ann's device", fay.phone.send(freq, forged), http.StatusUnauthorized)
		if req := ann.phone.pending(); req == nil || req["id"] != b.id {
			t.Fatalf("B's request after the refused answers: %v", req)
		}
		notSignedIn(t, b.b, "B after other users' answers")

		// A completes with its approval; B still is not signed in.
		a.completes(t, up, "ann", "/from-a")
		notSignedIn(t, b.b, "B after A completed")
		if again := approvalOn(t, b.b.get("/.mfa/push")); again.id != b.id {
			t.Fatalf("B's page after A completed: request %s", again.id)
		}
		// B's own approval signs B in.
		wantPhoneStatus(t, "approve B", ann.phone.answer(b.id, "approve", b.num()), http.StatusOK)
		b.completes(t, up, "ann", "/from-b")
	})

	t.Run("wrong number and deny", func(t *testing.T) {
		ben := e.newPairedUser("ben")
		acct, ip := phoneFailures(t, st, bruteforce.AccountKey("ben")), phoneFailures(t, st, "ip:127.0.0.1")
		phoneIP := phoneFailures(t, st, "ip:"+phoneLoopback())
		a := ben.startPushSignIn("/")
		r := ben.phone.answer(a.id, "approve", a.wrongNum())
		wantPhoneStatus(t, "wrong number", r, http.StatusOK)
		if r.str("status") != "wrong_number" {
			t.Fatalf("wrong number: %s", r.raw)
		}
		if s, _ := a.wait(); s != "wrong_number" {
			t.Fatalf("wait after a wrong number: %q", s)
		}
		p := a.b.get("/.mfa/push")
		if p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgWrongNumber) || !strings.Contains(p.body, `action="/.mfa/push/new"`) {
			t.Fatalf("page after a wrong number: %d\n%s", p.status, p.body)
		}
		notSignedIn(t, a.b, "after a wrong number")
		// The request is void: the right number no longer counts.
		wantPhoneStatus(t, "right number after a wrong one", ben.phone.answer(a.id, "approve", a.num()), http.StatusConflict)
		notSignedIn(t, a.b, "after the late right number")
		if got := phoneFailures(t, st, bruteforce.AccountKey("ben")); got != acct+1 {
			t.Errorf("account failures %d -> %d, want one more", acct, got)
		}
		if got := phoneFailures(t, st, "ip:127.0.0.1"); got != ip+1 {
			t.Errorf("sign-in address failures %d -> %d, want one more", ip, got)
		}
		if phoneLoopback() != "127.0.0.1" {
			// The phone called from another address: not counted.
			if got := phoneFailures(t, st, "ip:"+phoneLoopback()); got != phoneIP {
				t.Errorf("the phone's address %s was counted: %d -> %d", phoneLoopback(), phoneIP, got)
			}
		} else {
			t.Log("no ::1 here: the phone and the browser share 127.0.0.1")
		}
		if evs := phoneAuditEvents(t, st, "ben", audit.PushWrongNumber); len(evs) != 1 || evs[0].RemoteIP != "127.0.0.1" {
			t.Errorf("wrong number audit events: %+v", evs)
		}

		// A new request is needed; deny it.
		if p := a.b.post("/.mfa/push/new", nil); p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
			t.Fatalf("send another request: %d %q\n%s", p.status, p.location, p.body)
		}
		a2 := approvalOn(t, a.b.get("/.mfa/push"))
		a2.b = a.b
		if a2.id == a.id {
			t.Fatal("no new request")
		}
		r = ben.phone.answer(a2.id, "deny", "")
		wantPhoneStatus(t, "deny", r, http.StatusOK)
		if r.str("status") != "denied" {
			t.Fatalf("deny: %s", r.raw)
		}
		if s, _ := a2.wait(); s != "denied" {
			t.Fatalf("wait after deny: %q", s)
		}
		if p := a.b.get("/.mfa/push"); p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgDenied) {
			t.Fatalf("page after deny: %d\n%s", p.status, p.body)
		}
		wantPhoneStatus(t, "approve after deny", ben.phone.answer(a2.id, "approve", a2.num()), http.StatusConflict)
		notSignedIn(t, a.b, "after deny")
		// The code is still one click away.
		if p := a.b.submitCode("/.mfa/verify", ben.nextCode()); p.status != http.StatusSeeOther {
			t.Fatalf("code after deny: %d\n%s", p.status, p.body)
		}
	})

	t.Run("deny then report blocks the account until unblocked", func(t *testing.T) {
		cat := e.newPairedUser("cat")
		apw, p := cat.sec.createAppPassword("Mail")
		if apw == "" {
			t.Fatalf("app password: %d\n%s", p.status, p.body)
		}
		wantStatus(t, basicGet(t, e.g, "/dav", "cat", apw), http.StatusOK, "app password before the report")

		const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
		b := newBrowser(t, e.g)
		if p := loginWithAgent(b, "cat", cat.pw, "/", agent); p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
			t.Fatalf("login: %d %q", p.status, p.location)
		}
		a := approvalOn(t, b.get("/.mfa/push"))
		a.b = b
		// The phone names the browser and system, not the raw agent.
		if req := cat.phone.pending(); req == nil || req["agent"] != "Firefox on Windows" {
			t.Fatalf("pending request %v, want agent %q", req, "Firefox on Windows")
		}
		wantPhoneStatus(t, "deny", cat.phone.answer(a.id, "deny", ""), http.StatusOK)
		r := cat.phone.answer(a.id, "report", "")
		wantPhoneStatus(t, "report after deny", r, http.StatusOK)
		if r.str("status") != "reported" {
			t.Fatalf("report: %s", r.raw)
		}

		// Blocked: sessions end, password and app password refused.
		notSignedIn(t, cat.sec, "Security info session after the report")
		if s, _ := a.wait(); s == "approved" || s == "pending" {
			t.Fatalf("requester's wait after the report: %q", s)
		}
		notSignedIn(t, b, "requester after the report")
		// Without JavaScript the waiting page refreshes itself: it says why
		// it stopped instead of landing on the login page.
		// It offers no way on: the sign-in is blocked.
		if p := b.get("/.mfa/push"); p.status != http.StatusOK || !strings.Contains(p.body, "reported as suspicious") ||
			strings.Contains(p.body, "Use a verification code") || strings.Contains(p.body, `href="/.mfa/verify"`) {
			t.Fatalf("the requester's waiting page after the report: %d %q\n%s", p.status, p.location, p.body)
		}
		wantStatus(t, basicGet(t, e.g, "/dav", "cat", apw), http.StatusUnauthorized, "app password of a blocked account")
		if p := newBrowser(t, e.g).login("cat", cat.pw, "/"); p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgBlocked) {
			t.Fatalf("right password of a blocked account: %d %q\n%s", p.status, p.location, p.body)
		}
		if p := newBrowser(t, e.g).login("cat", "wrong password", "/"); p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgIncorrect) || strings.Contains(p.body, "blocked") {
			t.Fatalf("wrong password of a blocked account: %d\n%s", p.status, p.body)
		}
		evs := phoneAuditEvents(t, st, "cat", audit.PushReported)
		if len(evs) != 1 || evs[0].RemoteIP != "127.0.0.1" || !strings.Contains(evs[0].Detail, agent) {
			t.Fatalf("report audit events: %+v", evs)
		}

		out, err := e.g.caddy(nil, "mfa", "user", "unblock", "cat", "--config", "Caddyfile")
		if err != nil || !strings.Contains(out, "unblocked cat") {
			t.Fatalf("unblock: %v\n%s", err, out)
		}
		delay := phoneDeadline(t, "app password after unblock", multinodeRevocationBound, func() bool {
			return basicGet(t, e.g, "/dav", "cat", apw).StatusCode == http.StatusOK
		})
		t.Logf("app password accepted %v after the unblock", delay.Round(time.Millisecond))
		a = cat.startPushSignIn("/again")
		wantPhoneStatus(t, "approve after unblock", cat.phone.answer(a.id, "approve", a.num()), http.StatusOK)
		a.completes(t, up, "cat", "/again")
	})

	t.Run("report directly", func(t *testing.T) {
		dan := e.newPairedUser("dan")
		a := dan.startPushSignIn("/")
		r := dan.phone.answer(a.id, "report", "")
		wantPhoneStatus(t, "report", r, http.StatusOK)
		if r.str("status") != "reported" {
			t.Fatalf("report: %s", r.raw)
		}
		notSignedIn(t, a.b, "requester after the report")
		notSignedIn(t, dan.sec, "Security info session after the report")
		if p := newBrowser(t, e.g).login("dan", dan.pw, "/"); !strings.Contains(p.body, phoneMsgBlocked) {
			t.Fatalf("right password of a blocked account: %d %q\n%s", p.status, p.location, p.body)
		}
		// The phone cannot approve anything any more either.
		wantPhoneStatus(t, "approve after report", dan.phone.answer(a.id, "approve", a.num()), http.StatusConflict)
	})

	t.Run("removed phone", func(t *testing.T) {
		n := fay.phone.nonce()
		id := fay.phone.DeviceID()
		if p := fay.sec.get("/.mfa/security"); !strings.Contains(p.body, `security/delete?kind=phone&amp;id=`+id+`"`) {
			t.Fatalf("no Delete for phone %s:\n%s", id, p.body)
		}
		// Delete asks first: the confirmation page holds the form.
		if p := fay.sec.get("/.mfa/security/delete?kind=phone&id=" + id); !strings.Contains(p.body, `name="id" value="`+id+`"`) {
			t.Fatalf("no confirmation form for phone %s: %d\n%s", id, p.status, p.body)
		}
		if p := fay.sec.post("/.mfa/security/phone/delete", url.Values{"id": {id}}); p.status != http.StatusSeeOther {
			t.Fatalf("remove phone: %d\n%s", p.status, p.body)
		}
		wantPhoneUnpaired(t, "call with a nonce from before the removal", fay.phone.callNonce("pending", struct{}{}, n))
		// A nonce is handed to any id; the call that uses it is refused.
		wantPhoneUnpaired(t, "call after the removal", fay.phone.call("status", struct{}{}))
		if p := fay.sec.get("/.mfa/security"); strings.Contains(p.body, "fay&#39;s phone") {
			t.Fatal("Security info still lists the removed phone")
		}
		// Without a phone the sign-in asks for a code.
		if p := newBrowser(t, e.g).login("fay", fay.pw, "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/verify" {
			t.Fatalf("login without a phone: %d %q", p.status, p.location)
		}
	})

	t.Run("sixth request in 15 minutes", func(t *testing.T) {
		eve := e.newPairedUser("eve")
		a := eve.startPushSignIn("/") // request 1
		first := a.id
		for i := 2; i <= 5; i++ {
			if p := a.b.post("/.mfa/push/new", nil); p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
				t.Fatalf("request %d: %d %q\n%s", i, p.status, p.location, p.body)
			}
		}
		last := approvalOn(t, a.b.get("/.mfa/push"))
		// Each new request replaced the one before.
		if s, _ := phoneWait(a.b, first); s != "replaced" {
			t.Fatalf("first request after four more: %q, want replaced", s)
		}
		wantPhoneStatus(t, "answer a replaced request", eve.phone.answer(first, "approve", a.num()), http.StatusConflict)
		if req := eve.phone.pending(); req == nil || req["id"] != last.id {
			t.Fatalf("phone shows %v, want the newest request %s", req, last.id)
		}
		p := a.b.post("/.mfa/push/new", nil) // request 6
		if p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgTooMany) {
			t.Fatalf("sixth request: %d %q\n%s", p.status, p.location, p.body)
		}
		if req := eve.phone.pending(); req == nil || req["id"] != last.id {
			t.Fatalf("after the refused request the phone shows %v", req)
		}
		// A new sign-in is refused a request too, and the code still works.
		b := newBrowser(t, e.g)
		if p := b.login("eve", eve.pw, "/"); p.location != "/.mfa/push" {
			t.Fatalf("login: %d %q", p.status, p.location)
		}
		if p := b.get("/.mfa/push"); p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgTooMany) || approvalNumberRE.MatchString(p.body) {
			t.Fatalf("request after the limit: %d\n%s", p.status, p.body)
		}
		if p := b.submitCode("/.mfa/verify", eve.nextCode()); p.status != http.StatusSeeOther {
			t.Fatalf("code after the limit: %d\n%s", p.status, p.body)
		}
		if p := b.get("/x"); p.status != http.StatusOK {
			t.Fatalf("signed in with a code: %d", p.status)
		}
	})
}

// TestPhoneApprovalExpires: with push_timeout 2s an unanswered request
// expires; the waiting page learns it, and the phone can no longer
// approve it.
func TestPhoneApprovalExpires(t *testing.T) {
	up := newUpstream(t)
	e := startPhoneEnv(t, up, phoneOptions{extraMFA: "push_timeout 2s"})
	gus := e.newPairedUser("gus")
	a := gus.startPushSignIn("/")
	start := time.Now()
	status, took := a.wait()
	for status == "pending" && time.Since(start) < 10*time.Second {
		status, took = a.wait()
	}
	t.Logf("long-poll on a request expiring in 2 s returned %q after %v (%v since the first poll)",
		status, took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if status != "expired" || time.Since(start) > 4*time.Second {
		t.Fatalf("long-poll: %q after %v, want expired within about 2 s", status, time.Since(start).Round(time.Millisecond))
	}
	if p := a.b.get("/.mfa/push"); p.status != http.StatusOK || !strings.Contains(p.body, phoneMsgExpired) || !strings.Contains(p.body, `action="/.mfa/push/new"`) {
		t.Fatalf("page after expiry: %d\n%s", p.status, p.body)
	}
	if req := gus.phone.pending(); req != nil {
		t.Fatalf("phone still shows the expired request: %v", req)
	}
	r := gus.phone.answer(a.id, "approve", a.num())
	wantPhoneStatus(t, "approve an expired request", r, http.StatusConflict)
	if r.body["gone"] != true {
		t.Fatalf("approve an expired request: %s", r.raw)
	}
	notSignedIn(t, a.b, "after approving an expired request")
	// Another request works.
	if p := a.b.post("/.mfa/push/new", nil); p.status != http.StatusSeeOther {
		t.Fatalf("send another request: %d\n%s", p.status, p.body)
	}
	a2 := approvalOn(t, a.b.get("/.mfa/push"))
	a2.b = a.b
	wantPhoneStatus(t, "approve the new request", gus.phone.answer(a2.id, "approve", a2.num()), http.StatusOK)
	a2.completes(t, up, "gus", "/")
}
