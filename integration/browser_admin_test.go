package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// adminBrowserText reads the text of the element id, trimmed.
func adminBrowserText(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return strings.TrimSpace(chromeValue(t, ctx, "read #"+id, chromedp.Text(chromedp.ID(id))))
}

// TestBrowserAdmin walks the admin center in real headless Chromium, on
// the portal origin: the first admin signs in there (enrolling an
// authenticator app), selects a user in the list, enforces multi-factor
// sign-in, confirms and sees the result; then opens the user's page,
// ticks "Delete all existing app passwords", saves, confirms, and the
// user's app password stops working.
func TestBrowserAdmin(t *testing.T) {
	ctx := chromePhoneNewChromium(t)
	e := adminStart(t, "")
	const frank, frankPW = "frank", "frank password 1"
	e.g.addUser(frank, frankPW, "--name", "Frank Field", "--group", "staff")

	// 1. The portal's root leads to the admin center's sign-in.
	chromeStep(t, ctx, "open the portal", chromedp.Navigate(e.portal+"/"))
	if got := chromeLocation(t, ctx); got != "/.mfa/login?rd=%2Fadmin%2F" {
		t.Fatalf("portal root: at %q", got)
	}
	chromeStep(t, ctx, "type the admin's password",
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), e.rootPass))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("after the password: at %q, want /.mfa/enrol (a second factor for everyone on the portal)", got)
	}
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if got, h := chromeLocation(t, ctx), chromeHeading(t, ctx); got != "/admin/" || h != "Users" {
		t.Fatalf("after sign-in: at %q (%q), want the users list", got, h)
	}
	if n := adminBrowserText(t, ctx, "user-count"); n != "1–2 of 2 users" {
		t.Errorf("user count %q", n)
	}
	chromeScreenshot(t, ctx, "admin-users")

	// 2. Select frank, Enforce, confirm.
	frankID := chromeValue(t, ctx, "frank's id", chromedp.Evaluate[string](`document.querySelector('tr[data-user="frank"] input[name="id"]').value`))
	chromeStep(t, ctx, "select frank", chromedp.Click(chromedp.ID("sel-"+frankID)))
	chromeSubmit(t, ctx, "Enforce", `button[name="op"][value="enforce"]`)
	if h := chromeHeading(t, ctx); h != "Enforce multi-factor sign-in?" {
		t.Fatalf("confirmation heading %q", h)
	}
	if who := adminBrowserText(t, ctx, "confirm-users"); !strings.Contains(who, "frank (Frank Field)") {
		t.Fatalf("confirmation lists %q", who)
	}
	chromeScreenshot(t, ctx, "admin-confirm-enforce")
	chromeSubmit(t, ctx, "confirm Enforce", "#confirm")
	if h := chromeHeading(t, ctx); h != "Multi-factor sign-in enforced" {
		t.Fatalf("result heading %q", h)
	}
	if s := adminBrowserText(t, ctx, "result-summary"); s != "1 changed" {
		t.Fatalf("result summary %q", s)
	}
	if row := adminBrowserText(t, ctx, "results"); !strings.Contains(row, "Changed") || !strings.Contains(row, "Enabled → Enforced") {
		t.Fatalf("result rows %q", row)
	}
	chromeScreenshot(t, ctx, "admin-result-enforce")

	// frank, now Enforced, signs in on the portal (where Security info
	// is) and makes an app password for his mail client.
	b := newPortalBrowser(t, e.g, e.portal)
	b.enrolled(frank, frankPW)
	ap, p := b.createAppPassword("Mail")
	if ap == "" {
		t.Fatalf("frank's app password: %d\n%s", p.status, p.body)
	}
	if s := e.basicStatus(frank, ap); s != http.StatusOK {
		t.Fatalf("frank's app password: %d", s)
	}

	// 3. frank's page: delete all app passwords, Save, confirm.
	chromeSubmit(t, ctx, "open frank's page", `#results a[href="/admin/users/`+frankID+`"]`)
	if h := chromeHeading(t, ctx); h != "frank" {
		t.Fatalf("user page heading %q", h)
	}
	if s := adminBrowserText(t, ctx, "mfa-state"); s != "Enforced" {
		t.Errorf("frank's state on his page: %q", s)
	}
	chromeStep(t, ctx, "tick Delete all existing app passwords", chromedp.Click(chromedp.ID("do-app-passwords")))
	chromeScreenshot(t, ctx, "admin-user")
	chromeSubmit(t, ctx, "Save", "#settings-save")
	if h := chromeHeading(t, ctx); h != "Save these user settings?" {
		t.Fatalf("settings confirmation heading %q", h)
	}
	if what := adminBrowserText(t, ctx, "what"); !strings.Contains(what, "Every app password of the user is deleted") {
		t.Fatalf("settings confirmation says %q", what)
	}
	chromeSubmit(t, ctx, "confirm Save", "#confirm")
	if h := chromeHeading(t, ctx); h != "User settings saved" {
		t.Fatalf("settings result heading %q", h)
	}
	if row := adminBrowserText(t, ctx, "results"); !strings.Contains(row, "1 app password deleted") {
		t.Fatalf("settings result rows %q", row)
	}
	chromeScreenshot(t, ctx, "admin-result-settings")
	if s := e.basicStatus(frank, ap); s != http.StatusUnauthorized {
		t.Fatalf("frank's app password after the admin deleted it: %d", s)
	}
	chromeSubmit(t, ctx, "back to frank", "#result-back")
	if got := chromeLocation(t, ctx); got != "/admin/users/"+frankID {
		t.Errorf("back from the result: at %q", got)
	}

	// 4. frank's page: Reset password, confirm; the temporary password is
	// large and monospace, and its Copy button copies it whole.
	chromeSubmit(t, ctx, "Reset password", "#reset-password")
	if h := chromeHeading(t, ctx); h != "Reset the password?" {
		t.Fatalf("reset confirmation heading %q", h)
	}
	chromeSubmit(t, ctx, "confirm Reset password", "#confirm")
	if h := chromeHeading(t, ctx); h != "Passwords reset" {
		t.Fatalf("reset result heading %q", h)
	}
	size := chromeValue(t, ctx, "temporary password's size", chromedp.Evaluate[float64](
		`parseFloat(getComputedStyle(document.getElementById('temp-password-0')).fontSize)`))
	family := chromeValue(t, ctx, "temporary password's font", chromedp.Evaluate[string](
		`getComputedStyle(document.getElementById('temp-password-0')).fontFamily`))
	if size < 20 || !strings.Contains(family, "monospace") {
		t.Errorf("temporary password shown at %vpx in %q, want 20px or more, monospace", size, family)
	}
	if got := adminBrowserText(t, ctx, "results"); strings.Contains(got, "24h0m0s") || !strings.Contains(got, "valid 24 hours") {
		t.Errorf("result says %q", got)
	}
	want := chromeValue(t, ctx, "the password the page copies", chromedp.Evaluate[string](`document.querySelector('button[data-copy-what="password"]').dataset.copy`))
	// The groups are spacing only: the text (what a selection copies) is
	// the password alone.
	if shown := adminBrowserText(t, ctx, "temp-password-0"); shown != want || len(want) < 16 {
		t.Fatalf("shown %q, copied %q", shown, want)
	}
	copyBtn := chromedp.CSS(`button[data-copy-what="password"]`)
	chromeStep(t, ctx, "Copy button visible", chromedp.WaitVisible(copyBtn))
	chromeStep(t, ctx, "grant clipboard", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    cdpbrowser.PermissionSettingGranted,
				Origin:     e.portal,
			}); err != nil {
				return err
			}
		}
		return nil
	}))
	chromeStep(t, ctx, "click Copy", chromedp.Click(copyBtn))
	status := chromeValue(t, ctx, "wait for copy status", chromedp.Poll[string](
		`(() => { const s = document.getElementById('copy-status-0').textContent.trim(); return s || false; })()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if status != "Password copied to clipboard." {
		t.Fatalf("copy status %q", status)
	}
	chromeScreenshot(t, ctx, "admin-result-reset-password")

	// 5. The sign-in log names the browser and filters by real dates.
	chromeStep(t, ctx, "open the sign-in log", chromedp.Navigate(e.portal+"/admin/sign-ins"))
	if got := adminBrowserText(t, ctx, "sign-ins"); !strings.Contains(got, "Chrome on Linux") || strings.Contains(got, "Mozilla/5.0") {
		t.Errorf("sign-in log rows %q: want the browser named, the user agent folded", got)
	}
	types := chromeValue(t, ctx, "date inputs", chromedp.Evaluate[string](`document.getElementById('since').type + ' ' + document.getElementById('until').type`))
	if types != "date date" {
		t.Errorf("range inputs are %q, want date inputs", types)
	}
	chromeScreenshot(t, ctx, "admin-sign-ins")
}
