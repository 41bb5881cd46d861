package integration

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// adminTempPasswordRE finds a temporary password on a result page: its
// Copy button carries it whole (the code shows it in groups).
var adminTempPasswordRE = regexp.MustCompile(`<code class="temp-password" id="temp-password-\d+">(?:(?:<wbr>)?<span>[A-Z0-9]{1,4}</span>)+</code>\s*<button type="button" class="btn small" data-copy="([A-Z0-9]{16,})"`)

// TestAdminResetPasswordSeenByTheUser: after an admin's Reset password the
// old password fails, the temporary one never works in basic auth, and
// after the password and the code the user reaches only "Choose a new
// password" until they set their own; then the site. Add user works the
// same way.
func TestAdminResetPasswordSeenByTheUser(t *testing.T) {
	e := adminStart(t, "")
	root := e.signedInAdmin()
	const fay, fayPW = "fay", "fay password 1"
	e.g.addUser(fay, fayPW)
	b := newBrowser(t, e.g)
	secret, _ := b.enrolled(fay, fayPW)

	res := root.act("reset-password", []string{root.userID(fay)})
	adminWantResult(t, "reset password", res, "temporary password set")
	m := adminTempPasswordRE.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no temporary password on the result page\n%s", res.body)
	}
	temp := m[1]

	if p := b.get("/x", "Accept", "text/html"); p.status != http.StatusFound {
		t.Fatalf("fay's session after the reset: %d, want the sign-in", p.status)
	}
	if p := b.login(fay, fayPW, "/x"); p.status != http.StatusOK || !strings.Contains(p.body, "incorrect") {
		t.Fatalf("old password after the reset: %d %q", p.status, p.location)
	}
	if s := e.basicStatus(fay, temp); s != http.StatusUnauthorized {
		t.Fatalf("temporary password in basic auth: %d, want 401", s)
	}
	if p := b.login(fay, temp, "/x"); p.status != http.StatusSeeOther || p.location != "/.mfa/verify" {
		t.Fatalf("temporary password: %d %q", p.status, p.location)
	}
	if p := b.submitCode("/.mfa/verify", codeAt(t, secret, currentStep()+1)); p.status != http.StatusSeeOther {
		t.Fatalf("code: %d\n%s", p.status, p.body)
	}
	if p := b.get("/x", "Accept", "text/html"); p.status != http.StatusSeeOther || p.location != "/.mfa/password/new" {
		t.Fatalf("/x with a temporary password: %d %q, want Choose a new password", p.status, p.location)
	}
	// Security info is on the portal (which signs fay in on its own).
	if p := b.get("/.mfa/security", "Accept", "text/html"); p.status != http.StatusFound || p.location != e.portal+"/.mfa/security" {
		t.Fatalf("/.mfa/security on the site with a portal: %d %q, want the portal's", p.status, p.location)
	}
	if p := b.post("/.mfa/password/new", url.Values{"new": {"password1"}, "repeat": {"password1"}}); p.status != http.StatusOK || !strings.Contains(p.body, "field-error") {
		t.Fatalf("weak new password: %d", p.status)
	}
	const own = "fay picks a lilac umbrella"
	if p := b.post("/.mfa/password/new", url.Values{"new": {own}, "repeat": {own}}); p.status != http.StatusSeeOther || p.location != "/x" {
		t.Fatalf("choosing a password: %d %q\n%s", p.status, p.location, p.body)
	}
	if p := b.get("/x"); p.status != http.StatusOK || !strings.Contains(p.body, `"fay"`) {
		t.Fatalf("the site after choosing a password: %d\n%s", p.status, p.body)
	}

	// Add user: a temporary password, then enrolment, then one's own.
	add := root.post("/admin/users/new", url.Values{"username": {"gil"}, "name": {"Gil"}})
	m = adminTempPasswordRE.FindStringSubmatch(add.body)
	if add.status != http.StatusOK || m == nil {
		t.Fatalf("add user: %d\n%s", add.status, add.body)
	}
	g := newBrowser(t, e.g)
	if p := g.login("gil", m[1], "/y"); p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		t.Fatalf("new user's first sign-in: %d %q", p.status, p.location)
	}
}

// TestAdminWithTemporaryPasswordChoosesOneFirst: an admin given a
// temporary password with `caddy mfa user reset-password` signs in on the
// portal and is sent to "Choose a new password" first; the admin center
// shows and changes nothing until then, and works once it is chosen.
func TestAdminWithTemporaryPasswordChoosesOneFirst(t *testing.T) {
	e := adminStart(t, "")
	e.g.addUser("ada", "ada password 1", "--group", "admins")
	out, err := e.g.caddy(nil, "mfa", "user", "reset-password", "ada", "--config", "Caddyfile")
	m := regexp.MustCompile(`shown once\): (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	ada := e.client()
	if _, p := ada.signIn("ada", m[1], ""); p.status != http.StatusOK || !strings.Contains(p.body, "Choose a new password") || strings.Contains(p.body, "<h1>Users</h1>") {
		t.Fatalf("the admin's sign-in with a temporary password ended at %d, want Choose a new password\n%s", p.status, p.body)
	}
	if p := ada.get("/admin/"); p.status != http.StatusSeeOther || p.location != "/.mfa/password/new" {
		t.Fatalf("the admin center with a temporary password: %d %q", p.status, p.location)
	}
	if p := ada.post("/admin/users/new", url.Values{"username": {"mallory"}}); p.status != http.StatusForbidden {
		t.Fatalf("adding a user with a temporary password: %d", p.status)
	}
	const own = "ada picks a teal bicycle"
	if p := ada.post("/.mfa/password/new", url.Values{"new": {own}, "repeat": {own}}); p.status != http.StatusSeeOther || p.location != "/admin/" {
		t.Fatalf("choosing a password: %d %q", p.status, p.location)
	}
	if p := ada.get("/admin/"); p.status != http.StatusOK || !strings.Contains(p.body, "<h1>Users</h1>") || strings.Contains(p.body, `data-user="mallory"`) {
		t.Fatalf("the admin center after choosing a password: %d\n%s", p.status, p.body)
	}
}
