package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
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
	out, err := g.caddy(nil, "mfa", "user", "list", "--json", "--config", "Caddyfile")
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	var rows []struct {
		Username string `json:"username"`
		MFAState string `json:"mfa_state"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil {
		t.Fatalf("list output: %v\n%s", err, out)
	}
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
	if out, err := run("x\n", "mfa", "user", "add", "gina", "--password-stdin"); err == nil || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate add: %v\n%s", err, out)
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
