package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var appPasswordRE = regexp.MustCompile(`<code id="app-password">([a-z ]+)</code>`)

// createAppPassword makes an app password through the Security info pages.
func (b *browser) createAppPassword(name string) (string, page) {
	b.t.Helper()
	p := b.post("/.mfa/security/app-password", url.Values{"name": {name}})
	m := appPasswordRE.FindStringSubmatch(p.body)
	if m == nil {
		return "", p
	}
	return m[1], p
}

// basicGet sends a request the way a WebDAV or git client does.
func basicGet(t *testing.T, g *gatewayInstance, path, user, pw string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", g.url(path), nil)
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
	resp.Body.Close()
	return resp
}

func wantStatus(t *testing.T, resp *http.Response, status int, what string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, status)
	}
}

// TestAppPasswordsForEnforcedUsers: the WebDAV/git path end to end.
func TestAppPasswordsForEnforcedUsers(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	// Enrolling switches alice from enabled to enforced.
	b := signedIn(t, g, "alice")

	p := b.get("/.mfa/security/add")
	if p.status != 200 || !strings.Contains(p.body, `id="add-app-password"`) {
		t.Fatalf("Add sign-in method for an enforced user lacks app passwords: %d", p.status)
	}
	pw, p := b.createAppPassword("Laptop mail")
	if pw == "" {
		t.Fatalf("no app password shown: %d\n%s", p.status, p.body)
	}
	if !regexp.MustCompile(`^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$`).MatchString(pw) {
		t.Fatalf("app password %q is not 4 groups of 4 lowercase letters", pw)
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Fatal("page showing the app password is cacheable")
	}
	plain := strings.ReplaceAll(pw, " ", "")

	// With or without spaces, upper or lower case: 200 with identity upstream.
	for _, variant := range []string{plain, pw, strings.ToUpper(plain)} {
		resp := basicGet(t, g, "/dav/file.txt", "alice", variant)
		wantStatus(t, resp, 200, "app password "+variant)
	}
	r := up.lastRequest()
	if r.Header.Get("Remote-User") != "alice" || r.Header.Get("Remote-Groups") != "staff" {
		t.Fatalf("identity upstream: %v", r.Header)
	}
	if r.Header.Get("Authorization") != "" {
		t.Fatal("Authorization passed upstream")
	}

	// The account password of an enforced user is refused, with a challenge.
	resp := basicGet(t, g, "/dav/file.txt", "alice", "alice password 1")
	wantStatus(t, resp, 401, "enforced user with account password")
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="127.0.0.1:`) {
		t.Fatalf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
	}

	// The list shows it with its last use; the shown-once page is gone.
	p = b.get("/.mfa/security")
	if !strings.Contains(p.body, "Laptop mail") || !strings.Contains(p.body, "from 127.0.0.1") || strings.Contains(p.body, plain) {
		t.Fatalf("security info after use:\n%s", p.body)
	}

	// Delete it: refused on the very next request, although it was cached.
	id := regexp.MustCompile(`security/delete\?kind=app-password&amp;id=(\d+)"`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no delete form:\n%s", p.body)
	}
	wantStatus(t, basicGet(t, g, "/dav/warm", "alice", plain), 200, "warm cache")
	p = b.post("/.mfa/security/app-password/delete", url.Values{"id": {id[1]}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d\n%s", p.status, p.body)
	}
	wantStatus(t, basicGet(t, g, "/dav/after-delete", "alice", plain), 401, "deleted app password")
	if p := b.get("/.mfa/security?done=app-password-deleted"); !strings.Contains(p.body, "App password deleted.") {
		t.Fatal("no confirmation after delete")
	}
}

