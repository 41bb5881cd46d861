package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
	"github.com/pquerna/otp/totp"
)

// chromePhoneSessionTimeout bounds the browser of the phone test, which
// walks more pages than the other browser tests.
const chromePhoneSessionTimeout = 4 * time.Minute

// chromePhoneCaddyfile is the standard test config plus the portal origin
// (http://localhost:PORT, a secure context for browsers) served by
// mfa_portal.
func chromePhoneCaddyfile(g *gatewayInstance, portalPort int, upstreamPort string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	mfa {
		storage sqlite %s
		issuer "Test Corp"
		bcrypt_cost 10
		portal http://localhost:%d
	}
}

http://localhost:%d {
	mfa_portal
}

:%d {
	mfa_gateway
	reverse_proxy 127.0.0.1:%s
}
`, g.adminPort, filepath.Join(g.dir, "mfagate.db"), portalPort, portalPort, g.httpPort, upstreamPort)
}

// chromePhoneNewChromium is newChromium with the longer session timeout.
func chromePhoneNewChromium(t *testing.T) context.Context {
	t.Helper()
	return chromium.Start(t, chromium.Options{Timeout: chromePhoneSessionTimeout})
}

// chromePhoneConsole logs what the pages of a tab write to the console and
// the exceptions they throw, prefixed with who.
func chromePhoneConsole(t *testing.T, ctx context.Context, who string) {
	t.Helper()
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			t.Logf("%s console.%s: %s", who, ev.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			t.Logf("%s exception at %s:%d: %s", who, d.URL, d.LineNumber+1, msg)
		}
	})
	if err != nil {
		t.Fatalf("listening to the %s's console: %v", who, err)
	}
}

// chromePhoneNavigations records the documents a tab loads, with the time
// each one started, so the test can tell when (and that) a page moved by
// itself.
type chromePhoneNavigations struct {
	mu   sync.Mutex
	seen []chromePhoneNavigation
}

type chromePhoneNavigation struct {
	at  time.Time
	url string
}

func chromePhoneWatchNavigations(t *testing.T, ctx context.Context) *chromePhoneNavigations {
	t.Helper()
	n := new(chromePhoneNavigations)
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*cdppage.EventFrameNavigated); ok && ev.Frame.ParentID == "" {
			n.mu.Lock()
			n.seen = append(n.seen, chromePhoneNavigation{at: time.Now(), url: ev.Frame.URL})
			n.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listening to navigations: %v", err)
	}
	return n
}

// since returns the navigations that started at or after t0.
func (n *chromePhoneNavigations) since(t0 time.Time) []chromePhoneNavigation {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []chromePhoneNavigation
	for _, v := range n.seen {
		if !v.at.Before(t0) {
			out = append(out, v)
		}
	}
	return out
}

// chromePhoneWait calls probe until it reports done or timeout passes;
// each probe gets a short deadline of its own (a page may be navigating).
// It returns how long it waited and fails the test with the last state
// probe described.
func chromePhoneWait(t *testing.T, ctx context.Context, what string, timeout time.Duration, probe func(ctx context.Context) (done bool, state string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	state := ""
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		done, s := probe(pctx)
		cancel()
		if s != "" {
			state = s
		}
		if done {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done after %v; last seen: %s", what, timeout, state)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: %v; last seen: %s", what, ctx.Err(), state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// chromePhoneVisible waits until the element with id is shown (not
// hidden) on the phone page, which switches sections without navigating.
func chromePhoneVisible(t *testing.T, ctx context.Context, id string, timeout time.Duration) time.Duration {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		const err = document.getElementById('error');
		const shown = Array.from(document.querySelectorAll('section, form, #working, #loading')).filter(s => !s.hidden).map(s => s.id);
		return JSON.stringify({
			ok: !!el && !el.hidden && el.getClientRects().length > 0,
			where: location.pathname,
			shown: shown,
			error: err && !err.hidden ? err.textContent : '',
		});
	})()`, id)
	return chromePhoneWait(t, ctx, "phone shows #"+id, timeout, func(ctx context.Context) (bool, string) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			return false, err.Error()
		}
		return strings.HasPrefix(s, `{"ok":true`), s
	})
}

