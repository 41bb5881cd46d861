package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// Reset password shows each temporary password once, on the result page;
// the user's password becomes a temporary one; the admin's own row is
// skipped.
func TestResetPasswordShowsTheTemporaryPasswordOnce(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	cookie := f.session(root, time.Minute)
	before := f.fresh(amy.ID).PasswordHash

	wantPage(t, "confirmation", f.act(cookie, "reset-password", false, []*model.User{amy, root}), http.StatusOK,
		"Reset the password?", "shown once on the next page")
	if f.fresh(amy.ID).PasswordHash != before {
		t.Fatal("the confirmation page changed the password")
	}
	w := f.act(cookie, "reset-password", true, []*model.User{amy, root})
	wantPage(t, "result", w, http.StatusOK, "Temporary password:", "your own account")
	m := regexp.MustCompile(`<code class="temp-password">([A-Z0-9]{16,})</code>`).FindAllStringSubmatch(w.Body.String(), -1)
	if len(m) != 1 {
		t.Fatalf("%d temporary passwords on the result page, want 1 (amy's; root is skipped)", len(m))
	}
	got := f.fresh(amy.ID)
	if got.PasswordHash == before || !got.TemporaryPassword() || time.Until(got.PasswordExpiresAt) > core.TemporaryPasswordTTL {
		t.Fatalf("amy after the reset: temporary %v until %v", got.TemporaryPassword(), got.PasswordExpiresAt)
	}
	if f.fresh(root.ID).TemporaryPassword() {
		t.Error("the admin's own password was reset")
	}
}

// Add user creates the user with a temporary password shown once; a taken
// name or a bad one is refused with the form kept.
func TestAddUserWithTemporaryPassword(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	cookie := f.session(root, time.Minute)
	wantPage(t, "form", f.get("/admin/users/new", cookie), http.StatusOK, "Add user", `action="/admin/users/new"`)
	w := f.post("/admin/users/new", url.Values{"username": {"Nina"}, "name": {"Nina N"}, "email": {"nina@example.com"}, "groups": {"staff, dev"}}, cookie)
	wantPage(t, "added", w, http.StatusOK, "User added", "Temporary password:")
	u, err := f.svc.Core.Accounts.Get(context.Background(), "nina")
	if err != nil || !u.TemporaryPassword() || u.MFAState != model.MFAEnabled || len(u.Groups) != 2 || u.DisplayName != "Nina N" {
		t.Fatalf("added user = %+v, %v", u, err)
	}
	wantPage(t, "taken", f.post("/admin/users/new", url.Values{"username": {"nina"}}, cookie), http.StatusBadRequest, "was not added", `value="nina"`)
	wantPage(t, "bad name", f.post("/admin/users/new", url.Values{"username": {"nina kim"}}, cookie), http.StatusBadRequest, "was not added")
	amy := f.user("amy", true)
	wantPage(t, "non-admin", f.get("/admin/users/new", f.session(amy, time.Minute)), http.StatusForbidden, "have access")
}

// An admin whose password is an admin's temporary one (after Reset
// password, Add user or the CLI's reset-password) is sent to choose their
// own and can neither see nor change anything in the admin center until
// then.
func TestTemporaryPasswordKeepsAdminOut(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	if _, err := f.st.SetTemporaryPassword(f.ctx, root.ID, "$2a$10$temporary", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cookie := f.session(root, time.Minute)
	for _, path := range []string{"/admin/", "/admin/users/" + idv(amy)[0], "/admin/sign-ins", "/admin/users/new"} {
		w := f.get(path, cookie)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/password/new" || strings.Contains(w.Body.String(), "amy") {
			t.Errorf("GET %s with a temporary password: %d %q", path, w.Code, w.Header().Get("Location"))
		}
	}
	before := f.fresh(amy.ID)
	wantPage(t, "reset with a temporary password", f.act(cookie, "reset-password", true, []*model.User{amy}),
		http.StatusForbidden, "Choose a new password first")
	wantPage(t, "block with a temporary password", f.act(cookie, "block", true, []*model.User{amy}),
		http.StatusForbidden, "Choose a new password first")
	wantPage(t, "add user with a temporary password", f.post("/admin/users/new", url.Values{"username": {"mallory"}}, cookie),
		http.StatusForbidden, "Choose a new password first")
	if after := f.fresh(amy.ID); after.PasswordHash != before.PasswordHash || after.TemporaryPassword() || !after.BlockedAt.IsZero() {
		t.Errorf("amy was changed by an admin with a temporary password: %+v", after)
	}
	if _, err := f.svc.Core.Accounts.Get(f.ctx, "mallory"); err == nil {
		t.Error("a user was added by an admin with a temporary password")
	}
}
