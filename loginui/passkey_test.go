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
	rec, _ := render(t, r, http.StatusOK, ReverifyPage{Common: common(""), Next: "/.mfa/security"})
	if csp := rec.Header().Get("Content-Security-Policy"); csp != ContentSecurityPolicy {
		t.Errorf("re-verification without a passkey: CSP %q", csp)
	}
}
