package integration

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
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
	// The look of Delete beside Rename: a disabled Delete must not share
	// the enabled buttons' fill and border.
	DeleteLook string `json:"deleteLook"`
	RenameLook string `json:"renameLook"`
}

// securityRowsJS reads the method list of the Security info page.
const securityRowsJS = `Array.from(document.querySelectorAll('ul.methods li.method')).map(li => {
	const text = el => el ? el.textContent.replace(/\s+/g, ' ').trim() : '';
	const shown = el => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
	const why = li.querySelector('.method-why');
	const control = word => Array.from(li.querySelectorAll('.method-action a, .method-action button')).find(e => e.textContent.trim().startsWith(word));
	const look = el => { if (!el) return ''; const c = getComputedStyle(el); return c.backgroundColor + ' ' + c.borderTopStyle; };
	const del = control('Delete');
	return {
		type: text(li.querySelector('.method-type')),
		name: text(li.querySelector('.method-name')),
		meta: Array.from(li.querySelectorAll('.method-meta')).map(text),
		why: text(why),
		whyVisible: shown(why),
		deleteDisabled: !del || del.disabled === true,
		deleteVisible: shown(del),
		describedBy: del ? (del.getAttribute('aria-describedby') || '') : '',
		deleteLook: look(del),
		renameLook: look(control('Rename')),
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

// securityAddOptions follows "+ Add sign-in method" from Security info to
// the chooser and returns the methods it offers (label by method) with its
// lines on missing methods.
func securityAddOptions(t *testing.T, ctx context.Context) (options map[string]string, missing []string) {
	t.Helper()
	securityClick(t, ctx, "click + Add sign-in method", chromedp.CSS(`a#add-method`))
	if got := chromeLocation(t, ctx); got != "/.mfa/security/add" {
		t.Fatalf("+ Add sign-in method: at %q, want /.mfa/security/add", got)
	}
	options = chromeValue(t, ctx, "read the methods to add", chromedp.Evaluate[map[string]string](
		`Object.fromEntries(Array.from(document.querySelectorAll('ul.add-options li')).map(li =>
			[li.querySelector('a[id^="add-"]').id.slice(4), li.querySelector('.method-type').textContent.trim()]))`))
	missing = chromeValue(t, ctx, "read the missing methods", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('.add-missing')).map(p => p.textContent.trim())`))
	return options, missing
}

// securityAddMethod clicks method's Add on the chooser, opening it from
// Security info first when the tab is not there.
func securityAddMethod(t *testing.T, ctx context.Context, method string) *network.Response {
	t.Helper()
	if chromeLocation(t, ctx) != "/.mfa/security/add" {
		securityAddOptions(t, ctx)
	}
	return securityClick(t, ctx, "add "+method, chromedp.CSS(`a#add-`+method))
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
	// Visibly disabled: not the fill and border of the enabled Rename
	// beside it.
	if a.DeleteLook == "" || a.RenameLook == "" || a.DeleteLook == a.RenameLook {
		t.Errorf("disabled Delete looks like the enabled Rename: %q vs %q", a.DeleteLook, a.RenameLook)
	}
	securityCheckSeedPage(t, ctx)
	if a.DescribedBy == "" {
		t.Errorf("disabled Delete button is not described by the why-not text")
	} else if why := chromeValue(t, ctx, "read why-not by id", chromedp.Text(chromedp.ID(a.DescribedBy))); strings.TrimSpace(why) != a.Why {
		t.Errorf("aria-describedby %q points at %q, want %q", a.DescribedBy, why, a.Why)
	}

	// "Add sign-in method" offers app passwords to an enforced user; a
	// phone needs a portal, which this server has not, and says so.
	options, missing := securityAddOptions(t, ctx)
	if want := map[string]string{"app-password": "App password", "authenticator": "Authenticator app"}; !maps.Equal(options, want) {
		t.Fatalf("methods to add %v, want %v", options, want)
	}
	// On 127.0.0.1 (an address is no RP ID) passkeys are missing too.
	if len(missing) != 2 || !strings.Contains(missing[0], "Passkey or security key cannot be used") ||
		!strings.Contains(missing[1], "needs the portal site") {
		t.Errorf("missing-method lines %q, want the passkey's and the phone's", missing)
	}
	chromeScreenshot(t, ctx, "security-add-method")

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

	// Delete it from its row: a confirmation step first, which deletes
	// nothing; confirmed, it is refused at once.
	securityClick(t, ctx, "click Delete of Laptop mail", chromedp.JSPath(
		`Array.from(document.querySelectorAll('ul.methods li.method')).filter(li => (li.querySelector('.method-name') || {}).textContent === 'Laptop mail').map(li => li.querySelector('a[href*="/security/delete?kind=app-password"]'))`))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/security/delete?kind=app-password&id=") {
		t.Fatalf("Delete led to %q, want the confirmation page", got)
	}
	if q := chromeValue(t, ctx, "read confirmation", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(q, "Delete the app password Laptop mail from your account?") {
		t.Fatalf("confirmation page says %q", q)
	}
	if status, _ := basicAuthBody(t, g, "/dav/before-confirm", "alice", plain); status != 200 {
		t.Fatalf("the confirmation step alone deleted the app password: %d", status)
	}
	resp = chromeSubmit(t, ctx, "confirm Delete", `form[action$="/app-password/delete"] button[type="submit"]`)
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
	if n := chromeValue(t, ctx, "count delete links", chromedp.Evaluate[int](
		`document.querySelectorAll('ul.methods a[href*="/security/delete?kind=authenticator"]').length`)); n != 2 {
		t.Errorf("%d enabled authenticator Delete buttons, want 2", n)
	}
	// Rename the second one, as the seed lets one tell methods apart.
	securityClick(t, ctx, "click Rename of the second app", chromedp.JSPath(
		`Array.from(document.querySelectorAll('ul.methods a[href*="/security/rename?kind=authenticator"]')).slice(1, 2)`))
	if h := chromeHeading(t, ctx); h != "Rename sign-in method" {
		t.Fatalf("rename heading %q", h)
	}
	if v := chromeValue(t, ctx, "read current name", chromedp.Evaluate[string](`document.getElementById('name').value`)); v != "Authenticator app 2" {
		t.Errorf("rename field holds %q, want the current name", v)
	}
	if v := chromeValue(t, ctx, "clear name", chromedp.Evaluate[string](`(() => { const f = document.getElementById('name'); f.value = ''; return 'x' + f.value; })()`)); v != "x" {
		t.Fatalf("name field not cleared: %q", v)
	}
	chromeStep(t, ctx, "type new name", chromedp.SendKeys(chromedp.ID("name"), "Work phone"))
	chromeSubmit(t, ctx, "click Save", `form[action$="/security/rename"] button[type="submit"]`)
	if n := securityNotice(t, ctx); n != "Sign-in method renamed." {
		t.Fatalf("after Save: notice %q", n)
	}
	if auths = securityRowsOf(securityRows(t, ctx), "Authenticator app"); len(auths) != 2 || auths[1].Name != "Work phone" {
		t.Fatalf("authenticators after renaming: %+v", auths)
	}
	chromeScreenshot(t, ctx, "security-info-two-authenticators")
	securityCheckPhoneWidth(t, ctx)
	t.Logf("look at: %s %s", createdShot, securityShot)
}

