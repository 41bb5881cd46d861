package loginui

import (
	"net/http"
	"strings"
	"testing"
)

// TestPasskeyPagesRender: the passkey pages load webauthn.js and
// passkey.js (no inline script), may fetch from their own origin
// (connect-src 'self', and only they: a re-verification without a
// passkey keeps the base policy), say what to do without JavaScript, and
// keep the button hidden until the script shows it.
func TestPasskeyPagesRender(t *testing.T) {
	r := newRenderer(t)
	for name, p := range map[string]Page{
		"sign-in":      PasskeyPage{Common: common(""), CanUseCode: true, CanUsePhone: true, Error: "That passkey didn't work."},
		"security":     AddPasskeyPage{Common: common(""), MaxName: 64},
		"re-verifying": ReverifyPage{Common: common(""), Next: "/.mfa/security", NoCode: true, CanPasskey: true},
		"admin center": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
			Users: []AdminConfirmUser{{Username: "amy"}}, Confirm: "Block sign-in", Cancel: "/admin/users/7",
			Verify: &AdminVerify{CanPasskey: true, CanCode: true, Fresh: "10 minutes", Then: "action",
				Fields: []AdminField{{"op", "block"}, {"id", "7"}}, Cancel: "/admin/users/7"}},
		"admin add user": AdminAddUserPage{Common: adminCommon(), AdminNav: adminNav("users"), Username: "nina",
			Verify: &AdminVerify{CanPasskey: true, Fresh: "10 minutes", Then: "add-user", Fields: []AdminField{{"username", "nina"}}, Cancel: "/admin/"}},
	} {
		rec, body := render(t, r, http.StatusOK, p)
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; connect-src 'self'") || !strings.HasPrefix(csp, ContentSecurityPolicy) {
			t.Errorf("%s: CSP %q", name, csp)
		}
		for _, want := range []string{"static/webauthn.js?v=", "static/passkey.js?v=", "<noscript>", `data-passkey="`, `data-passkey-start hidden`, `name="response"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, body)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("%s has an inline script", name)
		}
	}
	// The admin center's step is Security info's form, posting the
	// step's fields to the admin center's re-verification.
	_, body := render(t, r, http.StatusOK, AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
		Verify: &AdminVerify{CanPasskey: true, CanPhone: true, Fresh: "10 minutes", Then: "action", Fields: []AdminField{{"op", "block"}, {"id", "7"}}, Cancel: "/admin/users/7"}})
	for _, want := range []string{`<form method="post" action="/admin/reverify" data-passkey="get" data-passkey-options="/admin/reverify/passkey/options" id="verify-passkey-form">`,
		`<input type="hidden" name="then" value="action">`, `<input type="hidden" name="method" value="passkey">`, `<input type="hidden" name="op" value="block">`,
		`<a class="btn secondary" href="/admin/users/7">Cancel</a>`, "Use your passkey or security key", "Or approve a request on your phone instead.",
		`class="btn secondary" id="verify-phone"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin center's passkey step lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "sign in again") || strings.Contains(body, "with your phone") {
		t.Errorf("a passkey admin is told to sign in again:\n%s", body)
	}
	rec, _ := render(t, r, http.StatusOK, ReverifyPage{Common: common(""), Next: "/.mfa/security"})
	if csp := rec.Header().Get("Content-Security-Policy"); csp != ContentSecurityPolicy {
		t.Errorf("re-verification without a passkey: CSP %q", csp)
	}
}
