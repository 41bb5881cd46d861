package integration

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// autheliaArgon2id hashes pw as Authelia does by default (argon2id, m=64
// MiB, t=3, p=4, 16-byte salt, 32-byte key).
func autheliaArgon2id(pw, salt string) string {
	key := argon2.IDKey([]byte(pw), []byte(salt), 3, 64*1024, 4, 32)
	return fmt.Sprintf("$argon2id$v=19$m=65536,t=3,p=4$%s$%s", base64.RawStdEncoding.EncodeToString([]byte(salt)),
		base64.RawStdEncoding.EncodeToString(key))
}

// TestImportAutheliaUsers: `caddy mfa user import` against a running
// server's store; the argon2id user signs in through Caddy with her old
// password, enrols an authenticator and reaches the upstream with her
// groups, and her stored hash is bcrypt (the server's cost) afterwards;
// another argon2id user's account password passes basic auth and is
// upgraded the same way; the bcrypt user signs in with his hash kept.
func TestImportAutheliaUsers(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("ben's old password"), 12)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf(`users:
  ada:
    disabled: false
    displayname: "Ada Lovelace"
    password: "%s"
    email: ada@example.com
    groups: [admins-old, dev]
  ben:
    displayname: "Ben"
    password: "%s"
    groups: [dev]
  dav:
    password: "%s"
`, autheliaArgon2id("ada's old password", "ada-salt-16bytes"), bcryptHash, autheliaArgon2id("dav's old password", "dav-salt-16bytes"))
	if err := os.WriteFile(filepath.Join(g.dir, "users.yml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := g.caddy(nil, "mfa", "user", "import", "users.yml", "--dry-run", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "3 users would be imported (2 argon2id hashes") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if p := newBrowser(t, g).login("ada", "ada's old password", "/"); p.status != 200 {
		t.Fatalf("ada signs in after a dry run: %d %q", p.status, p.location)
	}
	out, err = g.caddy(nil, "mfa", "user", "import", "users.yml", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "3 users imported (2 argon2id hashes to be upgraded at first sign-in)") {
		t.Fatalf("import: %v\n%s", err, out)
	}

	hashOf := func(name string) string {
		t.Helper()
		st, err := sqlite.Open(t.Context(), filepath.Join(g.dir, "mfagate.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		u, err := st.UserByName(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	if !strings.HasPrefix(hashOf("ada"), "$argon2id$") {
		t.Fatal("ada's hash changed before she signed in")
	}

	// A wrong password changes nothing.
	if p := newBrowser(t, g).login("ada", "not her password", "/"); p.status != 200 || !strings.HasPrefix(hashOf("ada"), "$argon2id$") {
		t.Fatalf("wrong password: %d", p.status)
	}
	b := newBrowser(t, g)
	b.enrolled("ada", "ada's old password")
	if p := b.get("/docs"); p.status != 200 {
		t.Fatalf("ada after enrolling: %d", p.status)
	}
	if got := up.lastRequest().Header.Get("Remote-Groups"); got != "admins-old,dev" {
		t.Fatalf("Remote-Groups = %q", got)
	}
	if h := hashOf("ada"); !strings.HasPrefix(h, "$2a$10$") || bcrypt.CompareHashAndPassword([]byte(h), []byte("ada's old password")) != nil {
		t.Fatalf("ada's hash after her first sign-in: %q, want bcrypt at cost 10 of her password", h)
	}
	// Her password still works, now against bcrypt.
	if p := newBrowser(t, g).login("ada", "ada's old password", "/"); p.status != 303 || p.location != "/.mfa/verify" {
		t.Fatalf("ada's second sign-in: %d %q", p.status, p.location)
	}

	// dav (Enabled, no method yet) uses his account password in basic auth.
	wantStatus(t, basicGet(t, g, "/dav", "dav", "wrong"), 401, "dav, wrong password")
	wantStatus(t, basicGet(t, g, "/dav", "dav", "dav's old password"), 200, "dav, basic auth")
	if h := hashOf("dav"); !strings.HasPrefix(h, "$2a$10$") {
		t.Fatalf("dav's hash after basic auth: %q", h)
	}
	wantStatus(t, basicGet(t, g, "/dav", "dav", "dav's old password"), 200, "dav, basic auth again")

	// ben's bcrypt hash (cost 12, above the server's 10) is kept.
	bb := newBrowser(t, g)
	bb.enrolled("ben", "ben's old password")
	if h := hashOf("ben"); h != string(bcryptHash) {
		t.Fatalf("ben's hash was replaced: %q", h)
	}

	// Importing the file again is refused, naming the lines.
	out, err = g.caddy(nil, "mfa", "user", "import", "users.yml", "--config", "Caddyfile")
	if err == nil || !strings.Contains(out, `line 2: user "ada": a user of this name exists already`) {
		t.Fatalf("second import: %v\n%s", err, out)
	}
}