// securityCheckSeedPage checks Security info against the seed's page: the
// default method without a Change for one method, Add, the methods, then
// the Account actions; no password reset promised, no app-password count
// line.
func securityCheckSeedPage(t *testing.T, ctx context.Context) {
	t.Helper()
	text := chromeValue(t, ctx, "read page", chromedp.Text(chromedp.CSS("main")))
	for _, s := range []string{"reset your password", "App passwords:"} {
		if strings.Contains(text, s) {
			t.Errorf("Security info says %q", s)
		}
	}
	if !strings.Contains(text, "Default sign-in method:") {
		t.Errorf("no default sign-in method line")
	}
	if n := chromeValue(t, ctx, "count Change", chromedp.Evaluate[int](`document.querySelectorAll('#default-method, form[action$="/security/default"]').length`)); n != 0 {
		t.Errorf("one method, yet %d default-method controls", n)
	}
	order := chromeValue(t, ctx, "read order", chromedp.Evaluate[[]float64](`['.default-method', '.add-method', 'ul.methods', '#account-heading', '#activity-heading']
		.map(s => { const e = document.querySelector(s); return e ? e.getBoundingClientRect().top : -1; })`))
	if len(order) != 5 || !slices.IsSorted(order) || order[0] < 0 {
		t.Errorf("tops of default, Add, methods, Account, Recent activity = %v, want that order", order)
	}
}

