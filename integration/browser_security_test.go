package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// securityMethodRow is one entry of the "Your sign-in methods" list, as the
// browser shows it.
type securityMethodRow struct {
	Type           string   `json:"type"`
	Name           string   `json:"name"`
	Meta           []string `json:"meta"`
	Why            string   `json:"why"`
	WhyVisible     bool     `json:"whyVisible"`
	DeleteDisabled bool     `json:"deleteDisabled"`
	DeleteVisible  bool     `json:"deleteVisible"`
	DescribedBy    string   `json:"describedBy"`
}

// securityRowsJS reads the method list of the Security info page.
const securityRowsJS = `Array.from(document.querySelectorAll('ul.methods li.method')).map(li => {
	const text = el => el ? el.textContent.replace(/\s+/g, ' ').trim() : '';
	const shown = el => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
	const why = li.querySelector('.method-why');
	const del = li.querySelector('.method-action button');
	return {
		type: text(li.querySelector('.method-type')),
		name: text(li.querySelector('.method-name')),
		meta: Array.from(li.querySelectorAll('.method-meta')).map(text),
		why: text(why),
		whyVisible: shown(why),
		deleteDisabled: !del || del.disabled,
		deleteVisible: shown(del),
		describedBy: del ? (del.getAttribute('aria-describedby') || '') : '',
	};
})`

func securityRows(t *testing.T, ctx context.Context) []securityMethodRow {
	t.Helper()
	return chromeValue(t, ctx, "read sign-in methods", chromedp.Evaluate[[]securityMethodRow](securityRowsJS))
}

