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

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
	"github.com/mfagate/mfagate/internal/wiring"
)

type fixture struct {
	pages  *Pages
	st     store.Store
	user   *model.User
	cookie *http.Cookie
	mux    *http.ServeMux
	svc    *wiring.Services
}

// newFixture signs in an Enforced user with one authenticator; their
// second factor passed mfaAgo ago.
func newFixture(t *testing.T, mfaAgo time.Duration) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := testfixture.Services(t)
	st := svc.Store
	codes := svc.Core.Codes
	u := &model.User{Username: "ann", PasswordHash: "x", MFAState: model.MFAEnforced}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sealed, _ := codes.Seal(u.ID, make([]byte, 20))
	teststore.AddTOTP(t, st, &model.TOTPAuthenticator{UserID: u.ID, Name: "Authenticator app", SealedSecret: sealed})
	sm := svc.Sessions
	pages := New(Deps{Deps: svc.Web(nil, func(*http.Request) string { return "192.0.2.1" })},
		Config{Prefix: "/.mfa/", Issuer: "T"})
	mux := http.NewServeMux()
	for pattern, h := range pages.Routes() {
		mux.Handle(pattern, h)
	}
	w := httptest.NewRecorder()
	now := time.Now()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{
		UserID: u.ID, Stage: model.StageComplete, CreatedAt: now.Add(-mfaAgo), MFAAt: now.Add(-mfaAgo),
	}); err != nil {
		t.Fatal(err)
	}
	return &fixture{pages: pages, st: st, user: u, cookie: w.Result().Cookies()[0], mux: mux, svc: svc}
}

func (f *fixture) post(path string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(f.cookie)
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	return w
}

func TestChangesNeedRecentMFA(t *testing.T) {
	stale := newFixture(t, 11*time.Minute)
	w := stale.post("/.mfa/security/app-password", url.Values{"name": {"x"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Verify your identity") {
		t.Fatalf("stale MFA: %d\n%s", w.Code, w.Body)
	}
	if aps, _ := stale.st.AppPasswords(context.Background(), stale.user.ID); len(aps) != 0 {
		t.Fatal("app password created without recent MFA")
	}

	fresh := newFixture(t, time.Minute)
	w = fresh.post("/.mfa/security/app-password", url.Values{"name": {"Laptop mail"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="app-password"`) {
		t.Fatalf("fresh MFA: %d\n%s", w.Code, w.Body)
	}
	events, _ := fresh.st.AuditEvents(context.Background(), fresh.user.ID, 1)
	if len(events) != 1 || events[0].Event != audit.AppPasswordCreated || events[0].Detail != "Laptop mail" {
		t.Fatalf("audit: %+v", events)
	}
}

func TestLastMethodOfEnforcedUserCannotBeDeleted(t *testing.T) {
	f := newFixture(t, time.Minute)
	auths, _ := f.st.TOTPAuthenticators(context.Background(), f.user.ID)
	w := f.post("/.mfa/security/authenticator/delete", url.Values{"id": {itoa(auths[0].ID)}})
	if w.Code != http.StatusConflict {
		t.Fatalf("deleting the last method: %d", w.Code)
	}
	if left, _ := f.st.TOTPAuthenticators(context.Background(), f.user.ID); len(left) != 1 {
		t.Fatal("last method deleted")
	}
}

func TestBadInputGetsClearErrors(t *testing.T) {
	f := newFixture(t, time.Minute)
	for path, form := range map[string]url.Values{
		"/.mfa/security/app-password/delete":  {"id": {"abc"}},
		"/.mfa/security/authenticator/delete": {"id": {"99999"}},
		"/.mfa/security/default":              {"method": {"sms"}},
	} {
		w := f.post(path, form)
		if w.Code < 400 || w.Code >= 500 || !strings.Contains(w.Body.String(), "<html") {
			t.Errorf("%s %v: %d", path, form, w.Code)
		}
	}
	long := strings.Repeat("n", 65)
	if w := f.post("/.mfa/security/app-password", url.Values{"name": {long}}); !strings.Contains(w.Body.String(), "up to 64 characters") {
		t.Errorf("65-character name accepted: %d", w.Code)
	}
	if w := f.post("/.mfa/security/app-password", url.Values{"name": {"  "}}); !strings.Contains(w.Body.String(), "up to 64 characters") {
		t.Errorf("blank name accepted: %d", w.Code)
	}
}

func TestSafeNext(t *testing.T) {
	p := New(Deps{}, Config{Prefix: "/.mfa/"})
	for in, want := range map[string]string{
		"/.mfa/security/add?method=app-password": "/.mfa/security/add?method=app-password",
		"//evil.example":                         "/.mfa/security",
		"/.mfa/security/add?method=x":            "/.mfa/security",
	} {
		if got := p.safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q", in, got)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (f *fixture) get(path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(f.cookie)
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	return w
}

// Showing the "add authenticator" page stores nothing (no GET changes
// state); the sealed secret it carries opens only for this user.
func TestAddAuthenticatorPageChangesNoState(t *testing.T) {
	f := newFixture(t, time.Minute)
	w := f.get("/.mfa/security/add?method=authenticator")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `name="pending"`) {
		t.Fatalf("add page: %d", w.Code)
	}
	if len(w.Result().Cookies()) != 0 {
		t.Fatal("GET set a cookie (changed the session)")
	}
	for _, pending := range []string{"", "not-base64!", "AAAA", strings.Repeat("A", 80)} {
		w := f.post("/.mfa/security/authenticator", url.Values{"pending": {pending}, "code": {"123456"}})
		if w.Code != http.StatusBadRequest {
			t.Errorf("pending %q: %d", pending, w.Code)
		}
	}
	// A secret sealed for another user does not open for this one.
	other, _ := f.pages.Codes.Seal(f.user.ID+1, make([]byte, 20))
	w = f.post("/.mfa/security/authenticator", url.Values{"pending": {base64.RawURLEncoding.EncodeToString(other)}, "code": {"123456"}})
	if w.Code != http.StatusBadRequest {
		t.Fatalf("foreign pending secret: %d", w.Code)
	}
}

func TestDefaultMethodMustBeOneTheUserHas(t *testing.T) {
	f := newFixture(t, time.Minute)
	ctx := context.Background()
	if w := f.post("/.mfa/security/default", url.Values{"method": {"code"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("default = code with an authenticator: %d", w.Code)
	}
	auths, _ := f.st.TOTPAuthenticators(ctx, f.user.ID)
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteTOTP(ctx, f.user.ID, auths[0].ID) })
	if w := f.post("/.mfa/security/default", url.Values{"method": {"code"}}); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Add an authenticator app first") {
		t.Fatalf("default = code without an authenticator: %d", w.Code)
	}
}
