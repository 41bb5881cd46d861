package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
)

// TestBrowserLayout opens every page of the product in real Chromium with
// real state (one Caddy with a portal; a user with an authenticator app,
// an app password, paired phones and recent activity; the first admin)
// and checks each at 1280×800 and on a 390×844 phone (mobile emulation),
// in light and dark: no horizontal scroll, no overlapping elements, no
// element past the device's right edge, and (axe-core 4.14.1, injected by
// the test) no serious or critical WCAG 2.1 A/AA violation. Screenshots
// of every variant are kept (MFAGATE_SCREENSHOTS, else the test's temp
// directory).
func TestBrowserLayout(t *testing.T) {
	axe, axeMissing := layoutAxeSource(t)
	ctx := chromium.Start(t, chromium.Options{Timeout: 3 * time.Minute})

	e := startPhoneEnv(t, newUpstream(t), phoneOptions{})
	adminPW := e.g.bootstrapPassword()
	// dana: an authenticator app and a phone played by the Go phone
	// client (paired in Security info, the notification made her
	// default), and an app password; her sign-ins fill Recent activity.
	dana := e.newPairedUser("dana")
	ap, p := dana.sec.createAppPassword("Thunderbird on the office laptop")
	if ap == "" {
		t.Fatalf("dana's app password: %d\n%s", p.status, p.body)
	}
	// Recent activity: the app password used, a sign-in approved on the
	// phone, and a failed sign-in.
	wantStatus(t, basicGet(t, e.g, "/mail", dana.name, ap), 200, "dana's app password")
	a := dana.startPushSignIn("/")
	wantPhoneStatus(t, "approve", dana.phone.answer(a.id, "approve", a.num()), 200)
	if p := newBrowser(t, e.g).login(dana.name, "not dana's password", "/"); p.status == 303 && p.location == "/.mfa/push" {
		t.Fatalf("a wrong password was taken: %d %q", p.status, p.location)
	}
	e.g.addUser("erin", "erin password 1", "--name", "Erin Example", "--group", "staff")
	l := &layoutRun{t: t, axe: axe, shots: layoutShotDir(t)}
	// The browser reaches the gateway by a host name, as people do: the
	// activity's Site column then shows it.
	gateway, portal := fmt.Sprintf("http://localhost:%d", e.g.httpPort), e.portalURL()

	l.selfTest(ctx)

	// The sign-in page, then the admin center on the portal (whose first
	// sign-in is the enrolment page), dana's sign-in, her Security info and
	// the phone pages.
	chromeStep(t, ctx, "open the sign-in page", chromedp.Navigate(gateway+"/.mfa/login?rd=%2F"))
	l.check(ctx, "sign-in")
	// "Use a Temporary Access Pass" (on the portal, where Security info is).
	chromeStep(t, ctx, "open the access-pass page", chromedp.Navigate(gateway+"/.mfa/access-pass"))
	l.check(ctx, "access-pass")
	layoutAdminPages(t, ctx, l, portal, adminPW)
	layoutSignInPages(t, ctx, l, gateway, dana)
	link := layoutSecurityPages(t, ctx, l, layoutSecurityURL(gateway, portal), dana)
	layoutPhonePages(t, ctx, l, link, dana)
	layoutRecoveryPages(t, ctx, l, gateway, layoutSecurityURL(gateway, portal), dana)
	chromeStep(t, ctx, "open the sign-out page", chromedp.Navigate(gateway+"/.mfa/logout"))
	l.check(ctx, "sign-out")
	chromeSubmit(t, ctx, "click Sign out", `form[action$="/logout"] button[type="submit"]`)
	l.check(ctx, "signed-out")
	t.Logf("checked %d pages in %d variants each; screenshots in %s", l.pages, len(layoutVariants), l.shots)
	if axe == "" {
		t.Skip("the layout checks ran; the accessibility check did not: " + axeMissing)
	}
}

