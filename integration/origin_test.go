package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// getWithCookie sends a GET to url with exactly the Cookie header given (no jar)
// and the headers a browser's page load sends.
func getWithCookie(t *testing.T, url, cookie, host string) page {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept", "text/html")
	if host != "" {
		req.Host = host
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), header: resp.Header}
}

// jarCookie is the value of the cookie name the client holds for url.
func jarCookie(t *testing.T, c *http.Client, url, name string) string {
	t.Helper()
	for _, ck := range c.Jar.Cookies(mustURL(url)) {
		if ck.Name == name {
			return ck.Value
		}
	}
	t.Fatalf("no cookie %s for %s", name, url)
	return ""
}

// TestSessionsBoundToTheirOrigin: the demo's two origins (the protected
// site and the portal, same host, two ports) share cookies in the browser;
// the admin center must not take the protected site's session, nor the
// site the portal's, under any cookie name, nor either on another host.
func TestSessionsBoundToTheirOrigin(t *testing.T) {
	e := adminStart(t, "")

	// The admin signs in on the protected site (second factor and all).
	site := newBrowser(t, e.g)
	secret, _ := site.enrolled("admin", e.rootPass)
	if p := site.get("/app"); p.status != 200 || !strings.Contains(p.body, "upstream says hello") {
		t.Fatalf("the site after sign-in: %d\n%s", p.status, p.body)
	}
	siteCookie := jarCookie(t, site.client, e.g.url("/"), "mfagate")

	// Replayed on the portal under either name: the admin center's sign-in.
	for _, name := range []string{"mfagate", "mfagate-portal"} {
		p := getWithCookie(t, e.portal+"/admin/", name+"="+siteCookie, "")
		if p.status != http.StatusFound || !strings.HasPrefix(p.location, "/.mfa/login") || strings.Contains(p.body, "<h1>Users</h1>") {
			t.Errorf("the site's session as %s on the portal: %d %q", name, p.status, p.location)
		}
	}
	// On the same port under another host name: not its origin either.
	other := fmt.Sprintf("localhost:%d", e.g.httpPort)
	if p := getWithCookie(t, e.g.url("/app"), "mfagate="+siteCookie, other); p.status != http.StatusFound || strings.Contains(p.body, "upstream says hello") {
		t.Errorf("the site's session on host %s: %d\n%s", other, p.status, p.body)
	}
	// Its own origin still takes it.
	if p := getWithCookie(t, e.g.url("/app"), "mfagate="+siteCookie, ""); p.status != 200 {
		t.Fatalf("the site's session on its own origin: %d", p.status)
	}

	// The admin signs in on the portal: its cookie has its own name, and
	// the protected site does not take it under either name.
	root := e.client()
	if _, p := root.signIn("admin", e.rootPass, secret); p.status != 200 || !strings.Contains(p.body, "<h1>Users</h1>") {
		t.Fatalf("the admin did not land on the users list: %d\n%s", p.status, p.body)
	}
	portalCookie := jarCookie(t, root.web.Client, e.portal+"/", "mfagate-portal")
	for _, name := range []string{"mfagate", "mfagate-portal"} {
		p := getWithCookie(t, e.g.url("/app"), name+"="+portalCookie, "")
		if p.status != http.StatusFound || strings.Contains(p.body, "upstream says hello") {
			t.Errorf("the portal's session as %s on the site: %d\n%s", name, p.status, p.body)
		}
	}
	if p := getWithCookie(t, e.portal+"/admin/", "mfagate-portal="+portalCookie, ""); p.status != 200 || !strings.Contains(p.body, "<h1>Users</h1>") {
		t.Fatalf("the portal's session on the portal: %d %q", p.status, p.location)
	}
}
