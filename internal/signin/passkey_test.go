package signin

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/wiring"
)

// The site of the passkey page tests: its host is its own RP ID (no
// rp_id configured).
const passkeyOrigin = "https://mfa.example.com"

var passkeyRP = virtualwebauthn.RelyingParty{ID: "mfa.example.com", Name: "Test", Origin: passkeyOrigin}

// softwareKey is a software authenticator with one credential.
type softwareKey struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// newSoftwareKey makes a key whose ES256 coordinates are full length
// (virtualwebauthn drops leading zero bytes, which go-webauthn refuses).
func newSoftwareKey() *softwareKey {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		if len(c.Key.AttestationData()) == 77 {
			return &softwareKey{auth: virtualwebauthn.NewAuthenticator(), cred: c}
		}
	}
}

// registerPasskey gives u the key's passkey on the test site, as
// Security info would.
func registerPasskey(t *testing.T, svc *wiring.Services, u *model.User, key *softwareKey) {
	t.Helper()
	ctx := context.Background()
	site := core.PasskeySite{Scheme: "https", Host: "mfa.example.com"}
	sess := []byte("security-info-session-hash-01234")
	raw, err := svc.Core.Passkeys.BeginRegistration(ctx, u, sess, site)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp := virtualwebauthn.CreateAttestationResponse(passkeyRP, key.auth, key.cred, *opts)
	if _, err := svc.Core.Passkeys.FinishRegistration(ctx, u, sess, site, "", []byte(resp), ""); err != nil {
		t.Fatal(err)
	}
}

// passkeyAnswer fetches the step's options through the page and answers
// them with key as rp's page would.
func passkeyAnswer(t *testing.T, b *browser, key *softwareKey, rp virtualwebauthn.RelyingParty) string {
	t.Helper()
	w := b.do("POST", passkeyOrigin+"/.mfa/passkey/options", url.Values{})
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("options: %d %s", w.Code, w.Body)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(w.Body.String())
	if err != nil {
		t.Fatalf("options %s: %v", w.Body, err)
	}
	return virtualwebauthn.CreateAssertionResponse(rp, key.auth, key.cred, *opts)
}

