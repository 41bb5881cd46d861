package admin

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/passkey"
	"github.com/mfagate/mfagate/internal/model"
)

// TestUserPageShowsPasskeysAndRecoveryCodes: an admin helping a user
// sees what they can sign in with: their passkeys (name, make, added,
// last used) among the methods and counted in the list, how many
// recovery codes are left ("None" without), and their Temporary Access
// Pass (on their own page too, which cannot issue one). Reset methods
// says it removes passkeys and recovery codes, and does.
func TestUserPageShowsPasskeysAndRecoveryCodes(t *testing.T) {
	f, root, cookie, amy := admins(t)
	addPasskey(t, f, amy)
	creds, err := f.st.WebAuthnCredentials(f.ctx, amy.ID)
	if err != nil || len(creds) != 1 {
		t.Fatalf("passkeys %v %v", creds, err)
	}
	if _, err := f.svc.Core.RecoveryCodes.Generate(f.ctx, amy, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}

	wantPage(t, "list", f.get("/admin/", cookie), http.StatusOK, "<span>1 authenticator app</span><span>1 passkey</span>")
	w := f.get("/admin/users/2", cookie)
	wantPage(t, "amy's page", w, http.StatusOK, "<span>1 authenticator app</span><span>1 passkey</span>",
		`<tr role="row" class="passkey"><td role="cell" data-label="Method">Passkey or security key</td><td role="cell" data-label="Name">Laptop <span class="admin-sub">(`+
			html.EscapeString(passkey.Make(creds[0].AAGUID))+`)</span></td><td role="cell" data-label="Added">`+creds[0].CreatedAt.UTC().Format(dateLayout)+
			`</td><td role="cell" data-label="Last used">Never</td></tr>`,
		`<dd id="recovery-codes">10 of 10 left</dd>`, `id="access-pass-state">No pass issued.`,
		"removes authenticator apps, phones, passkeys and recovery codes")
	w = f.get("/admin/users/1", cookie)
	wantPage(t, "root's own page", w, http.StatusOK, `<dd id="recovery-codes">None</dd>`,
		`<dt>Temporary Access Pass</dt><dd id="access-pass-state">None</dd>`)
	if strings.Contains(w.Body.String(), `class="passkey"`) {
		t.Error("root's page lists a passkey")
	}

	w = f.act(cookie, "settings", false, []*model.User{amy}, "do", "reset-methods", "back", "/admin/users/2")
	wantPage(t, "reset confirmation", w, http.StatusOK, "Every authenticator app, paired phone, passkey and security key of the user is removed, with their recovery codes, and their sessions end")
	w = f.act(cookie, "settings", true, []*model.User{amy}, "do", "reset-methods", "back", "/admin/users/2")
	wantPage(t, "reset", w, http.StatusOK, "2 sign-in methods removed")
	w = f.get("/admin/users/2", cookie)
	wantPage(t, "amy's page after the reset", w, http.StatusOK, `<dd id="recovery-codes">None</dd>`, "No sign-in methods.")
	_ = root
}

// TestBasicAuthLockIsLocked: an account whose basic-auth-only counter is
// locked (too many wrong app passwords: basic auth refuses it) is
// "locked" in the list (its filter and its state), with Clear the
// lockout on its page, which clears it.
func TestBasicAuthLockIsLocked(t *testing.T) {
	f, _, cookie, amy := admins(t)
	if _, _, err := f.st.ClaimFailure(f.ctx, bruteforce.BasicAuthOnlyKey("amy"), time.Now(), time.Hour, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	wantPage(t, "locked", f.get("/admin/?status=locked", cookie), http.StatusOK, "1–1 of 1 users", "amy", `class="state-locked">Basic auth locked until `)
	if w := f.get("/admin/?status=active", cookie); strings.Contains(w.Body.String(), ">amy</a>") {
		t.Error("a user whose basic auth is locked is listed as active")
	}
	wantPage(t, "amy's page", f.get("/admin/users/2", cookie), http.StatusOK, "Basic auth locked until ", "Clear the lockout")
	wantPage(t, "unblock", f.act(cookie, "unblock", true, []*model.User{amy}), http.StatusOK, "1 changed")
	if c, _ := f.st.FailuresFor(f.ctx, bruteforce.BasicAuthOnlyKey("amy")); c.Count != 0 || !c.LockedUntil.IsZero() {
		t.Errorf("after Clear the lockout: %+v", c)
	}
	wantPage(t, "no longer locked", f.get("/admin/?status=locked", cookie), http.StatusOK, "No users match.")
}
