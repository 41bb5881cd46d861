package loginui

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/internal/testfixture/chromium"
)

// addCredential is WebAuthn.addCredential with only the fields this
// Chromium knows (cdproto's Credential sends CMTG fields it refuses).
var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      passkeyCredential        `json:"credential"`
}

type passkeyCredential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"` // PKCS#8
	UserHandle           []byte  `json:"userHandle"`
	SignCount            float64 `json:"signCount"`
}

// TestBrowserAdminVerifyWithPasskey: the admin center's re-verification
// step, in real Chromium with a DevTools virtual authenticator holding a
// passkey for localhost: passkey.js (Security info's script) fetches the
// options from the admin center with the step's fields, asks the
// browser, and posts the answer to Base+"reverify" with the step's fields
// and method=passkey, as the admin center reads them.
func TestBrowserAdminVerifyWithPasskey(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	challenge := make([]byte, 32)
	_, _ = rand.Read(challenge)
	options := make(chan url.Values, 1)
	posted := make(chan url.Values, 1)
	origin := pageServer(t, map[string]Page{
		"/admin/step": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
			Users: []AdminConfirmUser{{Username: "amy"}}, Confirm: "Block sign-in", Cancel: "/admin/users/7",
			Verify: &AdminVerify{CanPasskey: true, CanCode: true, Fresh: "10 minutes", Then: "action",
				Fields: []AdminField{{"op", "block"}, {"id", "7"}, {"back", "/admin/users/7"}}, Cancel: "/admin/users/7"}},
	}, map[string]http.HandlerFunc{
		"/admin/reverify/passkey/options": func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.ParseForm() != nil {
				http.Error(w, "bad", http.StatusBadRequest)
				return
			}
			options <- r.PostForm
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"publicKey":{"challenge":%q,"timeout":60000,"rpId":"localhost","userVerification":"preferred"}}`,
				base64.RawURLEncoding.EncodeToString(challenge))
		},
		"/admin/reverify": func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.ParseForm() == nil {
				posted <- r.PostForm
			}
			fmt.Fprint(w, "<!doctype html><title>step</title><h1>Block sign-in?</h1>")
		},
	})
	site := strings.Replace(origin, "127.0.0.1", "localhost", 1)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := chromium.Start(t, chromium.Options{Timeout: 60 * time.Second, Width: 1280, Height: 800})
	browserStep(t, ctx, "virtual authenticator with a passkey", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		if err != nil {
			return err
		}
		_, err = chromedp.Call(ctx, addCredential, addCredentialParams{AuthenticatorID: res.AuthenticatorID,
			Credential: passkeyCredential{CredentialID: []byte("admin-passkey-1"), IsResidentCredential: true, RpID: "localhost",
				PrivateKey: pkcs8, UserHandle: []byte("admin-user-handle"), SignCount: 1}})
		return err
	}))
	browserStep(t, ctx, "open the step", chromedp.Navigate(site+"/admin/step"),
		chromedp.WaitVisible(chromedp.CSS(`#verify-passkey-form [data-passkey-start]`)))
	saveScreenshot(t, ctx, "admin-verify-passkey")
	browserStep(t, ctx, "use the passkey", chromedp.Click(chromedp.CSS(`#verify-passkey-form [data-passkey-start]`)))

	select {
	case form := <-options:
		if form.Get("then") != "action" || form.Get("op") != "block" || form.Has("response") {
			t.Errorf("the options were asked with %v", form)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("passkey.js did not ask the admin center for options")
	}
	select {
	case form := <-posted:
		if form.Get("then") != "action" || form.Get("method") != "passkey" || form.Get("op") != "block" || form.Get("id") != "7" ||
			form.Get("back") != "/admin/users/7" {
			t.Fatalf("the step posted %v, want its fields with method=passkey", form)
		}
		var answer struct {
			Type     string `json:"type"`
			Response struct {
				ClientDataJSON    string `json:"clientDataJSON"`
				AuthenticatorData string `json:"authenticatorData"`
				Signature         string `json:"signature"`
			} `json:"response"`
		}
		if err := json.Unmarshal([]byte(form.Get("response")), &answer); err != nil {
			t.Fatalf("response %q: %v", form.Get("response"), err)
		}
		cd, err := base64.RawURLEncoding.DecodeString(answer.Response.ClientDataJSON)
		if err != nil {
			t.Fatal(err)
		}
		var client struct{ Type, Challenge, Origin string }
		if err := json.Unmarshal(cd, &client); err != nil {
			t.Fatal(err)
		}
		if answer.Type != "public-key" || answer.Response.Signature == "" || answer.Response.AuthenticatorData == "" ||
			client.Type != "webauthn.get" || client.Origin != site || client.Challenge != base64.RawURLEncoding.EncodeToString(challenge) {
			t.Errorf("the answer is no assertion for this challenge and origin: %+v %+v", answer, client)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the step did not post the passkey's answer")
	}
}
