package signin

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// autheliaDefault is an argon2id hash with Authelia's default parameters
// (64 MiB, 3 passes, 4 lanes): the example of its documentation.
const autheliaDefault = "$argon2id$v=19$m=65536,t=3,p=4$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MIFAhV8U"

// TestImportedChecksPoolFullAnswers503: wrong passwords sent at once to an
// imported argon2id account are checked one at a time in their own pool;
// those that find it full answer 503 with Retry-After and the sign-in page
// saying to try again shortly. Meanwhile an ordinary user signs in every
// time: the imported checks take nothing of the ordinary slots or budget.
func TestImportedChecksPoolFullAnswers503(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	in, err := userimport.ParseAuthelia([]byte("users:\n  ivy:\n    password: \"" + autheliaDefault + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Core.Accounts.Import(ctx, "users.yml", in, core.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "olly", Password: "olly's ordinary password"}); err != nil {
		t.Fatal(err)
	}
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})

	const guesses = 6
	codes := make(chan *httptest.ResponseRecorder, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() { codes <- postLogin(p, "ivy", fmt.Sprintf("guess %d", i), "192.0.2.20") })
	}
	for range 3 {
		if w := postLogin(p, "olly", "olly's ordinary password", "192.0.2.21"); w.Code != http.StatusSeeOther {
			t.Errorf("an ordinary sign-in during imported checks: %d, want 303", w.Code)
		}
	}
	wg.Wait()
	close(codes)
	shed := 0
	for w := range codes {
		switch {
		case w.Code == http.StatusServiceUnavailable:
			shed++
			if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), msgBusy) ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Errorf("503 without Retry-After or the page: %q %q\n%s", w.Header().Get("Retry-After"), w.Header().Get("Content-Type"), w.Body)
			}
		case w.Code != http.StatusOK || !strings.Contains(w.Body.String(), msgBadLogin):
			t.Errorf("a wrong guess: %d", w.Code)
		}
	}
	if shed == 0 || shed == guesses {
		t.Fatalf("%d of %d simultaneous guesses shed, want some (one check at a time) but not all", shed, guesses)
	}
}