// chromePhoneText reads the trimmed text of the element with id.
func chromePhoneText(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return strings.TrimSpace(chromeValue(t, ctx, "read #"+id, chromedp.Evaluate[string](
		fmt.Sprintf(`(document.getElementById(%q) || {}).textContent || ''`, id))))
}

// chromePhoneSignIn signs the laptop in with the password, starting at
// path, and returns the page it ends on (path and query).
func chromePhoneSignIn(t *testing.T, ctx context.Context, g *gatewayInstance, path, user, pw string) string {
	t.Helper()
	chromeStep(t, ctx, "open "+path, chromedp.Navigate(g.url(path)))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("open %s signed out: at %q, want the login page", path, got)
	}
	chromeStep(t, ctx, "type credentials",
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pw),
	)
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	return chromeLocation(t, ctx)
}

// chromePhoneSignOut signs the laptop out with the confirmation page.
func chromePhoneSignOut(t *testing.T, ctx context.Context, g *gatewayInstance) {
	t.Helper()
	chromeStep(t, ctx, "open logout page", chromedp.Navigate(g.url("/.mfa/logout")))
	chromeSubmit(t, ctx, "click Sign out", `form[action$="/logout"] button[type="submit"]`)
	if h := chromeHeading(t, ctx); h != "You have signed out" {
		t.Fatalf("after sign-out: heading %q", h)
	}
}

// chromePhoneWaitingNumber checks that the laptop shows the waiting page
// and returns the number it shows.
func chromePhoneWaitingNumber(t *testing.T, ctx context.Context) int {
	t.Helper()
	if got := chromeLocation(t, ctx); got != "/.mfa/push" {
		t.Fatalf("after the password: at %q, want the waiting page /.mfa/push", got)
	}
	if h := chromeHeading(t, ctx); h != "Approve sign-in request" {
		t.Fatalf("waiting page heading %q", h)
	}
	s := strings.TrimSpace(chromeValue(t, ctx, "read number", chromedp.Text(chromedp.CSS(".approval-number"))))
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 || n > 99 {
		t.Fatalf("waiting page number %q is not two digits", s)
	}
	return n
}

// chromePhoneWaitRequest waits until the phone's app page shows a new
// request (its page polls every 2 s) and returns its text: the question,
// then each detail's label and value.
func chromePhoneWaitRequest(t *testing.T, phone context.Context, since time.Time) string {
	t.Helper()
	waited := chromePhoneVisible(t, phone, "request", 15*time.Second)
	t.Logf("timing: the phone showed the request %v after the password was sent (found after %v of polling)",
		time.Since(since).Round(time.Millisecond), waited.Round(time.Millisecond))
	return chromePhoneText(t, phone, "request")
}

