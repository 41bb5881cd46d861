package integration

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// recoveryViewport sets the tab to a laptop's 1280x800 or a phone's
// 390x844.
func recoveryViewport(t *testing.T, ctx context.Context, width, height int64, mobile bool) {
	t.Helper()
	scale := 1.0
	if mobile {
		scale = 3
	}
	chromeStep(t, ctx, "viewport", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: scale, Mobile: mobile})
		return err
	}))
}

// recoveryShots saves the page at 1280x800 and at 390x844 (where it
// must not scroll sideways), then goes back to the laptop's size.
func recoveryShots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	recoveryViewport(t, ctx, 1280, 800, false)
	chromeScreenshot(t, ctx, name+"-1280x800")
	recoveryViewport(t, ctx, 390, 844, true)
	w := chromeValue(t, ctx, "page width", chromedp.Poll[int](`(() => { const w = document.documentElement.scrollWidth; return w > 0 && w; })()`))
	chromeScreenshot(t, ctx, name+"-390x844")
	if w > 390 {
		t.Errorf("%s is %d px wide on a 390 px phone", name, w)
	}
	chromeStep(t, ctx, "clear viewport", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
	recoveryViewport(t, ctx, 1280, 800, false)
}

// TestBrowserRecoveryCode: in a real headless Chromium, a user saves
// recovery codes on Security info (shown once, with Copy and a download),
// loses their authenticator, signs in with the password and a recovery
// code ("Sign in another way" → "Use a recovery code"), sees "You used a
// recovery code; 9 left", finds the recovery's notice on Security info,
// and registers a new authenticator app there.
func TestBrowserRecoveryCode(t *testing.T) {
	ctx := newChromium(t)
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("alice", "alice password 1", "--name", "Alice Liddell")
	recoveryViewport(t, ctx, 1280, 800, false)

	signIn := func(want string) {
		t.Helper()
		chromeStep(t, ctx, "open the app", chromedp.Navigate(g.url("/hello")))
		chromeStep(t, ctx, "type credentials",
			chromedp.SendKeys(chromedp.ID("username"), "alice"),
			chromedp.SendKeys(chromedp.ID("password"), "alice password 1"),
		)
		chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
		if got := chromeLocation(t, ctx); got != want {
			t.Fatalf("after the password: at %q, want %q", got, want)
		}
	}

	// Enrol the authenticator that will be lost.
	signIn("/.mfa/enrol")
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)

	// Security info → Recovery codes → Generate: ten codes, once.
	chromeStep(t, ctx, "open security info", chromedp.Navigate(g.url("/.mfa/security")))
	securityClick(t, ctx, "open recovery codes", chromedp.CSS(`a#recovery-codes`))
	if got := chromeLocation(t, ctx); got != "/.mfa/security/recovery-codes" {
		t.Fatalf("recovery codes: at %q", got)
	}
	chromeSubmit(t, ctx, "generate codes", `button#generate-recovery-codes`)
	codes := chromeValue(t, ctx, "read codes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#recovery-codes code')).map(c => c.textContent.trim())`))
	grouped := regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`)
	if len(codes) != 10 {
		t.Fatalf("%d codes shown, want 10: %q", len(codes), codes)
	}
	for _, c := range codes {
		if !grouped.MatchString(c) {
			t.Fatalf("code %q is not XXXX-XXXX-XXXX-XXXX", c)
		}
	}
	// Each code readable: no two overlap (at this width or a phone's).
	overlapJS := `(() => { const r = Array.from(document.querySelectorAll('#recovery-codes code')).map(c => c.getBoundingClientRect());
		for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)
			if (r[i].left < r[j].right && r[j].left < r[i].right && r[i].top < r[j].bottom && r[j].top < r[i].bottom) return i + ' and ' + j;
		return ''; })()`
	if o := chromeValue(t, ctx, "codes overlap", chromedp.Evaluate[string](overlapJS)); o != "" {
		t.Errorf("codes %s overlap", o)
	}
	chromeStep(t, ctx, "Copy button shown", chromedp.WaitVisible(chromedp.CSS(`button[data-copy-what="codes"]`)))
	download := chromeValue(t, ctx, "read download", chromedp.Evaluate[string](
		`(() => { const a = document.getElementById('download-recovery-codes'); return a.getAttribute('download') + ' ' + decodeURIComponent(a.href.slice(a.href.indexOf(',') + 1)); })()`))
	if !strings.HasPrefix(download, "recovery-codes.txt ") || !strings.Contains(download, codes[0]) || !strings.Contains(download, codes[9]) {
		t.Errorf("download as text: %q", download)
	}
	recoveryShots(t, ctx, "recovery-codes-created")
	securityClick(t, ctx, "click Done", chromedp.CSS(`.actions a.btn.primary`))
	if left := chromeValue(t, ctx, "read left", chromedp.Text(chromedp.ID("recovery-codes-left"))); !strings.Contains(left, "10 of 10") {
		t.Errorf("Security info says %q, want 10 of 10 left", left)
	}
	chromeSubmit(t, ctx, "sign out", `form[action$="/logout"] button[type="submit"]`)

	// The phone with the authenticator is lost: password, then "Sign in
	// another way" → "Use a recovery code".
	signIn("/.mfa/verify")
	if h := chromeValue(t, ctx, "read other ways", chromedp.Text(chromedp.ID("other-ways-heading"))); h != "Sign in another way" {
		t.Fatalf("other ways heading %q", h)
	}
	securityClick(t, ctx, "use a recovery code", chromedp.CSS(`a#use-recovery-code`))
	if got := chromeLocation(t, ctx); got != "/.mfa/recovery" {
		t.Fatalf("recovery page: at %q", got)
	}
	recoveryShots(t, ctx, "recovery-code-signin")
	typed := strings.ToLower(strings.ReplaceAll(codes[2], "-", " "))
	chromeStep(t, ctx, "type recovery code", chromedp.SendKeys(chromedp.ID("code"), typed))
	chromeSubmit(t, ctx, "submit recovery code", `form[action$="/recovery"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/recovery/used" {
		t.Fatalf("after the recovery code: at %q", got)
	}
	if said := strings.TrimSpace(chromeValue(t, ctx, "read left", chromedp.Text(chromedp.CSS(".recovery-left")))); said != "You used a recovery code; 9 left." {
		t.Fatalf("after the recovery code: %q", said)
	}
	recoveryShots(t, ctx, "recovery-code-used")
	securityClick(t, ctx, "continue", chromedp.CSS(`a#recovery-continue`))
	if got := chromeLocation(t, ctx); got != "/hello" {
		t.Fatalf("Continue: at %q, want the app", got)
	}

	// Security info announces the recovery and registers a new app.
	chromeStep(t, ctx, "open security info", chromedp.Navigate(g.url("/.mfa/security")))
	notice := chromeValue(t, ctx, "read notice", chromedp.Text(chromedp.CSS(`.recovery-notice`)))
	if !strings.Contains(notice, "you signed in with a recovery code") || !strings.Contains(notice, "If this wasn't you") {
		t.Fatalf("Security info's notice %q", notice)
	}
	recoveryShots(t, ctx, "recovery-security-info-notice")
	securityAddMethod(t, ctx, "authenticator")
	if h := chromeHeading(t, ctx); h != "Add an authenticator app" {
		t.Fatalf("add authenticator: heading %q at %q (a recovery is a recent second factor)", h, chromeLocation(t, ctx))
	}
	newSecret := strings.ReplaceAll(chromeValue(t, ctx, "read new secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err = totp.GenerateCode(newSecret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type new code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "click Verify", `form[action$="/security/authenticator"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/security?done=authenticator-added" {
		t.Fatalf("after Verify: at %q", got)
	}
	if auths := securityRowsOf(securityRows(t, ctx), "Authenticator app"); len(auths) != 2 {
		t.Fatalf("authenticators after adding: %+v", auths)
	}
	chromeSubmit(t, ctx, "dismiss the notice", `button#dismiss-recovery-notice`)
	if n := chromeValue(t, ctx, "count notices", chromedp.Evaluate[int](`document.querySelectorAll('.recovery-notice').length`)); n != 0 {
		t.Errorf("%d recovery notices after Dismiss", n)
	}
	recoveryShots(t, ctx, "recovery-security-info-after")
}
