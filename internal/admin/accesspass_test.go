package admin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// The user page issues a Temporary Access Pass only after the admin
// re-verifies: a stale session's confirmed post asks for a code and
// stores nothing; the code's step keeps the lifetime and one-time
// choice; after it the pass is shown once with a Copy button. An admin
// gets no such form on their own page, and a post for themselves is
// skipped; a multi-use pass longer than 8 hours is refused.
func TestAdminIssuesAccessPassAfterReverifying(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	noPass := func(what string, u *model.User) {
		t.Helper()
		if _, err := f.st.AccessPass(f.ctx, u.ID); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("%s: a pass was stored (%v)", what, err)
		}
	}
	stale := f.session(root, 11*time.Minute)
	wantPage(t, "user page", f.get("/admin/users/2", stale), http.StatusOK, `id="access-pass-form"`, `name="op" value="access-pass"`,
		`id="pass-lifetime"`, `id="pass-once"`, "No pass issued.")
	if w := f.get("/admin/users/1", stale); strings.Contains(w.Body.String(), `id="access-pass-form"`) {
		t.Error("the admin's own page offers a pass")
	}
	more := []string{"lifetime", "24h", "once", "yes", "back", "/admin/users/2"}
	w := f.act(stale, "access-pass", true, []*model.User{amy}, more...)
	wantPage(t, "stale confirmed post", w, http.StatusOK, "Issue a Temporary Access Pass?", "It works for one sign-in within 24 hours", `id="verify-form"`)
	noPass("stale confirmed post", amy)
	form := verifyForm(t, w.Body.String())
	if form.Get("lifetime") != "24h" || form.Get("once") != "yes" || form.Get("op") != "access-pass" {
		t.Fatalf("the verify step posts %v", form)
	}
	form.Set("code", currentCode(t))
	w = f.post("/admin/reverify", form, stale)
	wantPage(t, "re-verified", w, http.StatusOK, `id="confirm-form"`, `name="lifetime" value="24h"`, `name="once" value="yes"`)
	noPass("re-verified, not confirmed", amy)
	fresh := w.Result().Cookies()[0]

	w = f.act(fresh, "access-pass", true, []*model.User{amy}, more...)
	wantPage(t, "issued", w, http.StatusOK, "Temporary Access Pass issued", "Temporary Access Pass of <strong>amy</strong>",
		`data-copy-what="pass"`, "one-time, valid 24 hours")
	m := regexp.MustCompile(`data-copy="([0-9A-Z]{16})"`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no pass to copy on the result page:\n%s", w.Body)
	}
	ap, err := f.st.AccessPass(f.ctx, amy.ID)
	if err != nil || !ap.Once || time.Until(ap.ExpiresAt) > 24*time.Hour || time.Until(ap.ExpiresAt) < 23*time.Hour ||
		!strings.Contains(ap.IssuedBy, "admin root (admin center)") || strings.Contains(ap.Hash, m[1]) {
		t.Fatalf("stored pass %+v, %v", ap, err)
	}
	wantPage(t, "user page with a pass", f.get("/admin/users/2", fresh), http.StatusOK, "A one-time pass issued")

	wantPage(t, "self", f.act(fresh, "access-pass", true, []*model.User{root}), http.StatusOK, "your own account")
	noPass("self", root)
	wantPage(t, "9h multi-use", f.act(fresh, "access-pass", true, []*model.User{amy}, "lifetime", "9h"), http.StatusBadRequest, "at most 8 hours")
	if again, _ := f.st.AccessPass(f.ctx, amy.ID); again == nil || again.ID != ap.ID {
		t.Error("a refused pass replaced the issued one")
	}
}

// A session signed in with a Temporary Access Pass never reaches the
// admin center, not even an admin's: its pages and its re-verification
// send it to sign in.
func TestAccessPassSessionNeverReachesTheAdminCenter(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	w := passSession(t, f, root)
	for _, path := range []string{"/admin/", "/admin/users/1"} {
		if got := f.get(path, w); got.Code != http.StatusFound || !strings.HasPrefix(got.Header().Get("Location"), "/.mfa/login?") {
			t.Errorf("GET %s with a pass session: %d %q", path, got.Code, got.Header().Get("Location"))
		}
	}
	form := url.Values{"then": {"action"}, "op": {"block"}, "id": {"1"}, "code": {currentCode(t)}}
	if got := f.post("/admin/reverify", form, w); got.Code != http.StatusFound {
		t.Errorf("re-verification with a pass session: %d", got.Code)
	}
}

// passSession starts a pass session of u (its second factor now, as the
// pass gives it).
func passSession(t *testing.T, f *fixture, u *model.User) *http.Cookie {
	t.Helper()
	now := time.Now()
	w := httptest.NewRecorder()
	if err := f.svc.Sessions.Start(w, httptest.NewRequest("GET", "https://mfa.example/", nil),
		model.Session{UserID: u.ID, Stage: model.StageAccessPass, CreatedAt: now, MFAAt: now}); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}