// layoutAdminPages signs the first admin in on the portal (enrolling an
// authenticator app) and checks the admin center's pages: the list, a
// change's confirmation and result (erin enforced), dana's page, the
// sign-in log and Add user.
func layoutAdminPages(t *testing.T, ctx context.Context, l *layoutRun, portal, adminPW string) {
	t.Helper()
	chromeStep(t, ctx, "open the portal", chromedp.Navigate(portal+"/admin/"))
	layoutPassword(t, ctx, "admin", adminPW)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("admin's first sign-in: at %q, want /.mfa/enrol", got)
	}
	l.check(ctx, "enrolment")
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), codeAt(t, secret, currentStep())))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/admin/" {
		t.Fatalf("after the admin's enrolment: at %q, want /admin/", got)
	}
	l.check(ctx, "admin-users")
	danaID := chromeValue(t, ctx, "dana's id", chromedp.Evaluate[string](`document.querySelector('tr[data-user="dana"] input[name="id"]').value`))
	erinID := chromeValue(t, ctx, "erin's id", chromedp.Evaluate[string](`document.querySelector('tr[data-user="erin"] input[name="id"]').value`))
	chromeStep(t, ctx, "select erin", chromedp.Click(chromedp.ID("sel-"+erinID)))
	chromeSubmit(t, ctx, "Enforce", `button[name="op"][value="enforce"]`)
	layoutWantHeading(t, ctx, "Enforce multi-factor sign-in?")
	l.check(ctx, "admin-confirm")
	chromeSubmit(t, ctx, "confirm Enforce", "#confirm")
	layoutWantHeading(t, ctx, "Multi-factor sign-in enforced")
	l.check(ctx, "admin-result")
	chromeStep(t, ctx, "open dana's page", chromedp.Navigate(portal+"/admin/users/"+danaID))
	layoutWantHeading(t, ctx, "dana")
	l.check(ctx, "admin-user")
	chromeStep(t, ctx, "open the sign-in log", chromedp.Navigate(portal+"/admin/sign-ins"))
	l.check(ctx, "admin-sign-ins")
	chromeStep(t, ctx, "open Add user", chromedp.Navigate(portal+"/admin/users/new"))
	l.check(ctx, "admin-add-user")
}

// layoutSignInPages signs dana in on the protected site with a fresh
// browser: the waiting page (her phone is her default), then the code
// page.
func layoutSignInPages(t *testing.T, ctx context.Context, l *layoutRun, gateway string, dana *phoneUser) {
	t.Helper()
	chromeStep(t, ctx, "forget the admin", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, struct{}{})
		return err
	}))
	chromeStep(t, ctx, "open the protected site", chromedp.Navigate(gateway+"/hello"))
	layoutPassword(t, ctx, dana.name, dana.pw)
	if got := chromeLocation(t, ctx); got != "/.mfa/push" {
		t.Fatalf("dana's password: at %q, want the waiting page", got)
	}
	l.check(ctx, "waiting")
	chromeStep(t, ctx, "open the code page", chromedp.Navigate(gateway+"/.mfa/verify"))
	l.check(ctx, "code")
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), layoutNextCode(t, dana)))
	chromeSubmit(t, ctx, "submit code", `form[action$="/verify"] button[type="submit"]`)
}

