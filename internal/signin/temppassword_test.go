package signin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// portalPost posts a form to the portal as a same-origin browser does.
func portalPost(p *Portal, path string, form url.Values, c *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	return w
}

// A sign-in with an admin's temporary password ends on "Choose a new
// password", not where it was going (on the portal: the admin center,
// which does not check for itself on every request as a site's gateway
// does); once chosen, it goes on there. Both ways of finishing: after a
// code, and with the password alone.
func TestSignInWithTemporaryPasswordChoosesOneFirst(t *testing.T) {
	for _, site := range []policy.Site{{RequireMFA: true}, {}} {
		svc := testfixture.Services(t)
		ctx := t.Context()
		if _, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password"}); err != nil {
			t.Fatal(err)
		}
		u, err := svc.Store.UserByName(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		raw := []byte("0123456789abcdefghij")
		if site.RequireMFA {
			sealed, _ := svc.Core.Codes.Seal(u.ID, raw)
			teststore.AddTOTP(t, svc.Store, &model.TOTPAuthenticator{UserID: u.ID, Name: core.AuthenticatorName, SealedSecret: sealed})
		} else if err := svc.Store.SetMFAState(ctx, u.ID, model.MFADisabled); err != nil {
			t.Fatal(err)
		}
		temp, _, err := svc.Core.Accounts.WithActor("test").ResetPassword(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test", Policy: site})

		w := portalPost(p, "/.mfa/login", url.Values{"username": {"alice"}, "password": {temp}, "rd": {"/admin/"}}, nil)
		if site.RequireMFA {
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/verify" {
				t.Fatalf("login with a temporary password: %d %q", w.Code, w.Header().Get("Location"))
			}
			code, _ := totp.CodeAt(totp.EncodeSecret(raw), time.Now().Unix()/30)
			w = portalPost(p, "/.mfa/verify", url.Values{"code": {code}}, w.Result().Cookies()[0])
		}
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/password/new" {
			t.Fatalf("require_mfa=%v: sign-in with a temporary password finished at %d %q, want /.mfa/password/new",
				site.RequireMFA, w.Code, w.Header().Get("Location"))
		}
		cookie := w.Result().Cookies()[0]
		// Coming back to a sign-in page leads there too.
		r := httptest.NewRequest("GET", "/.mfa/verify", nil)
		r.AddCookie(cookie)
		back := httptest.NewRecorder()
		p.ServeHTTP(back, r)
		if back.Header().Get("Location") != "/.mfa/password/new" {
			t.Errorf("the code page after sign-in with a temporary password: %d %q", back.Code, back.Header().Get("Location"))
		}
		w = portalPost(p, "/.mfa/password/new", url.Values{"new": {"gus rides a green tractor"}, "repeat": {"gus rides a green tractor"}}, cookie)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/" {
			t.Fatalf("after choosing a password: %d %q, want /admin/", w.Code, w.Header().Get("Location"))
		}
	}
}