// TestBrowserPhoneApproval pairs a phone and answers sign-in requests on
// it in real headless Chromium: a desktop tab signs in, enrols an
// authenticator and pairs a phone in Security info; a separate browser
// context (no shared storage) emulating an Android phone opens the pairing
// link on the portal origin, makes its key with WebCrypto and shows the
// confirmation code, which the desktop types. Then the desktop signs in
// with its password and the phone approves with the number (the desktop's
// waiting page moves on by itself), and denies and reports the next
// request, which blocks the account until the CLI unblocks it.
func TestBrowserPhoneApproval(t *testing.T) {
	laptop := chromePhoneNewChromium(t)
	chromePhoneConsole(t, laptop, "laptop")

	up := newUpstream(t)
	g := newGatewayInstance(t)
	portalPort := freePort(t)
	portal := fmt.Sprintf("http://localhost:%d", portalPort)
	g.writeCaddyfile(chromePhoneCaddyfile(g, portalPort, up.port()))
	g.start()
	t.Cleanup(g.stop)
	const user, pw = "carol", "carol password 1"
	g.addUser(user, pw, "--name", "Carol Phone")
	upstreamBody := `upstream says hello to "` + user + `"`

	// 1. The laptop signs in, enrols an authenticator app and asks for a
	// pairing link in Security info.
	if got := chromePhoneSignIn(t, laptop, g, "/.mfa/security", user, pw); got != "/.mfa/enrol" {
		t.Fatalf("after password: at %q, want /.mfa/enrol", got)
	}
	secret := strings.ReplaceAll(chromeValue(t, laptop, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, laptop, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, laptop, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if got := chromeLocation(t, laptop); got != "/.mfa/security" {
		t.Fatalf("after enrolment: at %q, want /.mfa/security", got)
	}
	if options, _ := securityAddOptions(t, laptop); options["phone"] != "Phone (sign-in approval)" {
		t.Fatalf("methods to add %v: no Phone (sign-in approval)", options)
	}
	securityAddMethod(t, laptop, "phone")
	if got := chromeLocation(t, laptop); got != "/.mfa/security/add?method=phone" {
		t.Fatalf("add phone: at %q", got)
	}
	link := strings.TrimSpace(chromeValue(t, laptop, "read pairing link", chromedp.Text(chromedp.CSS("code.pair-link"))))
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(portal) + `/phone/pair#t=[A-Za-z0-9._~-]+$`).MatchString(link) {
		t.Fatalf("pairing link %q is not %s/phone/pair#t=TOKEN", link, portal)
	}
	qrWidth := chromeValue(t, laptop, "QR image", chromedp.Evaluate[int](`(() => {
		const img = document.querySelector('img.qr');
		if (!img) return -1;
		return img.decode().then(() => img.naturalWidth, () => 0);
	})()`, chromedp.EvalAwaitPromise))
	if qrWidth <= 0 {
		t.Fatalf("pairing QR image did not load (naturalWidth %d)", qrWidth)
	}
	shots := []string{chromeScreenshot(t, laptop, "browser-phone-laptop-pair")}

	// 2. The phone: a browser context of its own (its own cookies,
	// IndexedDB and permissions), emulating a Pixel 5. Notifications are
	// allowed, but headless Chromium gets no push subscription (in a
	// browser context made over CDP, subscribe fails at once; logged
	// below), so the page must pair without one and say to keep it open.
	phone, cancelPhone := chromedp.NewContext(laptop, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelPhone)
	// The first Do binds the tab's life to the context it gets: phone
	// itself, not a step's.
	if err := chromedp.Do(phone); err != nil {
		t.Fatalf("opening the phone's tab: %v", err)
	}
	bctx := chromedp.FromContext(phone).BrowserContextID
	if bctx == "" || bctx == chromedp.FromContext(laptop).BrowserContextID {
		t.Fatalf("phone browser context %q is not a new one", bctx)
	}
	chromePhoneConsole(t, phone, "phone")
	chromeStep(t, phone, "emulate a Pixel 5", chromedp.Emulate(device.Pixel5))
	chromeStep(t, phone, "allow notifications",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission:       &cdpbrowser.PermissionDescriptor{Name: "notifications"},
				Setting:          cdpbrowser.PermissionSettingGranted,
				Origin:           portal,
				BrowserContextID: bctx,
			})
			return err
		}))
	pairStart := time.Now()
	chromeStep(t, phone, "open the pairing link", chromedp.Navigate(link))
	if ua := chromeValue(t, phone, "user agent", chromedp.Evaluate[string](`navigator.userAgent`)); !strings.Contains(ua, "Android") {
		t.Fatalf("phone user agent %q", ua)
	}
	if !chromeValue(t, phone, "secure context", chromedp.Evaluate[bool](`window.isSecureContext`)) {
		t.Fatal("the portal origin is not a secure context in the phone's browser")
	}
	chromePhoneVisible(t, phone, "name-step", 15*time.Second)
	if loc := chromeValue(t, phone, "location", chromedp.Location()); loc != portal+"/phone/pair" {
		t.Errorf("the pairing token is still in the address bar: %s", loc)
	}
	if name := chromeValue(t, phone, "default name", chromedp.Value(chromedp.ID("device-name"))); name != "Android phone" {
		t.Errorf("default phone name %q, want Android phone", name)
	}
	chromeStep(t, phone, "name the phone",
		chromedp.SetValue(chromedp.ID("device-name"), "Carol's Pixel"),
		chromedp.Click(chromedp.ID("pair-button")))
	chromePhoneVisible(t, phone, "code-step", 60*time.Second)
	t.Logf("timing: the phone showed its code %v after opening the link", time.Since(pairStart).Round(time.Millisecond))
	pairCode := chromePhoneText(t, phone, "pair-code")
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(pairCode) {
		t.Fatalf("pairing code %q is not 6 digits", pairCode)
	}
	if off := chromePhoneText(t, phone, "push-off"); off != "Notifications are off: keep this page open to see requests" ||
		!chromeValue(t, phone, "push-off shown", chromedp.Evaluate[bool](`!document.getElementById('push-off').hidden`)) {
		t.Errorf("without a push service the pairing page does not say to keep it open (%q)", off)
	}
	// The key: ECDSA P-256, made non-extractable, kept in IndexedDB.
	key := chromeValue(t, phone, "read the stored key", chromedp.Evaluate[map[string]any](`new Promise((resolve, reject) => {
		const open = indexedDB.open('mfagate-phone');
		open.onerror = () => reject(open.error);
		open.onsuccess = () => {
			const get = open.result.transaction('device').objectStore('device').get('this');
			get.onerror = () => reject(get.error);
			get.onsuccess = () => {
				const d = get.result || {};
				const k = d.privateKey;
				resolve({
					hasKey: k instanceof CryptoKey,
					extractable: k ? k.extractable : null,
					type: k ? k.type : '',
					alg: k ? k.algorithm.name : '',
					curve: k ? k.algorithm.namedCurve : '',
					deviceId: d.deviceId || '',
				});
			};
		};
	})`, chromedp.EvalAwaitPromise))
	if key["hasKey"] != true || key["extractable"] != false || key["type"] != "private" || key["alg"] != "ECDSA" || key["curve"] != "P-256" || key["deviceId"] == "" {
		t.Fatalf("phone key in IndexedDB: %v, want a non-extractable ECDSA P-256 private key and a device id", key)
	}
	// Its storage is its own: none of the laptop's cookies.
	phoneCookies := chromeValue(t, phone, "phone cookies", chromedp.Action[[]*network.Cookie](
		func(ctx context.Context, _ *chromedp.Target) ([]*network.Cookie, error) {
			res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{g.url("/"), portal + "/"}})
			return res.Cookies, err
		}))
	if len(phoneCookies) != 0 {
		t.Errorf("the phone's browser context has %d cookies, want none (it shares the laptop's storage?)", len(phoneCookies))
	}
	// What the page found of push: logged, as it depends on the browser.
	pushState := chromeValue(t, phone, "push state", chromedp.Evaluate[string](`(async () => {
		const out = ['permission=' + (window.Notification ? Notification.permission : 'none')];
		try {
			const reg = await navigator.serviceWorker.getRegistration('/phone/');
			out.push('worker=' + (reg ? reg.scope : 'none'));
			if (reg) {
				out.push('subscription=' + JSON.stringify(await reg.pushManager.getSubscription()));
				const res = await fetch('/phone/api/config', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
				const key = ((await res.json()).vapid_public_key || '').replace(/-/g, '+').replace(/_/g, '/');
				out.push('vapid key ' + (key ? 'set' : 'missing'));
				try {
					await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: Uint8Array.from(atob(key), c => c.charCodeAt(0)) });
					out.push('subscribe: succeeded');
				} catch (e) {
					out.push('subscribe: ' + e.name + ': ' + e.message);
				}
			}
		} catch (e) {
			out.push(e.name + ': ' + e.message);
		}
		return out.join('; ');
	})()`, chromedp.EvalAwaitPromise))
	t.Logf("phone push: %s", pushState)
	shots = append(shots, chromeScreenshot(t, phone, "browser-phone-pair-code"))

	// 3. The laptop types the code; the phone notices and opens its app.
	chromeStep(t, laptop, "type the phone's code", chromedp.SendKeys(chromedp.ID("code"), pairCode))
	confirmed := time.Now()
	chromeSubmit(t, laptop, "click Pair phone", `form[action$="/security/phone"] button[type="submit"]`)
	if got := chromeLocation(t, laptop); got != "/.mfa/security?done=phone-added" {
		t.Fatalf("after the code: at %q", got)
	}
	if n := securityNotice(t, laptop); n != "Phone paired. Sign-in requests will be sent to it." {
		t.Fatalf("after the code: notice %q", n)
	}
	phones := securityRowsOf(securityRows(t, laptop), "Phone (sign-in approval)")
	if len(phones) != 1 || phones[0].Name != "Carol's Pixel" {
		t.Fatalf("phones in Security info: %+v", phones)
	}
	if !slices.Contains(phones[0].Meta, "Notifications are off: requests show while its page is open.") {
		t.Errorf("phone without a push subscription: meta %q, want the notifications-off note", phones[0].Meta)
	}
	chromePhoneWait(t, phone, "phone opens its app page", 15*time.Second, func(ctx context.Context) (bool, string) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			return false, err.Error()
		}
		return loc == portal+"/phone/", loc
	})
	chromePhoneVisible(t, phone, "idle", 15*time.Second)
	t.Logf("timing: the phone's app page was idle %v after the laptop sent the code", time.Since(confirmed).Round(time.Millisecond))
	if off := chromePhoneText(t, phone, "push-off"); off != "Notifications are off: keep this page open to see requests" ||
		!chromeValue(t, phone, "push-off shown", chromedp.Evaluate[bool](`!document.getElementById('push-off').hidden`)) {
		t.Errorf("the app page does not say to keep it open (%q)", off)
	}
	shots = append(shots, chromeScreenshot(t, phone, "browser-phone-app-idle"))

	// 4. Notification by default; a new sign-in waits for the phone.
	chromeStep(t, laptop, "choose the notification as default", chromedp.SetValue(chromedp.ID("default-method"), "push"))
	chromeSubmit(t, laptop, "click Change", `form[action$="/security/default"] button[type="submit"]`)
	if n := securityNotice(t, laptop); n != "Default sign-in method updated." {
		t.Fatalf("after the default change: notice %q", n)
	}
	chromePhoneSignOut(t, laptop, g)
	nav := chromePhoneWatchNavigations(t, laptop)

	sent := time.Now()
	chromePhoneSignIn(t, laptop, g, "/hello?x=phone", user, pw)
	number := chromePhoneWaitingNumber(t, laptop)
	if status := chromePhoneText(t, laptop, "approval-status"); status != "Waiting for your answer…" {
		t.Errorf("waiting page status %q", status)
	}
	waitingShown := time.Now()
	shots = append(shots, chromeScreenshot(t, laptop, "browser-phone-laptop-waiting"))

	site := "this site (port " + strconv.Itoa(g.httpPort) + ")" // the Host is an IP address
	text := chromePhoneWaitRequest(t, phone, sent)
	for _, s := range []string{"Are you trying to sign in?", "No, it's not me", "Yes"} {
		if !strings.Contains(text, s) {
			t.Errorf("request text %q lacks %q", text, s)
		}
	}
	// Which account, site, address and browser: each labelled.
	details := chromeValue(t, phone, "request details", chromedp.Evaluate[map[string]string](`Object.fromEntries(
		Array.from(document.querySelectorAll('#request-details dt')).map(dt => [dt.textContent, dt.nextElementSibling.textContent]))`))
	if details["Account"] != "Carol Phone (carol) at Test Corp" || details["Site"] != site || details["IP address"] != "127.0.0.1" ||
		!strings.Contains(details["Browser"], "Chrome") {
		t.Errorf("request details %v", details)
	}
	if v := chromeValue(t, phone, "number field", chromedp.Value(chromedp.ID("number"))); v != "" {
		t.Errorf("the phone's number field holds %q before typing", v)
	}
	shots = append(shots, chromeScreenshot(t, phone, "browser-phone-app-request"))

	chromeStep(t, phone, "type the number", chromedp.SendKeys(chromedp.ID("number"), strconv.Itoa(number)))
	waitingURL := chromeValue(t, laptop, "laptop location", chromedp.Location())
	for _, n := range nav.since(waitingShown) {
		t.Errorf("the waiting page navigated to %s before Approve", n.url)
	}
	approved := time.Now()
	chromeStep(t, phone, "tap Yes", chromedp.Click(chromedp.ID("approve")))
	chromePhoneVisible(t, phone, "result", 15*time.Second)
	phoneDone := time.Since(approved)
	if r := chromePhoneText(t, phone, "result-text"); r != "Approved: go back to the sign-in screen." {
		t.Errorf("phone result %q", r)
	}

	// The laptop is not touched: its page's long-poll learns the answer
	// and the page moves on to the upstream.
	want := g.url("/hello?x=phone")
	landed := chromePhoneWait(t, laptop, "laptop lands on the upstream", 10*time.Second, func(ctx context.Context) (bool, string) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			return false, err.Error()
		}
		if loc != want {
			return false, loc
		}
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.textContent : ''`))
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(body, upstreamBody), loc + ": " + body
	})
	var landedAt time.Duration
	for _, n := range nav.since(approved) {
		t.Logf("laptop navigated to %s %v after Approve", n.url, n.at.Sub(approved).Round(time.Millisecond))
		if n.url == want && landedAt == 0 {
			landedAt = n.at.Sub(approved)
		}
	}
	if landedAt == 0 {
		t.Errorf("no navigation of the laptop to %s was seen after Approve", want)
	}
	t.Logf("timing: Approve → phone result %v; Approve → laptop on the upstream %v (the test saw it after %v of polling)",
		phoneDone.Round(time.Millisecond), landedAt.Round(time.Millisecond), landed.Round(time.Millisecond))
	if landedAt > 5*time.Second {
		t.Errorf("the laptop took %v after Approve to land on the upstream, want a few seconds at most", landedAt)
	}
	if u := up.lastRequest(); u == nil || u.Header.Get("Remote-User") != user {
		t.Errorf("upstream request: %v", u)
	}
	if waitingURL != g.url("/.mfa/push") {
		t.Errorf("laptop was at %q before Approve", waitingURL)
	}
	shots = append(shots, chromeScreenshot(t, phone, "browser-phone-app-approved"))
	shots = append(shots, chromeScreenshot(t, laptop, "browser-phone-laptop-upstream"))

	// 5. "No, it's not me" and Report on the next sign-in.
	chromeStep(t, phone, "tap OK", chromedp.Click(chromedp.ID("result-done")))
	chromePhoneVisible(t, phone, "idle", 10*time.Second)
	chromePhoneSignOut(t, laptop, g)
	sent = time.Now()
	chromePhoneSignIn(t, laptop, g, "/hello?x=report", user, pw)
	chromePhoneWaitingNumber(t, laptop)
	chromePhoneWaitRequest(t, phone, sent)
	chromeStep(t, phone, "tap No, it's not me", chromedp.Click(chromedp.ID("deny")))
	chromePhoneVisible(t, phone, "report-offer", 10*time.Second)
	if q := chromePhoneText(t, phone, "report-offer"); !strings.Contains(q, "Denied: nobody was signed in.") || !strings.Contains(q, "Report suspicious activity?") {
		t.Errorf("after \"No, it's not me\": %q", q)
	}
	shots = append(shots, chromeScreenshot(t, phone, "browser-phone-app-deny"))
	// The denial reaches the laptop at once; its page listens on, as a
	// report may follow.
	chromePhoneWait(t, laptop, "laptop says the request was denied", 10*time.Second, func(ctx context.Context) (bool, string) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(s, "The sign-in request was denied on your phone."), s
	})
	shots = append(shots, chromeScreenshot(t, laptop, "browser-phone-laptop-denied"))
	reported := time.Now()
	chromeStep(t, phone, "tap Report", chromedp.Click(chromedp.ID("report")))
	chromePhoneVisible(t, phone, "result", 15*time.Second)
	if r := chromePhoneText(t, phone, "result-text"); !strings.HasPrefix(r, "Reported: ") {
		t.Errorf("phone result after Report %q", r)
	}
	shots = append(shots, chromeScreenshot(t, phone, "browser-phone-app-reported"))

	const msgReported = "The sign-in request was reported as suspicious. Your account is blocked until an administrator unblocks it."
	var laptopSays string
	waited := chromePhoneWait(t, laptop, "laptop says the request was reported", 10*time.Second, func(ctx context.Context) (bool, string) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search + ': ' + (document.body ? document.body.innerText : '')`))
		if err != nil {
			return false, err.Error()
		}
		laptopSays = s
		return strings.Contains(s, msgReported), s
	})
	t.Logf("timing: Report → the laptop's page says so after %v (%q)", waited.Round(time.Millisecond), laptopSays)
	// The report ended the laptop's session, so its page says it in place:
	// a reload could only show the login page.
	for _, n := range nav.since(reported) {
		t.Errorf("laptop navigated to %s %v after Report, want it to stay on the waiting page", n.url, n.at.Sub(reported).Round(time.Millisecond))
	}
	if alert := strings.TrimSpace(chromeValue(t, laptop, "read alert", chromedp.Text(chromedp.CSS(`.alert[role="alert"]`)))); alert != msgReported {
		t.Errorf("laptop alert %q, want %q", alert, msgReported)
	}
	if shown := chromeValue(t, laptop, "number, check and code", chromedp.Evaluate[int](
		`document.querySelectorAll('.approval-number').length + Array.from(document.querySelectorAll('form[action$="/push"], form[action$="/push/new"], a[href$="/verify"]')).filter(e => e.checkVisibility()).length`)); shown != 0 {
		t.Errorf("after Report the laptop still shows the number, \"I approved it on my phone\", \"Send another request\" or \"Use a verification code instead\" (%d elements)", shown)
	}
	shots = append(shots, chromeScreenshot(t, laptop, "browser-phone-laptop-reported"))

	// The password alone now says the account is blocked.
	if got := chromePhoneSignIn(t, laptop, g, "/hello?x=blocked", user, pw); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("blocked account: the password led to %q", got)
	}
	const msgBlocked = "Sign-in to this account is blocked because a sign-in request was reported as suspicious. Ask your administrator to unblock it."
	if alert := strings.TrimSpace(chromeValue(t, laptop, "read error", chromedp.Text(chromedp.CSS(".alert")))); alert != msgBlocked {
		t.Fatalf("blocked account: alert %q, want %q", alert, msgBlocked)
	}
	shots = append(shots, chromeScreenshot(t, laptop, "browser-phone-laptop-blocked"))

	// An admin unblocks the account; the phone approves again.
	if out, err := g.caddy(nil, "mfa", "user", "unblock", user, "--config", "Caddyfile"); err != nil {
		t.Fatalf("caddy mfa user unblock: %v\n%s", err, out)
	}
	chromeStep(t, phone, "tap OK", chromedp.Click(chromedp.ID("result-done")))
	chromePhoneVisible(t, phone, "idle", 10*time.Second)
	sent = time.Now()
	chromePhoneSignIn(t, laptop, g, "/hello?x=unblocked", user, pw)
	number = chromePhoneWaitingNumber(t, laptop)
	chromePhoneWaitRequest(t, phone, sent)
	chromeStep(t, phone, "type the number", chromedp.SendKeys(chromedp.ID("number"), strconv.Itoa(number)))
	approved = time.Now()
	chromeStep(t, phone, "tap Approve", chromedp.Click(chromedp.ID("approve")))
	want = g.url("/hello?x=unblocked")
	chromePhoneWait(t, laptop, "laptop lands on the upstream after unblock", 10*time.Second, func(ctx context.Context) (bool, string) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			return false, err.Error()
		}
		return loc == want, loc
	})
	t.Logf("timing: after unblock, Approve → laptop on the upstream in at most %v", time.Since(approved).Round(time.Millisecond))
	if body := chromeValue(t, laptop, "read upstream", chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, upstreamBody) {
		t.Errorf("upstream page after unblock: %q", body)
	}

	t.Logf("screenshots: %s", strings.Join(shots, " "))
}
