package admin

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// The admin center runs on https://mfa.example, its own RP ID.
var passkeyRP = virtualwebauthn.RelyingParty{ID: "mfa.example", Name: "T", Origin: "https://mfa.example"}

// passkeyOf is a software authenticator with one credential registered
// for u on the admin center's origin.
type passkeyOf struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// addPasskey registers a passkey for u as Security info does (through
// the core's ceremony, on the admin center's origin).
func addPasskey(t *testing.T, f *fixture, u *model.User) passkeyOf {
	t.Helper()
	k := passkeyOf{auth: virtualwebauthn.NewAuthenticator(), cred: newKey()}
	site := core.PasskeySite{Scheme: "https", Host: "mfa.example"}
	sess := []byte("registering-session-hash-0123456")
	raw, err := f.svc.Core.Passkeys.BeginRegistration(f.ctx, u, sess, site)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	answer := virtualwebauthn.CreateAttestationResponse(passkeyRP, k.auth, k.cred, *opts)
	if _, err := f.svc.Core.Passkeys.FinishRegistration(f.ctx, u, sess, site, "Laptop", []byte(answer), ""); err != nil {
		t.Fatal(err)
	}
	return k
}

// newKey is a software credential whose ES256 coordinates are full
// length (virtualwebauthn drops leading zero bytes, which go-webauthn
// refuses).
func newKey() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		if len(c.Key.AttestationData()) == 77 {
			return c
		}
	}
}

// TestPasskeyOnlyAdminReverifiesWithThePasskey: an admin whose only
// second factor is a passkey re-verifies on a change's confirmation step
// with it (Security info's passkey form, its options bound to this
// session), instead of being told to sign in again: an answer for
// another origin is refused on the step, nothing applied; the right one
// shows the same step with its Confirm button, under a new session
// identifier, and the change applies on that click. A non-admin gets no
// options.
func TestPasskeyOnlyAdminReverifiesWithThePasskey(t *testing.T) {
	f := newFixture(t)
	f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	pia := f.user("pia", false, core.AdminGroup)
	key := addPasskey(t, f, pia)
	cookie := f.session(pia, 11*time.Minute)

	w := f.act(cookie, "block", false, []*model.User{amy}, "back", "/admin/users/2")
	wantPage(t, "confirmation", w, http.StatusOK, "Block sign-in?", `id="verify-passkey-form"`,
		`data-passkey-options="/admin/reverify/passkey/options"`, "Use your passkey or security key", "static/passkey.js")
	body := w.Body.String()
	for _, not := range []string{`id="verify-sign-in"`, "sign in again", `name="confirmed"`, `id="verify-form"`, `id="verify-phone-form"`} {
		if strings.Contains(body, not) {
			t.Errorf("a passkey-only admin's step has %q:\n%s", not, body)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("passkey.js may not fetch its options: CSP %q", csp)
	}
	form := formFields(t, body, `id="verify-passkey-form"`)
	if form.Get("then") != "action" || form.Get("method") != "passkey" || form.Get("op") != "block" || form.Get("id") != "2" {
		t.Fatalf("passkey form posts %v", form)
	}

	answer := func(rp virtualwebauthn.RelyingParty) url.Values {
		t.Helper()
		w := f.post("/admin/reverify/passkey/options", form, cookie)
		opts, err := virtualwebauthn.ParseAssertionOptions(w.Body.String())
		if w.Code != http.StatusOK || err != nil {
			t.Fatalf("options: %d %s %v", w.Code, w.Body, err)
		}
		v := url.Values{}
		for k, vs := range form {
			v[k] = vs
		}
		v.Set("response", virtualwebauthn.CreateAssertionResponse(rp, key.auth, key.cred, *opts))
		return v
	}
	evil := passkeyRP
	evil.Origin = "https://evil.example.org"
	w = f.post("/admin/reverify", answer(evil), cookie)
	wantPage(t, "wrong origin", w, http.StatusOK, html.EscapeString(msgBadPasskey), "Block sign-in?", `id="verify-passkey-form"`)
	if strings.Contains(w.Body.String(), `name="confirmed"`) || !f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("a refused passkey confirmed or applied the change")
	}

	w = f.post("/admin/reverify", answer(passkeyRP), cookie)
	wantPage(t, "right passkey", w, http.StatusOK, "Block sign-in?", `id="confirm-form"`, `name="confirmed" value="yes"`,
		`name="back" value="/admin/users/2"`)
	if !f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("applied before the confirmation")
	}
	cookies := w.Result().Cookies()
	if len(cookies) == 0 || cookies[0].Value == cookie.Value {
		t.Fatal("the session was not renewed")
	}
	wantPage(t, "confirmed", f.act(cookies[0], "block", true, []*model.User{amy}), http.StatusOK, "Sign-in blocked")
	if f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("not applied after re-verification by passkey and confirmation")
	}

	// Only an admin begins one.
	bob := f.user("bob", false)
	addPasskey(t, f, bob)
	if w := f.post("/admin/reverify/passkey/options", form, f.session(bob, time.Minute)); w.Code != http.StatusForbidden ||
		strings.Contains(w.Body.String(), "challenge") {
		t.Errorf("a non-admin's options: %d %s", w.Code, w.Body)
	}
}
