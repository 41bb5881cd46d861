package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestChangeOwnPassword: on a running server, Security info refuses a weak
// new password with the reason, signs out everywhere else on request, and
// a password change keeps this browser signed in while it ends the user's
// other sessions and, when asked, revokes their app passwords.
func TestChangeOwnPassword(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	const user, pw, newPW = "petra", "petra password 1", "petra rides a violet tractor"
	g.addUser(user, pw, "--name", "Petra Test")
	a := newBrowser(t, g)
	secret, step := a.enrolled(user, pw)
	appPW, p := a.createAppPassword("mail")
	if appPW == "" {
		t.Fatalf("no app password: %d\n%s", p.status, p.body)
	}
	wantStatus(t, basicGet(t, g, "/dav", user, appPW), 200, "app password")

	// Sign out everywhere: another browser signed in with a code is sent
	// back to sign in; this one stays.
	b := newBrowser(t, g)
	b.login(user, pw, "/")
	if p := b.submitCode("/.mfa/verify", codeAt(t, secret, step+1)); p.status != http.StatusSeeOther {
		t.Fatalf("second browser: %d %q", p.status, p.location)
	}
	if p := a.post("/.mfa/security/sign-out-everywhere", url.Values{}); p.status != http.StatusSeeOther ||
		p.location != "/.mfa/security?done=signed-out-everywhere" {
		t.Fatalf("sign out everywhere: %d %q\n%s", p.status, p.location, p.body)
	}
	waitStatus(t, b, "/x", http.StatusFound)
	if p := a.get("/x"); p.status != 200 {
		t.Fatalf("this browser after signing out everywhere: %d", p.status)
	}

	// A weak password is refused next to its field, with the reason.
	p = a.post("/.mfa/security/password", url.Values{"current": {pw}, "new": {"petra2024"}, "repeat": {"petra2024"}})
	if p.status != 200 || !strings.Contains(p.body, `<p class="field-error" id="new-password-error">The password is too easy to guess: it contains your username`) {
		t.Fatalf("weak password: %d\n%s", p.status, p.body)
	}

	// Another browser half-way through signing in.
	c := newBrowser(t, g)
	if p := c.login(user, pw, "/"); p.location != "/.mfa/verify" {
		t.Fatalf("third browser: %d %q", p.status, p.location)
	}
	if p := c.get("/.mfa/verify"); p.status != 200 {
		t.Fatalf("third browser's code page: %d %q", p.status, p.location)
	}
	p = a.post("/.mfa/security/password", url.Values{"current": {pw}, "new": {newPW}, "repeat": {newPW}, "delete-app-passwords": {"1"}})
	if p.status != http.StatusSeeOther || p.location != "/.mfa/security?done=password-changed-app-passwords" {
		t.Fatalf("change: %d %q\n%s", p.status, p.location, p.body)
	}
	if p := a.get("/.mfa/security?done=password-changed-app-passwords"); p.status != 200 ||
		!strings.Contains(p.body, "Password changed. Your other sessions were signed out and your app passwords deleted.") {
		t.Fatalf("this browser after the change: %d\n%s", p.status, p.body)
	}
	if p := c.get("/.mfa/verify"); p.status == 200 || !strings.HasPrefix(p.location, "/.mfa/login") {
		t.Fatalf("the other browser's sign-in survived the change: %d %q", p.status, p.location)
	}
	deadline := time.Now().Add(6 * time.Second)
	for basicGet(t, g, "/dav", user, appPW).StatusCode != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("app password still accepted after the change")
		}
		sleepBriefly()
	}
	if p := newBrowser(t, g).login(user, pw, "/"); p.status != 200 {
		t.Fatalf("old password: %d %q", p.status, p.location)
	}
	if p := newBrowser(t, g).login(user, newPW, "/"); p.location != "/.mfa/verify" {
		t.Fatalf("new password: %d %q", p.status, p.location)
	}
}
