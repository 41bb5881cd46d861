package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// attackPage is what a protected app's page could run (the app itself, or
// an XSS in it): on the protected origin, inside the user's freshly signed-in
// session, it tries to read Security info, to create an app password and
// read it, to add an authenticator and read its secret, to change the
// default method, and to post to the portal's Security info directly.
// window.attack resolves to what each attempt got.
const attackPage = `<!doctype html><html><head><title>app</title></head><body><h1>A protected app</h1><script>
window.attack = (async () => {
	const out = {};
	const form = s => ({ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: s });
	const attempt = async (name, url, init) => {
		try {
			const r = await fetch(url, Object.assign({ credentials: 'include' }, init || {}));
			out[name] = { status: r.status, type: r.type, url: r.url, body: await r.text() };
		} catch (e) {
			out[name] = { status: -1, error: String(e), body: '' };
		}
	};
	await attempt('list', '/.mfa/security');
	await attempt('addAuthenticator', '/.mfa/security/add?method=authenticator');
	await attempt('addAuthenticatorManual', '/.mfa/security/add?method=authenticator', { redirect: 'manual' });
	await attempt('appPassword', '/.mfa/security/app-password', form('name=evil'));
	await attempt('authenticator', '/.mfa/security/authenticator', form('name=evil&code=123456'));
	await attempt('default', '/.mfa/security/default', form('method=push'));
	await attempt('portalAppPassword', PORTAL + '/.mfa/security/app-password', Object.assign({ mode: 'no-cors' }, form('name=evil2')));
	await attempt('portalList', PORTAL + '/.mfa/security');
	return out;
})();
</script></body></html>`

// attackResult is what one attempt of attackPage got.
type attackResult struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Body   string `json:"body"`
	Error  string `json:"error"`
}

// portalSecurityEnv runs the admin test config (a portal beside the
// protected site) with an upstream that serves attackPage at /attack.
func portalSecurityEnv(t *testing.T) *adminEnv {
	t.Helper()
	port := freePort(t)
	portal := fmt.Sprintf("http://localhost:%d", port)
	up := &upstream{}
	up.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.mu.Lock()
		up.last = r.Clone(context.Background())
		up.mu.Unlock()
		if r.URL.Path == "/attack" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, strings.Replace(attackPage, "PORTAL", fmt.Sprintf("%q", portal), -1))
			return
		}
		fmt.Fprintf(w, "upstream says hello to %q at %s", r.Header.Get("Remote-User"), r.URL.RequestURI())
	}))
	t.Cleanup(up.Close)
	g := newGatewayInstance(t)
	g.writeCaddyfile(adminCaddyfile(g, port, up.port(), ""))
	g.start()
	t.Cleanup(g.stop)
	return &adminEnv{t: t, g: g, up: up, portal: portal, rootPass: g.bootstrapPassword()}
}

// secretsIn names the secrets a Security info page shows once, found in body.
func secretsIn(body string) []string {
	var found []string
	for _, marker := range []string{`id="app-password"`, `id="secret"`, `class="secret"`, "otpauth://"} {
		if strings.Contains(body, marker) {
			found = append(found, marker)
		}
	}
	return found
}

