package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBootstrapAdminSignsIn: the newcomer path - the printed admin password
// works, the admin enrols and reaches the upstream as a member of admins.
func TestBootstrapAdminSignsIn(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := newBrowser(t, g)
	b.enrolled("admin", g.bootstrapPassword())
	if p := b.get("/"); p.status != 200 {
		t.Fatalf("admin: %d", p.status)
	}
	if got := up.lastRequest().Header.Get("Remote-Groups"); got != "admins" {
		t.Fatalf("Remote-Groups = %q", got)
	}
	// Enrolling moved the admin from enabled to enforced.
	rows := listUsers(t, g)
	if len(rows) != 1 || rows[0].Username != "admin" || rows[0].MFAState != "enforced" {
		t.Fatalf("users: %+v", rows)
	}
}

// TestCLIUserCommands drives `caddy mfa user ...` against the running
// server's store.
func TestCLIUserCommands(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	run := func(stdin string, args ...string) (string, error) {
		var in *strings.Reader
		if stdin != "" {
			in = strings.NewReader(stdin)
		}
		if in == nil {
			return g.caddy(nil, append(args, "--config", "Caddyfile")...)
		}
		return g.caddy(in, append(args, "--config", "Caddyfile")...)
	}
	if out, err := run("pw one is fine\n", "mfa", "user", "add", "Gina", "--password-stdin", "--group", "staff", "--group", "ops", "--name", "Gina G", "--email", "gina@example.com"); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if out, err := run("another fine pw\n", "mfa", "user", "add", "gina", "--password-stdin"); err == nil || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate add: %v\n%s", err, out)
	}
	if out, err := run("password1\n", "mfa", "user", "add", "weak", "--password-stdin"); err == nil ||
		!strings.Contains(out, "The password is too easy to guess: it is a very common password.") {
		t.Fatalf("weak password: %v\n%s", err, out)
	}
	if out, err := run(strings.Repeat("a", 73)+"\n", "mfa", "user", "add", "long", "--password-stdin"); err == nil || !strings.Contains(out, "longer than 72 bytes") {
		t.Fatalf("73-byte password: %v\n%s", err, out)
	}
	if out, err := run("", "mfa", "user", "add", "tty"); err == nil || !strings.Contains(out, "--password-stdin") {
		t.Fatalf("no terminal: %v\n%s", err, out)
	}
	out, err := run("", "mfa", "user", "list")
	if err != nil || !strings.Contains(out, "gina") || !strings.Contains(out, "ops,staff") || !strings.Contains(out, "Gina G") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := run("", "mfa", "user", "mfa", "gina", "enforced"); err != nil {
		t.Fatalf("mfa state: %v\n%s", err, out)
	}
	if out, err := run("", "mfa", "user", "mfa", "gina", "sometimes"); err == nil {
		t.Fatalf("bad state accepted:\n%s", out)
	}

	// passwd ends sessions: a signed-in browser is sent back to sign in.
	b := newBrowser(t, g)
	b.enrolled("gina", "pw one is fine")
	if p := b.get("/x"); p.status != 200 {
		t.Fatalf("signed in: %d", p.status)
	}
	if out, err := run("pw two is fine\n", "mfa", "user", "passwd", "gina", "--password-stdin"); err != nil {
		t.Fatalf("passwd: %v\n%s", err, out)
	}
	waitStatus(t, b, "/x", http.StatusFound)
	if p := newBrowser(t, g).login("gina", "pw two is fine", "/"); p.location != "/.mfa/verify" {
		t.Fatalf("new password: %d %q", p.status, p.location)
	}
	if out, err := run("", "mfa", "user", "remove", "gina"); err != nil {
		t.Fatalf("remove: %v\n%s", err, out)
	}
	if p := newBrowser(t, g).login("gina", "pw two is fine", "/"); p.status != 200 {
		t.Fatalf("removed user signs in: %d %q", p.status, p.location)
	}
	if out, err := run("", "mfa", "user", "remove", "gina"); err == nil || !strings.Contains(out, "no user") {
		t.Fatalf("remove twice: %v\n%s", err, out)
	}
}

// waitStatus polls until path answers status: a change made by the CLI
// reaches a node's session cache within its documented bound (5 s).
func waitStatus(t *testing.T, b *browser, path string, status int) {
	t.Helper()
	for range 70 {
		if p := b.get(path); p.status == status {
			return
		}
		sleepBriefly()
	}
	t.Fatalf("%s never answered %d", path, status)
}

// TestCLIPasswdDeletesAppPasswords: an admin's reset (after a suspected
// compromise) also revokes the user's app passwords on a running server,
// within the cache bound, unless --keep-app-passwords is given.
func TestCLIPasswdDeletesAppPasswords(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := signedIn(t, g, "carla")
	pw, p := b.createAppPassword("Phone mail")
	if pw == "" {
		t.Fatalf("no app password: %d\n%s", p.status, p.body)
	}
	wantStatus(t, basicGet(t, g, "/dav", "carla", pw), 200, "new app password")
	passwd := func(newPW string, extra ...string) string {
		t.Helper()
		args := append([]string{"mfa", "user", "passwd", "carla", "--password-stdin", "--config", "Caddyfile"}, extra...)
		out, err := g.caddy(strings.NewReader(newPW+"\n"), args...)
		if err != nil {
			t.Fatalf("passwd %v: %v\n%s", extra, err, out)
		}
		return out
	}

	if out := passwd("carla password 2", "--keep-app-passwords"); !strings.Contains(out, "app passwords were kept") {
		t.Fatalf("passwd --keep-app-passwords said:\n%s", out)
	}
	// Past the 4 s cache: the server has re-checked the store.
	time.Sleep(5500 * time.Millisecond)
	wantStatus(t, basicGet(t, g, "/dav", "carla", pw), 200, "kept app password after reset")

	if out := passwd("carla password 3"); !strings.Contains(out, "1 app passwords were deleted") {
		t.Fatalf("passwd said:\n%s", out)
	}
	deadline := time.Now().Add(6 * time.Second)
	for basicGet(t, g, "/dav", "carla", pw).StatusCode != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("app password still accepted 6 s after the admin reset the password")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCLIUnblockClearsLockout: `caddy mfa user unblock` does what the admin
// center's Unblock does: a user locked out by wrong passwords signs in at
// once with the right one (the failed sign-in counter is cleared), and
// unblocking a user who is not blocked is no error.
func TestCLIUnblockClearsLockout(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("lena", "lena password 1")
	b := newBrowser(t, g)
	for i := range 10 { // distinct: a repeat of a wrong password counts once
		b.login("lena", fmt.Sprintf("wrong password %d", i), "/")
	}
	if p := b.login("lena", "lena password 1", "/"); p.status != http.StatusOK {
		t.Fatalf("right password while locked: %d %q (not locked?)", p.status, p.location)
	}
	out, err := g.caddy(nil, "mfa", "user", "unblock", "lena", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "failed sign-in counter cleared") {
		t.Fatalf("unblock: %v\n%s", err, out)
	}
	if p := b.login("lena", "lena password 1", "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		t.Fatalf("right password after the CLI's unblock: %d %q", p.status, p.location)
	}
}