// layoutSecurityPages checks Security info (at security) and its pages,
// and returns the pairing link its add-a-phone page shows.
func layoutSecurityPages(t *testing.T, ctx context.Context, l *layoutRun, security string, dana *phoneUser) string {
	t.Helper()
	layoutOpen(t, ctx, dana, security)
	l.check(ctx, "security-info")
	layoutOpen(t, ctx, dana, security+"/password")
	l.check(ctx, "change-password")
	layoutOpen(t, ctx, dana, security+"/add")
	l.check(ctx, "security-add")
	layoutOpen(t, ctx, dana, security+"/add?method=authenticator")
	l.check(ctx, "add-authenticator")
	layoutOpen(t, ctx, dana, security+"/add?method=app-password")
	l.check(ctx, "app-password-new")
	chromeStep(t, ctx, "name the app password", chromedp.SendKeys(chromedp.ID("name"), "Phone mail app"))
	chromeSubmit(t, ctx, "create the app password", `form[action$="/security/app-password"] button[type="submit"]`)
	l.check(ctx, "app-password-created")
	// Rename and the confirmation step before a Delete, from the list.
	origin := strings.TrimSuffix(security, "/.mfa/security")
	for _, page := range [][2]string{
		{"security-rename", `ul.methods a[href*="/security/rename?kind=authenticator"]`},
		{"security-delete", `ul.methods a[href*="/security/delete?kind=app-password"]`},
	} {
		name, sel := page[0], page[1]
		layoutOpen(t, ctx, dana, security)
		href := chromeValue(t, ctx, "read "+name+" link", chromedp.Evaluate[string](`(document.querySelector('`+sel+`') || {getAttribute: () => ''}).getAttribute('href')`))
		if href == "" {
			t.Fatalf("Security info has no %s", sel)
		}
		layoutOpen(t, ctx, dana, origin+href)
		l.check(ctx, name)
	}
	layoutOpen(t, ctx, dana, security+"/add?method=phone")
	l.check(ctx, "pair-phone")
	link := strings.TrimSpace(chromeValue(t, ctx, "read pairing link", chromedp.Text(chromedp.CSS("code.pair-link"))))
	return link
}

// layoutPhonePages pairs a phone played by a browser tab of its own (its
// own browser context) with the pairing link, the laptop tab ctx typing
// its code, and checks the phone's pages: pairing (name, code), the app
// page idle, with a request, its answer, and the deny page.
func layoutPhonePages(t *testing.T, ctx context.Context, l *layoutRun, link string, dana *phoneUser) {
	t.Helper()
	// dana's sign-in above left a request on her first phone: deny it, so
	// the phone paired next starts idle.
	for r := dana.phone.pending(); r != nil; r = dana.phone.pending() {
		id, _ := r["id"].(string)
		wantPhoneStatus(t, "deny the waiting request", dana.phone.answer(id, "deny", ""), 200)
	}

	// The phone pages, in a browser context of their own: pairing (name,
	// code), then the app page idle, with a request, and its answer.
	phone, cancelPhone := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelPhone)
	if err := chromedp.Do(phone); err != nil {
		t.Fatalf("opening the phone's tab: %v", err)
	}
	l.mobileFirst = true
	l.variant(phone, layoutVariants[2]) // the page reads the size it opens at
	chromeStep(t, phone, "open the pairing link", chromedp.Navigate(link))
	chromePhoneVisible(t, phone, "name-step", 15*time.Second)
	l.check(phone, "phone-pair-name")
	chromeStep(t, phone, "pair", chromedp.Click(chromedp.ID("pair-button")))
	chromePhoneVisible(t, phone, "code-step", 60*time.Second)
	l.check(phone, "phone-pair-code")
	chromeStep(t, ctx, "type the phone's code", chromedp.SendKeys(chromedp.ID("code"), chromePhoneText(t, phone, "pair-code")))
	chromeSubmit(t, ctx, "click Pair phone", `form[action$="/security/phone"] button[type="submit"]`)
	chromePhoneVisible(t, phone, "idle", 15*time.Second)
	l.check(phone, "phone-app-idle")
	// A request approved with its number, then one denied.
	req := dana.startPushSignIn("/")
	chromePhoneVisible(t, phone, "request", 15*time.Second)
	l.check(phone, "phone-app-request")
	chromeStep(t, phone, "type the number", chromedp.SendKeys(chromedp.ID("number"), req.num()))
	chromeStep(t, phone, "tap Approve", chromedp.Click(chromedp.ID("approve")))
	chromePhoneVisible(t, phone, "result", 15*time.Second)
	l.check(phone, "phone-app-result")
	chromeStep(t, phone, "tap OK", chromedp.Click(chromedp.ID("result-done")))
	chromePhoneVisible(t, phone, "idle", 15*time.Second)
	dana.startPushSignIn("/")
	chromePhoneVisible(t, phone, "request", 15*time.Second)
	layoutPhoneDeny(t, phone, func() { l.check(phone, "phone-app-deny") })
}

