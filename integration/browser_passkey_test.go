package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// passkeyScreenshots checks the page the tab shows as TestBrowserLayout
// checks every page (1280x800 and a 390x844 phone, light and dark: no
// sideways scroll, no overlap, axe-core when installed) and saves its
// screenshots (name-desktop-light.png …); the desktop stays afterwards.
func passkeyScreenshots(t *testing.T, ctx context.Context, l *layoutRun, name string) {
	t.Helper()
	l.check(ctx, name)
	l.variant(ctx, layoutVariants[0])
}

// waitForPath waits until the tab shows path (a script's form submit
// navigates some time after the click).
func waitForPath(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	deadline := time.Now().Add(chromeStepTimeout)
	for time.Now().Before(deadline) {
		if chromeLocation(t, ctx) == path {
			chromeStep(t, ctx, "page loaded", chromedp.WaitReady(chromedp.CSS("body")))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	status := chromeValue(t, ctx, "read page", chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	t.Fatalf("still at %q, want %q; the page says:\n%s", chromeLocation(t, ctx), path, status)
}

// TestBrowserPasskeySecondFactor: in real Chromium with the DevTools
// virtual authenticator (CTAP2, internal, resident keys, user
// verification), a user who signed in with password and code registers
// a passkey on Security info (naming it), sees it listed with its make,
// signs out, and signs in with the password then the passkey (the
// system-preferred method, offered first); signed out again, the same
// passkey signs in without the password, by the login page's button and
// by the browser's suggestion in the username field. The site is http://localhost
// (its own RP ID, as in the demo). The three passkey pages are checked
// like every page's layout, with screenshots at 1280x800 and 390x844.
func TestBrowserPasskeySecondFactor(t *testing.T) {
	ctx := newChromium(t)
	axe, _ := layoutAxeSource(t)
	l := &layoutRun{t: t, axe: axe, shots: layoutShotDir(t)}
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("alice", "alice password 1", "--name", "Alice Liddell")
	site := func(path string) string { return strings.Replace(g.url(path), "127.0.0.1", "localhost", 1) }

	var authenticator webauthn.AuthenticatorID
	chromeStep(t, ctx, "virtual authenticator", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		authenticator = res.AuthenticatorID
		return err
	}))
	userVerifies := func(ok bool) {
		t.Helper()
		chromeStep(t, ctx, "user verification", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: authenticator, IsUserVerified: ok})
			return err
		}))
	}

	// Password, then an authenticator app's code (enrolled now).
	chromeStep(t, ctx, "open protected page", chromedp.Navigate(site("/hello")))
	chromeStep(t, ctx, "type password",
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice password 1"))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("after password: at %q, want /.mfa/enrol", got)
	}
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/hello" {
		t.Fatalf("after code: at %q, want /hello", got)
	}

	// Security info → + Add sign-in method → Passkey or security key.
	chromeStep(t, ctx, "open Security info", chromedp.Navigate(site("/.mfa/security")))
	options, _ := securityAddOptions(t, ctx)
	if options["passkey"] != "Passkey or security key" {
		t.Fatalf("methods to add %v: no passkey", options)
	}
	securityAddMethod(t, ctx, "passkey")
	if h := chromeHeading(t, ctx); h != "Add a passkey or security key" {
		t.Fatalf("add passkey heading %q", h)
	}
	passkeyScreenshots(t, ctx, l, "passkey-add")
	chromeStep(t, ctx, "name the passkey", chromedp.SendKeys(chromedp.ID("name"), "Work laptop"))
	chromeStep(t, ctx, "create passkey", chromedp.Click(chromedp.CSS(`button[data-passkey-start]`)))
	waitForPath(t, ctx, "/.mfa/security?done=passkey-added")
	if n := securityNotice(t, ctx); !strings.Contains(n, "Passkey added") {
		t.Errorf("notice %q", n)
	}
	rows := securityRowsOf(securityRows(t, ctx), "Passkey or security key")
	if len(rows) != 1 || rows[0].Name != "Work laptop" || !strings.Contains(strings.Join(rows[0].Meta, " "), "AAGUID") {
		t.Fatalf("passkey rows %+v", rows)
	}
	passkeyScreenshots(t, ctx, l, "passkey-security-info")

	// Sign out, then password and the passkey, as a browser without
	// conditional mediation (with it, the login page's username field
	// offers the passkey at once, which the end of this test takes).
	chromeStep(t, ctx, "open logout page", chromedp.Navigate(site("/.mfa/logout")))
	chromeSubmit(t, ctx, "click Sign out", `form[action$="/logout"] button[type="submit"]`)
	hide, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`})
	if err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	chromeStep(t, ctx, "open protected page again", chromedp.Navigate(site("/hello")))
	chromeStep(t, ctx, "type password again",
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice password 1"))
	chromeSubmit(t, ctx, "submit password again", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/passkey" {
		t.Fatalf("after password with a passkey: at %q, want /.mfa/passkey", got)
	}
	chromeStep(t, ctx, "button shown", chromedp.WaitVisible(chromedp.CSS(`button[data-passkey-start]`)))
	if other := chromeValue(t, ctx, "other ways", chromedp.Evaluate[bool](`!!document.querySelector('a[href$="/verify"]')`)); !other {
		t.Errorf("the passkey page offers no code")
	}
	passkeyScreenshots(t, ctx, l, "passkey-sign-in")
	// The user fails verification (or cancels): the page says so in words
	// and the button works again.
	userVerifies(false)
	chromeStep(t, ctx, "use the passkey, unverified", chromedp.Click(chromedp.CSS(`button[data-passkey-start]`)))
	chromeStep(t, ctx, "refusal shown", chromedp.WaitVisible(chromedp.CSS(`[data-passkey-status]`)))
	if msg := chromeValue(t, ctx, "read refusal", chromedp.Text(chromedp.CSS(`[data-passkey-status]`))); !strings.Contains(msg, "cancelled or timed out") {
		t.Errorf("refusal text %q", msg)
	}
	if got := chromeLocation(t, ctx); got != "/.mfa/passkey" {
		t.Fatalf("after a refusal: at %q", got)
	}
	userVerifies(true)
	chromeStep(t, ctx, "use the passkey", chromedp.Click(chromedp.CSS(`button[data-passkey-start]`)))
	waitForPath(t, ctx, "/hello")
	body := chromeValue(t, ctx, "read upstream page", chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(body, `upstream says hello to "alice"`) {
		t.Fatalf("upstream page: %q", body)
	}

	// Signed out again: the passkey registered on Security info signs in
	// alone, without the password: first with the login page's "Sign in
	// with a passkey" button, then offered in the username field
	// (conditional mediation), which the virtual authenticator, the only
	// one there, answers at once.
	chromeStep(t, ctx, "open logout page again", chromedp.Navigate(site("/.mfa/logout")))
	chromeSubmit(t, ctx, "click Sign out again", `form[action$="/logout"] button[type="submit"]`)
	chromeStep(t, ctx, "open protected page, passwordless", chromedp.Navigate(site("/hello")))
	chromeStep(t, ctx, "the passkey button appears", chromedp.WaitVisible(chromedp.ID("passkey-button")))
	chromeStep(t, ctx, "sign in with a passkey", chromedp.Click(chromedp.ID("passkey-button")))
	waitForPath(t, ctx, "/hello")
	if body := chromeValue(t, ctx, "read upstream page", chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, `upstream says hello to "alice"`) {
		t.Fatalf("upstream page after the passkey alone: %q", body)
	}
	chromeStep(t, ctx, "open logout page a third time", chromedp.Navigate(site("/.mfa/logout")))
	chromeSubmit(t, ctx, "click Sign out a third time", `form[action$="/logout"] button[type="submit"]`)
	if _, err := chromedp.Call(ctx, cdppage.RemoveScriptToEvaluateOnNewDocument,
		cdppage.RemoveScriptToEvaluateOnNewDocumentParams(hide)); err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "open another protected page", chromedp.Navigate(site("/other")))
	waitForPath(t, ctx, "/other")
	if body := chromeValue(t, ctx, "read upstream page", chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, `upstream says hello to "alice"`) {
		t.Fatalf("upstream page after conditional mediation: %q", body)
	}
}
