// Package caddyproc runs real Caddy processes for the end-to-end tests and
// the benchmark: it builds the binary, gives each instance its own
// directory, ports and environment, starts it from a Caddyfile, waits
// until it answers, runs its CLI and stops it. Browser (browser.go) is the
// cookie-keeping client both use to walk the sign-in pages.
package caddyproc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Build builds ./cmd/caddy of the module rooted at root into dir.
func Build(root, dir string) (string, error) {
	bin := filepath.Join(dir, "caddy")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/caddy")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/caddy: %w", err)
	}
	return bin, nil
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Instance is one Caddy with its own directory and ports.
type Instance struct {
	Bin       string
	Dir       string
	HTTPPort  int
	AdminPort int
	// Starter starts every command (the server and its CLI); the default
	// is (*exec.Cmd).Start. The benchmark tracks its children with it.
	Starter func(*exec.Cmd) error

	cmd  *exec.Cmd
	done chan struct{}
}

// New returns an instance of bin living in dir, with two free ports.
func New(bin, dir string) (*Instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	hp, err := FreePort()
	if err != nil {
		return nil, err
	}
	ap, err := FreePort()
	if err != nil {
		return nil, err
	}
	return &Instance{Bin: bin, Dir: dir, HTTPPort: hp, AdminPort: ap}, nil
}

// Env keeps Caddy's own data and config inside the instance's directory.
func (c *Instance) Env() []string {
	return append(os.Environ(),
		"HOME="+c.Dir,
		"XDG_DATA_HOME="+filepath.Join(c.Dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(c.Dir, "config"))
}

// URL is path on the instance's HTTP port.
func (c *Instance) URL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.HTTPPort, path)
}

// WriteCaddyfile writes the instance's Caddyfile.
func (c *Instance) WriteCaddyfile(text string) error {
	return os.WriteFile(filepath.Join(c.Dir, "Caddyfile"), []byte(text), 0o600)
}

func (c *Instance) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.Bin, args...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env()
	return cmd
}

func (c *Instance) start(cmd *exec.Cmd) error {
	if c.Starter != nil {
		return c.Starter(cmd)
	}
	return cmd.Start()
}

// Launch runs the binary with args (a server: `run --config Caddyfile`)
// writing its output to out, without waiting for it to answer; Done is
// closed when it exits.
func (c *Instance) Launch(out io.Writer, args ...string) error {
	cmd := c.command(args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := c.start(cmd); err != nil {
		return err
	}
	done := make(chan struct{})
	c.cmd, c.done = cmd, done
	// Its exit status means nothing here: a stopped server exits by a
	// signal, and callers judge its output and answers.
	go func() { _ = cmd.Wait(); close(done) }()
	return nil
}

// Cmd is the running server's command (nil before Launch).
func (c *Instance) Cmd() *exec.Cmd { return c.cmd }

// Done is closed when the server launched last has exited.
func (c *Instance) Done() <-chan struct{} { return c.done }

// WaitReady polls path until the server answers, it exits, or timeout.
func (c *Instance) WaitReady(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return fmt.Errorf("caddy exited early")
		default:
		}
		resp, err := client.Get(c.URL(path))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("caddy did not answer within %v", timeout)
}

// Stop sends SIGTERM and waits, killing the server after grace.
func (c *Instance) Stop(grace time.Duration) {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM) // fails only if it has exited already (done is closed)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill() // fails only if it has exited meanwhile
		<-c.done
	}
}

// CLI runs the binary as a command line in the instance's directory and
// returns its combined output.
func (c *Instance) CLI(stdin io.Reader, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env()
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := c.start(cmd); err != nil {
		return "", err
	}
	err := cmd.Wait()
	return out.String(), err
}

// AddUser creates a user through the real CLI.
func (c *Instance) AddUser(name, password string, extra ...string) error {
	args := append([]string{"mfa", "user", "add", name, "--config", "Caddyfile", "--password-stdin"}, extra...)
	if out, err := c.CLI(strings.NewReader(password+"\n"), args...); err != nil {
		return fmt.Errorf("caddy mfa user add: %v\n%s", err, out)
	}
	return nil
}
