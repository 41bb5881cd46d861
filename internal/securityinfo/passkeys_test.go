package securityinfo

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// The passkey pages run on https://mfa.example.com, its own RP ID.
const passkeySite = "https://mfa.example.com"

var passkeyRP = virtualwebauthn.RelyingParty{ID: "mfa.example.com", Name: "T", Origin: passkeySite}

// newKey is a software credential whose ES256 coordinates are full
// length (virtualwebauthn drops leading zero bytes, which go-webauthn
// refuses).
func newKey() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		if len(c.Key.AttestationData()) == 77 {
			return c
		}
	}
}

// at moves f's session to site (a session is bound to its origin):
// signed in there, the second factor mfaAgo ago.
func (f *fixture) at(t *testing.T, site string, mfaAgo time.Duration) *fixture {
	t.Helper()
	w := httptest.NewRecorder()
	now := time.Now()
	if err := f.svc.Sessions.Start(w, httptest.NewRequest("GET", site+"/", nil), model.Session{
		UserID: f.user.ID, Stage: model.StageComplete, CreatedAt: now.Add(-mfaAgo), MFAAt: now.Add(-mfaAgo),
	}); err != nil {
		t.Fatal(err)
	}
	f.cookie = w.Result().Cookies()[0]
	return f
}

// createPasskey runs "Passkey or security key" through the pages: the
// options, the authenticator's answer, the form; it returns the final
// response.
func (f *fixture) createPasskey(t *testing.T, auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential, name string) *http.Response {
	t.Helper()
	w := f.post(passkeySite+"/.mfa/security/passkey/options", url.Values{"name": {name}})
	if w.Code != http.StatusOK {
		t.Fatalf("options: %d %s", w.Code, w.Body)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(w.Body.String())
	if err != nil {
		t.Fatalf("options %s: %v", w.Body, err)
	}
	resp := virtualwebauthn.CreateAttestationResponse(passkeyRP, auth, cred, *opts)
	return f.post(passkeySite+"/.mfa/security/passkey", url.Values{"name": {name}, "response": {resp}}).Result()
}

// TestSecurityInfoPasskeys: "+ Add sign-in method" offers "Passkey or
// security key" on a site under the RP ID; a passkey is created (its
// name optional: the make from the AAGUID table, else "Passkey"),
// listed with its AAGUID and make ("Unknown" for the zero AAGUID) and
// last use, refused when registered already, renamed and deleted with
// the other methods' pages; the last method of an Enforced user may not
// be deleted, and a passkey counts as one.
func TestSecurityInfoPasskeys(t *testing.T) {
	f := newFixture(t, time.Minute).at(t, passkeySite, time.Minute)
	ctx := context.Background()
	if body := f.get(passkeySite + "/.mfa/security/add").Body.String(); !strings.Contains(body, `href="/.mfa/security/add?method=passkey"`) {
		t.Errorf("the chooser does not offer passkeys:\n%s", body)
	}
	if body := f.get(passkeySite + "/.mfa/security/add?method=passkey").Body.String(); !strings.Contains(body, `data-passkey="create"`) ||
		!strings.Contains(body, "static/webauthn.js") || strings.Contains(body, "<script>") {
		t.Errorf("the passkey page:\n%s", body)
	}

	safari := virtualwebauthn.NewAuthenticator()
	safari.Aaguid = [16]byte{}
	first := newKey()
	if r := f.createPasskey(t, safari, first, ""); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/.mfa/security?done=passkey-added" {
		t.Fatalf("create: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	w := f.post(passkeySite+"/.mfa/security/passkey/options", url.Values{})
	if !strings.Contains(w.Body.String(), `"excludeCredentials"`) {
		t.Errorf("options do not exclude the registered passkey: %s", w.Body)
	}
	if r := f.createPasskey(t, safari, first, "again"); r.StatusCode != http.StatusOK {
		t.Errorf("the same passkey again: %d", r.StatusCode)
	}
	yubi := virtualwebauthn.NewAuthenticator()
	yubi.Aaguid = [16]byte{0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8}
	if r := f.createPasskey(t, yubi, newKey(), ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create the second: %d", r.StatusCode)
	}
	creds, _ := f.st.WebAuthnCredentials(ctx, f.user.ID)
	if len(creds) != 2 || creds[0].Name != "Passkey" || !strings.HasPrefix(creds[1].Name, "YubiKey") {
		t.Fatalf("stored %+v", creds)
	}
	list := html.UnescapeString(f.get(passkeySite + "/.mfa/security").Body.String())
	for _, want := range []string{"Passkey or security key", "Make: Unknown", "00000000-0000-0000-0000-000000000000",
		"cb69481e-8ff7-4039-93ec-0a2729a154a8", creds[1].Name, "Last used: never",
		"/.mfa/security/rename?kind=passkey&id=" + strconv.FormatInt(creds[0].ID, 10)} {
		if !strings.Contains(list, want) {
			t.Errorf("Security info lacks %q:\n%s", want, list)
		}
	}

	id := strconv.FormatInt(creds[0].ID, 10)
	if w := f.get(passkeySite + "/.mfa/security/rename?kind=passkey&id=" + id); w.Code != http.StatusOK {
		t.Errorf("rename page: %d", w.Code)
	}
	if w := f.post(passkeySite+"/.mfa/security/rename", url.Values{"kind": {"passkey"}, "id": {id}, "name": {"Blue key"}}); w.Code != http.StatusSeeOther {
		t.Errorf("rename: %d %s", w.Code, w.Body)
	}
	if w := f.get(passkeySite + "/.mfa/security/delete?kind=passkey&id=" + id); !strings.Contains(w.Body.String(), `action="/.mfa/security/passkey/delete"`) ||
		!strings.Contains(w.Body.String(), "Blue key") {
		t.Errorf("delete confirmation: %d\n%s", w.Code, w.Body)
	}
	if w := f.post(passkeySite+"/.mfa/security/passkey/delete", url.Values{"id": {id}}); w.Header().Get("Location") != "/.mfa/security?done=passkey-deleted" {
		t.Errorf("delete: %d %s", w.Code, w.Header().Get("Location"))
	}

	// The authenticator app is not the last method: a passkey remains.
	auths, _ := f.st.TOTPAuthenticators(ctx, f.user.ID)
	if w := f.post(passkeySite+"/.mfa/security/authenticator/delete", url.Values{"id": {strconv.FormatInt(auths[0].ID, 10)}}); w.Code != http.StatusSeeOther {
		t.Fatalf("deleting the authenticator beside a passkey: %d %s", w.Code, w.Body)
	}
	// The passkey is now the last method of an Enforced user.
	last := strconv.FormatInt(creds[1].ID, 10)
	if body := f.get(passkeySite + "/.mfa/security").Body.String(); !regexp.MustCompile(`id="passkey-` + last + `-why"`).MatchString(body) {
		t.Errorf("the last passkey's Delete is not disabled:\n%s", body)
	}
	if w := f.post(passkeySite+"/.mfa/security/passkey/delete", url.Values{"id": {last}}); w.Code != http.StatusConflict {
		t.Errorf("deleting the last method: %d", w.Code)
	}
	if cs, _ := f.st.WebAuthnCredentials(ctx, f.user.ID); len(cs) != 1 {
		t.Errorf("passkeys left: %d, want 1", len(cs))
	}
}

// TestSecurityInfoPasskeyOffSite: on a site not under the RP ID (plain
// http on a public name) the chooser says why passkeys are missing and
// the flow refuses to start.
func TestSecurityInfoPasskeyOffSite(t *testing.T) {
	f := newFixture(t, time.Minute).at(t, "http://app.example.org", time.Minute)
	if body := f.get("http://app.example.org/.mfa/security/add").Body.String(); strings.Contains(body, "method=passkey") ||
		!strings.Contains(body, html.EscapeString(msgPasskeyNotOffered)) {
		t.Errorf("chooser off site:\n%s", body)
	}
	if w := f.get("http://app.example.org/.mfa/security/add?method=passkey"); w.Code != http.StatusConflict {
		t.Errorf("passkey flow off site: %d", w.Code)
	}
	if w := f.post("http://app.example.org/.mfa/security/passkey/options", url.Values{}); w.Code != http.StatusConflict {
		t.Errorf("options off site: %d %s", w.Code, w.Body)
	}
}

// TestSecurityInfoPasskeyNeedsRecentMFA: a stale second factor creates
// nothing: the options ask to verify again.
func TestSecurityInfoPasskeyNeedsRecentMFA(t *testing.T) {
	f := newFixture(t, 11*time.Minute).at(t, passkeySite, 11*time.Minute)
	if w := f.post(passkeySite+"/.mfa/security/passkey/options", url.Values{}); w.Code != http.StatusForbidden {
		t.Errorf("stale options: %d %s", w.Code, w.Body)
	}
	if w := f.get(passkeySite + "/.mfa/security/add?method=passkey"); !strings.Contains(w.Body.String(), "Verify your identity") {
		t.Errorf("stale page: %d", w.Code)
	}
}

// TestDefaultMethodPasskey: a user with a passkey may make it their
// default sign-in method ("Passkey or security key", offered first:
// the system-preferred order); without one it is refused.
func TestDefaultMethodPasskey(t *testing.T) {
	f := newFixture(t, time.Minute).at(t, passkeySite, time.Minute)
	if w := f.post(passkeySite+"/.mfa/security/default", url.Values{"method": {"passkey"}}); w.Code != http.StatusConflict {
		t.Errorf("passkey default without a passkey: %d", w.Code)
	}
	if r := f.createPasskey(t, virtualwebauthn.NewAuthenticator(), newKey(), "Laptop"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", r.StatusCode)
	}
	body := f.get(passkeySite + "/.mfa/security").Body.String()
	if !regexp.MustCompile(`Default sign-in method: <strong>Passkey or security key</strong>`).MatchString(body) ||
		!strings.Contains(body, `<option value="passkey" selected>`) {
		t.Errorf("without a chosen default the passkey applies first:\n%s", body)
	}
	if w := f.post(passkeySite+"/.mfa/security/default", url.Values{"method": {"code"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("code default: %d", w.Code)
	}
	if w := f.post(passkeySite+"/.mfa/security/default", url.Values{"method": {"passkey"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("passkey default: %d %s", w.Code, w.Body)
	}
	if u, _ := f.st.UserByID(context.Background(), f.user.ID); u.DefaultMethod != model.MethodPasskey {
		t.Errorf("default method = %q, want passkey", u.DefaultMethod)
	}
}

// TestReverifyWithPasskey: a user whose only method is a passkey, with a
// stale second factor, is asked to re-verify with it (not to sign in
// again): the options are bound to the session, a wrong answer is
// refused on the page, the right one returns to the page that asked,
// which then opens.
func TestReverifyWithPasskey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 11*time.Minute).at(t, passkeySite, 11*time.Minute)
	auth, cred := virtualwebauthn.NewAuthenticator(), newKey()
	site := core.PasskeySite{Scheme: "https", Host: "mfa.example.com"}
	sess := []byte("another-session-hash-0123456789a")
	raw, err := f.svc.Core.Passkeys.BeginRegistration(ctx, f.user, sess, site)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := virtualwebauthn.ParseAttestationOptions(string(raw))
	if _, err := f.svc.Core.Passkeys.FinishRegistration(ctx, f.user, sess, site, "", []byte(virtualwebauthn.CreateAttestationResponse(passkeyRP, auth, cred, *opts)), ""); err != nil {
		t.Fatal(err)
	}
	auths, _ := f.st.TOTPAuthenticators(ctx, f.user.ID)
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteTOTP(ctx, f.user.ID, auths[0].ID) })

	const next = "/.mfa/security/add?method=passkey"
	page := f.get(passkeySite + next).Body.String()
	if !strings.Contains(page, `action="/.mfa/security/reverify/passkey"`) || strings.Contains(page, `name="code"`) {
		t.Fatalf("re-verification page for a passkey-only user:\n%s", page)
	}
	answer := func(rp virtualwebauthn.RelyingParty) string {
		t.Helper()
		w := f.post(passkeySite+"/.mfa/security/reverify/passkey/options", url.Values{"next": {next}})
		o, err := virtualwebauthn.ParseAssertionOptions(w.Body.String())
		if w.Code != http.StatusOK || err != nil {
			t.Fatalf("options: %d %s %v", w.Code, w.Body, err)
		}
		return virtualwebauthn.CreateAssertionResponse(rp, auth, cred, *o)
	}
	evil := passkeyRP
	evil.Origin = "https://evil.example.org"
	if w := f.post(passkeySite+"/.mfa/security/reverify/passkey", url.Values{"next": {next}, "response": {answer(evil)}}); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), html.EscapeString(msgBadPasskey)) {
		t.Errorf("wrong origin: %d\n%s", w.Code, w.Body)
	}
	w := f.post(passkeySite+"/.mfa/security/reverify/passkey", url.Values{"next": {next}, "response": {answer(passkeyRP)}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != next {
		t.Fatalf("right answer: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	f.cookie = w.Result().Cookies()[0]
	if body := f.get(passkeySite + next).Body.String(); !strings.Contains(body, `data-passkey="create"`) {
		t.Errorf("after re-verifying, the page does not open:\n%s", body)
	}
}
