package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
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
	wantPage(t, "result", w, http.StatusOK, "Temporary password of <strong>amy</strong>", "your own account", "valid 24 hours")
	if pws := tempPasswords(t, w.Body.String()); len(pws) != 1 {
		t.Fatalf("%d temporary passwords on the result page, want 1 (amy's; root is skipped)", len(pws))
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
	wantPage(t, "added", w, http.StatusOK, "User added", "Temporary password of <strong>nina</strong>", "valid 24 hours")
	if pws := tempPasswords(t, w.Body.String()); len(pws) != 1 {
		t.Fatalf("%d temporary passwords on the result page, want 1", len(pws))
	}
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
	if err := f.st.Update(f.ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetPassword(ctx, root.ID, "$2a$10$temporary", time.Now().Add(time.Hour))
	}); err != nil {
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

// tempPasswordRe is a temporary password as the result page shows it:
// large, in groups of four (spans, no spaces), with a Copy button
// carrying the whole password (the app password page's pattern).
var tempPasswordRe = regexp.MustCompile(`<code class="temp-password" id="temp-password-(\d+)">((?:(?:<wbr>)?<span>[A-Z0-9]{1,4}</span>)+)</code>\s*` +
	`<button type="button" class="btn small" data-copy="([A-Z0-9]+)" data-copy-what="password" aria-describedby="copy-status-(\d+)" hidden>Copy`)

// tempPasswords returns the temporary passwords on a result page, checking
// each one's groups spell its Copy button's text and its status exists.
func tempPasswords(t *testing.T, body string) []string {
	t.Helper()
	if strings.Contains(body, "24h0m0s") {
		t.Error("a Go duration on the page")
	}
	var out []string
	for _, m := range tempPasswordRe.FindAllStringSubmatch(body, -1) {
		shown := strings.NewReplacer("<wbr>", "", "<span>", "", "</span>", "").Replace(m[2])
		if shown != m[3] || len(shown) < 16 || m[1] != m[4] || !strings.Contains(body, `id="copy-status-`+m[1]+`" role="status"`) {
			t.Errorf("temporary password shown %q, copied %q, status %s/%s", shown, m[3], m[1], m[4])
		}
		if strings.Count(m[2], "<span>") < 4 {
			t.Errorf("temporary password %q not in groups of four", shown)
		}
		out = append(out, shown)
	}
	return out
}

// The user's page offers Reset password, through the same confirmation
// and result as the list's bulk action, for that one user; not on the
// admin's own page (their password is changed on Security info).
func TestResetPasswordFromTheUserPage(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	cookie := f.session(root, time.Minute)
	page := f.get("/admin/users/"+strconv.FormatInt(amy.ID, 10), cookie)
	wantPage(t, "user page", page, http.StatusOK, `id="password-form"`, `id="reset-password">Reset password</button>`)
	form := regexp.MustCompile(`(?s)<form method="post" action="/admin/action" id="password-form">(.*?)</form>`).FindStringSubmatch(page.Body.String())
	if form == nil {
		t.Fatal("no reset form")
	}
	for _, want := range []string{`name="id" value="2"`, `name="back" value="/admin/users/2"`, `name="op" value="reset-password"`} {
		if !strings.Contains(form[1], want) {
			t.Errorf("reset form lacks %s: %s", want, form[1])
		}
	}
	if strings.Contains(f.get("/admin/users/1", cookie).Body.String(), `id="password-form"`) {
		t.Error("the admin's own page offers a password reset")
	}
	before := f.fresh(amy.ID).PasswordHash
	back := []string{"back", "/admin/users/2"}
	wantPage(t, "confirmation", f.act(cookie, "reset-password", false, []*model.User{amy}, back...), http.StatusOK,
		"Reset the password?", "it works for 24 hours", "1 user", "<strong>amy</strong>", `href="/admin/users/2">Cancel`)
	if f.fresh(amy.ID).PasswordHash != before {
		t.Fatal("the confirmation changed the password")
	}
	w := f.act(cookie, "reset-password", true, []*model.User{amy}, back...)
	wantPage(t, "result", w, http.StatusOK, "Passwords reset", `href="/admin/users/2" id="result-back">Back to the user`)
	pws := tempPasswords(t, w.Body.String())
	if len(pws) != 1 {
		t.Fatalf("%d temporary passwords, want 1", len(pws))
	}
	got := f.fresh(amy.ID)
	if !got.TemporaryPassword() {
		t.Fatal("amy's password is not a temporary one")
	}
	h, err := password.NewHasher(0)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Verify(got.PasswordHash, pws[0]) {
		t.Error("the password shown (as copied) is not amy's new password")
	}
}
