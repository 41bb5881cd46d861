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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

// gatewayInstance is one running Caddy.
type gatewayInstance struct {
	t         testing.TB
	dir       string
	httpPort  int
	adminPort int
	cmd       *exec.Cmd
	logs      *syncBuffer
	done      chan struct{}
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

// startGateway writes a Caddyfile (made by mk from the instance's dir and
// ports) and runs `caddy run` until the test ends.
func startGateway(t testing.TB, up *upstream) *gatewayInstance {
	t.Helper()
	g := &gatewayInstance{t: t, dir: t.TempDir(), httpPort: freePort(t), adminPort: freePort(t)}
	g.writeCaddyfile(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), ""))
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *gatewayInstance) writeCaddyfile(text string) {
	g.t.Helper()
	if err := os.WriteFile(filepath.Join(g.dir, "Caddyfile"), []byte(text), 0o600); err != nil {
		g.t.Fatal(err)
	}
}

// env keeps Caddy's own data and config inside the test directory.
func (g *gatewayInstance) env() []string {
	return append(os.Environ(),
		"HOME="+g.dir,
		"XDG_DATA_HOME="+filepath.Join(g.dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(g.dir, "config"))
}

func (g *gatewayInstance) start() {
	g.t.Helper()
	g.startWith("run", "--config", "Caddyfile")
}

// startWith runs caddy with args and waits until the site answers.
func (g *gatewayInstance) startWith(args ...string) {
	g.t.Helper()
	g.logs = new(syncBuffer)
	g.done = make(chan struct{})
	g.cmd = exec.Command(caddyBin, args...)
	g.cmd.Dir = g.dir
	g.cmd.Env = g.env()
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	go func() { g.cmd.Wait(); close(g.done) }()
	g.waitReady()
}

func (g *gatewayInstance) waitReady() {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.done:
			g.t.Fatalf("caddy exited early:\n%s", g.logs.String())
		default:
		}
		resp, err := http.Get(g.url("/.mfa/login"))
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("caddy did not become ready:\n%s", g.logs.String())
}

func (g *gatewayInstance) stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
	if g.t.Failed() {
		g.t.Logf("caddy log:\n%s", g.logs.String())
	}
}

func (g *gatewayInstance) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", g.httpPort, path)
}

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
	cmd := exec.Command(caddyBin, args...)
	cmd.Dir = g.dir
	cmd.Env = g.env()
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// addUser creates a user through the real CLI.
func (g *gatewayInstance) addUser(name, password string, extra ...string) {
	g.t.Helper()
	args := append([]string{"mfa", "user", "add", name, "--config", "Caddyfile", "--password-stdin"}, extra...)
	out, err := g.caddy(strings.NewReader(password+"\n"), args...)
	if err != nil {
		g.t.Fatalf("caddy mfa user add: %v\n%s", err, out)
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
