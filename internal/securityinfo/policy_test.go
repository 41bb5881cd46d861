package securityinfo

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// siteCase describes the user and session a policy fixture starts with.
type siteCase struct {
	site          policy.Site
	state         model.MFAState
	authenticator bool // one authenticator app registered
	// passwordOnly: the session passed the password alone (taken while
	// the user was Disabled); else it passed a code a minute ago.
	passwordOnly bool
}

// newSiteFixture signs in user "ann" as c describes, on Security info
// pages serving c.site.
func newSiteFixture(t *testing.T, c siteCase) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := testfixture.Services(t)
	st := svc.Store
	u := &model.User{Username: "ann", PasswordHash: "x", MFAState: c.state}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if c.authenticator {
		sealed, _ := svc.Core.Codes.Seal(u.ID, make([]byte, 20))
		teststore.AddTOTP(t, st, &model.TOTPAuthenticator{UserID: u.ID, Name: "Authenticator app", SealedSecret: sealed})
	}
	pages := New(Deps{Deps: svc.Web(nil, func(*http.Request) string { return "192.0.2.1" })},
		Config{Prefix: "/.mfa/", Issuer: "T", Policy: c.site})
	mux := http.NewServeMux()
	for pattern, h := range pages.Routes() {
		mux.Handle(pattern, h)
	}
	now := time.Now()
	sess := model.Session{UserID: u.ID, Stage: model.StageComplete, CreatedAt: now.Add(-time.Minute)}
	if !c.passwordOnly {
		sess.MFAAt = now.Add(-time.Minute)
	}
	w := httptest.NewRecorder()
	if err := svc.Sessions.Start(w, httptest.NewRequest("GET", "/", nil), sess); err != nil {
		t.Fatal(err)
	}
	return &fixture{pages: pages, st: st, user: u, cookie: w.Result().Cookies()[0], mux: mux}
}

