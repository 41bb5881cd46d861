package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
)

func currentCode(t *testing.T) string {
	t.Helper()
	code, err := totp.CodeAt(totp.EncodeSecret(secret), time.Now().Unix()/totp.Period)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// verifyForm returns the fields the verify step posts again.
func verifyForm(t *testing.T, body string) url.Values {
	t.Helper()
	m := regexp.MustCompile(`(?s)<form method="post" action="/admin/reverify" class="code-form" id="verify-form">(.*?)</form>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no verify form in\n%s", body)
	}
	v := url.Values{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(m[1], -1) {
		v.Add(f[1], htmlUnescape(f[2]))
	}
	return v
}

// With a second factor older than ten minutes an admin still reads every
// page; a change asks for a fresh code on its confirmation step, then
// shows the same confirmation again, and applies only on that click.
func TestStaleSecondFactorReadsAndVerifiesOnConfirmation(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	cookie := f.session(root, 11*time.Minute)
	wantPage(t, "list", f.get("/admin/", cookie), http.StatusOK, "<h1>Users</h1>", "amy")
	wantPage(t, "user", f.get("/admin/users/2", cookie), http.StatusOK, "<h1>amy</h1>")
	wantPage(t, "log", f.get("/admin/sign-ins", cookie), http.StatusOK, "<h1>Sign-in log</h1>")
	wantPage(t, "add user form", f.get("/admin/users/new", cookie), http.StatusOK, `action="/admin/users/new"`)

	notBlocked := func(what string) {
		t.Helper()
		if !f.fresh(amy.ID).BlockedAt.IsZero() {
			t.Fatalf("%s: applied without a recent second factor", what)
		}
	}
	back := []string{"back", "/admin/users/2"}
	w := f.act(cookie, "block", false, []*model.User{amy}, back...)
	wantPage(t, "stale confirmation", w, http.StatusOK, "Block sign-in?", "<strong>amy</strong>", "Verify your identity to continue",
		"second factor from the last 10 minutes", `name="then" value="action"`, `href="/admin/users/2">Cancel`)
	if strings.Contains(w.Body.String(), `name="confirmed"`) || strings.Contains(w.Body.String(), `id="confirm"`) {
		t.Error("the stale confirmation offers the Confirm button")
	}
	form := verifyForm(t, w.Body.String())
	if form.Get("op") != "block" || form.Get("id") != "2" || form.Get("back") != "/admin/users/2" || form.Has("confirmed") {
		t.Fatalf("verify step posts %v", form)
	}
	notBlocked("confirmation")
	wantPage(t, "stale confirmed post", f.act(cookie, "block", true, []*model.User{amy}, back...), http.StatusOK, `id="verify-form"`)
	notBlocked("confirmed post")

	form.Set("code", "000000")
	w = f.post("/admin/reverify", form, cookie)
	wantPage(t, "wrong code", w, http.StatusOK, "That code didn&#39;t work", "Block sign-in?", `id="verify-form"`, `aria-invalid="true"`)
	notBlocked("wrong code")

	form.Set("code", currentCode(t))
	w = f.post("/admin/reverify", form, cookie)
	wantPage(t, "right code", w, http.StatusOK, "Block sign-in?", "<strong>amy</strong>", `id="confirm-form"`,
		`name="op" value="block"`, `name="id" value="2"`, `name="back" value="/admin/users/2"`, `name="confirmed" value="yes"`, `id="confirm">Block sign-in</button>`)
	if strings.Contains(w.Body.String(), `id="verify-form"`) {
		t.Error("still asks for a code after a right one")
	}
	notBlocked("right code")
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatal("the session was not renewed")
	}
	fresh := cookies[0]
	wantPage(t, "second click", f.act(fresh, "block", true, []*model.User{amy}, back...), http.StatusOK, "Sign-in blocked")
	if f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("not applied after re-verification and confirmation")
	}
	// A reverify post without a known step is refused.
	wantPage(t, "unknown step", f.post("/admin/reverify", url.Values{"then": {"format"}, "code": {"123456"}}, fresh), http.StatusBadRequest, "Nothing was changed")
}

// Add user: without a fresh second factor the filled-in form is kept and
// a code asked for; after it the same form comes back, and only its
// submit adds the user.
func TestStaleSecondFactorAddUser(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	cookie := f.session(root, 11*time.Minute)
	nina := url.Values{"username": {"nina"}, "name": {"Nina N"}, "email": {"nina@example.com"}, "groups": {"staff"}}
	w := f.post("/admin/users/new", nina, cookie)
	wantPage(t, "stale add", w, http.StatusOK, `id="add-user-summary"`, "nina@example.com", `name="then" value="add-user"`)
	if _, err := f.svc.Core.Accounts.Get(f.ctx, "nina"); err == nil {
		t.Fatal("added without a recent second factor")
	}
	form := verifyForm(t, w.Body.String())
	form.Set("code", currentCode(t))
	w = f.post("/admin/reverify", form, cookie)
	wantPage(t, "after code", w, http.StatusOK, `action="/admin/users/new"`, `id="username" name="username" type="text" value="nina"`, `value="Nina N"`)
	if _, err := f.svc.Core.Accounts.Get(f.ctx, "nina"); err == nil {
		t.Fatal("added by the code alone")
	}
	wantPage(t, "submit", f.post("/admin/users/new", nina, w.Result().Cookies()[0]), http.StatusOK, "User added")
}

// An admin with a phone only (no code to type) reads every page; a change
// says to sign in again (which makes the second factor fresh) and is
// never applied stale.
func TestPhoneOnlyAdminReadsPages(t *testing.T) {
	f := newFixture(t)
	f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	phoney := f.user("phoney", false, core.AdminGroup)
	cookie := f.session(phoney, 11*time.Minute)
	wantPage(t, "list", f.get("/admin/", cookie), http.StatusOK, "<h1>Users</h1>")
	wantPage(t, "user", f.get("/admin/users/2", cookie), http.StatusOK, "<h1>amy</h1>")
	wantPage(t, "log", f.get("/admin/sign-ins", cookie), http.StatusOK, "<h1>Sign-in log</h1>")
	w := f.act(cookie, "block", false, []*model.User{amy})
	wantPage(t, "confirmation", w, http.StatusOK, "Block sign-in?", `id="verify-sign-in"`, `action="/.mfa/logout"`)
	if strings.Contains(w.Body.String(), `id="verify-form"`) || strings.Contains(w.Body.String(), `name="confirmed"`) {
		t.Error("a phone-only admin is offered a code or the Confirm button")
	}
	f.act(cookie, "block", true, []*model.User{amy})
	if !f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("applied without a recent second factor")
	}
	// Signed in again (second factor just now): the change goes through.
	wantPage(t, "fresh", f.act(f.session(phoney, time.Minute), "block", true, []*model.User{amy}), http.StatusOK, "Sign-in blocked")
}
