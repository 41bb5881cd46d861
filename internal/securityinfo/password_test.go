package securityinfo

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

const (
	annPassword = "orchid lantern 42 quibble"
	annNew      = "saffron mosaic drift 7 fennel"
)

// accountFixture is newFixture with a real password for ann, two more
// sessions of hers (other browsers) and one app password.
type accountFixture struct {
	*fixture
	hasher *password.Hasher
	others [][]byte
}

func newAccountFixture(t *testing.T, mfaAgo time.Duration) *accountFixture {
	t.Helper()
	ctx := context.Background()
	f := &accountFixture{fixture: newFixture(t, mfaAgo)}
	var err error
	if f.hasher, err = password.NewHasher(password.MinCost); err != nil {
		t.Fatal(err)
	}
	hash, err := f.hasher.Hash(annPassword)
	if err != nil {
		t.Fatal(err)
	}
	// Set the password keeping this browser's session.
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetPassword(ctx, f.user.ID, hash, time.Time{}); err != nil {
			return err
		}
		_, err := tx.DeleteSessions(ctx, f.user.ID, f.thisSession(t))
		return err
	})
	for i := range 2 {
		h := []byte(fmt.Sprintf("other-session-%d-of-ann-0123456789abc", i))
		if err := f.st.CreateSession(ctx, &model.Session{IDHash: h, UserID: f.user.ID, Stage: model.StageComplete}); err != nil {
			t.Fatal(err)
		}
		f.others = append(f.others, h)
	}
	ap := &model.AppPassword{UserID: f.user.ID, Name: "mail", Hash: "x", LookupTag: []byte("tag-of-ann-0123456789abcdef01234")}
	if err := teststore.AddAppPassword(ctx, f.st, ap); err != nil {
		t.Fatal(err)
	}
	return f
}

// thisSession is the hash of the fixture browser's session.
func (f *accountFixture) thisSession(t *testing.T) []byte {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(f.cookie)
	cur, err := f.pages.Sessions.Load(r)
	if err != nil || cur == nil {
		t.Fatalf("fixture session: %v", err)
	}
	return cur.IDHash()
}

// othersLeft counts the other browsers' sessions still stored.
func (f *accountFixture) othersLeft(t *testing.T) int {
	t.Helper()
	n := 0
	for _, h := range f.others {
		if _, err := f.st.SessionByHash(context.Background(), h); err == nil {
			n++
		}
	}
	return n
}

func (f *accountFixture) passwordIs(t *testing.T, pw string) bool {
	t.Helper()
	u, err := f.st.UserByID(context.Background(), f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.hasher.Verify(u.PasswordHash, pw)
}

func changeForm(current, newPW, repeat string, dropAppPasswords bool) url.Values {
	v := url.Values{"current": {current}, "new": {newPW}, "repeat": {repeat}}
	if dropAppPasswords {
		v.Set("delete-app-passwords", "1")
	}
	return v
}

// The form is behind a recent second factor; re-verification comes back
// to it.
func TestChangePasswordFormNeedsRecentMFA(t *testing.T) {
	fresh := newAccountFixture(t, time.Minute)
	w := fresh.get("/.mfa/security/password")
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "<h1>Change password</h1>") || !strings.Contains(body, `id="delete-app-passwords"`) {
		t.Fatalf("form: %d\n%s", w.Code, body)
	}

	stale := newAccountFixture(t, 11*time.Minute)
	w = stale.get("/.mfa/security/password")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Verify your identity") ||
		!strings.Contains(w.Body.String(), `name="next" value="/.mfa/security/password"`) {
		t.Fatalf("stale MFA: %d\n%s", w.Code, w.Body)
	}
	w = stale.post("/.mfa/security/password", changeForm(annPassword, annNew, annNew, false))
	if !strings.Contains(w.Body.String(), "Verify your identity") || !stale.passwordIs(t, annPassword) {
		t.Fatalf("changed without recent MFA: %d", w.Code)
	}
}

