package signin

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// TestRecoveryCodeSignInThroughThePages: the code page offers "Use a
// recovery code" (under "Sign in another way") only to a user who has
// codes; a wrong code is answered on the page; a right one completes the
// sign-in in the claim and one apply transaction and shows "You used a
// recovery code; 9 left" before going on. The next sign-in shows the
// recovery's notice once (Continue goes on); the one after does not.
func TestRecoveryCodeSignInThroughThePages(t *testing.T) {
	ctx := context.Background()
	svc, st := testfixture.CountingServices(t)
	alice, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("0123456789abcdefghij")
	sealed, _ := svc.Core.Codes.Seal(alice.ID, raw)
	if err := svc.Core.Methods.AddAuthenticator(ctx, alice, sealed, "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	login := func(b *browser) {
		t.Helper()
		w := b.do("POST", "/.mfa/login?rd=%2Fapp", url.Values{"username": {"alice"}, "password": {"right password"}, "rd": {"/app"}})
		if w.Header().Get("Location") != "/.mfa/verify" {
			t.Fatalf("login: %d %s", w.Code, w.Header().Get("Location"))
		}
	}

	b := newBrowser(p)
	login(b)
	if page := b.do("GET", "/.mfa/verify", nil).Body.String(); strings.Contains(page, "Use a recovery code") {
		t.Errorf("the code page offers recovery codes to a user who has none")
	}
	codes, err := svc.Core.RecoveryCodes.Generate(ctx, alice, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	page := b.do("GET", "/.mfa/verify", nil).Body.String()
	if !strings.Contains(page, "Sign in another way") || !strings.Contains(page, `href="/.mfa/recovery"`) {
		t.Fatalf("the code page does not offer recovery codes:\n%s", page)
	}
	if w := b.do("GET", "/.mfa/recovery", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `action="/.mfa/recovery"`) {
		t.Fatalf("recovery page: %d\n%s", w.Code, w.Body)
	}
	w := b.do("POST", "/.mfa/recovery", url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), html.EscapeString(msgBadRecoveryCode)) {
		t.Fatalf("wrong recovery code: %d\n%s", w.Code, w.Body)
	}
	var loc string
	got := writes(st, func() {
		w = b.do("POST", "/.mfa/recovery", url.Values{"code": {strings.ToLower(codes[0][:8]) + " " + codes[0][8:]}})
		loc = w.Header().Get("Location")
	})
	if loc != "/.mfa/recovery/used" {
		t.Fatalf("right recovery code: %d %q\n%s", w.Code, loc, w.Body)
	}
	if len(got) != 2 || got[0] != "Update" || got[1] != "Update" {
		t.Errorf("recovery code step: writes %v, want the claim and one apply", got)
	}
	page = b.do("GET", "/.mfa/recovery/used", nil).Body.String()
	if !strings.Contains(page, "You used a recovery code; 9 left.") || !strings.Contains(page, `href="/app"`) {
		t.Fatalf("after the recovery:\n%s", page)
	}

	// The next sign-in (a code) shows the notice once.
	code := func(step int64) string {
		c, err := totp.CodeAt(totp.EncodeSecret(raw), step)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step := time.Now().Unix() / 30
	b = newBrowser(p)
	login(b)
	if w := b.do("POST", "/.mfa/verify", url.Values{"code": {code(step)}}); w.Header().Get("Location") != "/.mfa/recovery/notice" {
		t.Fatalf("the sign-in after a recovery: %d %q", w.Code, w.Header().Get("Location"))
	}
	page = b.do("GET", "/.mfa/recovery/notice", nil).Body.String()
	if !strings.Contains(page, "you signed in with a recovery code") || !strings.Contains(page, "192.0.2.77") ||
		!strings.Contains(page, "If this wasn&#39;t you") {
		t.Fatalf("notice page:\n%s", page)
	}
	if w := b.do("POST", "/.mfa/recovery/notice", url.Values{}); w.Header().Get("Location") != "/app" {
		t.Fatalf("Continue: %d %q", w.Code, w.Header().Get("Location"))
	}
	b = newBrowser(p)
	login(b)
	if w := b.do("POST", "/.mfa/verify", url.Values{"code": {code(step + 1)}}); w.Header().Get("Location") != "/app" {
		t.Fatalf("the sign-in after that: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// TestRecoveryPageNeedsThePassword: without a pending sign-in the
// recovery pages lead to the login page and judge nothing.
func TestRecoveryPageNeedsThePassword(t *testing.T) {
	p, _ := newPortal(t)
	b := newBrowser(p)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/.mfa/recovery"}, {"POST", "/.mfa/recovery"}, {"GET", "/.mfa/recovery/used"}, {"GET", "/.mfa/recovery/notice"},
	} {
		var form url.Values
		if tc.method == "POST" {
			form = url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}}
		}
		if w := b.do(tc.method, tc.path, form); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/login" {
			t.Errorf("%s %s without a sign-in: %d %q", tc.method, tc.path, w.Code, w.Header().Get("Location"))
		}
	}
}
