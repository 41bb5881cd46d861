package integration

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
	"github.com/pquerna/otp/totp"
)

// chromeSessionTimeout bounds the whole browser session: the browser itself is
// bound to it, so nothing outlives it. chromeStepTimeout bounds each step.
const (
	chromeSessionTimeout = 60 * time.Second
	chromeStepTimeout    = 20 * time.Second
)

// step runs actions with a per-step timeout.
func chromeStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that returns a value, with a per-step timeout.
func chromeValue[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// submit clicks a button that submits a form and waits for the page that
// the navigation (redirects followed) ends on.
func chromeSubmit(t *testing.T, ctx context.Context, what string, button string) *network.Response {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp
}

// screenshot takes a full-page PNG, checks it, and saves it in t.TempDir()
// and, when MFAGATE_SCREENSHOTS is set, in that directory too.
func chromeScreenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	buf := chromeValue(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if len(buf) == 0 {
		t.Fatalf("screenshot %s is empty", name)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		t.Fatalf("screenshot %s is %dx%d", name, cfg.Width, cfg.Height)
	}
	path := filepath.Join(t.TempDir(), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("MFAGATE_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot %s not written: %v", path, err)
	}
	t.Logf("screenshot %s: %dx%d, %d bytes, %s", name, cfg.Width, cfg.Height, len(buf), path)
	return path
}

// location returns the path and query of the page the tab shows.
func chromeLocation(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc := chromeValue(t, ctx, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("location %q: %v", loc, err)
	}
	return u.RequestURI()
}

func chromeHeading(t *testing.T, ctx context.Context) string {
	t.Helper()
	return strings.TrimSpace(chromeValue(t, ctx, "read h1", chromedp.Text(chromedp.CSS("h1"))))
}

// TestBrowserSignIn walks the sign-in flow in a real headless Chromium:
// login, wrong password, enrolment with a QR code and a TOTP code, the
// upstream page, the HttpOnly cookie, and sign-out.
func TestBrowserSignIn(t *testing.T) {
	ctx := newChromium(t)

	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("alice", "alice password 1", "--name", "Alice Liddell")

	// A protected page sends the browser to the login page.
	chromeStep(t, ctx, "open protected page", chromedp.Navigate(g.url("/hello?x=1")))
	if got, want := chromeLocation(t, ctx), "/.mfa/login?rd="+url.QueryEscape("/hello?x=1"); got != want {
		t.Fatalf("protected page: at %q, want %q", got, want)
	}
	if h := chromeHeading(t, ctx); h != "Sign in" {
		t.Fatalf("login page heading %q", h)
	}

	// Wrong password: the page says so and keeps the username.
	chromeStep(t, ctx, "type wrong password",
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
	)
	chromeSubmit(t, ctx, "submit wrong password", `form[action$="/login"] button[type="submit"]`)
	alert := chromeValue(t, ctx, "read error", chromedp.Text(chromedp.CSS(".alert")))
	if !strings.Contains(alert, "Your account or password is incorrect.") {
		t.Fatalf("wrong password: alert %q", alert)
	}
	if u := chromeValue(t, ctx, "read username", chromedp.Value(chromedp.ID("username"))); u != "alice" {
		t.Errorf("username after failed login = %q, want it kept", u)
	}
	chromeScreenshot(t, ctx, "login-wrong-password")

	// Right password: enrolment.
	chromeStep(t, ctx, "type password", chromedp.SendKeys(chromedp.ID("password"), "alice password 1"))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("after password: at %q, want /.mfa/enrol", got)
	}
	if h := chromeHeading(t, ctx); h != "More information required" {
		t.Fatalf("enrol page heading %q", h)
	}
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	if len(secret) != 32 {
		t.Fatalf("secret %q is not 32 base32 characters", secret)
	}
	qrWidth := chromeValue(t, ctx, "QR image", chromedp.Evaluate[int](`(() => {
		const img = document.querySelector('img.qr');
		if (!img) return -1;
		return img.decode().then(() => img.naturalWidth, () => 0);
	})()`, chromedp.EvalAwaitPromise))
	if qrWidth <= 0 {
		t.Fatalf("QR image did not load (naturalWidth %d)", qrWidth)
	}
	chromeScreenshot(t, ctx, "enrol")

	// The code from an authenticator app finishes sign-in and lands on
	// the page first asked for.
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	resp := chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if resp.Status != 200 {
		t.Fatalf("after code: status %d", resp.Status)
	}
	if got := chromeLocation(t, ctx); got != "/hello?x=1" {
		t.Fatalf("after code: at %q, want /hello?x=1", got)
	}
	body := chromeValue(t, ctx, "read upstream page", chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(body, `upstream says hello to "alice"`) {
		t.Fatalf("upstream page: %q", body)
	}

	// The session cookie exists but scripts cannot read it.
	cookies := chromeValue(t, ctx, "get cookies", chromedp.Action[[]*network.Cookie](
		func(ctx context.Context, _ *chromedp.Target) ([]*network.Cookie, error) {
			res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{g.url("/")}})
			return res.Cookies, err
		}))
	var session *network.Cookie
	for _, c := range cookies {
		if strings.HasSuffix(c.Name, "mfagate") {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no mfagate session cookie in the browser: %d cookies", len(cookies))
	}
	if !session.HTTPOnly {
		t.Errorf("session cookie %s is not HttpOnly", session.Name)
	}
	if dc := chromeValue(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(dc, "mfagate") {
		t.Errorf("document.cookie shows the session cookie: %q", dc)
	}

	// Sign out with the button on the confirmation page.
	chromeStep(t, ctx, "open logout page", chromedp.Navigate(g.url("/.mfa/logout")))
	if h := chromeHeading(t, ctx); h != "Sign out?" {
		t.Fatalf("logout page heading %q", h)
	}
	chromeSubmit(t, ctx, "click Sign out", `form[action$="/logout"] button[type="submit"]`)
	if h := chromeHeading(t, ctx); h != "You have signed out" {
		t.Errorf("after sign-out: heading %q", h)
	}
	chromeStep(t, ctx, "open protected page after sign-out", chromedp.Navigate(g.url("/hello")))
	if got, want := chromeLocation(t, ctx), "/.mfa/login?rd="+url.QueryEscape("/hello"); got != want {
		t.Fatalf("after sign-out: at %q, want %q", got, want)
	}
	if h := chromeHeading(t, ctx); h != "Sign in" {
		t.Fatalf("after sign-out: heading %q", h)
	}
}

// ciIsSet reports whether the tests run in CI (see package chromium).
func ciIsSet() bool { return chromium.CIIsSet() }

// newChromium starts a headless Chromium with a fresh profile for the
// test, bounded by chromeSessionTimeout.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	return chromium.Start(t, chromium.Options{Timeout: chromeSessionTimeout})
}
