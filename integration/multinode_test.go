package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// multinodeRevocationBound is the documented per-node cache bound (5 s) plus slack.
const multinodeRevocationBound = 6 * time.Second

// onNode returns a browser that talks to node g with b's client and cookie jar,
// as a load balancer in front of the nodes would pass its requests on: under
// the one origin of the site (b's node's host and port as the Host), which
// every session is bound to. The jar keys cookies by host, not port, so
// both nodes see one session.
func (b *browser) onNode(g *gatewayInstance) *browser {
	client := *b.client
	client.Transport = siteHost{host: strings.TrimPrefix(strings.TrimSuffix(b.url("/"), "/"), "http://"), next: b.client.Transport}
	return &browser{t: b.t, g: g, client: &client}
}

// siteHost sends every request with Host set to host.
type siteHost struct {
	host string
	next http.RoundTripper
}

func (s siteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Host = s.host
	next := s.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

// pollRefused calls refused every 100 ms until it reports true and returns
// how long that took; it fails the test after multinodeRevocationBound.
func pollRefused(t *testing.T, what string, since time.Time, refused func() bool) time.Duration {
	t.Helper()
	for {
		if refused() {
			return time.Since(since)
		}
		if time.Since(since) > multinodeRevocationBound {
			t.Fatalf("%s: still accepted %v after the change", what, time.Since(since).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantProxiedAs(t *testing.T, up *upstream, p page, user, what string) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("%s: status %d\n%s", what, p.status, p.body)
	}
	if got := up.lastRequest().Header.Get("Remote-User"); got != user {
		t.Fatalf("%s: Remote-User upstream = %q, want %q", what, got, user)
	}
}

// TestTwoNodesSharePostgres: two Caddy processes on one PostgreSQL database
// serve any step of any sign-in, share app passwords, revocations (within
// the 5 s cache bound) and brute-force counters, and bootstrap the first
// admin once.
func TestTwoNodesSharePostgres(t *testing.T) {
	dsn := freshPostgresDB(t)
	up := newUpstream(t)
	nodeA := newPostgresGateway(t, up, dsn)
	nodeB := newPostgresGateway(t, up, dsn)
	// Boot both at once on the empty database: migrations and the first
	// admin must each happen exactly once.
	launchGateway(nodeA)
	launchGateway(nodeB)
	nodeA.waitReady()
	nodeB.waitReady()

	const user, pw = "nina", "nina password 1"
	nodeA.addUser(user, pw, "--name", "Nina", "--group", "staff")

	// Password on A, enrolment on B.
	shared := newBrowser(t, nodeA)
	onA, onB := shared.onNode(nodeA), shared.onNode(nodeB)
	p := onA.login(user, pw, "/")
	if p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		t.Fatalf("password on A: %d %q, want 303 to enrol\n%s", p.status, p.location, p.body)
	}
	p = onB.get("/.mfa/enrol")
	if p.status != 200 || !strings.Contains(p.body, "More information required") {
		t.Fatalf("enrol page on B: %d\n%s", p.status, p.body)
	}
	secret := enrolSecret(t, p)
	p = onB.submitCode("/.mfa/enrol", codeAt(t, secret, currentStep()))
	if p.status != http.StatusSeeOther {
		t.Fatalf("enrol code on B: %d\n%s", p.status, p.body)
	}
	wantProxiedAs(t, up, onA.get("/via-a"), user, "signed in, node A")
	wantProxiedAs(t, up, onB.get("/via-b"), user, "signed in, node B")

	// An app password made on A works on B.
	apw, p := onA.createAppPassword("Laptop mail")
	if apw == "" {
		t.Fatalf("no app password on A: %d\n%s", p.status, p.body)
	}
	wantStatus(t, basicGet(t, nodeB, "/dav/b", user, apw), 200, "app password from A on B")
	if got := up.lastRequest().Header.Get("Remote-User"); got != user {
		t.Fatalf("basic auth on B: Remote-User %q", got)
	}

	// Deleted on A: refused on A at once, on B within the bound.
	p = onA.get("/.mfa/security")
	id := regexp.MustCompile(`security/delete\?kind=app-password&amp;id=(\d+)"`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no delete form on A:\n%s", p.body)
	}
	wantStatus(t, basicGet(t, nodeB, "/dav/warm", user, apw), 200, "warm B's cache")
	deleted := time.Now()
	if p := onA.post("/.mfa/security/app-password/delete", url.Values{"id": {id[1]}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete on A: %d\n%s", p.status, p.body)
	}
	wantStatus(t, basicGet(t, nodeA, "/dav/a", user, apw), 401, "deleted app password on A")
	delay := pollRefused(t, "deleted app password on B", deleted, func() bool {
		return basicGet(t, nodeB, "/dav/poll", user, apw).StatusCode == http.StatusUnauthorized
	})
	t.Logf("app password deleted on A: refused on B after %v", delay.Round(time.Millisecond))

	// Logout on A: the old cookie is refused on A at once, on B within the
	// bound. The jar drops the cookie at logout, so keep a copy.
	old := shared.client.Jar.Cookies(mustURL(nodeA.url("/")))
	if len(old) == 0 {
		t.Fatal("no session cookie")
	}
	replay := func(g *gatewayInstance) *browser {
		b := newBrowser(t, nodeA).onNode(g)
		b.client.Jar.SetCookies(mustURL(g.url("/")), old)
		return b
	}
	wantProxiedAs(t, up, replay(nodeB).get("/warm-b"), user, "old cookie on B before logout")
	loggedOut := time.Now()
	if p := onA.post("/.mfa/logout", nil); p.status != 200 || !strings.Contains(p.body, "You have signed out") {
		t.Fatalf("logout on A: %d\n%s", p.status, p.body)
	}
	if p := replay(nodeA).get("/after-logout-a"); p.status != http.StatusFound {
		t.Fatalf("old cookie on A after logout: %d", p.status)
	}
	delay = pollRefused(t, "old cookie on B after logout on A", loggedOut, func() bool {
		return replay(nodeB).get("/after-logout-b").status == http.StatusFound
	})
	t.Logf("logout on A: old cookie refused on B after %v", delay.Round(time.Millisecond))

	// Lockout counts failures from both nodes (account limit 10; distinct
	// passwords, as a repeat of a wrong one counts once).
	const victim, victimPW = "omar", "omar password 1"
	nodeB.addUser(victim, victimPW, "--mfa", "disabled")
	const incorrect = "Your account or password is incorrect."
	for i := range 10 {
		node := nodeA
		if i >= 5 {
			node = nodeB
		}
		p := newBrowser(t, node).login(victim, fmt.Sprintf("wrong password %d", i), "/")
		if p.status != 200 || !strings.Contains(p.body, incorrect) {
			t.Fatalf("wrong password %d: %d %q\n%s", i+1, p.status, p.location, p.body)
		}
	}
	p = newBrowser(t, nodeA).login(victim, victimPW, "/")
	if p.status != 200 || !strings.Contains(p.body, incorrect) || p.header.Get("Set-Cookie") != "" {
		t.Fatalf("right password after 5+5 failures on two nodes: %d %q, want the incorrect page\n%s", p.status, p.location, p.body)
	}

	// The first admin was created by exactly one node.
	const bootstrapMsg = "created the first admin user"
	n := strings.Count(nodeA.logs.String(), bootstrapMsg) + strings.Count(nodeB.logs.String(), bootstrapMsg)
	if n != 1 {
		t.Fatalf("%q logged %d times across both nodes, want 1\nA:\n%s\nB:\n%s", bootstrapMsg, n, nodeA.logs.String(), nodeB.logs.String())
	}
	out, err := nodeA.caddy(nil, "mfa", "user", "list", "--json", "--config", "Caddyfile")
	if err != nil || !strings.Contains(out, "[") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	var rows []struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil {
		t.Fatalf("user list output: %v\n%s", err, out)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Username)
	}
	if strings.Join(names, ",") != "admin,nina,omar" {
		t.Fatalf("users = %v, want admin, nina, omar", names)
	}
}