// layoutPhoneShows waits until the phone's app page shows one of the
// sections with ids and returns which.
func layoutPhoneShows(t *testing.T, ctx context.Context, ids ...string) string {
	t.Helper()
	var shown string
	chromePhoneWait(t, ctx, "phone shows one of "+strings.Join(ids, ", "), 15*time.Second, func(ctx context.Context) (bool, string) {
		for _, id := range ids {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
				`(el => !!el && !el.hidden && el.getClientRects().length > 0)(document.getElementById(%q))`, id)))
			if err != nil {
				return false, err.Error()
			}
			if ok {
				shown = id
				return true, id
			}
		}
		return false, ""
	})
	return shown
}

// layoutPhoneDeny denies the request the phone shows without reporting
// it, calling shown on the page that offers the report. (The page asks to
// deny only, or offers the report after "No, it's not me".)
func layoutPhoneDeny(t *testing.T, ctx context.Context, shown func()) {
	t.Helper()
	chromeStep(t, ctx, "tap Deny", chromedp.Click(chromedp.ID("deny")))
	skip := map[string]string{"deny-confirm": "deny-only", "report-offer": "report-skip"}
	offer := layoutPhoneShows(t, ctx, "deny-confirm", "report-offer")
	shown()
	chromeStep(t, ctx, "deny without a report", chromedp.Click(chromedp.ID(skip[offer])))
	layoutPhoneShows(t, ctx, "result", "idle")
}

// layoutSecurityURL is where Security info lives: on the portal origin
// when one is configured, as here (else on each site, at the gateway's
// /.mfa/security).
func layoutSecurityURL(gateway, portal string) string {
	_ = gateway
	return portal + "/.mfa/security"
}

// layoutOpen opens u as dana, signing her in with the password and a code
// when the origin asks.
func layoutOpen(t *testing.T, ctx context.Context, u *phoneUser, target string) {
	t.Helper()
	chromeStep(t, ctx, "open "+target, chromedp.Navigate(target))
	if !strings.HasPrefix(chromeLocation(t, ctx), "/.mfa/login") {
		return
	}
	layoutPassword(t, ctx, u.name, u.pw)
	if got := chromeLocation(t, ctx); got == "/.mfa/push" {
		origin := mustURL(target)
		chromeStep(t, ctx, "open the code page", chromedp.Navigate(origin.Scheme+"://"+origin.Host+"/.mfa/verify"))
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), layoutNextCode(t, u)))
	chromeSubmit(t, ctx, "submit code", `form[action$="/verify"] button[type="submit"]`)
	if got, want := chromeLocation(t, ctx), mustURL(target).RequestURI(); got != want {
		body := chromeValue(t, ctx, "read the page", chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("open %s: at %q after signing in:\n%s", target, got, body)
	}
}

// layoutNextCode returns a code of a time step later than every step u
// used (the server refuses a step at or before the last one it took),
// waiting for the next step when that is not yet accepted.
func layoutNextCode(t *testing.T, u *phoneUser) string {
	t.Helper()
	var last int64
	for s := range u.used {
		last = max(last, s)
	}
	step := max(last+1, currentStep()-1)
	for step > currentStep()+1 {
		time.Sleep(200 * time.Millisecond)
	}
	u.used[step] = true
	return codeAt(t, u.secret, step)
}

// layoutPassword fills in the sign-in page the tab shows.
func layoutPassword(t *testing.T, ctx context.Context, user, pw string) {
	t.Helper()
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("at %q, want the sign-in page", got)
	}
	chromeStep(t, ctx, "type the password of "+user,
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pw))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
}