// TestScriptOnProtectedSiteCannotDriveSecurityInfo: with a portal, a
// script on a protected app's page, run in real Chromium inside a session
// that has just passed its second factor (and beside a fresh portal
// session of the same user), can neither read Security info nor create an
// app password, add a method or change the default one. Security info is
// on the portal only, where the user signs in on their own.
func TestScriptOnProtectedSiteCannotDriveSecurityInfo(t *testing.T) {
	ctx := chromePhoneNewChromium(t)
	e := portalSecurityEnv(t)
	const user, pw = "sam", "sam password 1"
	e.g.addUser(user, pw, "--name", "Sam Site")
	// As in the demo, the site and the portal are two ports of one host:
	// the browser sends each one's cookies to the other.
	site := fmt.Sprintf("http://localhost:%d", e.g.httpPort)

	// 1. Security info on the site leads to the portal's sign-in, and
	// after it to the portal's Security info.
	chromeStep(t, ctx, "open Security info on the site", chromedp.Navigate(site+"/.mfa/security"))
	if loc := chromeValue(t, ctx, "location", chromedp.Location()); !strings.HasPrefix(loc, e.portal+"/.mfa/login") {
		t.Fatalf("Security info on the site: at %q, want the portal's sign-in", loc)
	}
	chromeStep(t, ctx, "type credentials on the portal",
		chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), pw))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("after the password on the portal: at %q, want /.mfa/enrol", got)
	}
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if loc := chromeValue(t, ctx, "location", chromedp.Location()); loc != e.portal+"/.mfa/security" {
		t.Fatalf("after enrolment: at %q, want the portal's Security info", loc)
	}
	if rows := securityRowsOf(securityRows(t, ctx), "Authenticator app"); len(rows) != 1 {
		t.Fatalf("authenticators on the portal's Security info: %+v", rows)
	}

	// 2. The user signs in on the protected site (a fresh second factor)
	// and opens the app's page, whose script attacks.
	chromeStep(t, ctx, "open the app", chromedp.Navigate(site+"/attack"))
	if got := chromeLocation(t, ctx); !strings.HasPrefix(got, "/.mfa/login") {
		t.Fatalf("the app signed out: at %q, want the site's sign-in", got)
	}
	chromeStep(t, ctx, "type credentials on the site",
		chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), pw))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	code, err = totp.GenerateCode(secret, time.Now().Add(30*time.Second)) // a step not used yet
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit code", `form[action$="/verify"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/attack" {
		t.Fatalf("after sign-in on the site: at %q, want /attack", got)
	}
	// The upstream got neither session's cookie (the app's server side
	// could replay the portal's on the portal).
	if c := e.up.lastRequest().Header.Get("Cookie"); strings.Contains(c, "mfagate") {
		t.Errorf("the upstream received mfagate's cookies: %q", c)
	}
	got := chromeValue(t, ctx, "run the app's script", chromedp.Evaluate[map[string]attackResult](`window.attack`, chromedp.EvalAwaitPromise))
	for name, r := range got {
		t.Logf("%s: status %d type %q url %q error %q", name, r.Status, r.Type, r.URL, r.Error)
		if s := secretsIn(r.Body); len(s) > 0 {
			t.Errorf("the script read %v with %s", s, name)
		}
		if r.Status == http.StatusOK && strings.Contains(r.Body, "Security info") {
			t.Errorf("the script read Security info with %s (status 200 at %s)", name, r.URL)
		}
	}
	for _, name := range []string{"appPassword", "authenticator", "default"} {
		if r := got[name]; r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Nothing was changed here") {
			t.Errorf("%s from the site's script: status %d, want 403 (Security info is on the portal)", name, got[name].Status)
		}
	}
	if r := got["addAuthenticatorManual"]; r.Type != "opaqueredirect" {
		t.Errorf("opening add-authenticator on the site: type %q, want a redirect (to the portal)", r.Type)
	}

	// 3. Nothing changed: no app password, one authenticator, the same
	// default method.
	if out, err := e.g.caddy(nil, "mfa", "app-passwords", "list", user, "--config", "Caddyfile"); err != nil || strings.Contains(out, "evil") {
		t.Errorf("app passwords of %s after the script: %v\n%s", user, err, out)
	}
	chromeStep(t, ctx, "open the portal's Security info", chromedp.Navigate(e.portal+"/.mfa/security"))
	if loc := chromeValue(t, ctx, "location", chromedp.Location()); loc != e.portal+"/.mfa/security" {
		t.Fatalf("the portal's Security info after the attack: at %q", loc)
	}
	if rows := securityRowsOf(securityRows(t, ctx), "Authenticator app"); len(rows) != 1 {
		t.Errorf("authenticators after the script: %+v", rows)
	}
	// With one method there is no selector: the line names the default.
	if dflt := chromeValue(t, ctx, "default method", chromedp.Text(chromedp.CSS(".default-method strong"))); !strings.Contains(dflt, "code") {
		t.Errorf("the script changed the default method to %q", dflt)
	}
}

