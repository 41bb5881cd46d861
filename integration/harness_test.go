// Package integration runs mfagate end to end: a real Caddy binary built
// from cmd/caddy, started from a Caddyfile, in front of a real upstream.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/caddyproc"
)

// caddyBin is the binary built once by TestMain.
var caddyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mfagate-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caddyBin = filepath.Join(dir, "caddy")
	build := exec.Command("go", "build", "-o", caddyBin, "../cmd/caddy")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building caddy:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort asks the kernel for an unused loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output safely.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// upstream is the protected app: it records the last request it saw.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
}

func newUpstream(t testing.TB) *upstream {
	u := new(upstream)
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.last = r.Clone(context.Background())
		u.mu.Unlock()
		fmt.Fprintf(w, "upstream says hello to %q at %s", r.Header.Get("Remote-User"), r.URL.RequestURI())
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) lastRequest() *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

func (u *upstream) port() string {
	_, p, _ := net.SplitHostPort(u.Listener.Addr().String())
	return p
}

// gatewayInstance is one running Caddy (see package caddyproc), with the
// instance's directory, ports, output and process under the names the
// tests use.
type gatewayInstance struct {
	*caddyproc.Instance
	t         testing.TB
	dir       string
	httpPort  int
	adminPort int
	logs      *syncBuffer
	cmd       *exec.Cmd       // the server launched last
	done      <-chan struct{} // closed when it exits
}

// newGatewayInstance prepares (but does not start) an instance in a
// directory of the test's own.
func newGatewayInstance(t testing.TB) *gatewayInstance {
	t.Helper()
	inst, err := caddyproc.New(caddyBin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &gatewayInstance{Instance: inst, t: t, dir: inst.Dir, httpPort: inst.HTTPPort, adminPort: inst.AdminPort}
}

// caddyfileFor renders the standard test config.
func caddyfileFor(dir string, httpPort, adminPort int, upstreamPort string, extraSite string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	mfa {
		storage sqlite %s
		issuer "Test Corp"
		bcrypt_cost 10
	}
}

:%d {
	mfa_gateway
	%s
	reverse_proxy 127.0.0.1:%s
}
`, adminPort, filepath.Join(dir, "mfagate.db"), httpPort, extraSite, upstreamPort)
}

// startGateway writes the standard Caddyfile and runs `caddy run` until
// the test ends.
func startGateway(t testing.TB, up *upstream) *gatewayInstance {
	t.Helper()
	g := newGatewayInstance(t)
	g.writeCaddyfile(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), ""))
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *gatewayInstance) writeCaddyfile(text string) {
	g.t.Helper()
	if err := g.WriteCaddyfile(text); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gatewayInstance) start() {
	g.t.Helper()
	g.startWith("run", "--config", "Caddyfile")
}

// startWith runs caddy with args and waits until the site answers.
func (g *gatewayInstance) startWith(args ...string) {
	g.t.Helper()
	g.launch(args...)
	g.waitReady()
}

// launch runs caddy with args without waiting for the site, so several
// nodes can boot at the same time; call waitReady next.
func (g *gatewayInstance) launch(args ...string) {
	g.t.Helper()
	g.logs = new(syncBuffer)
	if err := g.Launch(g.logs, args...); err != nil {
		g.t.Fatal(err)
	}
	g.cmd, g.done = g.Cmd(), g.Done()
}

func (g *gatewayInstance) waitReady() {
	g.t.Helper()
	if err := g.WaitReady("/.mfa/login", 30*time.Second); err != nil {
		g.t.Fatalf("%v:\n%s", err, g.logs.String())
	}
}

func (g *gatewayInstance) stop() {
	g.Stop(10 * time.Second)
	if g.t.Failed() && g.logs != nil {
		g.t.Logf("caddy log:\n%s", g.logs.String())
	}
}

func (g *gatewayInstance) url(path string) string { return g.URL(path) }

// reload applies a new Caddyfile with `caddy reload`.
func (g *gatewayInstance) reload(text string) {
	g.t.Helper()
	g.writeCaddyfile(text)
	out, err := g.caddy(nil, "reload", "--config", "Caddyfile", "--address", fmt.Sprintf("localhost:%d", g.adminPort))
	if err != nil {
		g.t.Fatalf("caddy reload: %v\n%s", err, out)
	}
}

// caddy runs the binary as a CLI in the instance's directory.
func (g *gatewayInstance) caddy(stdin io.Reader, args ...string) (string, error) {
	return g.CLI(stdin, args...)
}

// addUser creates a user through the real CLI.
func (g *gatewayInstance) addUser(name, password string, extra ...string) {
	g.t.Helper()
	if err := g.AddUser(name, password, extra...); err != nil {
		g.t.Fatal(err)
	}
}

var adminPasswordRE = regexp.MustCompile(`"username":"admin","password":"([^"]+)"`)

// bootstrapPassword finds the first admin's password in the log (the mfa
// app logs it when it starts, which may be just after the site answers).
func (g *gatewayInstance) bootstrapPassword() string {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := adminPasswordRE.FindStringSubmatch(g.logs.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Fatalf("no admin password in log:\n%s", g.logs.String())
	return ""
}
