package securityinfo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/model"
)

// TestAccessPassAddsAPasskey: a session signed in with a Temporary Access
// Pass may register a passkey (the chooser offers it, the options and the
// answer are taken, the pass standing for the recent second factor), and
// like any method added with a pass, the passkey ends the pass session:
// the next request is sent to sign in.
func TestAccessPassAddsAPasskey(t *testing.T) {
	f := newFixture(t, time.Minute)
	w := httptest.NewRecorder()
	now := time.Now()
	if err := f.svc.Sessions.Start(w, httptest.NewRequest("GET", passkeySite+"/", nil), model.Session{
		UserID: f.user.ID, Stage: model.StageAccessPass, CreatedAt: now, MFAAt: now}); err != nil {
		t.Fatal(err)
	}
	f.cookie = w.Result().Cookies()[0]

	if body := f.get(passkeySite + "/.mfa/security/add").Body.String(); !strings.Contains(body, `href="/.mfa/security/add?method=passkey"`) {
		t.Errorf("a pass session's chooser does not offer passkeys:\n%s", body)
	}
	if w := f.get(passkeySite + "/.mfa/security/add?method=passkey"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `data-passkey="create"`) {
		t.Fatalf("the passkey page in a pass session: %d\n%s", w.Code, w.Body)
	}
	r := f.createPasskey(t, virtualwebauthn.NewAuthenticator(), newKey(), "New laptop")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("adding a passkey in a pass session: %d", r.StatusCode)
	}
	creds, err := f.st.WebAuthnCredentials(context.Background(), f.user.ID)
	if err != nil || len(creds) != 1 || creds[0].Name != "New laptop" {
		t.Fatalf("stored %+v, %v; want the new passkey", creds, err)
	}
	// The pass session has ended: Security info sends it to sign in.
	if w := f.get(passkeySite + "/.mfa/security"); w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.mfa/login") {
		t.Errorf("the pass session after adding a passkey: %d %q, want sent to sign in", w.Code, w.Header().Get("Location"))
	}
}