func securityRowsOf(rows []securityMethodRow, typ string) []securityMethodRow {
	var out []securityMethodRow
	for _, r := range rows {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// securityClick clicks what sel selects (any selector type) and waits for
// the page the navigation ends on.
func securityClick[S chromedp.Selectable](t *testing.T, ctx context.Context, what string, sel S) *network.Response {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, chromeStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp
}

// securityAddMethod picks a method in "Sign-in method to add" and submits.
func securityAddMethod(t *testing.T, ctx context.Context, method string) *network.Response {
	t.Helper()
	chromeStep(t, ctx, "choose "+method, chromedp.SetValue(chromedp.ID("add-method"), method))
	return chromeSubmit(t, ctx, "add "+method, `form.add-method button[type="submit"]`)
}

// securityNotice waits for the role="status" confirmation on Security info.
func securityNotice(t *testing.T, ctx context.Context) string {
	t.Helper()
	chromeStep(t, ctx, "wait for notice", chromedp.WaitVisible(chromedp.CSS(`.notice[role="status"]`)))
	return strings.TrimSpace(chromeValue(t, ctx, "read notice", chromedp.Text(chromedp.CSS(`.notice[role="status"]`))))
}

// basicAuthBody sends one request with basic auth, as a mail or WebDAV
// client does, and returns the status and body.
func basicAuthBody(t *testing.T, g *gatewayInstance, path, user, pw string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", g.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pw)
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestBrowserSecurityInfo manages sign-in methods in a real headless
// Chromium: the Security info list, creating, copying, using and deleting an
// app password, and adding a second authenticator app.
func TestBrowserSecurityInfo(t *testing.T) {
	ctx := newChromium(t)

	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("alice", "alice password 1", "--name", "Alice Liddell")

	// Headless tabs are not focused; the clipboard API wants a focused page.
	chromeStep(t, ctx, "emulate focus", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))

	// Sign in and enrol, asking for Security info first.
	chromeStep(t, ctx, "open security info", chromedp.Navigate(g.url("/.mfa/security")))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login?rd=") {
		t.Fatalf("security info signed out: at %q, want the login page", got)
	}
	chromeStep(t, ctx, "type credentials",
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice password 1"),
	)
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("after password: at %q, want /.mfa/enrol", got)
	}
	firstSecret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(firstSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/security" {
		t.Fatalf("after enrolment: at %q, want /.mfa/security", got)
	}
	if h := chromeHeading(t, ctx); h != "Security info" {
		t.Fatalf("security info heading %q", h)
	}

	// The only authenticator of an enforced user cannot be deleted, and
	// the page says why.
	rows := securityRows(t, ctx)
	auths := securityRowsOf(rows, "Authenticator app")
	if len(rows) != 1 || len(auths) != 1 {
		t.Fatalf("sign-in methods after enrolment: %+v", rows)
	}
	a := auths[0]
	if !a.DeleteVisible || !a.DeleteDisabled {
		t.Errorf("only authenticator: Delete visible=%v disabled=%v, want a visible, disabled button", a.DeleteVisible, a.DeleteDisabled)
	}
	if !a.WhyVisible || !strings.Contains(a.Why, "This is the only authenticator app on your account") {
		t.Errorf("only authenticator: why-not text %q (visible %v)", a.Why, a.WhyVisible)
	}
	if a.DescribedBy == "" {
		t.Errorf("disabled Delete button is not described by the why-not text")
	} else if why := chromeValue(t, ctx, "read why-not by id", chromedp.Text(chromedp.ID(a.DescribedBy))); strings.TrimSpace(why) != a.Why {
		t.Errorf("aria-describedby %q points at %q, want %q", a.DescribedBy, why, a.Why)
	}

	// "Add sign-in method" offers app passwords to an enforced user.
	options := chromeValue(t, ctx, "read add-method options", chromedp.Evaluate[map[string]string](
		`Object.fromEntries(Array.from(document.querySelectorAll('#add-method option')).map(o => [o.value, o.textContent.trim()]))`))
	if options["app-password"] != "App password" || options["authenticator"] != "Authenticator app" {
		t.Fatalf("add-method options %v, want App password and Authenticator app", options)
	}

	// App password: name it, and see it once.
	securityAddMethod(t, ctx, "app-password")
	if got := chromeLocation(t, ctx); got != "/.mfa/security/add?method=app-password" {
		t.Fatalf("add app password: at %q", got)
	}
	if h := chromeHeading(t, ctx); h != "App password" {
		t.Fatalf("new app password heading %q", h)
	}
	chromeStep(t, ctx, "type name", chromedp.SendKeys(chromedp.ID("name"), "Laptop mail"))
	resp := chromeSubmit(t, ctx, "click Next", `form[action$="/security/app-password"] button[type="submit"]`)
	if resp.Status != 200 {
		t.Fatalf("created page: status %d", resp.Status)
	}
	if cc := fmt.Sprint(resp.Headers["Cache-Control"]); cc != "no-store" {
		t.Errorf("created page Cache-Control %q, want no-store", cc)
	}
	shown := strings.TrimSpace(chromeValue(t, ctx, "read app password", chromedp.Text(chromedp.ID("app-password"))))
	if !regexp.MustCompile(`^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$`).MatchString(shown) {
		t.Fatalf("app password %q is not 4 groups of 4 letters", shown)
	}
	plain := strings.ReplaceAll(shown, " ", "")
	if name := chromeValue(t, ctx, "read name", chromedp.Text(chromedp.CSS(".app-password-name strong"))); name != "Laptop mail" {
		t.Errorf("created page names %q", name)
	}

	// Copy: the button is shown by the script, and says what it did.
	copyBtn := chromedp.CSS(`button[data-copy-what="password"]`)
	chromeStep(t, ctx, "Copy button visible", chromedp.WaitVisible(copyBtn))
	if st := chromeValue(t, ctx, "read copy status", chromedp.Text(chromedp.ID("copy-status"))); strings.TrimSpace(st) != "" {
		t.Fatalf("copy status before the click: %q", st)
	}
	origin := strings.TrimSuffix(g.url(""), "/")
	chromeStep(t, ctx, "grant clipboard", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    cdpbrowser.PermissionSettingGranted,
				Origin:     origin,
			}); err != nil {
				return err
			}
		}
		return nil
	}))
	chromeStep(t, ctx, "click Copy", chromedp.Click(copyBtn))
	status := chromeValue(t, ctx, "wait for copy status", chromedp.Poll[string](
		`(() => { const s = document.getElementById('copy-status').textContent.trim(); return s || false; })()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if status != "Password copied to clipboard." {
		t.Fatalf("copy status %q, want %q", status, "Password copied to clipboard.")
	}
	clipCtx, cancelClip := context.WithTimeout(ctx, chromeStepTimeout)
	clip, err := chromedp.Run(clipCtx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	cancelClip()
	if err != nil {
		t.Logf("clipboard not readable in this browser (%v); checked the status text only", err)
	} else if clip != plain {
		t.Fatalf("clipboard holds %q, want %q", clip, plain)
	} else {
		t.Logf("clipboard holds the password")
	}
	createdShot := chromeScreenshot(t, ctx, "security-app-password-created")

	// Done: the list shows the new app password, never used.
	securityClick(t, ctx, "click Done", chromedp.CSS(`.actions a.btn.primary`))
	if got := chromeLocation(t, ctx); got != "/.mfa/security" {
		t.Fatalf("after Done: at %q", got)
	}
	laptop := func() securityMethodRow {
		t.Helper()
		rows := securityRows(t, ctx)
		for _, r := range securityRowsOf(rows, "App password") {
			if r.Name == "Laptop mail" {
				return r
			}
		}
		t.Fatalf("no app password \"Laptop mail\" in %+v", rows)
		return securityMethodRow{}
	}
	if r := laptop(); !slices.Contains(r.Meta, "Last used: Never") {
		t.Fatalf("new app password meta %q, want Last used: Never", r.Meta)
	}
	if body := chromeValue(t, ctx, "read page", chromedp.Text(chromedp.CSS("body"))); strings.Contains(body, plain) || strings.Contains(body, shown) {
		t.Fatal("Security info shows the app password itself")
	}

	// A client that cannot do MFA uses it.
	status2, body := basicAuthBody(t, g, "/dav/file.txt", "alice", plain)
	if status2 != 200 || !strings.Contains(body, `upstream says hello to "alice"`) {
		t.Fatalf("basic auth with the app password: %d %q", status2, body)
	}

	// Reloaded, the list shows where it was used.
	chromeStep(t, ctx, "reload security info", chromedp.Reload())
	r := laptop()
	var lastUsed string
	for _, m := range r.Meta {
		if strings.HasPrefix(m, "Last used: ") {
			lastUsed = m
		}
	}
	if !strings.HasSuffix(lastUsed, " from 127.0.0.1") {
		t.Fatalf("after use: %q, want a last use from 127.0.0.1", r.Meta)
	}
	securityShot := chromeScreenshot(t, ctx, "security-info-app-password")

	// Delete it from its row: confirmed, and refused at once.
	resp = securityClick(t, ctx, "click Delete of Laptop mail", chromedp.JSPath(
		`Array.from(document.querySelectorAll('ul.methods li.method')).filter(li => (li.querySelector('.method-name') || {}).textContent === 'Laptop mail').map(li => li.querySelector('form[action$="/app-password/delete"] button[type="submit"]'))`))
	if resp.Status != 200 {
		t.Fatalf("after delete: status %d", resp.Status)
	}
	if n := securityNotice(t, ctx); !strings.HasPrefix(n, "App password deleted.") {
		t.Fatalf("after delete: notice %q", n)
	}
	if aps := securityRowsOf(securityRows(t, ctx), "App password"); len(aps) != 0 {
		t.Fatalf("app passwords after delete: %+v", aps)
	}
	if status, body := basicAuthBody(t, g, "/dav/after-delete", "alice", plain); status != 401 {
		t.Fatalf("basic auth with the deleted app password: %d %q", status, body)
	}

	// A second authenticator app.
	securityAddMethod(t, ctx, "authenticator")
	if got := chromeLocation(t, ctx); got != "/.mfa/security/add?method=authenticator" {
		t.Fatalf("add authenticator: at %q", got)
	}
	if h := chromeHeading(t, ctx); h != "Add an authenticator app" {
		t.Fatalf("add authenticator heading %q", h)
	}
	qrWidth := chromeValue(t, ctx, "QR image", chromedp.Evaluate[int](`(() => {
		const img = document.querySelector('img.qr');
		if (!img) return -1;
		return img.decode().then(() => img.naturalWidth, () => 0);
	})()`, chromedp.EvalAwaitPromise))
	if qrWidth <= 0 {
		t.Fatalf("QR image did not load (naturalWidth %d)", qrWidth)
	}
	secondSecret := strings.ReplaceAll(chromeValue(t, ctx, "read second secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	if len(secondSecret) != 32 || secondSecret == firstSecret {
		t.Fatalf("second secret %q (first %q)", secondSecret, firstSecret)
	}
	// The sign-in used this time step; each step counts once per user, so
	// the new app's code is the one for the next step.
	code, err = totp.GenerateCode(secondSecret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type second code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "click Verify", `form[action$="/security/authenticator"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/security?done=authenticator-added" {
		t.Fatalf("after Verify: at %q", got)
	}
	if n := securityNotice(t, ctx); n != "Authenticator app added." {
		t.Fatalf("after Verify: notice %q", n)
	}
	auths = securityRowsOf(securityRows(t, ctx), "Authenticator app")
	if len(auths) != 2 {
		t.Fatalf("authenticators after adding: %+v", auths)
	}
	for i, a := range auths {
		if a.DeleteDisabled || !a.DeleteVisible || a.Why != "" {
			t.Errorf("authenticator %d of 2: Delete disabled=%v visible=%v why=%q, want enabled", i+1, a.DeleteDisabled, a.DeleteVisible, a.Why)
		}
	}
	if n := chromeValue(t, ctx, "count delete forms", chromedp.Evaluate[int](
		`document.querySelectorAll('form[action$="/authenticator/delete"] button[type="submit"]:not([disabled])').length`)); n != 2 {
		t.Errorf("%d enabled authenticator Delete buttons, want 2", n)
	}
	chromeScreenshot(t, ctx, "security-info-two-authenticators")
	t.Logf("look at: %s %s", createdShot, securityShot)
}
