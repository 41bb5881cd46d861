package signin

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/wiring"
)

// The demo's origin: passkeys work over http on localhost only.
const demo = "http://localhost:8080"

// passkeyPortal is a portal on a counting store with alice (Enforced)
// holding a discoverable passkey of a software authenticator on the demo
// origin (RP ID localhost).
type passkeyPortal struct {
	p    *Portal
	st   *countingstore.Store
	svc  *wiring.Services
	user *model.User
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newPasskeyPortal(t *testing.T, site policy.Site) *passkeyPortal {
	t.Helper()
	ctx := context.Background()
	svc, st := testfixture.CountingServices(t)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	pp := &passkeyPortal{svc: svc, st: st, user: u,
		rp:   virtualwebauthn.RelyingParty{ID: "localhost", Name: "Test", Origin: demo},
		auth: virtualwebauthn.NewAuthenticator(), cred: softwareCredential()}
	where := core.PasskeySite{Scheme: "http", Host: "localhost:8080"}
	sess := bytes.Repeat([]byte{0xa}, 32)
	raw, err := svc.Core.Passkeys.BeginRegistration(ctx, u, sess, where)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	pp.auth.Options.UserHandle = []byte(opts.UserID)
	resp := virtualwebauthn.CreateAttestationResponse(pp.rp, pp.auth, pp.cred, *opts)
	if _, err := svc.Core.Passkeys.FinishRegistration(ctx, u, sess, where, "", []byte(resp), "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	pp.p = New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test", Policy: site})
	t.Cleanup(pp.p.Close)
	return pp
}

// softwareCredential is an ES256 credential whose coordinates
// virtualwebauthn writes in full (see core's newSoftwareCredential).
func softwareCredential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		if len(c.Key.AttestationData()) == 77 {
			return c
		}
	}
}

