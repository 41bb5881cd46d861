package admin

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
	"github.com/mfagate/mfagate/internal/wiring"
)

// secret is every test authenticator's secret.
var secret = make([]byte, 20)

type fixture struct {
	t     *testing.T
	svc   *wiring.Services
	st    store.Store
	pages *Pages
	ctx   context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	svc := testfixture.Services(t)
	pages := New(Deps{Deps: svc.Web(nil, func(*http.Request) string { return "203.0.113.9" })},
		Config{Prefix: "/.mfa/", Issuer: "T", Policy: policy.Site{RequireMFA: true}, PageSize: 50})
	return &fixture{t: t, svc: svc, st: svc.Store, pages: pages, ctx: context.Background()}
}

// user creates a user; withFactor adds an authenticator (an Enabled user
// becomes Enforced).
func (f *fixture) user(name string, withFactor bool, groups ...string) *model.User {
	f.t.Helper()
	u := &model.User{Username: name, DisplayName: "User " + name, PasswordHash: "x", MFAState: model.MFAEnabled, Groups: groups}
	if err := f.st.CreateUser(f.ctx, u); err != nil {
		f.t.Fatal(err)
	}
	if withFactor {
		sealed, err := f.svc.Core.Codes.Seal(u.ID, secret)
		if err != nil {
			f.t.Fatal(err)
		}
		teststore.Register(f.t, f.st, &model.TOTPAuthenticator{UserID: u.ID, Name: "Authenticator app", SealedSecret: sealed})
	}
	return f.fresh(u.ID)
}

func (f *fixture) fresh(id int64) *model.User {
	f.t.Helper()
	u, err := f.st.UserByID(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// session signs u in: complete, second factor mfaAgo ago (never when
// negative).
func (f *fixture) session(u *model.User, mfaAgo time.Duration) *http.Cookie {
	f.t.Helper()
	now := time.Now()
	rec := model.Session{UserID: u.ID, Stage: model.StageComplete, CreatedAt: now.Add(-time.Hour)}
	if mfaAgo >= 0 {
		rec.MFAAt = now.Add(-mfaAgo)
	}
	w := httptest.NewRecorder()
	if err := f.svc.Sessions.Start(w, httptest.NewRequest("GET", "https://mfa.example/", nil), rec); err != nil {
		f.t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

func (f *fixture) do(r *http.Request, c *http.Cookie) *httptest.ResponseRecorder {
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.pages.ServeHTTP(w, r)
	return w
}

func (f *fixture) get(path string, c *http.Cookie) *httptest.ResponseRecorder {
	return f.do(httptest.NewRequest("GET", "https://mfa.example"+path, nil), c)
}

// post sends a form as a same-origin browser does.
func (f *fixture) post(path string, form url.Values, c *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "https://mfa.example"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://mfa.example")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	return f.do(r, c)
}

func idv(us ...*model.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, strconv.FormatInt(u.ID, 10))
	}
	return out
}

// act posts op on users, confirmed or not, with more form fields.
func (f *fixture) act(c *http.Cookie, op string, confirmed bool, users []*model.User, more ...string) *httptest.ResponseRecorder {
	form := url.Values{"op": {op}, "id": idv(users...)}
	for i := 0; i+1 < len(more); i += 2 {
		form.Add(more[i], more[i+1])
	}
	if confirmed {
		form.Set("confirmed", "yes")
	}
	return f.post("/admin/action", form, c)
}

func wantPage(t *testing.T, what string, w *httptest.ResponseRecorder, status int, contains ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, w.Code, status, w.Body)
	}
	for _, s := range contains {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("%s: body lacks %q\n%s", what, s, w.Body)
		}
	}
}

// admins gives a fixture with a signed-in admin (root) and a user (amy).
func admins(t *testing.T) (*fixture, *model.User, *http.Cookie, *model.User) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true, "staff")
	return f, root, f.session(root, time.Minute), amy
}

