package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// accessPassViewport sets the tab's viewport (mobile emulation for a
// phone's width).
func accessPassViewport(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	chromeStep(t, ctx, "viewport", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: 1, Mobile: width < 600})
		return err
	}))
}

// accessPassScreenshots saves the page at 1280×800 and on a 390×844
// phone, and goes back to the desktop.
func accessPassScreenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	chromeScreenshot(t, ctx, name)
	accessPassViewport(t, ctx, 390, 844)
	chromeScreenshot(t, ctx, name+"-phone")
	accessPassViewport(t, ctx, 1280, 800)
}

// TestBrowserAccessPass walks a Temporary Access Pass in real headless
// Chromium with real Caddy: an admin issues gail a one-time pass on her
// page in the admin center (after signing in with a second factor) and
// sees it once with its Copy button; gail, who has no sign-in method,
// follows "Sign in another way" from the protected site's login form to
// the portal, signs in with the pass, lands on Security info, cannot
// reach the site, adds an authenticator app (no re-verification asked),
// and the pass session ends; the site stays closed until she signs in
// normally with her password and the new app.
func TestBrowserAccessPass(t *testing.T) {
	ctx := chromePhoneNewChromium(t)
	defer chromeStep(t, ctx, "clear viewport", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
	accessPassViewport(t, ctx, 1280, 800)
	e := adminStart(t, "")
	const gail, gailPW = "gail", "gail password 1"
	e.g.addUser(gail, gailPW, "--name", "Gail Force")

	// The admin signs in on the portal, enrolling an authenticator app.
	chromeStep(t, ctx, "open the admin center", chromedp.Navigate(e.portal+"/admin/"))
	chromeStep(t, ctx, "type the admin's password",
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), e.rootPass))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if h := chromeHeading(t, ctx); h != "Users" {
		t.Fatalf("after the admin's sign-in: %q", h)
	}

	// gail's page: a one-time pass for 1 hour.
	gailID := chromeValue(t, ctx, "gail's id", chromedp.Evaluate[string](`document.querySelector('tr[data-user="gail"] input[name="id"]').value`))
	chromeStep(t, ctx, "open gail's page", chromedp.Navigate(e.portal+"/admin/users/"+gailID))
	chromeStep(t, ctx, "choose the pass",
		chromedp.SetValue(chromedp.ID("pass-lifetime"), "1h"),
		chromedp.Click(chromedp.ID("pass-once")))
	chromeStep(t, ctx, "scroll to the pass", chromedp.ScrollIntoView(chromedp.ID("access-pass-form")))
	accessPassScreenshots(t, ctx, "access-pass-admin-user")
	chromeSubmit(t, ctx, "Issue a Temporary Access Pass", "#issue-access-pass")
	if h := chromeHeading(t, ctx); h != "Issue a Temporary Access Pass?" {
		t.Fatalf("confirmation heading %q", h)
	}
	chromeSubmit(t, ctx, "confirm", "#confirm")
	if h := chromeHeading(t, ctx); h != "Temporary Access Pass issued" {
		t.Fatalf("result heading %q", h)
	}
	copyBtn := chromedp.CSS(`button[data-copy-what="pass"]`)
	chromeStep(t, ctx, "Copy button visible", chromedp.WaitVisible(copyBtn))
	pass := chromeValue(t, ctx, "the pass the page copies", chromedp.Evaluate[string](`document.querySelector('button[data-copy-what="pass"]').dataset.copy`))
	if shown := adminBrowserText(t, ctx, "temp-password-0"); shown != pass || len(pass) != 16 {
		t.Fatalf("shown %q, copied %q", shown, pass)
	}
	accessPassScreenshots(t, ctx, "access-pass-issued")
	chromeStep(t, ctx, "open the portal's logout page", chromedp.Navigate(e.portal+"/.mfa/logout"))
	chromeSubmit(t, ctx, "sign the admin out", `form[action$="/logout"] button[type="submit"]`)

	// gail opens the site: "Sign in another way" leads to the portal's
	// access-pass page.
	chromeStep(t, ctx, "open the site", chromedp.Navigate(e.g.url("/hello")))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("the site signed out: at %q", got)
	}
	chromeStep(t, ctx, "open Sign in another way", chromedp.Click(chromedp.CSS("#other-ways summary")))
	chromeSubmit(t, ctx, "Use a Temporary Access Pass", "#use-access-pass")
	if loc := chromeValue(t, ctx, "location", chromedp.Location()); loc != e.portal+"/.mfa/access-pass" {
		t.Fatalf("the pass page: at %q, want the portal's", loc)
	}
	chromeStep(t, ctx, "type the pass",
		chromedp.SendKeys(chromedp.ID("username"), gail),
		chromedp.SendKeys(chromedp.ID("pass"), strings.ToLower(pass[:4]+" "+pass[4:])))
	accessPassScreenshots(t, ctx, "access-pass-signin")
	chromeSubmit(t, ctx, "sign in with the pass", `form[action$="/access-pass"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/security" {
		t.Fatalf("after the pass: at %q, want Security info", got)
	}
	chromeStep(t, ctx, "the pass session's notice", chromedp.WaitVisible(chromedp.ID("access-pass-notice")))
	accessPassScreenshots(t, ctx, "access-pass-security-info")

	// The site is out of reach with the pass.
	chromeStep(t, ctx, "open the site with the pass", chromedp.Navigate(e.g.url("/hello")))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("the site with a pass session: at %q, want the login page", got)
	}

	// gail adds an authenticator app: no re-verification is asked.
	chromeStep(t, ctx, "add an authenticator", chromedp.Navigate(e.portal+"/.mfa/security/add?method=authenticator"))
	if h := chromeHeading(t, ctx); h != "Add an authenticator app" {
		t.Fatalf("adding an authenticator: heading %q", h)
	}
	gailSecret := strings.ReplaceAll(chromeValue(t, ctx, "read gail's secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err = totp.GenerateCode(gailSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type gail's code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "add it", `form[action$="/security/authenticator"] button[type="submit"]`)
	if h := chromeHeading(t, ctx); h != "Authenticator app added" {
		t.Fatalf("after adding: heading %q", h)
	}
	accessPassScreenshots(t, ctx, "access-pass-method-added")

	// The site is still closed; gail signs in normally with the new app.
	chromeStep(t, ctx, "open the site after adding", chromedp.Navigate(e.g.url("/hello")))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("the site after adding: at %q, want the login page", got)
	}
	chromeStep(t, ctx, "type gail's password",
		chromedp.SendKeys(chromedp.ID("username"), gail),
		chromedp.SendKeys(chromedp.ID("password"), gailPW))
	chromeSubmit(t, ctx, "submit gail's password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/verify" {
		t.Fatalf("gail's password: at %q, want the code step", got)
	}
	// The add used this time step's code: the next step's code signs in.
	code, err = totp.GenerateCode(gailSecret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type the next code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit the code", `form[action$="/verify"] button[type="submit"]`)
	// The next sign-in announces the pass's recovery once, then goes on.
	if notice := chromeValue(t, ctx, "read the recovery notice", chromedp.Text(chromedp.CSS(".recovery-notice"))); !strings.Contains(notice, "Temporary Access Pass") {
		t.Fatalf("the next sign-in's notice %q", notice)
	}
	chromeSubmit(t, ctx, "continue after the notice", `form[action$="/recovery/notice"] button[type="submit"]`)
	body := chromeValue(t, ctx, "read upstream page", chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(body, `upstream says hello to "gail"`) {
		t.Fatalf("the site after a normal sign-in: %q", body)
	}
}