// TestSecurityInfoLivesOnThePortal, over HTTP: with a portal, the site's
// Security info paths send a page load to the portal's same page and
// refuse every change, even from a session with a fresh second factor;
// the portal's Security info takes the portal's own sign-in and works
// there (an app password made on it works on the site). Without a portal
// Security info stays on the site and the log warns, once.
func TestSecurityInfoLivesOnThePortal(t *testing.T) {
	e := adminStart(t, "")
	const user, pw = "pat", "pat password 1"
	e.g.addUser(user, pw)
	site := newBrowser(t, e.g)
	secret, step := site.enrolled(user, pw)

	for path, want := range map[string]string{
		"/.mfa/security":                         e.portal + "/.mfa/security",
		"/.mfa/security/add?method=app-password": e.portal + "/.mfa/security/add?method=app-password",
		"/.mfa/security/password":                e.portal + "/.mfa/security/password",
	} {
		if p := site.get(path); p.status != http.StatusFound || p.location != want {
			t.Errorf("GET %s on the site: %d %q, want %q", path, p.status, p.location, want)
		}
	}
	for path, form := range map[string]url.Values{
		"/.mfa/security/app-password":        {"name": {"evil"}},
		"/.mfa/security/authenticator":       {"name": {"evil"}, "code": {"123456"}},
		"/.mfa/security/default":             {"method": {"push"}},
		"/.mfa/security/sign-out-everywhere": {},
	} {
		p := site.post(path, form)
		if p.status != http.StatusForbidden || len(secretsIn(p.body)) > 0 || !strings.Contains(p.body, e.portal+"/.mfa/security") {
			t.Errorf("POST %s on the site: %d, want 403 pointing to the portal\n%s", path, p.status, p.body)
		}
	}
	if out, err := e.g.caddy(nil, "mfa", "app-passwords", "list", user, "--config", "Caddyfile"); err != nil || strings.Contains(out, "evil") {
		t.Fatalf("app passwords after the site's posts: %v\n%s", err, out)
	}

	// On the portal: its own sign-in, then Security info works.
	portal := newPortalBrowser(t, e.g, e.portal)
	if p := portal.get("/.mfa/security"); p.status != http.StatusFound || p.location != "/.mfa/login?rd=%2F.mfa%2Fsecurity" {
		t.Fatalf("the portal's Security info signed out: %d %q", p.status, p.location)
	}
	if p := portal.login(user, pw, "/.mfa/security"); p.status != http.StatusSeeOther || p.location != "/.mfa/verify" {
		t.Fatalf("portal login: %d %q", p.status, p.location)
	}
	if p := portal.submitCode("/.mfa/verify", codeAt(t, secret, step+1)); p.status != http.StatusSeeOther || p.location != "/.mfa/security" {
		t.Fatalf("portal code: %d %q", p.status, p.location)
	}
	if p := portal.get("/.mfa/security"); p.status != http.StatusOK || strings.Contains(p.body, "Back to the app") {
		t.Errorf("the portal's Security info: %d, want no link back to an app the portal does not have", p.status)
	}
	apw, p := portal.createAppPassword("Mail")
	if apw == "" {
		t.Fatalf("app password on the portal: %d\n%s", p.status, p.body)
	}
	if s := e.basicStatus(user, apw); s != http.StatusOK {
		t.Fatalf("the portal's app password on the site: %d", s)
	}
	const warning = "no portal is configured, so Security info is served on each protected site's origin"
	if strings.Contains(e.g.logs.String(), warning) {
		t.Error("warned about Security info on the sites although a portal is configured")
	}

	// Without a portal: Security info on the site, and one warning.
	g := startGateway(t, newUpstream(t))
	g.addUser(user, pw)
	b := newBrowser(t, g)
	b.enrolled(user, pw)
	if p := b.get("/.mfa/security"); p.status != http.StatusOK || !strings.Contains(p.body, `<a href="/">Back to the app</a>`) {
		t.Fatalf("Security info without a portal: %d\n%s", p.status, p.body)
	}
	if n := strings.Count(g.logs.String(), warning); n != 1 {
		t.Errorf("warnings about Security info on the sites without a portal: %d, want 1\n%s", n, g.logs.String())
	}
}
