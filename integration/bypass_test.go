package integration

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"testing"
	"time"
)

// rawGet sends path byte for byte (no client-side cleaning) and returns the
// status.
func rawGet(t *testing.T, g *gatewayInstance, rawPath string) int {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", g.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", rawPath)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0 // the server refused to parse it: not a bypass
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestNoPathBypass: with one public path (public_paths), no spelling of a
// protected path reaches the upstream unauthenticated. (A Caddy matcher such
// as `not path /public/*` does let "/public/..\secret" through, which a
// Windows upstream resolves: that is why the gateway has its own strict
// public_paths.)
func TestNoPathBypass(t *testing.T) {
	up := newUpstream(t)
	g := newGatewayInstance(t)
	site := caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), "")
	site = strings.Replace(site, "\tmfa_gateway\n", "\tmfa_gateway {\n\t\tpublic_paths /public/*\n\t}\n", 1)
	g.writeCaddyfile(site)
	g.start()
	t.Cleanup(g.stop)

	if s := rawGet(t, g, "/public/logo.png"); s != 200 {
		t.Fatalf("public path: %d", s)
	}
	if s := rawGet(t, g, "/secret"); s != 401 {
		t.Fatalf("protected path: %d", s)
	}
	tricks := []string{
		"//secret", "/SECRET", "/Secret", "/%73ecret", "/secret%00", "/secret.", "/secret/", "/secret;x",
		"/public/../secret", "/public/..%2fsecret", "/public/..%2Fsecret", "/public/%2e%2e/secret",
		"/public/%2e%2e%2fsecret", "/public/..;/secret", "/public/..\\secret", "/public/..%5csecret",
		"/public%2f..%2fsecret", "//public/../secret", "/public/./../secret", "/public/%00/../secret",
		"/PUBLIC/../secret", "/public/..%252fsecret", "/./secret", "/%2e/secret", "/public//../secret",
		"/public/.%2e/secret", "/.mfa/../secret", "/.mfa/..%2fsecret", "/.mfa%2f../secret", "/public/%2e%2e%5csecret",
	}
	for _, p := range tricks {
		before := up.lastRequest()
		status := rawGet(t, g, p)
		after := up.lastRequest()
		if after == nil || after == before {
			continue // the upstream was not reached
		}
		seen := after.URL.Path
		cleaned := path.Clean(strings.ReplaceAll(seen, "\\", "/"))
		if !strings.HasPrefix(cleaned, "/public/") {
			t.Errorf("%s -> %d: upstream reached unauthenticated with path %q", p, status, seen)
		}
	}
}

// TestForwardedHeadersIgnored: redirects are built from the request as Caddy
// saw it, never from X-Forwarded-Host/Proto sent by the client.
func TestForwardedHeadersIgnored(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := newBrowser(t, g)
	p := b.get("/x", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https", "Forwarded", "host=evil.example")
	if p.status != http.StatusFound || strings.Contains(p.location, "evil") || !strings.HasPrefix(p.location, "/.mfa/login") {
		t.Fatalf("redirect: %d %q", p.status, p.location)
	}
	g.addUser("hank", "hank password 1", "--mfa", "disabled")
	req, _ := http.NewRequest("POST", g.url("/.mfa/login"), strings.NewReader("username=hank&password=hank+password+1&rd=https%3A%2F%2Fevil.example%2F"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	p = b.do(req)
	if p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("rd to the forwarded host: %d %q", p.status, p.location)
	}
}