func layoutWantHeading(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	if h := chromeHeading(t, ctx); h != want {
		t.Fatalf("heading %q, want %q", h, want)
	}
}

// layoutVariant is one size and colour scheme a page is checked in.
type layoutVariant struct {
	name          string
	width, height int64
	mobile        bool
	scheme        string
}

var layoutVariants = []layoutVariant{
	{"desktop-light", 1280, 800, false, "light"},
	{"desktop-dark", 1280, 800, false, "dark"},
	{"phone-light", 390, 844, true, "light"},
	{"phone-dark", 390, 844, true, "dark"},
}

// layoutRestacked names, by page, the table whose rows restack on a phone
// to fit it: there it must not scroll sideways, not even in its own box.
var layoutRestacked = map[string]string{
	"security-info": "table.activity",
	"admin-user":    "#methods-table",
}

// layoutRun checks pages and keeps their screenshots.
type layoutRun struct {
	t     *testing.T
	axe   string // axe.min.js; empty: no accessibility check
	shots string
	pages int
	// mobileFirst checks the phone sizes first (the phone's pages).
	mobileFirst bool
}

// layoutAxeSource reads axe-core from integration/axe/node_modules (npm ci
// puts it there). Missing: it says why (the test skips after the layout
// checks), or fails the test under CI.
func layoutAxeSource(t *testing.T) (src, missing string) {
	t.Helper()
	const path = "axe/node_modules/axe-core/axe.min.js"
	js, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("axe-core not installed (%v); install it with: (cd integration/axe && npm ci --ignore-scripts)", err)
		if ciIsSet() {
			t.Fatal(msg)
		}
		// The layout checks still run; the test then ends skipped.
		return "", msg + " (the test fails instead of skipping when CI=true)"
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	raw, err := os.ReadFile("axe/node_modules/axe-core/package.json")
	if err == nil {
		var pkg struct{ Version string }
		if err = json.Unmarshal(raw, &pkg); err == nil && pkg.Version != "4.14.1" {
			t.Fatalf("axe-core %s installed, want 4.14.1 (run npm ci --ignore-scripts in integration/axe)", pkg.Version)
		}
	}
	if raw, err = os.ReadFile("axe/package-lock.json"); err != nil || json.Unmarshal(raw, &lock) != nil ||
		lock.Packages["node_modules/axe-core"].Version != "4.14.1" {
		t.Fatalf("integration/axe/package-lock.json does not pin axe-core 4.14.1 (%v)", err)
	}
	return string(js), ""
}