// options posts for passwordless options as the page's script does and
// returns them as the authenticator reads them.
func (pp *passkeyPortal) options(t *testing.T, b *browser) *virtualwebauthn.AssertionOptions {
	t.Helper()
	w := b.do("POST", demo+"/.mfa/login/passkey/options", nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("options: %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(w.Body.String())
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// answer is the authenticator's answer to opts, as the page posts it.
func (pp *passkeyPortal) answer(opts *virtualwebauthn.AssertionOptions) string {
	return virtualwebauthn.CreateAssertionResponse(pp.rp, pp.auth, pp.cred, *opts)
}

func (pp *passkeyPortal) post(b *browser, credential string) *httptest.ResponseRecorder {
	return b.do("POST", demo+"/.mfa/login/passkey", url.Values{"credential": {credential}, "rd": {"/wiki/"}})
}

// TestLoginPageOffersPasskey: where passkeys are offered and the site
// allows passwordless sign-in, the login page has the button, the script
// and autocomplete="username webauthn", and may fetch its options; with
// `passkeys_passwordless off`, or on a host not under the RP ID, it has
// none of them and the endpoints are not there.
func TestLoginPageOffersPasskey(t *testing.T) {
	on := newPasskeyPortal(t, policy.Site{})
	w := newBrowser(on.p).do("GET", demo+"/.mfa/login", nil)
	body := w.Body.String()
	for _, want := range []string{`autocomplete="username webauthn"`, `id="passkey-button"`, `>Sign in with a passkey<`,
		`/.mfa/static/passkey-login.js?v=`, `action="/.mfa/login/passkey"`, `data-options="/.mfa/login/passkey/options"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || strings.Contains(body, "<script>") {
		t.Errorf("CSP %q: the script must be allowed to fetch its options, and nothing inline", csp)
	}

	off := newPasskeyPortal(t, policy.Site{PasskeyNeedsPassword: true})
	elsewhere := on.p // a host not under the RP ID (http, not localhost)
	for name, c := range map[string]struct {
		p      *Portal
		origin string
	}{"passkeys_passwordless off": {off.p, demo}, "not under the RP ID": {elsewhere, "http://files.example.com"}} {
		b := newBrowser(c.p)
		w := b.do("GET", c.origin+"/.mfa/login", nil)
		body := w.Body.String()
		for _, absent := range []string{"webauthn", "passkey"} {
			if strings.Contains(body, absent) {
				t.Errorf("%s: the login page mentions %q", name, absent)
			}
		}
		if !strings.Contains(body, `autocomplete="username"`) || strings.Contains(w.Header().Get("Content-Security-Policy"), "connect-src") {
			t.Errorf("%s: login page without its plain username field, or with connect-src", name)
		}
		if w := b.do("POST", c.origin+"/.mfa/login/passkey/options", nil); w.Code != http.StatusNotFound || len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: options answered %d with cookies %v, want 404 and none", name, w.Code, w.Result().Cookies())
		}
		if w := b.do("POST", c.origin+"/.mfa/login/passkey", url.Values{"credential": {"{}"}}); w.Code != http.StatusNotFound {
			t.Errorf("%s: the passkey sign-in answered %d, want 404", name, w.Code)
		}
	}
	// With the option off, a valid answer (options made where it is on)
	// is refused too.
	b := newBrowser(on.p)
	opts := on.options(t, b)
	b.p = off.p
	if w := off.post(b, on.answer(opts)); w.Code != http.StatusNotFound || b.cookies[session.CookieName] != nil {
		t.Errorf("passkeys_passwordless off: a passkey answer got %d, cookies %v", w.Code, b.cookies)
	}
}

// TestLoginPageViewStoresNothing: showing the login page and giving its
// passkey options write nothing to the store: the challenge is in a
// cookie, HttpOnly, SameSite=Strict, for five minutes, __Host- and
// Secure over TLS (bare on the http demo, as the session cookie is).
func TestLoginPageViewStoresNothing(t *testing.T) {
	pp := newPasskeyPortal(t, policy.Site{})
	b := newBrowser(pp.p)
	got := writes(pp.st, func() {
		b.do("GET", demo+"/.mfa/login", nil)
		pp.options(t, b)
		b.do("GET", demo+"/.mfa/login?rd=/x", nil)
	})
	if len(got) != 0 {
		t.Errorf("a page view and its passkey options wrote %v, want nothing", got)
	}
	c := b.cookies[session.ChallengeCookieName]
	if c == nil || c.Value == "" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 300 || c.Path != "/" || c.Secure {
		t.Errorf("challenge cookie on http = %+v", c)
	}

	// Over TLS on a host under the RP ID.
	svc, st := testfixture.CountingServices(t)
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	r := httptest.NewRequest("POST", "https://app.example.com/.mfa/login/passkey/options", nil)
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	if got := writes(st, func() { p.ServeHTTP(w, r) }); len(got) != 0 || w.Code != http.StatusOK {
		t.Errorf("options over TLS: %d, writes %v", w.Code, got)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != session.TLSChallengeCookieName || !cs[0].Secure || !cs[0].HttpOnly || cs[0].Path != "/" ||
		cs[0].Domain != "" || cs[0].MaxAge != 300 {
		t.Errorf("challenge cookie over TLS = %+v", cs)
	}
}

// TestPasskeyLoginThroughPages: options, then the passkey's answer,
// sign alice in (claim and one apply transaction) and send her on to rd
// with a session cookie; the challenge cookie is cleared. The same answer
// again, with or without the cookie, is refused with the one message a
// passkey of no account also gets, and stores no session.
func TestPasskeyLoginThroughPages(t *testing.T) {
	pp := newPasskeyPortal(t, policy.Site{})
	b := newBrowser(pp.p)
	opts := pp.options(t, b)
	cookie := *b.cookies[session.ChallengeCookieName]
	answer := pp.answer(opts)
	var w *httptest.ResponseRecorder
	got := writes(pp.st, func() { w = pp.post(b, answer) })
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/wiki/" || b.cookies[session.CookieName] == nil {
		t.Fatalf("passkey sign-in: %d %s, cookies %v\n%s", w.Code, w.Header().Get("Location"), b.cookies, w.Body)
	}
	if len(got) != 2 || got[0] != "Update" || got[1] != "Update" {
		t.Errorf("writes %v, want the claim and one apply transaction", got)
	}
	if b.cookies[session.ChallengeCookieName] != nil {
		t.Errorf("the challenge cookie was not cleared")
	}
	// Signed in: the login page sends her on.
	if w := b.do("GET", demo+"/.mfa/login?rd=/wiki/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("login page after the passkey sign-in: %d, want a redirect", w.Code)
	}

	// Replayed from another browser, with the cookie and without.
	for name, withCookie := range map[string]bool{"with the cookie": true, "without a cookie": false} {
		other := newBrowser(pp.p)
		if withCookie {
			other.cookies[cookie.Name] = &cookie
		}
		w := pp.post(other, answer)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "That passkey didn&#39;t sign you in.") ||
			other.cookies[session.CookieName] != nil {
			t.Errorf("replay %s: %d, cookies %v\n%s", name, w.Code, other.cookies, w.Body)
		}
	}

	// A passkey of no account gets the same page as a refused one of
	// alice's (here: collected on another origin).
	stranger := newBrowser(pp.p)
	sopts := pp.options(t, stranger)
	pp.auth.Options.UserHandle = bytes.Repeat([]byte{7}, 32)
	unknown := pp.post(stranger, pp.answer(sopts)).Body.String()
	pp.auth.Options.UserHandle = userHandleOf(t, pp)
	evil := newBrowser(pp.p)
	eopts := pp.options(t, evil)
	rp := pp.rp
	rp.Origin = "http://localhost:9999"
	wrongOrigin := pp.post(evil, virtualwebauthn.CreateAssertionResponse(rp, pp.auth, pp.cred, *eopts)).Body.String()
	if unknown != wrongOrigin {
		t.Errorf("refusals differ:\n%s\n---\n%s", unknown, wrongOrigin)
	}
}

// userHandleOf is alice's stored user handle (from a new registration's
// options).
func userHandleOf(t *testing.T, pp *passkeyPortal) []byte {
	t.Helper()
	raw, err := pp.svc.Core.Passkeys.BeginRegistration(t.Context(), pp.user, bytes.Repeat([]byte{0xb}, 32),
		core.PasskeySite{Scheme: "http", Host: "localhost:8080"})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(opts.UserID)
}

// TestPasskeyLoginBlockedAccount: a blocked account's verified passkey
// is told of the block, as its right password is.
func TestPasskeyLoginBlockedAccount(t *testing.T) {
	pp := newPasskeyPortal(t, policy.Site{})
	err := pp.svc.Store.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		return tx.SetBlocked(ctx, pp.user.ID, pp.user.CreatedAt, model.BlockedByReport)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(pp.p)
	w := pp.post(b, pp.answer(pp.options(t, b)))
	if !strings.Contains(w.Body.String(), "blocked because a sign-in request was reported") || b.cookies[session.CookieName] != nil {
		t.Errorf("blocked account: %d\n%s", w.Code, w.Body)
	}
}
