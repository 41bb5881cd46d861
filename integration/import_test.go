package integration

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
// server's store (bcrypt_cost 10); the argon2id user (Authelia's default
// parameters, which still import) signs in through Caddy with her old
// password, enrols an authenticator and reaches the upstream with her
// groups, and her stored hash is bcrypt (the server's cost) afterwards;
// another argon2id user's account password passes basic auth and is
// upgraded the same way; the bcrypt user (cost 11, twice the server's)
// signs in and his hash is bcrypt at the server's cost afterwards. A
// bcrypt hash at cost 12 (four checks) refuses the file, naming its line;
// with --allow-reset that user is imported with no usable password: her
// old password works nowhere, browser or basic auth, until reset-password
// gives her a temporary one.
func TestImportAutheliaUsers(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("ben's old password"), 11)
	if err != nil {
		t.Fatal(err)
	}
	costly, err := bcrypt.GenerateFromPassword([]byte("eve's old password"), 12)
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
  eve:
    password: "%s"
`, autheliaArgon2id("ada's old password", "ada-salt-16bytes"), bcryptHash, autheliaArgon2id("dav's old password", "dav-salt-16bytes"), costly)
	if err := os.WriteFile(filepath.Join(g.dir, "users.yml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := g.caddy(nil, "mfa", "user", "import", "users.yml", "--dry-run", "--config", "Caddyfile")
	if err == nil || !strings.Contains(out, `line 15: user "eve": password: password hash too costly to check`) ||
		!strings.Contains(out, "costs about 4.0 checks") || !strings.Contains(out, "--allow-reset") {
		t.Fatalf("dry run with a costly hash: %v\n%s", err, out)
	}
	out, err = g.caddy(nil, "mfa", "user", "import", "users.yml", "--dry-run", "--allow-reset", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "4 users would be imported (3 hashes to be replaced by bcrypt cost 10 at first sign-in); 1 with no usable password") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if p := newBrowser(t, g).login("ada", "ada's old password", "/"); p.status != 200 {
		t.Fatalf("ada signs in after a dry run: %d %q", p.status, p.location)
	}
	out, err = g.caddy(nil, "mfa", "user", "import", "users.yml", "--allow-reset", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "4 users imported (3 hashes to be replaced by bcrypt cost 10 at first sign-in); 1 with no usable password") {
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

	// ben's bcrypt hash (cost 11, above the server's 10) is replaced by
	// bcrypt at cost 10 at his first sign-in.
	bb := newBrowser(t, g)
	bb.enrolled("ben", "ben's old password")
	if h := hashOf("ben"); !strings.HasPrefix(h, "$2a$10$") || bcrypt.CompareHashAndPassword([]byte(h), []byte("ben's old password")) != nil {
		t.Fatalf("ben's hash after his first sign-in: %q, want bcrypt at cost 10 of his password", h)
	}

	// eve has no usable password: nothing signs her in until an admin
	// resets it.
	for _, pw := range []string{"eve's old password", "", "wrong"} {
		want := "incorrect"
		if pw == "" { // an empty field is asked for, never judged
			want = "Enter your password."
		}
		if p := newBrowser(t, g).login("eve", pw, "/"); p.status != 200 || !strings.Contains(p.body, want) {
			t.Fatalf("eve with %q: %d %q", pw, p.status, p.location)
		}
		wantStatus(t, basicGet(t, g, "/dav", "eve", pw), 401, "eve in basic auth")
	}
	out, err = g.caddy(nil, "mfa", "user", "reset-password", "eve", "--config", "Caddyfile")
	m := regexp.MustCompile(`shown once\): (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	if p := newBrowser(t, g).login("eve", m[1], "/"); p.status != 303 || p.location != "/.mfa/enrol" {
		t.Fatalf("eve's temporary password: %d %q", p.status, p.location)
	}

	// Importing the file again is refused, naming the lines.
	out, err = g.caddy(nil, "mfa", "user", "import", "users.yml", "--allow-reset", "--config", "Caddyfile")
	if err == nil || !strings.Contains(out, `line 2: user "ada": a user of this name exists already`) {
		t.Fatalf("second import: %v\n%s", err, out)
	}
}