func (f *fixture) appPasswordCount(t *testing.T) int {
	t.Helper()
	aps, err := f.st.AppPasswords(context.Background(), f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(aps)
}

// TestRequireMFASiteLetsRegisteredUsersCreateAppPasswords: on a
// require_mfa site (which refuses account passwords in basic auth) a
// Disabled user with an authenticator is effectively Enforced, so app
// passwords are offered and created.
func TestRequireMFASiteLetsRegisteredUsersCreateAppPasswords(t *testing.T) {
	f := newSiteFixture(t, siteCase{site: policy.Site{RequireMFA: true}, state: model.MFADisabled, authenticator: true})
	if w := f.get("/.mfa/security/add"); w.Code != 200 || !strings.Contains(w.Body.String(), `href="/.mfa/security/add?method=app-password"`) {
		t.Fatalf("option not offered: %d\n%s", w.Code, w.Body)
	}
	if w := f.get("/.mfa/security/add?method=app-password"); w.Code != 200 {
		t.Fatalf("new app password page: %d\n%s", w.Code, w.Body)
	}
	w := f.post("/.mfa/security/app-password", url.Values{"name": {"Laptop mail"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="app-password"`) {
		t.Fatalf("create: %d\n%s", w.Code, w.Body)
	}
	if n := f.appPasswordCount(t); n != 1 {
		t.Fatalf("%d app passwords stored, want 1", n)
	}
}

// TestAppPasswordsRefusedWhereNotEffectivelyEnforced: without require_mfa
// an authenticator does not make a Disabled user Enforced; on a
// require_mfa site a user without one is told to register one first.
func TestAppPasswordsRefusedWhereNotEffectivelyEnforced(t *testing.T) {
	cases := []struct {
		c   siteCase
		why string
	}{
		{siteCase{site: policy.Site{}, state: model.MFADisabled, authenticator: true}, "administrator enforces"},
		// A code passed a minute ago, then the only authenticator was
		// deleted: the session still satisfies the site.
		{siteCase{site: policy.Site{RequireMFA: true}, state: model.MFADisabled}, "register an authenticator app first"},
	}
	for _, tc := range cases {
		f := newSiteFixture(t, tc.c)
		w := f.get("/.mfa/security/add")
		if w.Code != 200 || strings.Contains(w.Body.String(), `method=app-password`) || !strings.Contains(w.Body.String(), tc.why) {
			t.Errorf("%+v: chooser %d, want no option and %q\n%s", tc.c, w.Code, tc.why, w.Body)
		}
		if w := f.get("/.mfa/security/add?method=app-password"); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), tc.why) {
			t.Errorf("%+v: new page %d", tc.c, w.Code)
		}
		if w := f.post("/.mfa/security/app-password", url.Values{"name": {"sneaky"}}); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), tc.why) {
			t.Errorf("%+v: create %d", tc.c, w.Code)
		}
		if n := f.appPasswordCount(t); n != 0 {
			t.Errorf("%+v: %d app passwords stored", tc.c, n)
		}
	}
}

// TestPortalAppliesTheGatewaysSessionRule: a password-only session the
// gateway would send back to sign in (the admin has since raised the
// user to Enforced, or the site requires MFA) sees nothing and changes
// nothing on any Security info page: every one redirects to the login
// page, coming back afterwards.
func TestPortalAppliesTheGatewaysSessionRule(t *testing.T) {
	for _, c := range []siteCase{
		{site: policy.Site{}, state: model.MFAEnforced, passwordOnly: true},
		{site: policy.Site{RequireMFA: true}, state: model.MFADisabled, passwordOnly: true},
	} {
		f := newSiteFixture(t, c)
		ctx := context.Background()
		if err := teststore.AddAppPassword(ctx, f.st, &model.AppPassword{UserID: f.user.ID, Name: "Secret device name", Hash: "x", LookupTag: []byte("tag")}); err != nil {
			t.Fatal(err)
		}
		for path, wantRD := range map[string]string{
			"/.mfa/security":                          "/.mfa/security",
			"/.mfa/security/add":                      "/.mfa/security/add",
			"/.mfa/security/add?method=authenticator": "/.mfa/security/add?method=authenticator",
			"/.mfa/security/add?method=app-password":  "/.mfa/security/add?method=app-password",
		} {
			w := f.get(path)
			want := "/.mfa/login?rd=" + url.QueryEscape(wantRD)
			if w.Code != http.StatusFound || w.Header().Get("Location") != want || strings.Contains(w.Body.String(), "Secret device name") {
				t.Errorf("%+v GET %s: %d %q, want 302 to %q", c, path, w.Code, w.Header().Get("Location"), want)
			}
		}
		// A valid code for a fresh secret: without the session rule this
		// would add it (the session is recent and the user has no method).
		secret := []byte("0123456789abcdefghij")
		sealed, _ := f.pages.Codes.Seal(f.user.ID, secret)
		code, err := totp.CodeAt(totp.EncodeSecret(secret), time.Now().Unix()/totp.Period)
		if err != nil {
			t.Fatal(err)
		}
		posts := map[string]url.Values{
			"/.mfa/security/authenticator":        {"pending": {base64.RawURLEncoding.EncodeToString(sealed)}, "code": {code}},
			"/.mfa/security/app-password":         {"name": {"sneaky"}},
			"/.mfa/security/app-password/delete":  {"id": {"1"}},
			"/.mfa/security/authenticator/delete": {"id": {"1"}},
			"/.mfa/security/default":              {"method": {"code"}},
			"/.mfa/security/reverify":             {"code": {code}},
		}
		for path, form := range posts {
			w := f.post(path, form)
			want := "/.mfa/login?rd=" + url.QueryEscape("/.mfa/security")
			if w.Code != http.StatusFound || w.Header().Get("Location") != want {
				t.Errorf("%+v POST %s: %d %q, want 302 to %q", c, path, w.Code, w.Header().Get("Location"), want)
			}
		}
		if auths, _ := f.st.TOTPAuthenticators(ctx, f.user.ID); len(auths) != 0 {
			t.Errorf("%+v: authenticator added by a password-only session", c)
		}
		if n := f.appPasswordCount(t); n != 1 {
			t.Errorf("%+v: %d app passwords, want the 1 it had", c, n)
		}
	}
}

// TestRequireMFASiteKeepsTheLastAuthenticator: on a require_mfa site even
// a Disabled user must keep one authenticator (deleting it would let the
// next sign-in enrol a new one with the password alone); elsewhere a
// Disabled user may delete theirs.
func TestRequireMFASiteKeepsTheLastAuthenticator(t *testing.T) {
	for _, tc := range []struct {
		site      policy.Site
		wantCode  int
		wantCount int
	}{
		{policy.Site{RequireMFA: true}, http.StatusConflict, 1},
		{policy.Site{}, http.StatusSeeOther, 0},
	} {
		f := newSiteFixture(t, siteCase{site: tc.site, state: model.MFADisabled, authenticator: true})
		auths, _ := f.st.TOTPAuthenticators(context.Background(), f.user.ID)
		if list := f.get("/.mfa/security").Body.String(); strings.Contains(list, "only authenticator app") != tc.site.RequireMFA {
			t.Errorf("%+v: the list's delete rule does not match the site", tc.site)
		}
		w := f.post("/.mfa/security/authenticator/delete", url.Values{"id": {strconv.FormatInt(auths[0].ID, 10)}})
		left, _ := f.st.TOTPAuthenticators(context.Background(), f.user.ID)
		if w.Code != tc.wantCode || len(left) != tc.wantCount {
			t.Errorf("%+v: delete answered %d leaving %d authenticators, want %d and %d", tc.site, w.Code, len(left), tc.wantCode, tc.wantCount)
		}
	}
}