// TestPasskeyStepPages: after the password a user with a passkey on this
// site lands on the passkey page (a button, its scripts, no inline
// script, "Sign in another way" to the code); the options are bound to
// the pending sign-in; a wrong answer is refused on the page and a right
// one completes the sign-in: the claim and one apply transaction. The
// code page links back to the passkey.
func TestPasskeyStepPages(t *testing.T) {
	ctx := context.Background()
	svc, st := testfixture.CountingServices(t)
	alice, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := svc.Core.Codes.Seal(alice.ID, []byte("0123456789abcdefghij"))
	if err := svc.Core.Methods.AddAuthenticator(ctx, alice, sealed, "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	key := newSoftwareKey()
	registerPasskey(t, svc, alice, key)
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)

	b := newBrowser(p)
	w := b.do("POST", passkeyOrigin+"/.mfa/login", url.Values{"username": {"alice"}, "password": {"right password"}})
	if got := w.Header().Get("Location"); got != "/.mfa/passkey" {
		t.Fatalf("after the password: %d %q, want the passkey step", w.Code, got)
	}
	w = b.do("GET", passkeyOrigin+"/.mfa/passkey", nil)
	page := w.Body.String()
	for _, want := range []string{"Use a passkey or security key", `data-passkey="get"`, "static/webauthn.js", "static/passkey.js",
		"Sign in another way", `href="/.mfa/verify"`, "<noscript>"} {
		if !strings.Contains(page, want) {
			t.Errorf("passkey page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || !strings.Contains(w.Header().Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Errorf("inline script or no connect-src: %s", w.Header().Get("Content-Security-Policy"))
	}
	if code := b.do("GET", passkeyOrigin+"/.mfa/verify", nil).Body.String(); !strings.Contains(code, `href="/.mfa/passkey"`) {
		t.Errorf("the code page does not offer the passkey:\n%s", code)
	}

	evil := passkeyRP
	evil.Origin = "https://mfa.example.com.evil.org"
	w = b.do("POST", passkeyOrigin+"/.mfa/passkey", url.Values{"response": {passkeyAnswer(t, b, key, evil)}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), html.EscapeString(msgBadPasskey)) {
		t.Errorf("wrong origin: %d %s", w.Code, w.Body)
	}

	answer := passkeyAnswer(t, b, key, passkeyRP)
	got := writes(st, func() {
		w = b.do("POST", passkeyOrigin+"/.mfa/passkey", url.Values{"response": {answer}})
	})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("right answer: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if !slices.Equal(got, claimThenApply) {
		t.Errorf("passkey step writes %v, want %v", got, claimThenApply)
	}
	rows, _ := svc.Core.SignInLog.Recent(ctx, alice.ID, 1)
	if len(rows) != 1 || rows[0].SecondFactor != "passkey" || rows[0].Result != model.SignInSuccess {
		t.Errorf("sign-in log: %+v", rows)
	}
}

// TestPasskeyStepOtherSession: session A's answer does not complete
// session B through the pages.
func TestPasskeyStepOtherSession(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	alice, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	key := newSoftwareKey()
	registerPasskey(t, svc, alice, key)
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	a, b := newBrowser(p), newBrowser(p)
	for _, br := range []*browser{a, b} {
		if w := br.do("POST", passkeyOrigin+"/.mfa/login", url.Values{"username": {"alice"}, "password": {"right password"}}); w.Header().Get("Location") != "/.mfa/passkey" {
			t.Fatalf("login: %d %s", w.Code, w.Header().Get("Location"))
		}
	}
	answerA := passkeyAnswer(t, a, key, passkeyRP)
	if w := b.do("POST", passkeyOrigin+"/.mfa/passkey", url.Values{"response": {answerA}}); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), html.EscapeString(msgBadPasskey)) {
		t.Errorf("A's answer in B: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := a.do("POST", passkeyOrigin+"/.mfa/passkey", url.Values{"response": {answerA}}); w.Header().Get("Location") != "/" {
		t.Errorf("A's answer in A: %d %s", w.Code, w.Header().Get("Location"))
	}
}

// TestPasskeyNotOfferedOffSite: on a site whose host is not the RP ID's
// (here plain http on a public name, which passkeys never use), the
// sign-in goes to the code and the passkey page sends there too.
func TestPasskeyNotOfferedOffSite(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	alice, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := svc.Core.Codes.Seal(alice.ID, []byte("0123456789abcdefghij"))
	if err := svc.Core.Methods.AddAuthenticator(ctx, alice, sealed, "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	registerPasskey(t, svc, alice, newSoftwareKey())
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	b := newBrowser(p)
	for _, site := range []string{"https://other.example.org", "http://mfa.example.com"} {
		if w := b.do("POST", site+"/.mfa/login", url.Values{"username": {"alice"}, "password": {"right password"}}); w.Header().Get("Location") != "/.mfa/verify" {
			t.Errorf("%s: after the password %d %q, want the code", site, w.Code, w.Header().Get("Location"))
		}
		if w := b.do("GET", site+"/.mfa/passkey", nil); w.Header().Get("Location") != "/.mfa/verify" {
			t.Errorf("%s: passkey page %d %q, want the code", site, w.Code, w.Header().Get("Location"))
		}
		if w := b.do("GET", site+"/.mfa/verify", nil); strings.Contains(w.Body.String(), "/.mfa/passkey") {
			t.Errorf("%s: the code page offers a passkey", site)
		}
	}
}

// TestPasskeyOffSiteGoesToThePhone: a user with a passkey and a phone
// (no authenticator app) on a site that does not offer passkeys goes to
// the phone, from the login and from the passkey page alike.
func TestPasskeyOffSiteGoesToThePhone(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	pat, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "pat", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	pairPhone(t, svc.Store, pat.ID)
	registerPasskey(t, svc, pat, newSoftwareKey())
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	b := newBrowser(p)
	const site = "http://mfa.example.com"
	if w := b.do("POST", site+"/.mfa/login", url.Values{"username": {"pat"}, "password": {"right password"}}); w.Header().Get("Location") != "/.mfa/push" {
		t.Errorf("after the password %d %q, want the phone", w.Code, w.Header().Get("Location"))
	}
	if w := b.do("GET", site+"/.mfa/passkey", nil); w.Header().Get("Location") != "/.mfa/push" {
		t.Errorf("passkey page %d %q, want the phone", w.Code, w.Header().Get("Location"))
	}
}
