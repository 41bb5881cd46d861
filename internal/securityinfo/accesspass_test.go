package securityinfo

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// A session signed in with a Temporary Access Pass works on Security
// info for RecentMFA after the pass, then sends the browser to sign in;
// within it, only the pages that add a method answer.
func TestAccessPassSessionLastsRecentMFA(t *testing.T) {
	f := newFixture(t, time.Minute)
	start := func(ago time.Duration) *http.Cookie {
		w := httptest.NewRecorder()
		at := time.Now().Add(-ago)
		if err := f.pages.Sessions.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{
			UserID: f.user.ID, Stage: model.StageAccessPass, CreatedAt: at, MFAAt: at}); err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0]
	}
	get := func(c *http.Cookie, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		f.mux.ServeHTTP(w, r)
		return w
	}
	fresh := start(RecentMFA - time.Minute)
	if w := get(fresh, "/.mfa/security"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="access-pass-notice"`) {
		t.Fatalf("a fresh pass session: %d", w.Code)
	}
	if w := get(fresh, "/.mfa/security/add?method=authenticator"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="pending"`) {
		t.Fatalf("adding an authenticator in a fresh pass session: %d\n%s", w.Code, w.Body)
	}
	for _, path := range []string{"/.mfa/security/password", "/.mfa/security/add?method=app-password", "/.mfa/security/rename?kind=totp&id=1"} {
		if w := get(fresh, path); w.Code != http.StatusForbidden {
			t.Errorf("%s in a pass session: %d, want 403", path, w.Code)
		}
	}
	stale := start(RecentMFA)
	if w := get(stale, "/.mfa/security"); w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.mfa/login?") {
		t.Fatalf("a pass session after %v: %d %q", RecentMFA, w.Code, w.Header().Get("Location"))
	}
	if auths, _ := f.st.TOTPAuthenticators(context.Background(), f.user.ID); len(auths) != 1 {
		t.Fatal("the pages changed the methods")
	}
}

// TestAccessPassPageOffersOnlyWhatItCanUse: Security info in a pass
// session of a user with every kind of row (an authenticator app and a
// passkey, so a default to choose; an app password; few recovery codes
// left; the pass's own notice) shows no form or link the session would
// be refused (403): no default method form, no Rename or Delete, no
// Dismiss, no recovery codes, no way back to the app; the chooser it
// links to offers only methods the session can add, a passkey among
// them, and adding one ends the session as the other methods do.
func TestAccessPassPageOffersOnlyWhatItCanUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Minute).at(t, passkeySite, time.Minute)
	f.pages.cfg.Portal = passkeySite
	auth, cred := virtualwebauthn.NewAuthenticator(), newKey()
	if w := f.createPasskey(t, auth, cred, "Laptop"); w.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a passkey: %d", w.StatusCode)
	}
	if err := teststore.AddAppPassword(ctx, f.st, &model.AppPassword{UserID: f.user.ID, Name: "Mail", LookupTag: []byte("tag"), Hash: "x"}); err != nil {
		t.Fatal(err)
	}
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.ReplaceRecoveryCodes(ctx, f.user.ID, []model.RecoveryCode{{UserID: f.user.ID, LookupTag: []byte("a"), Hash: "x"}}); err != nil {
			return err
		}
		return tx.AddRecoveryNotice(ctx, &model.RecoveryNotice{UserID: f.user.ID, Kind: model.RecoveryByPass, RemoteIP: "192.0.2.1", Site: "mfa.example.com"})
	})
	// The same page in a complete session has every control.
	full := f.get(passkeySite + "/.mfa/security").Body.String()
	for _, want := range []string{`action="/.mfa/security/default"`, "security/rename?kind=passkey", "security/delete?kind=app-password",
		`id="dismiss-recovery-notice"`, `class="notice notice-warn recovery-reminder"`} {
		if !strings.Contains(full, want) {
			t.Fatalf("the complete session's page lacks %q:\n%s", want, full)
		}
	}

	w := httptest.NewRecorder()
	now := time.Now()
	if err := f.pages.Sessions.Start(w, httptest.NewRequest("GET", passkeySite+"/", nil), model.Session{
		UserID: f.user.ID, Stage: model.StageAccessPass, CreatedAt: now, MFAAt: now}); err != nil {
		t.Fatal(err)
	}
	f.cookie = w.Result().Cookies()[0]
	controls := regexp.MustCompile(`<form method="([a-z]+)" action="([^"]+)"|<a [^>]*href="([^"]+)"`)
	checkPage := func(path string) string {
		t.Helper()
		w := f.get(passkeySite + path)
		if w.Code != http.StatusOK {
			t.Fatalf("%s in a pass session: %d\n%s", path, w.Code, w.Body)
		}
		body := w.Body.String()
		for _, m := range controls.FindAllStringSubmatch(body, -1) {
			method, target := strings.ToUpper(m[1]), html.UnescapeString(m[2]+m[3])
			if method == "" {
				method = "GET"
			}
			if target == "/.mfa/logout" {
				continue // signing out is not Security info's
			}
			if !strings.HasPrefix(target, "/.mfa/security") {
				t.Errorf("%s links out of Security info in a pass session: %s %s", path, method, target)
				continue
			}
			r := httptest.NewRequest(method, passkeySite+target, strings.NewReader(""))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(f.cookie)
			w := httptest.NewRecorder()
			f.mux.ServeHTTP(w, r)
			if w.Code == http.StatusForbidden {
				t.Errorf("%s offers %s %s, which a pass session may not use (403)", path, method, target)
			}
		}
		return body
	}
	body := checkPage("/.mfa/security")
	for _, want := range []string{`id="access-pass-notice"`, "Temporary Access Pass", `id="add-method"`, "Laptop", "Mail"} {
		if !strings.Contains(body, want) {
			t.Errorf("the pass session's page lacks %q", want)
		}
	}
	if !strings.Contains(checkPage("/.mfa/security/add"), `id="add-passkey"`) {
		t.Error("the chooser of a pass session does not offer a passkey")
	}

	// A passkey added in the pass session ends it: sign in with it.
	auth2, cred2 := virtualwebauthn.NewAuthenticator(), newKey()
	res := f.createPasskey(t, auth2, cred2, "Phone passkey")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("adding a passkey in a pass session: %d", res.StatusCode)
	}
	if creds, _ := f.svc.Core.Passkeys.Credentials(ctx, f.user.ID); len(creds) != 2 {
		t.Fatalf("passkeys after adding one in a pass session: %d", len(creds))
	}
	if w := f.get(passkeySite + "/.mfa/security"); w.Code != http.StatusFound {
		t.Errorf("the pass session goes on after adding a passkey: %d", w.Code)
	}
}
