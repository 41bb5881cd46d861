package gateway

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

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/userimport"
)

// TestImportedArgon2idUserInBasicAuth: an imported (Enabled, unregistered)
// user's account password passes basic auth against the argon2id hash,
// which is bcrypt afterwards; the password keeps working.
func TestImportedArgon2idUserInBasicAuth(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	salt := []byte("authelia-salt-16")
	key := argon2.IDKey([]byte("ida's old password"), salt, 1, 2048, 1, 32)
	file := fmt.Sprintf("users:\n  ida:\n    password: $argon2id$v=19$m=2048,t=1,p=1$%s$%s\n",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	in, err := userimport.ParseAuthelia([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Core.Accounts.Import(ctx, "users.yml", in, core.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	site := policy.Site{}
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, signin.Config{Issuer: "T", Policy: site})
	g := New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{Policy: site})

	wrong := httptest.NewRequest("GET", "/dav/", nil)
	wrong.SetBasicAuth("ida", "not ida's password")
	if res, w := serve(g, wrong); !res.Handled || w.Code != 401 {
		t.Fatalf("wrong password: %d", w.Code)
	}
	for i := range 2 {
		r := httptest.NewRequest("GET", "/dav/", nil)
		r.SetBasicAuth("ida", "ida's old password")
		if res, w := serve(g, r); res.Handled || res.User == nil || res.User.Username != "ida" {
			t.Fatalf("basic auth #%d: %d %+v", i, w.Code, res)
		}
		u, _ := svc.Core.Accounts.Get(ctx, "ida")
		if svc.Hasher.NeedsRehash(u.PasswordHash) || !strings.HasPrefix(u.PasswordHash, "$2a$10$") {
			t.Fatalf("hash after basic auth #%d: %q", i, u.PasswordHash)
		}
	}
}

// TestImportedChecksPoolFullBasicAuth503: basic-auth guesses sent at once
// to an imported argon2id account (Authelia's default parameters) are
// checked one at a time; those that find the imported checks' pool full
// answer 503 with Retry-After and a short text, never 401 or 500.
func TestImportedChecksPoolFullBasicAuth503(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	const autheliaDefault = "$argon2id$v=19$m=65536,t=3,p=4$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MIFAhV8U"
	in, err := userimport.ParseAuthelia([]byte("users:\n  ivo:\n    password: \"" + autheliaDefault + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Core.Accounts.Import(ctx, "users.yml", in, core.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	site := policy.Site{}
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, signin.Config{Issuer: "T", Policy: site})
	g := New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{Policy: site})

	const guesses = 6
	codes := make(chan *httptest.ResponseRecorder, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/dav/", nil)
			r.SetBasicAuth("ivo", fmt.Sprintf("guess %d", i)) // distinct: identical ones share one check
			_, w := serve(g, r)
			codes <- w
		})
	}
	wg.Wait()
	close(codes)
	shed := 0
	for w := range codes {
		switch w.Code {
		case http.StatusServiceUnavailable:
			shed++
			if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "try again shortly") {
				t.Errorf("503 without Retry-After or text: %q %q", w.Header().Get("Retry-After"), w.Body)
			}
		case http.StatusUnauthorized:
		default:
			t.Errorf("a wrong guess: %d", w.Code)
		}
	}
	if shed == 0 || shed == guesses {
		t.Fatalf("%d of %d simultaneous guesses shed, want some (one check at a time) but not all", shed, guesses)
	}
}
