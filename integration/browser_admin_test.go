package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

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
}
