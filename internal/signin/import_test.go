package signin

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/userimport"
)

// TestImportedUsersSignIn: users imported from an Authelia file, one with
// a bcrypt hash and one with an argon2id hash, both sign in with their
// old passwords (on to enrolment: they are Enabled, without methods); the
// argon2id hash is bcrypt at the server's cost after the first sign-in,
// and the second sign-in checks that.
func TestImportedUsersSignIn(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	salt := []byte("authelia-salt-16")
	key := argon2.IDKey([]byte("ada's old authelia password"), salt, 2, 4096, 2, 32)
	argonHash := fmt.Sprintf("$argon2id$v=19$m=4096,t=2,p=2$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
	bcryptHash, err := svc.Hasher.Hash("ben's old bcrypt password")
	if err != nil {
		t.Fatal(err)
	}
	// cy's hash is bcrypt at another cost than the server's (11, not 10).
	cyHash, err := bcrypt.GenerateFromPassword([]byte("cy's old bcrypt password"), svc.Hasher.Cost()+1)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf(`users:
  ada:
    displayname: "Ada"
    password: "%s"
    email: ada@example.com
    groups: [dev]
  ben:
    password: "%s"
  cy:
    password: "%s"
`, argonHash, bcryptHash, cyHash)
	in, err := userimport.ParseAuthelia([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Core.Accounts.Import(ctx, "users.yml", in, core.ImportOptions{})
	if err != nil || len(res.Users) != 3 || res.Rehashed != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})

	if w := postLogin(p, "ada", "not ada's password", "192.0.2.7"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), msgBadLogin) {
		t.Fatalf("wrong password: %d", w.Code)
	}
	if u, _ := svc.Core.Accounts.Get(ctx, "ada"); u.PasswordHash != argonHash {
		t.Fatal("a wrong password changed the hash")
	}
	for _, tc := range []struct{ user, pw string }{
		{"ada", "ada's old authelia password"}, {"ben", "ben's old bcrypt password"}, {"ada", "ada's old authelia password"},
		{"cy", "cy's old bcrypt password"}, {"cy", "cy's old bcrypt password"},
	} {
		w := postLogin(p, tc.user, tc.pw, "192.0.2.8")
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/enrol" {
			t.Fatalf("%s signs in: %d %q", tc.user, w.Code, w.Header().Get("Location"))
		}
		u, _ := svc.Core.Accounts.Get(ctx, tc.user)
		switch {
		case svc.Hasher.NeedsRehash(u.PasswordHash):
			t.Fatalf("%s's hash after signing in is still the imported one", tc.user)
		case tc.user != "ben" && !strings.HasPrefix(u.PasswordHash, "$2a$10$"):
			t.Fatalf("%s's hash after signing in: %q, want bcrypt at the server's cost", tc.user, u.PasswordHash)
		case tc.user == "ben" && u.PasswordHash != bcryptHash:
			t.Fatalf("ben's bcrypt hash was replaced: %q", u.PasswordHash)
		}
	}
	ada, _ := svc.Core.Accounts.Get(ctx, "ada")
	events, _ := svc.Store.AuditEvents(ctx, ada.ID, 0)
	upgrades := 0
	for _, e := range events {
		if e.Event == audit.PasswordHashUpgraded {
			upgrades++
			if e.RemoteIP != "192.0.2.8" {
				t.Errorf("upgrade audited from %q", e.RemoteIP)
			}
		}
	}
	if upgrades != 1 {
		t.Fatalf("%d upgrades audited, want 1: %+v", upgrades, events)
	}
}
