package integration

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// signedIn returns a browser with a complete session for a new user.
func signedIn(t *testing.T, g *gatewayInstance, user string) *browser {
	t.Helper()
	g.addUser(user, user+" password 1", "--name", "Name of "+user, "--group", "staff")
	b := newBrowser(t, g)
	b.enrolled(user, user+" password 1")
	if p := b.get("/check"); p.status != 200 {
		t.Fatalf("not signed in: %d", p.status)
	}
	return b
}

// dbHandles counts the caddy process's open descriptors on the database.
func dbHandles(t *testing.T, g *gatewayInstance) int {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", g.cmd.Process.Pid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		t.Skipf("cannot inspect %s: %v", fdDir, err)
	}
	n := 0
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(fdDir, e.Name()))
		if strings.HasSuffix(target, "mfagate.db") {
			n++
		}
	}
	return n
}

// TestReloadKeepsSessionsAndDatabase: `caddy reload` with a changed config
// keeps users signed in and re-uses the open database.
func TestReloadKeepsSessionsAndDatabase(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := signedIn(t, g, "dora")
	before := dbHandles(t, g)
	if before == 0 {
		t.Fatal("database not open")
	}
	for i := range 5 {
		extra := fmt.Sprintf("header X-Reload-Generation %d", i)
		g.reload(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), extra))
	}
	p := b.get("/after-reload")
	if p.status != 200 || p.header.Get("X-Reload-Generation") != "4" {
		t.Fatalf("after reload: status %d generation %q", p.status, p.header.Get("X-Reload-Generation"))
	}
	if after := dbHandles(t, g); after != before {
		t.Fatalf("database handles: %d before reloads, %d after", before, after)
	}
}

// TestSpoofedIdentityHeadersStripped sends identity headers, also named in
// Connection (which would make the proxy drop ours as hop-by-hop).
func TestSpoofedIdentityHeadersStripped(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	b := signedIn(t, g, "erin")
	var cookie string
	for _, c := range b.client.Jar.Cookies(mustURL(g.url("/"))) {
		cookie += c.Name + "=" + c.Value + "; "
	}
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", g.httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The Host of the origin the session was made for (it is bound to it).
	fmt.Fprintf(conn, "GET /spoof HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\n"+
		"Remote-User: admin\r\nremote-groups: admins\r\nRemote-Email: boss@example.com\r\nRemote_User: admin\r\n"+
		"Connection: keep-alive, Remote-User, Remote-Groups\r\n\r\n", g.httpPort, cookie)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := up.lastRequest()
	if got := r.Header.Values("Remote-User"); len(got) != 1 || got[0] != "erin" {
		t.Errorf("Remote-User upstream = %q, want [erin]", got)
	}
	if got := r.Header.Values("Remote-Groups"); len(got) != 1 || got[0] != "staff" {
		t.Errorf("Remote-Groups upstream = %q, want [staff]", got)
	}
	if got := r.Header.Values("Remote-Email"); len(got) != 1 || got[0] != "" {
		t.Errorf("Remote-Email upstream = %q, want one empty value", got)
	}
	// Caddy 2.11 itself drops underscore headers by default; identity.Strip
	// removes them too (unit-tested), for servers configured to keep them.
	if got, ok := r.Header["Remote_user"]; ok {
		t.Errorf("underscore spelling Remote_User reached upstream: %q", got)
	}

	// Unauthenticated requests carrying the headers never reach upstream.
	anon := newBrowser(t, g)
	if p := anon.get("/spoof2", "Remote-User", "admin"); p.status != http.StatusFound {
		t.Fatalf("spoofed header without session: %d", p.status)
	}
	if up.lastRequest().URL.Path == "/spoof2" {
		t.Fatal("upstream reached")
	}
}

// TestAccessLogShowsUser: {http.auth.user.id} is set for Caddy's access log.
func TestAccessLogShowsUser(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	logFile := filepath.Join(g.dir, "access.log")
	g.reload(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(),
		fmt.Sprintf("log {\n\t\toutput file %s\n\t\tformat json\n\t}", logFile)))
	b := signedIn(t, g, "fred")
	b.get("/logged")
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, _ := os.ReadFile(logFile)
		if strings.Contains(string(data), `"user_id":"fred"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log has no user_id fred:\n%s", data)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