func layoutShotDir(t *testing.T) string {
	if dir := os.Getenv("MFAGATE_SCREENSHOTS"); dir != "" {
		dir = filepath.Join(dir, "layout")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// variant sets the tab's size and colour scheme and waits for the layout.
func (l *layoutRun) variant(ctx context.Context, v layoutVariant) {
	l.t.Helper()
	chromeStep(l.t, ctx, "emulate "+v.name, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: v.width, Height: v.height, DeviceScaleFactor: 1, Mobile: v.mobile,
		}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: v.mobile}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v.scheme}},
		})
		return err
	}))
	chromeValue(l.t, ctx, "layout after "+v.name, chromedp.Evaluate[bool](
		`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise))
}

// layoutBadPage breaks every rule the checks enforce: it is wider than a
// phone, two paragraphs overlap, a field has no label and a text is grey
// on grey. Its wide table scrolls in a box of its own, which is allowed.
const layoutBadPage = `<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>bad</title></head><body><main>
<h1>Bad page</h1>
<p style="position:absolute; top:0; left:0; width:200px">first paragraph</p>
<p style="position:absolute; top:4px; left:8px; width:200px">second paragraph</p>
<div style="width:600px; height:10px"></div>
<input id="nameless" type="text">
<p style="color:#999; background:#aaa">grey on grey</p>
<div style="overflow-x:auto"><table><tr><td id="wide-cell" style="min-width:900px">wide cell</td></tr></table></div>
</main></body></html>`

// selfTest shows that the checks fail where they should: on
// layoutBadPage, at the phone size.
func (l *layoutRun) selfTest(ctx context.Context) {
	l.t.Helper()
	chromeStep(l.t, ctx, "open the bad page", chromedp.Navigate("data:text/html;charset=utf-8,"+url.PathEscape(layoutBadPage)))
	v := layoutVariants[2]
	l.variant(ctx, v)
	f := chromeValue(l.t, ctx, "layout of the bad page", chromedp.Evaluate[layoutFindings](fmt.Sprintf("(%s)(%d)", layoutCheckJS, v.width)))
	if f.ScrollWidth <= float64(v.width) || len(f.Overlaps) == 0 || len(f.PastEdge) == 0 {
		l.t.Fatalf("the layout checks miss the bad page's faults: %+v", f)
	}
	for _, e := range f.PastEdge {
		if strings.Contains(e, "wide-cell") {
			l.t.Errorf("a cell inside a sideways-scrolling box is judged against the device: %s", e)
		}
	}
	if l.axe == "" {
		return
	}
	found := map[string]bool{}
	for _, v := range l.axeRun(ctx, "the bad page").Violations {
		found[v.ID] = true
	}
	if !found["label"] || !found["color-contrast"] {
		l.t.Fatalf("axe-core misses the bad page's faults (label, color-contrast): found %v", found)
	}
}

// layoutFindings is what layoutCheckJS reports.
type layoutFindings struct {
	ScrollWidth float64  `json:"scrollWidth"`
	NoMain      bool     `json:"noMain"`
	Overlaps    []string `json:"overlaps"`
	PastEdge    []string `json:"pastEdge"`
}

// check runs the layout and accessibility checks of the page the tab
// shows in every variant, and saves a screenshot of each.
func (l *layoutRun) check(ctx context.Context, page string) {
	l.t.Helper()
	l.pages++
	start := time.Now()
	variants := layoutVariants
	if l.mobileFirst {
		variants = append(append([]layoutVariant{}, layoutVariants[2:]...), layoutVariants[:2]...)
	}
	for _, v := range variants {
		l.variant(ctx, v)
		where := page + " " + v.name
		f := chromeValue(l.t, ctx, "layout "+where, chromedp.Evaluate[layoutFindings](
			fmt.Sprintf("(%s)(%d)", layoutCheckJS, v.width)))
		if f.NoMain {
			l.t.Errorf("%s: no <main>", where)
		}
		if f.ScrollWidth > float64(v.width) {
			l.t.Errorf("%s: the page scrolls sideways: %v px wide on a %d px device", where, f.ScrollWidth, v.width)
		}
		for _, o := range f.Overlaps {
			l.t.Errorf("%s: overlap: %s", where, o)
		}
		for _, o := range f.PastEdge {
			l.t.Errorf("%s: past the right edge (%d px): %s", where, v.width, o)
		}
		if sel := layoutRestacked[page]; sel != "" && v.mobile {
			if fit := chromeValue(l.t, ctx, "restacked "+where, chromedp.Evaluate[string](tableFitsJS(sel, int(v.width)))); fit != "" {
				l.t.Errorf("%s: %s", where, fit)
			}
		}
		l.axeCheck(ctx, where)
		buf := chromeValue(l.t, ctx, "screenshot "+where, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(l.shots, page+"-"+v.name+".png"), buf, 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
	l.t.Logf("%s: checked in %v", page, time.Since(start).Round(time.Millisecond))
}

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeResult is what axe.run found, trimmed.
type axeResult struct {
	Version    string         `json:"version"`
	Passed     int            `json:"passed"`
	Violations []axeViolation `json:"violations"`
}

// axeCheck runs axe-core on the page and fails on serious and critical
// violations of WCAG 2.0/2.1 A and AA.
func (l *layoutRun) axeCheck(ctx context.Context, where string) {
	l.t.Helper()
	if l.axe == "" {
		return
	}
	res := l.axeRun(ctx, where)
	if res.Version != "4.14.1" || res.Passed == 0 {
		l.t.Errorf("%s: axe-core %q checked %d rules, want 4.14.1 checking some", where, res.Version, res.Passed)
	}
	for _, v := range res.Violations {
		l.t.Errorf("%s: axe %s (%s): %s\n\t%s", where, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// axeRun injects axe-core into the page (once per document) and runs it
// with the WCAG 2.0/2.1 A and AA rules, keeping the serious and critical
// violations.
func (l *layoutRun) axeRun(ctx context.Context, where string) axeResult {
	l.t.Helper()
	if !chromeValue(l.t, ctx, "axe loaded?", chromedp.Evaluate[bool](`typeof window.axe === 'object'`)) {
		chromeValue(l.t, ctx, "inject axe-core", chromedp.Evaluate[bool](l.axe+"\n;true"))
	}
	return chromeValue(l.t, ctx, "axe "+where, chromedp.Evaluate[axeResult](`axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']},
		resultTypes: ['violations'],
	}).then(r => ({
		version: axe.version,
		passed: r.passes.length,
		violations: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' ')),
		})),
	}))`, chromedp.EvalAwaitPromise))
}

// layoutCheckJS measures the page for a device deviceWidth px wide. The
// width of the page is measured, not innerWidth: under mobile emulation
// the viewport grows to fit content that overflows.
const layoutCheckJS = `(deviceWidth) => {
	const out = {scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), noMain: false, overlaps: [], pastEdge: []};
	const main = document.querySelector('main');
	if (!main) { out.noMain = true; return out; }
	const shown = el => {
		if (!el.getClientRects().length) return false;
		for (let a = el; a; a = a.parentElement) {
			const s = getComputedStyle(a);
			if (s.visibility === 'hidden' || s.display === 'none' || s.opacity === '0') return false;
			// Visually hidden (screen-reader) text is clipped to nothing.
			if (s.position === 'absolute' && (s.clip === 'rect(0px, 0px, 0px, 0px)' || s.clipPath === 'inset(50%)')) return false;
		}
		const r = el.getBoundingClientRect();
		return r.width > 0 && r.height > 0;
	};
	const name = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += '#' + el.id;
		if (typeof el.className === 'string' && el.className) s += '.' + el.className.trim().split(/\s+/).join('.');
		const text = (el.textContent || el.value || el.alt || '').trim().replace(/\s+/g, ' ');
		if (text) s += ' "' + text.slice(0, 40) + '"';
		return s;
	};
	const box = el => {
		const r = el.getBoundingClientRect();
		return {left: r.left + scrollX, right: r.right + scrollX, top: r.top + scrollY, bottom: r.bottom + scrollY};
	};
	const leaves = Array.from(main.querySelectorAll('img, input, button, a, label, code, p, h1, h2, h3, li, td')).filter(shown);
	const boxes = leaves.map(box);
	for (let i = 0; i < leaves.length; i++) {
		for (let j = i + 1; j < leaves.length; j++) {
			if (leaves[i].contains(leaves[j]) || leaves[j].contains(leaves[i])) continue;
			const a = boxes[i], b = boxes[j];
			const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
			const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
			if (w > 0 && h > 0 && w * h > 1) {
				out.overlaps.push(name(leaves[i]) + ' and ' + name(leaves[j]) + ': ' + Math.round(w) + '×' + Math.round(h) + ' px');
			}
		}
	}
	// Inside a box that scrolls sideways, only the box's own edge counts.
	const scroller = el => {
		for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
			const o = getComputedStyle(a).overflowX;
			if (o === 'auto' || o === 'scroll') return a;
		}
		return null;
	};
	for (const el of [main, ...main.querySelectorAll('*')]) {
		if (!shown(el) || scroller(el)) continue;
		const b = box(el);
		if (b.right > deviceWidth + 0.5) out.pastEdge.push(name(el) + ': right edge at ' + Math.round(b.right) + ' px');
	}
	return out;
}`