func TestSignInFirst(t *testing.T) {
	f, _, _, amy := admins(t)
	w := f.get("/admin/users/5?x=1", nil)
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/.mfa/login?rd="+url.QueryEscape("/admin/users/5?x=1") {
		t.Fatalf("GET without session: %d %q", w.Code, w.Header().Get("Location"))
	}
	w = f.act(nil, "block", true, []*model.User{amy})
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/.mfa/login?rd=%2Fadmin%2F" {
		t.Fatalf("POST without session: %d %q", w.Code, w.Header().Get("Location"))
	}
	// A session without a second factor does not satisfy the portal's
	// policy, whatever the user's state.
	root := f.fresh(1)
	w = f.get("/admin/", f.session(root, -1))
	if w.Code != http.StatusFound {
		t.Fatalf("password-only session: %d", w.Code)
	}
	// Basic auth is no way in.
	r := httptest.NewRequest("GET", "https://mfa.example/admin/", nil)
	r.SetBasicAuth("root", "x")
	if w := f.do(r, nil); w.Code != http.StatusFound {
		t.Fatalf("basic auth: %d", w.Code)
	}
	if w := f.get("/admin", nil); w.Code/100 != 3 || w.Header().Get("Location") != "/admin/" {
		t.Errorf("/admin: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// Non-admins (and blocked admins) get 403 everywhere, and their posts
// change nothing.
func TestNonAdminForbidden(t *testing.T) {
	f, root, _, amy := admins(t)
	amyCookie := f.session(amy, time.Minute)
	for _, path := range []string{"/admin/", "/admin/users/1", "/admin/sign-ins"} {
		wantPage(t, path, f.get(path, amyCookie), http.StatusForbidden, "You don&#39;t have access", `href="/.mfa/logout"`)
	}
	wantPage(t, "post", f.act(amyCookie, "block", true, []*model.User{root}), http.StatusForbidden, "You don&#39;t have access")
	wantPage(t, "edit", f.act(amyCookie, "edit", true, []*model.User{amy}, "groups", core.AdminGroup), http.StatusForbidden)
	if got := f.fresh(root.ID); !got.BlockedAt.IsZero() {
		t.Fatal("a non-admin blocked the admin")
	}
	if got := f.fresh(amy.ID); slices.Contains(got.Groups, core.AdminGroup) {
		t.Fatal("a non-admin made themselves admin")
	}
	// A blocked admin is no admin.
	other := f.user("other", true, core.AdminGroup)
	otherCookie := f.session(other, time.Minute)
	teststore.Block(t, f.st, other.ID, "reported by the user")
	// (Blocking ended the session; a new one stands for one made before.)
	w := f.get("/admin/", otherCookie)
	if w.Code != http.StatusFound && w.Code != http.StatusForbidden {
		t.Fatalf("blocked admin: %d", w.Code)
	}
	otherCookie = f.session(other, time.Minute)
	wantPage(t, "blocked admin", f.get("/admin/", otherCookie), http.StatusForbidden)
}

func TestCrossOriginPostRefused(t *testing.T) {
	f, _, cookie, amy := admins(t)
	form := url.Values{"op": {"block"}, "id": idv(amy), "confirmed": {"yes"}}
	r := httptest.NewRequest("POST", "https://mfa.example/admin/action", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://files.example")
	wantPage(t, "cross-origin", f.do(r, cookie), http.StatusForbidden, "Request blocked")
	// Same site, another origin (an upstream next door) too.
	r = httptest.NewRequest("POST", "https://mfa.example/admin/action", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-site")
	wantPage(t, "same-site", f.do(r, cookie), http.StatusForbidden, "Request blocked")
	if !f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("a cross-origin post blocked amy")
	}
}

// Each action: the confirmation says what will happen and changes
// nothing; the confirmed post applies it and the result says what changed.
func TestActions(t *testing.T) {
	f, root, cookie, amy := admins(t)
	ctx := f.ctx
	ap := func(i int) {
		t.Helper()
		if err := teststore.AddAppPassword(ctx, f.st, &model.AppPassword{UserID: amy.ID, Name: fmt.Sprint("app ", i), Hash: "h", LookupTag: fmt.Appendf(nil, "%032d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ap(1)
	ap(2)
	amyCookie := f.session(amy, time.Minute)
	steps := []struct {
		op      string
		more    []string
		confirm []string // on the confirmation page
		result  []string // on the result page
		check   func() bool
	}{
		{"disable", nil, []string{"Disable multi-factor sign-in?", "becomes Disabled"}, []string{"Multi-factor sign-in disabled", "Enforced → Disabled"},
			func() bool { return f.fresh(amy.ID).MFAState == model.MFADisabled }},
		{"enable", nil, []string{"Enable multi-factor sign-in?"}, []string{"Disabled → Enabled"},
			func() bool { return f.fresh(amy.ID).MFAState == model.MFAEnabled }},
		{"enforce", nil, []string{"Enforce multi-factor sign-in?", "app passwords only"}, []string{"Multi-factor sign-in enforced", "Enabled → Enforced", "1 changed"},
			func() bool { return f.fresh(amy.ID).MFAState == model.MFAEnforced }},
		{"delete-app-passwords", nil, []string{"Delete all app passwords?"}, []string{"2 app passwords deleted"},
			func() bool { aps, _ := f.st.AppPasswords(ctx, amy.ID); return len(aps) == 0 }},
		{"sign-out", nil, []string{"Sign out everywhere?"}, []string{"1 session ended"},
			// amy's session (a non-admin's: 403 while it lasts) is gone.
			func() bool { return f.get("/admin/", amyCookie).Code == http.StatusFound }},
		{"reset-methods", nil, []string{"Reset sign-in methods?"}, []string{"1 sign-in method removed"},
			func() bool { a, _ := f.st.TOTPAuthenticators(ctx, amy.ID); return len(a) == 0 }},
		{"block", nil, []string{"Block sign-in?"}, []string{"Sign-in blocked", "sessions ended"},
			func() bool {
				u := f.fresh(amy.ID)
				return !u.BlockedAt.IsZero() && u.BlockedReason == "by an admin (root)"
			}},
		{"unblock", nil, []string{"Unblock sign-in?", "failed sign-in counter is cleared"}, []string{"sign-in unblocked (was blocked: by an admin (root))"},
			func() bool {
				c, _ := f.st.FailuresFor(ctx, bruteforce.AccountKey("amy"))
				return f.fresh(amy.ID).BlockedAt.IsZero() && c.Count == 0
			}},
		{"edit", []string{"display_name", "Amy Pond", "email", "amy@example.org", "groups", "staff, ops"},
			[]string{"Save the profile?", "Display name: Amy Pond. Email: amy@example.org. Groups: ops, staff."},
			[]string{"Profile saved", `name &#34;User amy&#34; → &#34;Amy Pond&#34;`},
			func() bool {
				u := f.fresh(amy.ID)
				return u.DisplayName == "Amy Pond" && u.Email == "amy@example.org" && slices.Equal(u.Groups, []string{"ops", "staff"})
			}},
	}
	// A lockout for unblock to clear.
	if _, _, err := f.st.ClaimFailure(ctx, bruteforce.AccountKey("amy"), time.Now(), time.Hour, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		before := f.fresh(amy.ID)
		w := f.act(cookie, s.op, false, []*model.User{amy}, append(s.more, "back", "/admin/users/2")...)
		wantPage(t, s.op+" confirmation", w, http.StatusOK, append(s.confirm, `name="confirmed" value="yes"`, `name="op" value="`+s.op+`"`,
			`<strong>amy</strong>`, `href="/admin/users/2">Cancel`)...)
		if after := f.fresh(amy.ID); !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("%s: the confirmation page changed amy", s.op)
		}
		w = f.act(cookie, s.op, true, []*model.User{amy}, append(s.more, "back", "/admin/users/2")...)
		wantPage(t, s.op+" result", w, http.StatusOK, append(s.result, `href="/admin/users/2" id="result-back">Back to the user`)...)
		if !s.check() {
			t.Fatalf("%s: not applied", s.op)
		}
	}
	events, _ := f.st.AuditEvents(ctx, amy.ID, 100)
	byAdmin := 0
	for _, e := range events {
		if strings.HasSuffix(e.Detail, "by admin root (admin center)") && e.RemoteIP == "203.0.113.9" {
			byAdmin++
		}
	}
	if byAdmin != len(steps) {
		t.Errorf("%d of %d changes audited with the admin and IP: %+v", byAdmin, len(steps), events)
	}
	// Settings: several at once.
	ap(3)
	w := f.act(cookie, "settings", false, []*model.User{amy}, "do", "delete-app-passwords", "do", "sign-out")
	wantPage(t, "settings confirmation", w, http.StatusOK, "Save these user settings?", `name="do" value="delete-app-passwords"`, `name="do" value="sign-out"`)
	w = f.act(cookie, "settings", true, []*model.User{amy}, "do", "delete-app-passwords", "do", "sign-out", "do", "format-disk")
	wantPage(t, "settings result", w, http.StatusOK, "User settings saved", "App passwords: 1 app password deleted", "Sessions: had no sessions")
	// Remove.
	w = f.act(cookie, "remove", true, []*model.User{amy}, "back", "/admin/users/2")
	wantPage(t, "remove", w, http.StatusOK, "user removed", `href="/admin/" id="result-back">Back to the users`)
	if _, err := f.st.UserByID(ctx, amy.ID); err == nil {
		t.Fatal("amy not removed")
	}
	wantPage(t, "gone", f.act(cookie, "sign-out", false, []*model.User{amy}), http.StatusNotFound, "no longer exist")
	_ = root
}

// In a bulk action the admin's own row is skipped, and both pages say so.
func TestBulkSkipsOwnAccount(t *testing.T) {
	f, root, cookie, amy := admins(t)
	bob := f.user("bob", false)
	users := []*model.User{amy, root, bob}
	wantPage(t, "confirmation", f.act(cookie, "block", false, users), http.StatusOK, "3 users", "<strong>root</strong> (User root) — <em>skipped: your own account</em>")
	wantPage(t, "result", f.act(cookie, "block", true, users), http.StatusOK, "2 changed, 1 skipped", "your own account")
	if !f.fresh(root.ID).BlockedAt.IsZero() || f.fresh(amy.ID).BlockedAt.IsZero() || f.fresh(bob.ID).BlockedAt.IsZero() {
		t.Fatal("bulk block: wrong users blocked")
	}
	// Own groups are not editable; own name is.
	wantPage(t, "own groups", f.act(cookie, "edit", true, []*model.User{root}, "display_name", "Root", "groups", "staff"),
		http.StatusOK, "Nothing was changed", "your own account")
	wantPage(t, "own name", f.act(cookie, "edit", true, []*model.User{root}, "display_name", "Root", "groups", core.AdminGroup),
		http.StatusOK, "Profile saved")
	// The last admin stays: another admin without a second factor
	// cannot demote root.
	helper := f.user("helper", false, core.AdminGroup)
	// (Its session passed a second factor it no longer has.)
	wantPage(t, "last admin", f.act(f.session(helper, time.Minute), "edit", true, []*model.User{root}, "groups", ""),
		http.StatusOK, "Refused", "last admin")
	if !slices.Contains(f.fresh(root.ID).Groups, core.AdminGroup) {
		t.Fatal("the last admin was demoted")
	}
}

func TestBadInput(t *testing.T) {
	f, _, cookie, amy := admins(t)
	for name, form := range map[string]url.Values{
		"no users":    {"op": {"block"}},
		"bad id":      {"op": {"block"}, "id": {"x"}},
		"unknown op":  {"op": {"format"}, "id": idv(amy)},
		"no settings": {"op": {"settings"}, "id": idv(amy)},
		"bad group":   {"op": {"edit"}, "id": idv(amy), "groups": {"a\u202eb"}},
		"bad email":   {"op": {"edit"}, "id": idv(amy), "email": {"not an address"}},
		"edit two":    {"op": {"edit"}, "id": {"1", "2"}},
	} {
		form.Set("confirmed", "yes")
		form.Set("back", "https://evil.example/")
		w := f.post("/admin/action", form, cookie)
		wantPage(t, name, w, http.StatusBadRequest, "Nothing was changed", `href="/admin/"`)
	}
	if u := f.fresh(amy.ID); !u.BlockedAt.IsZero() || u.DisplayName != "User amy" {
		t.Fatal("bad input changed amy")
	}
	wantPage(t, "unknown user", f.get("/admin/users/999", cookie), http.StatusNotFound, "No such user")
	wantPage(t, "bad user id", f.get("/admin/users/abc", cookie), http.StatusNotFound)
	wantPage(t, "unknown page", f.get("/admin/nope", cookie), http.StatusNotFound)
	if w := f.post("/admin/", url.Values{}, cookie); w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /admin/: %d", w.Code)
	}
}

func TestUsersList(t *testing.T) {
	f, root, cookie, amy := admins(t)
	for i := range 120 {
		u := &model.User{Username: fmt.Sprintf("user%03d", i), DisplayName: fmt.Sprintf("Person %03d", i), PasswordHash: "x", MFAState: model.MFADisabled}
		if i%10 == 0 {
			u.MFAState = model.MFAEnforced
		}
		if err := f.st.CreateUser(f.ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	teststore.Block(t, f.st, amy.ID, "reported by the user")
	if _, _, err := f.st.ClaimFailure(f.ctx, bruteforce.AccountKey("user005"), time.Now(), time.Hour, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	wantPage(t, "page 1", f.get("/admin/", cookie), http.StatusOK, "1–50 of 122 users", `<a href="/admin/users/1" class="admin-user">root</a> <span class="badge">you</span> <span class="badge">admin</span>`,
		`id="next-page"`, `href="/admin/?page=2"`, "1 authenticator app")
	w := f.get("/admin/?page=3", cookie)
	wantPage(t, "page 3", w, http.StatusOK, "101–122 of 122 users", `href="/admin/?page=2" rel="prev"`)
	if strings.Contains(w.Body.String(), `id="next-page"`) {
		t.Error("last page has a next link")
	}
	wantPage(t, "search", f.get("/admin/?q=PERSON+01", cookie), http.StatusOK, "1–10 of 10 users", "user019")
	wantPage(t, "blocked", f.get("/admin/?status=blocked", cookie), http.StatusOK, "1–1 of 1 users", "Blocked: reported by the user")
	wantPage(t, "locked", f.get("/admin/?status=locked", cookie), http.StatusOK, "1–1 of 1 users", "user005", "Locked until ")
	wantPage(t, "enforced", f.get("/admin/?mfa=enforced", cookie), http.StatusOK, "1–14 of 14 users")
	w = f.get("/admin/?sort=name&dir=desc&mfa=disabled", cookie)
	wantPage(t, "sorted", w, http.StatusOK, `aria-sort="descending"`, `href="/admin/?mfa=disabled&amp;sort=name"`, "1–50 of 108 users")
	if i, j := strings.Index(w.Body.String(), "user119"), strings.Index(w.Body.String(), "user118"); i < 0 || j < 0 || i > j {
		t.Error("not sorted by name, descending")
	}
	wantPage(t, "none", f.get("/admin/?q=nobody", cookie), http.StatusOK, "No users match.")
	wantPage(t, "bad values fall back", f.get("/admin/?sort=password_hash&status=x&mfa=y&page=-4", cookie), http.StatusOK, "1–50 of 122 users")
	wantPage(t, "user page", f.get("/admin/users/"+strconv.FormatInt(amy.ID, 10), cookie), http.StatusOK,
		"<h1>amy</h1>", "Unblock sign-in", "staff", `href="/admin/sign-ins?user=amy"`)
	_ = root
}

func TestSignInLog(t *testing.T) {
	f, root, cookie, amy := admins(t)
	f.pages.cfg.PageSize = 3
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := range 7 {
		e := model.SignIn{At: base.Add(time.Duration(i) * time.Hour), UserID: amy.ID, Username: "amy", Site: "files.example",
			RemoteIP: "192.0.2.1", Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: "code", Result: model.SignInSuccess}
		if i%2 == 1 {
			e.Result, e.Reason, e.SecondFactor = model.SignInFailure, "wrong password", ""
		}
		if i == 6 {
			e.UserID, e.Username, e.Site = root.ID, "root", "mfa.example"
		}
		if err := f.st.AppendSignIn(f.ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	w := f.get("/admin/sign-ins", cookie)
	wantPage(t, "newest", w, http.StatusOK, "root", "mfa.example", "password &#43; code", "Failed</strong>: wrong password", `id="older-page"`)
	older := regexpFind(t, w.Body.String(), `href="([^"]*)" rel="next" id="older-page"`)
	w = f.get(htmlUnescape(older), cookie)
	wantPage(t, "older", w, http.StatusOK, `id="newest-page"`)
	wantPage(t, "amy's failures", f.get("/admin/sign-ins?user=AMY&result=failure", cookie), http.StatusOK, "wrong password")
	w = f.get("/admin/sign-ins?user=amy&result=failure&since=2026-11-25&until=2026-11-25", cookie)
	wantPage(t, "range", w, http.StatusOK)
	if n := strings.Count(w.Body.String(), "wrong password"); n != 3 {
		t.Errorf("failures of amy that day: %d rows, want 3 (11:00, 13:00, 15:00)", n)
	}
	wantPage(t, "range after", f.get("/admin/sign-ins?since=2026-11-26", cookie), http.StatusOK, "No sign-ins match.")
	wantPage(t, "site", f.get("/admin/sign-ins?site=mfa.example", cookie), http.StatusOK, "root")
	wantPage(t, "unknown user", f.get("/admin/sign-ins?user=nobody", cookie), http.StatusBadRequest, "There is no user named")
	wantPage(t, "bad time", f.get("/admin/sign-ins?since=yesterday", cookie), http.StatusBadRequest, "not a date")
	wantPage(t, "none", f.get("/admin/sign-ins?site=nowhere", cookie), http.StatusOK, "No sign-ins match.")
}

func TestAuditRefusal(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	helper := f.user("helper", false, core.AdminGroup)
	w := f.act(f.session(helper, time.Minute), "block", true, []*model.User{root})
	wantPage(t, "refused", w, http.StatusOK, "Nothing was changed", "Refused")
	ev, _ := f.st.AuditEvents(f.ctx, root.ID, 1)
	if len(ev) != 1 || ev[0].Event != audit.AdminRefused || ev[0].RemoteIP != "203.0.113.9" {
		t.Fatalf("refusal audit: %+v", ev)
	}
}

func regexpFind(t *testing.T, body, expr string) string {
	t.Helper()
	m := regexp.MustCompile(expr).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in\n%s", expr, body)
	}
	return m[1]
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }
