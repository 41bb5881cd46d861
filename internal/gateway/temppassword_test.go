package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
)

// A user signed in with an admin's temporary password reaches only the
// page where they choose their own; the temporary one never works in
// basic auth; once chosen, the session goes on to the site.
func TestTemporaryPasswordLeadsOnlyToChoosingOne(t *testing.T) {
	g, sm, u := newGateway(t, policy.Site{})
	ctx := context.Background()
	accounts := portalCore(g).Accounts.WithActor("test")
	temp, _, err := accounts.ResetPassword(ctx, u.Username)
	if err != nil || len(temp) < 16 {
		t.Fatalf("ResetPassword = %q, %v", temp, err)
	}

	basic := httptest.NewRequest("GET", "/dav/", nil)
	basic.SetBasicAuth(u.Username, temp)
	if res, w := serve(g, basic); !res.Handled || w.Code != http.StatusUnauthorized {
		t.Fatalf("basic auth with a temporary password: %d", w.Code)
	}

	w := httptest.NewRecorder()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StageComplete, MFAAt: time.Now(), RedirectTo: "/app"}); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	get := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(cookie)
		_, w := serve(g, r)
		return w
	}
	if w := get("/app"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/password/new" {
		t.Fatalf("site with a temporary password: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := get("/.mfa/password/new"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Choose a new password") {
		t.Fatalf("choose page: %d", w.Code)
	}
	post := func(form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/.mfa/password/new", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		_, w := serve(g, r)
		return w
	}
	if w := post(url.Values{"new": {"password1"}, "repeat": {"password1"}}); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "field-error") {
		t.Fatalf("weak password: %d", w.Code)
	}
	if w := post(url.Values{"new": {"gus rides a green tractor"}, "repeat": {"gus rides a green tractor"}}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/app" {
		t.Fatalf("choosing a password: %d %q", w.Code, w.Header().Get("Location"))
	}
	if res, w := serve(g, withCookie(httptest.NewRequest("GET", "/app", nil), cookie)); res.Handled || res.User == nil {
		t.Fatalf("site after choosing a password: %d", w.Code)
	}
}

func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	r.AddCookie(c)
	return r
}