// TestAppPasswordLimitAndDeleteAll: 40 per user, the 41st refused; the
// admin's delete-all through the CLI is honoured within the cache bound.
func TestAppPasswordLimitAndDeleteAll(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := signedIn(t, g, "bert")
	var last string
	for i := 1; i <= 40; i++ {
		pw, p := b.createAppPassword(fmt.Sprintf("device %d", i))
		if pw == "" {
			t.Fatalf("app password %d refused: %d\n%s", i, p.status, p.body)
		}
		last = strings.ReplaceAll(pw, " ", "")
	}
	pw, p := b.createAppPassword("device 41")
	if pw != "" || !strings.Contains(p.body, "the most allowed") {
		t.Fatalf("41st app password: %q %d\n%s", pw, p.status, p.body)
	}
	wantStatus(t, basicGet(t, g, "/x", "bert", last), 200, "40th app password")

	out, err := g.caddy(nil, "mfa", "app-passwords", "delete-all", "bert", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "deleted 40 app passwords") {
		t.Fatalf("delete-all: %v\n%s", err, out)
	}
	deadline := time.Now().Add(6 * time.Second)
	for basicGet(t, g, "/x", "bert", last).StatusCode != 401 {
		if time.Now().After(deadline) {
			t.Fatal("app password still accepted 6 s after delete-all")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMFAStatesAndBasicAuth covers Disabled, Enabled and the site options.
func TestMFAStatesAndBasicAuth(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("dana", "dana password 1", "--mfa", "disabled")
	g.addUser("eddy", "eddy password 1") // enabled, not registered

	// Disabled: password alone signs in to the browser.
	b := newBrowser(t, g)
	if p := b.login("dana", "dana password 1", "/home"); p.status != http.StatusSeeOther || p.location != "/home" {
		t.Fatalf("disabled user login: %d %q", p.status, p.location)
	}
	if p := b.get("/home"); p.status != 200 {
		t.Fatalf("disabled user: %d", p.status)
	}
	// ...and may not create app passwords (the option is missing, with why).
	p := b.get("/.mfa/security/add")
	if strings.Contains(p.body, `id="add-app-password"`) || !strings.Contains(p.body, "enforces multi-factor") {
		t.Fatalf("Add sign-in method of a disabled user offers app passwords:\n%s", p.body)
	}
	if pw, p := b.createAppPassword("sneaky"); pw != "" || p.status != http.StatusForbidden {
		t.Fatalf("disabled user created an app password: %d", p.status)
	}

	// Enabled but unregistered: the account password passes basic auth.
	wantStatus(t, basicGet(t, g, "/dav", "eddy", "eddy password 1"), 200, "enabled user, account password")
	wantStatus(t, basicGet(t, g, "/dav", "eddy", "wrong"), 401, "enabled user, wrong password")

	// A site with app_passwords_only refuses it; require_mfa sends the
	// disabled user through the second step.
	g.reload(strings.Replace(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), ""),
		"mfa_gateway\n", "mfa_gateway {\n\t\tapp_passwords_only\n\t\trequire_mfa\n\t}\n", 1))
	wantStatus(t, basicGet(t, g, "/dav", "eddy", "eddy password 1"), 401, "app_passwords_only")
	if p := newBrowser(t, g).login("dana", "dana password 1", "/"); p.location != "/.mfa/enrol" {
		t.Fatalf("require_mfa: disabled user goes to %q", p.location)
	}
	// dana's earlier password-only session is not enough there now.
	if p := b.get("/home"); p.status != http.StatusFound || !strings.HasPrefix(p.location, "/.mfa/login") {
		t.Fatalf("password-only session on a require_mfa site: %d %q", p.status, p.location)
	}
}

// TestChallenges: no credentials -> 401 + Basic challenge for clients, 302
// for browsers; Authorization is never passed upstream.
func TestChallenges(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	resp := basicGet(t, g, "/repo.git/info/refs", "", "")
	wantStatus(t, resp, 401, "curl without credentials")
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") {
		t.Fatalf("no Basic challenge: %q", resp.Header.Get("WWW-Authenticate"))
	}
	if p := newBrowser(t, g).get("/repo.git/info/refs"); p.status != http.StatusFound {
		t.Fatalf("browser: %d", p.status)
	}
	req, _ := http.NewRequest("GET", g.url("/x"), nil)
	req.Header.Set("Authorization", "Basic !!!not-base64")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	wantStatus(t, r2, 401, "malformed basic auth")
	if up.lastRequest() != nil {
		t.Fatal("upstream reached")
	}
}

