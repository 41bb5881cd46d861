package securityinfo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
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
