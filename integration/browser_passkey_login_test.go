package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/sqlite"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
)

// TestBrowserPasswordlessPasskey signs in with a passkey alone in a real
// headless Chromium: the DevTools virtual authenticator (CTAP2, resident
// keys, user verification) holds a discoverable credential whose private
// key was made here and whose public key, credential ID and user handle
// were stored for alice beforehand (the Security info pages that register
// passkeys are another change's); on the login page "Sign in with a
// passkey" lands her on the upstream, signed in, without a password typed.
// Screenshots at 1280x800 and 390x844.
func TestBrowserPasswordlessPasskey(t *testing.T) {
	up := newUpstream(t)
	g := newGatewayInstance(t)
	g.writeCaddyfile(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), ""))
	g.addUser("alice", "alice password 1", "--name", "Alice Liddell")
	cred, handle := storePasskey(t, filepath.Join(g.dir, "mfagate.db"), "alice")
	g.start()
	t.Cleanup(g.stop)

	ctx := chromium.Start(t, chromium.Options{Timeout: chromeSessionTimeout, Width: 1280, Height: 800, Console: true})
	// Passkeys work over http on localhost only (not on 127.0.0.1): the
	// RP ID is the host.
	base := fmt.Sprintf("http://localhost:%d", g.httpPort)
	chromeStep(t, ctx, "open a blank page", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	auth, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	// WebAuthn.addCredential with only the fields this Chromium knows
	// (cdproto's Credential always sends the newer CMTG ones, which it
	// refuses).
	if _, err := chromedp.Call(ctx, addResidentCredential, residentCredential{AuthenticatorID: auth.AuthenticatorID,
		Credential: map[string]any{"credentialId": base64.StdEncoding.EncodeToString(cred.ID), "isResidentCredential": true,
			"rpId": "localhost", "privateKey": base64.StdEncoding.EncodeToString(cred.Key.Data),
			"userHandle": base64.StdEncoding.EncodeToString(handle), "signCount": 1, "userName": "alice"}}); err != nil {
		t.Fatalf("WebAuthn.addCredential: %v", err)
	}

	// First as a browser without conditional mediation: the button.
	hide, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`})
	if err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	// The protected page sends the browser to the login page, which
	// offers the passkey (button shown by the script, autocomplete for
	// conditional mediation).
	chromeStep(t, ctx, "open protected page", chromedp.Navigate(base+"/hello?x=1"))
	if got, want := chromeLocation(t, ctx), "/.mfa/login?rd="+url.QueryEscape("/hello?x=1"); got != want {
		t.Fatalf("protected page: at %q, want %q", got, want)
	}
	chromeStep(t, ctx, "the passkey button appears", chromedp.WaitVisible(chromedp.ID("passkey-button")))
	if ac := chromeValue(t, ctx, "autocomplete", chromedp.Evaluate[string](`document.getElementById("username").getAttribute("autocomplete")`)); ac != "username webauthn" {
		t.Errorf("username autocomplete = %q, want %q", ac, "username webauthn")
	}
	chromeScreenshot(t, ctx, "passkey-login-desktop")
	chromeStep(t, ctx, "phone size", passkeyPhone(true))
	chromeScreenshot(t, ctx, "passkey-login-phone")
	chromeStep(t, ctx, "desktop size", passkeyPhone(false))

	// One click, no password: the authenticator answers and the browser
	// lands on the upstream as alice.
	chromeStep(t, ctx, "sign in with a passkey", chromedp.Click(chromedp.ID("passkey-button")))
	passkeyLanded(t, ctx, g, "/hello?x=1")
	chromeScreenshot(t, ctx, "passkey-login-upstream")
	chromeStep(t, ctx, "phone size", passkeyPhone(true))
	chromeScreenshot(t, ctx, "passkey-login-upstream-phone")
	chromeStep(t, ctx, "desktop size", passkeyPhone(false))

	// Then, signed out (cookies gone), as a browser with conditional
	// mediation: the passkey suggested in the username field (which the
	// virtual authenticator, the only one there, picks at once) signs in
	// without the button.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdppage.RemoveScriptToEvaluateOnNewDocument,
		cdppage.RemoveScriptToEvaluateOnNewDocumentParams(hide)); err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "open another protected page", chromedp.Navigate(base+"/other"))
	passkeyLanded(t, ctx, g, "/other")
}

// passkeyLanded waits until the tab shows the upstream at want, signed
// in as alice.
func passkeyLanded(t *testing.T, ctx context.Context, g *gatewayInstance, want string) {
	t.Helper()
	var got, body string
	for deadline := time.Now().Add(chromeStepTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = chromeLocation(t, ctx)
		body = chromeValue(t, ctx, "body", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if got == want && strings.Contains(body, `upstream says hello to "alice"`) {
			return
		}
	}
	t.Fatalf("after the passkey: at %q with %q, want the upstream at %s as alice\n%s", got, body, want, g.logs.String())
}

// residentCredential is WebAuthn.addCredential's parameters.
type residentCredential struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      map[string]any           `json:"credential"`
}

var addResidentCredential = cdp.Command[residentCredential, cdp.Empty]{Method: webauthn.CommandAddCredential}

// passkeyPhone emulates a 390x844 phone (on) or the 1280x800 desktop.
func passkeyPhone(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		w, h := int64(1280), int64(800)
		if on {
			w, h = 390, 844
		}
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: w, Height: h, DeviceScaleFactor: 1, Mobile: on})
		return err
	})
}

// storePasskey stores, for user in the SQLite database at db (before
// Caddy opens it), a WebAuthn user handle and a discoverable passkey for
// RP ID localhost made of a fresh software credential, whose private key
// the virtual authenticator gets.
func storePasskey(t *testing.T, db, user string) (virtualwebauthn.Credential, []byte) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	var cred virtualwebauthn.Credential
	for { // full-length coordinates: see core's newSoftwareCredential
		if cred = virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2); len(cred.Key.AttestationData()) == 77 {
			break
		}
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		t.Fatal(err)
	}
	var handle []byte
	err = st.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		if handle, err = tx.WebAuthnUserHandle(ctx, u.ID, fresh); err != nil {
			return err
		}
		return tx.AddWebAuthnCredential(ctx, &model.WebAuthnCredential{UserID: u.ID, CredentialID: cred.ID,
			PublicKey: cred.Key.AttestationData(), AttestationType: "none", AAGUID: make([]byte, 16), SignCount: 0,
			Name: "Virtual authenticator", RPID: "localhost", Transports: []string{"internal"}, UserVerified: true,
			Discoverable: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(handle, fresh) {
		t.Fatalf("alice had a handle already")
	}
	return cred, handle
}