// TestBasicAuthTimingDoesNotRevealUsers: an unknown user costs about what a
// wrong password for a known one costs (both pay one bcrypt).
func TestBasicAuthTimingDoesNotRevealUsers(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("fiona", "fiona password 1", "--mfa", "disabled")
	sent := 0 // distinct passwords: a repeat of a wrong one is not judged again
	measure := func(user string) time.Duration {
		var total time.Duration
		for range 8 {
			start := time.Now()
			// Different IPs are not available; stay under the IP limit (50).
			sent++
			basicGet(t, g, "/t", user, fmt.Sprintf("wrong %d", sent))
			total += time.Since(start)
		}
		return total / 8
	}
	measure("fiona") // warm up
	known := measure("fiona")
	unknown := measure("nobody-here")
	ratio := float64(unknown) / float64(known)
	t.Logf("wrong password for a known user: %v; unknown user: %v; ratio %.2f", known, unknown, ratio)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("timing differs: known %v, unknown %v", known, unknown)
	}
}

// TestSecurityInfoRefusesCrossOriginPosts: state changes pass the
// cross-origin check (CSRF).
func TestSecurityInfoRefusesCrossOriginPosts(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := signedIn(t, g, "cora")
	req, _ := http.NewRequest("POST", g.url("/.mfa/security/app-password"), strings.NewReader("name=evil"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	p := b.do(req)
	if p.status != http.StatusForbidden || appPasswordRE.MatchString(p.body) {
		t.Fatalf("cross-origin POST: %d", p.status)
	}
	if p := b.get("/.mfa/security"); strings.Contains(p.body, "evil") {
		t.Fatal("app password created by a cross-origin POST")
	}
	// Renaming a method is a change like the others.
	id := regexp.MustCompile(`security/rename\?kind=authenticator&amp;id=(\d+)"`).FindStringSubmatch(b.get("/.mfa/security").body)
	if id == nil {
		t.Fatal("no Rename on Security info")
	}
	req, _ = http.NewRequest("POST", g.url("/.mfa/security/rename"), strings.NewReader("kind=authenticator&id="+id[1]+"&name=evil"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Fatalf("cross-origin rename: %d", p.status)
	}
	if p := b.get("/.mfa/security"); strings.Contains(p.body, "evil") {
		t.Fatal("method renamed by a cross-origin POST")
	}
}

// TestLoginTimingDoesNotRevealUsers: on the login form too, an unknown user
// costs about what a wrong password for a known one costs.
func TestLoginTimingDoesNotRevealUsers(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("gwen", "gwen password 1")
	b := newBrowser(t, g)
	sent := 0 // distinct passwords: a repeat of a wrong one is not judged again
	measure := func(user string) time.Duration {
		var total time.Duration
		for range 6 {
			start := time.Now()
			sent++
			p := b.login(user, fmt.Sprintf("wrong %d", sent), "/")
			total += time.Since(start)
			if p.status != 200 || !strings.Contains(p.body, "incorrect") {
				t.Fatalf("%s: %d", user, p.status)
			}
		}
		return total / 6
	}
	measure("gwen") // warm up (6 failures; the account locks at 10, which answers the same)
	known := measure("gwen")
	unknown := measure("nobody-at-all")
	ratio := float64(unknown) / float64(known)
	t.Logf("login form: wrong password %v, unknown user %v, ratio %.2f", known, unknown, ratio)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("timing differs: known %v, unknown %v", known, unknown)
	}
}