// Refusals are shown next to their field, with the reason, and change
// nothing; only a wrong current password counts as a failed attempt. No
// password is echoed back; focus moves to the first invalid field (marked
// aria-invalid), and the summary names it.
func TestChangePasswordRefusals(t *testing.T) {
	f := newAccountFixture(t, time.Minute)
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		says  string
		focus string // the first invalid field: focused
		label string // how the summary names it
	}{
		{"wrong current", changeForm("not it at all", annNew, annNew, true), "current-password-error", "That is not your current password.", "current-password", "Current password"},
		{"no current", changeForm("", annNew, annNew, true), "current-password-error", "Enter your current password.", "current-password", "Current password"},
		{"weak", changeForm(annPassword, "password1", "password1", true), "new-password-error", "The password is too easy to guess: it is a very common password.", "new-password", "New password"},
		{"name", changeForm(annPassword, "ann12345", "ann12345", true), "new-password-error", "contains your username", "new-password", "New password"},
		{"short", changeForm(annPassword, "Xk9#vQ2", "Xk9#vQ2", true), "new-password-error", "The password is too short: use at least 8 characters.", "new-password", "New password"},
		{"same", changeForm(annPassword, annPassword, annPassword, true), "new-password-error", "The new password is your current one.", "new-password", "New password"},
		{"mismatch", changeForm(annPassword, annNew, annNew+"x", true), "repeat-password-error", "The two new passwords are not the same.", "new-password", "New password and New password again"},
	} {
		w := f.post("/.mfa/security/password", tc.form)
		body := w.Body.String()
		_, msg, _ := strings.Cut(body, `<p class="field-error" id="`+tc.field+`">`)
		msg, _, _ = strings.Cut(msg, "</p>")
		if w.Code != 200 || !strings.Contains(msg, tc.says) || strings.Count(body, `class="field-error"`) != 1 {
			t.Errorf("%s: %d, want only #%s saying %q\n%s", tc.name, w.Code, tc.field, tc.says, body)
		}
		// The field points at its error.
		if !regexp.MustCompile(`<input [^>]*aria-describedby="[^"]*\b` + tc.field + `\b`).MatchString(body) {
			t.Errorf("%s: no input described by #%s", tc.name, tc.field)
		}
		if !strings.Contains(body, `checked`) {
			t.Errorf("%s: the app-password box was not kept checked", tc.name)
		}
		focused := regexp.MustCompile(`<input id="([a-z-]+)"[^>]*\bautofocus\b[^>]*>`).FindAllStringSubmatch(body, -1)
		if len(focused) != 1 || focused[0][1] != tc.focus || !strings.Contains(focused[0][0], `aria-invalid="true"`) ||
			!strings.Contains(focused[0][0], `aria-describedby="`) {
			t.Errorf("%s: focused inputs %q, want only #%s, invalid and described", tc.name, focused, tc.focus)
		}
		if regexp.MustCompile(`<input [^>]*type="password"[^>]*\bvalue=`).MatchString(body) {
			t.Errorf("%s: a password is echoed back into the form", tc.name)
		}
		if !strings.Contains(body, `id="form-error">Password not changed. Fix the field`) || !strings.Contains(body, "marked below: "+tc.label+".") {
			t.Errorf("%s: the summary does not name %q", tc.name, tc.label)
		}
	}
	if !f.passwordIs(t, annPassword) || f.othersLeft(t) != 2 || f.appPasswordCount(t) != 1 {
		t.Fatal("a refused change changed something")
	}
	fails, err := f.st.FailuresFor(context.Background(), bruteforce.AccountKey("ann"))
	if err != nil || fails.Count != 1 {
		t.Fatalf("failures %+v, %v; want only the wrong current password counted", fails, err)
	}
}

// Success: the new password works, this browser stays signed in, the
// others are signed out, the notice says so; app passwords go only when
// asked.
func TestChangePassword(t *testing.T) {
	f := newAccountFixture(t, time.Minute)
	w := f.post("/.mfa/security/password", changeForm(annPassword, annNew, annNew, false))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/security?done=password-changed" {
		t.Fatalf("change: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if !f.passwordIs(t, annNew) || f.passwordIs(t, annPassword) {
		t.Fatal("password not replaced")
	}
	if n := f.othersLeft(t); n != 0 {
		t.Errorf("%d other sessions left", n)
	}
	if f.appPasswordCount(t) != 1 {
		t.Error("app password deleted without being asked")
	}
	w = f.get("/.mfa/security?done=password-changed")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<div class="notice" role="status">Password changed. Your other sessions were signed out.</div>`) {
		t.Fatalf("this browser after the change: %d\n%s", w.Code, w.Body)
	}
	events, _ := f.st.AuditEvents(context.Background(), f.user.ID, 10)
	if len(events) == 0 || events[0].Event != audit.PasswordChanged || events[0].Detail != "changed by the user; other sessions ended" {
		t.Errorf("audit: %+v", events)
	}

	w = f.post("/.mfa/security/password", changeForm(annNew, annPassword, annPassword, true))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/security?done=password-changed-app-passwords" {
		t.Fatalf("change deleting app passwords: %d %s", w.Code, w.Header().Get("Location"))
	}
	if f.appPasswordCount(t) != 0 {
		t.Error("app passwords kept")
	}
	if w := f.get("/.mfa/security?done=password-changed-app-passwords"); !strings.Contains(w.Body.String(), "your app passwords deleted.") {
		t.Errorf("notice: %s", w.Body)
	}
}

// "Sign out everywhere" ends the other sessions and keeps this one,
// without asking for a fresh code (it only protects the account).
func TestSignOutEverywhere(t *testing.T) {
	f := newAccountFixture(t, 11*time.Minute)
	w := f.post("/.mfa/security/sign-out-everywhere", url.Values{})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/security?done=signed-out-everywhere" {
		t.Fatalf("sign out everywhere: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if n := f.othersLeft(t); n != 0 {
		t.Errorf("%d other sessions left", n)
	}
	w = f.get("/.mfa/security?done=signed-out-everywhere")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Your other sessions were signed out. This one stays signed in.") {
		t.Fatalf("this browser afterwards: %d\n%s", w.Code, w.Body)
	}
	events, _ := f.st.AuditEvents(context.Background(), f.user.ID, 1)
	if len(events) != 1 || events[0].Event != audit.SessionsEnded || events[0].RemoteIP != "192.0.2.1" {
		t.Errorf("audit: %+v", events)
	}
	if f.appPasswordCount(t) != 1 || !f.passwordIs(t, annPassword) {
		t.Error("signing out changed the password or app passwords")
	}
}

func TestSecurityInfoLinksAccountActions(t *testing.T) {
	f := newFixture(t, time.Minute)
	body := f.get("/.mfa/security").Body.String()
	for _, s := range []string{`href="/.mfa/security/password">Change password</a>`, `action="/.mfa/security/sign-out-everywhere"`} {
		if !strings.Contains(body, s) {
			t.Errorf("Security info lacks %s", s)
		}
	}
}