// securityCheckPhoneWidth: on a 390 px phone Security info, its recent
// activity included, is no wider than the phone, and the activity's rows
// are restacked to fit: nothing scrolls sideways, not even inside the
// activity's own box.
func securityCheckPhoneWidth(t *testing.T, ctx context.Context) {
	t.Helper()
	const phoneWidth = 390
	chromeStep(t, ctx, "phone viewport", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: phoneWidth, Height: 844, DeviceScaleFactor: 3, Mobile: true})
		return err
	}))
	defer chromeStep(t, ctx, "desktop viewport", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
	// Judged against the phone's width, not innerWidth (which grows to
	// fit overflowing content under mobile emulation).
	w := chromeValue(t, ctx, "page width", chromedp.Poll[int](`(() => { const w = document.documentElement.scrollWidth; return w > 0 && w; })()`))
	chromeScreenshot(t, ctx, "security-info-phone")
	if w > phoneWidth {
		t.Errorf("Security info is %d px wide on a %d px phone", w, phoneWidth)
	}
	if fit := chromeValue(t, ctx, "activity fits", chromedp.Evaluate[string](tableFitsJS("table.activity", phoneWidth))); fit != "" {
		t.Errorf("recent activity on a %d px phone: %s", phoneWidth, fit)
	}
	// Each restacked cell shows the name of its column (its header's text,
	// from data-label).
	labels := chromeValue(t, ctx, "activity labels", chromedp.Evaluate[[]string](`(() => {
		const heads = Array.from(document.querySelectorAll('table.activity thead th')).map(th => th.textContent.trim());
		return Array.from(document.querySelectorAll('table.activity tbody tr:first-child td')).map((td, i) => {
			const before = getComputedStyle(td, '::before').content;
			if (before === 'none' || before === 'normal') return 'cell ' + i + ' shows no label';
			return td.dataset.label === heads[i] ? td.dataset.label : 'cell ' + i + ' labelled ' + td.dataset.label + ', column ' + heads[i];
		});
	})()`))
	if want := []string{"When", "Site", "From", "How", "Result"}; !slices.Equal(labels, want) {
		t.Errorf("restacked activity cells: %q, want labels %q", labels, want)
	}
	// Restacked, it is still a table to a screen reader.
	for sel, want := range map[string]string{
		"table.activity":                  "table",
		"table.activity thead th":         "columnheader",
		"table.activity tbody tr":         "row",
		"table.activity tbody tr td + td": "cell",
	} {
		if got := chromeAXRole(t, ctx, sel); got != want {
			t.Errorf("restacked, %s has the role %q to assistive technology, want %q", sel, got, want)
		}
	}
}

// chromeAXRole returns the role Chromium's accessibility tree gives the
// first element sel selects.
func chromeAXRole(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	nodes := chromeValue(t, ctx, "find "+sel, chromedp.Nodes(chromedp.CSS(sel)))
	id := nodes[0].BackendNodeID
	var role string
	chromeStep(t, ctx, "accessibility role of "+sel, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		no := false
		res, err := chromedp.Call(ctx, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{BackendNodeID: id, FetchRelatives: &no})
		if err != nil {
			return err
		}
		for _, n := range res.Nodes {
			if n.BackendDOMNodeID == id && n.Role != nil {
				role = strings.Trim(string(n.Role.Value), `"`)
			}
		}
		return nil
	}))
	return role
}

// tableFitsJS checks that the table sel selects fits a phone deviceWidth
// px wide without scrolling sideways: neither the table nor the box around
// it (its nearest ancestor that may scroll sideways) is wider than it
// shows, and the box ends within the phone. "" means it fits.
func tableFitsJS(sel string, deviceWidth int) string {
	return fmt.Sprintf(`((sel, deviceWidth) => {
		const table = document.querySelector(sel);
		if (!table) return 'no ' + sel;
		const wide = e => e.scrollWidth > e.clientWidth;
		if (wide(table)) return sel + ' scrolls sideways: ' + table.scrollWidth + ' px of content in ' + table.clientWidth + ' px';
		for (let e = table.parentElement; e && e !== document.body; e = e.parentElement) {
			const o = getComputedStyle(e).overflowX;
			if (o !== 'auto' && o !== 'scroll') continue;
			if (wide(e)) return 'its box scrolls sideways: ' + e.scrollWidth + ' px of content in ' + e.clientWidth + ' px';
			const right = Math.ceil(e.getBoundingClientRect().right);
			return right > deviceWidth ? 'its box ends at ' + right + ' px' : '';
		}
		const right = Math.ceil(table.getBoundingClientRect().right);
		return right > deviceWidth ? sel + ' ends at ' + right + ' px' : '';
	})(%q, %d)`, sel, deviceWidth)
}
