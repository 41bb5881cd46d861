package signin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
)

// browser keeps one browser's cookies across requests to a portal.
type browser struct {
	p       *Portal
	cookies map[string]*http.Cookie
}

func newBrowser(p *Portal) *browser { return &browser{p: p, cookies: map[string]*http.Cookie{}} }

func (b *browser) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.RemoteAddr = "192.0.2.77:1234"
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.p.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

// writes runs step and returns the store writes it made: "Update" for
// each write transaction of the core, a method's name for any other
// write.
func writes(st *countingstore.Store, step func()) []string {
	st.Reset()
	step()
	return st.Writes()
}

// claimThenApply is a transition that judged a secret: the claim of its
// failure slots, then the outcome's one transaction.
var claimThenApply = []string{"Update", "Update"}

// TestEachSignInStepTakesAtMostTwoTransactions: every transition of the
// browser sign-in, through its page, is at most two store write
// transactions (the failure-slot claim committed before the secret is
// judged, then one applying the outcome: release or memory of the wrong
// secret, the code's time step, the new session, the audit and sign-in
// log rows), and a successful one with a secret is exactly those two.
func TestEachSignInStepTakesAtMostTwoTransactions(t *testing.T) {
	ctx := context.Background()
	svc, st := testfixture.CountingServices(t)
	add := func(name string, state model.MFAState) *model.User {
		u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: name, Password: "right password", MFAState: state})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	alice := add("alice", model.MFAEnabled)
	raw := []byte("0123456789abcdefghij")
	sealed, _ := svc.Core.Codes.Seal(alice.ID, raw)
	if err := svc.Core.Methods.AddAuthenticator(ctx, alice, sealed, "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	pat := add("pat", model.MFAEnforced)
	pairPhone(t, st, pat.ID)
	add("eve", model.MFAEnabled)
	add("dora", model.MFADisabled)
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	login := func(b *browser, name, pw string) *httptest.ResponseRecorder {
		return b.do("POST", "/.mfa/login", url.Values{"username": {name}, "password": {pw}})
	}
	check := func(what string, got []string, want []string, exact bool) {
		t.Helper()
		t.Logf("%s: %v", what, got)
		if exact && !slices.Equal(got, want) || !exact && len(got) > len(want) {
			t.Errorf("%s: writes %v, want %v", what, got, want)
		}
	}
	code := func(secret string) string {
		c, err := totp.CodeAt(secret, time.Now().Unix()/30)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Password, then a code.
	b := newBrowser(p)
	check("wrong password", writes(st, func() { login(b, "alice", "wrong") }), claimThenApply, false)
	check("unknown user", writes(st, func() { login(b, "nobody", "wrong") }), claimThenApply, false)
	check("password", writes(st, func() {
		if w := login(b, "alice", "right password"); w.Header().Get("Location") != "/.mfa/verify" {
			t.Fatalf("alice's login: %d %s", w.Code, w.Header().Get("Location"))
		}
	}), claimThenApply, true)
	check("wrong code", writes(st, func() { b.do("POST", "/.mfa/verify", url.Values{"code": {"000000"}}) }), claimThenApply, false)
	check("code", writes(st, func() {
		if w := b.do("POST", "/.mfa/verify", url.Values{"code": {code(totp.EncodeSecret(raw))}}); w.Header().Get("Location") != "/" {
			t.Fatalf("alice's code: %d %s", w.Code, w.Header().Get("Location"))
		}
	}), claimThenApply, true)
	check("sign-out", writes(st, func() { b.do("POST", "/.mfa/logout", url.Values{}) }), claimThenApply, false)

	// Password, then the phone.
	b = newBrowser(p)
	check("password (phone)", writes(st, func() {
		if w := login(b, "pat", "right password"); w.Header().Get("Location") != "/.mfa/push" {
			t.Fatalf("pat's login: %d %s", w.Code, w.Header().Get("Location"))
		}
	}), claimThenApply, true)
	b.do("GET", "/.mfa/push", nil)
	devices, _ := st.Devices(ctx, pat.ID)
	ap, err := svc.Core.Approvals.Pending(ctx, &devices[0])
	if err != nil || ap == nil {
		t.Fatalf("no pending request: %v", err)
	}
	if _, err := svc.Core.Approvals.Answer(ctx, &devices[0], ap.ID, core.DecisionApprove, strconv.Itoa(ap.Number)); err != nil {
		t.Fatal(err)
	}
	check("phone", writes(st, func() {
		if w := b.do("GET", "/.mfa/push", nil); w.Header().Get("Location") != "/" {
			t.Fatalf("pat's approval: %d %s", w.Code, w.Header().Get("Location"))
		}
	}), []string{"Update"}, true)

	// Password, then enrolment of a first authenticator.
	b = newBrowser(p)
	check("password (enrolment)", writes(st, func() {
		if w := login(b, "eve", "right password"); w.Header().Get("Location") != "/.mfa/enrol" {
			t.Fatalf("eve's login: %d %s", w.Code, w.Header().Get("Location"))
		}
	}), claimThenApply, true)
	page := b.do("GET", "/.mfa/enrol", nil).Body.String()
	secret := enrolmentSecret(t, page)
	check("wrong enrolment code", writes(st, func() { b.do("POST", "/.mfa/enrol", url.Values{"code": {"000000"}}) }), claimThenApply, false)
	check("enrolment", writes(st, func() {
		if w := b.do("POST", "/.mfa/enrol", url.Values{"code": {code(secret)}}); w.Header().Get("Location") != "/" {
			t.Fatalf("eve's enrolment: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
		}
	}), claimThenApply, true)

	// Password only (MFA disabled), then choosing a new password in place
	// of an admin's temporary one.
	b = newBrowser(p)
	check("password only", writes(st, func() {
		if w := login(b, "dora", "right password"); w.Header().Get("Location") != "/" {
			t.Fatalf("dora's login: %d %s", w.Code, w.Header().Get("Location"))
		}
	}), claimThenApply, true)
	temp, _, err := svc.Core.Accounts.ResetPassword(ctx, "dora")
	if err != nil {
		t.Fatal(err)
	}
	b = newBrowser(p)
	if w := login(b, "dora", temp); w.Header().Get("Location") != "/.mfa/password/new" {
		t.Fatalf("dora's temporary password: %d %s", w.Code, w.Header().Get("Location"))
	}
	const mine = "a long and uncommon passphrase 4711"
	check("choose a new password", writes(st, func() {
		if w := b.do("POST", "/.mfa/password/new", url.Values{"new": {mine}, "repeat": {mine}}); w.Code != http.StatusSeeOther {
			t.Fatalf("dora's new password: %d\n%s", w.Code, w.Body)
		}
	}), claimThenApply, false)
}

// enrolmentSecret reads the secret the enrolment page shows (base32).
func enrolmentSecret(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `class="secret"`)
	if i < 0 {
		t.Fatalf("no secret on the enrolment page:\n%s", page)
	}
	rest := page[i:]
	rest = rest[strings.Index(rest, ">")+1:]
	return strings.ReplaceAll(rest[:strings.Index(rest, "<")], " ", "")
}
