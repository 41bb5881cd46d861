package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// buildCaddy builds ./cmd/caddy of the module rooted at root into dir.
func buildCaddy(root, dir string) (string, error) {
	bin := filepath.Join(dir, "caddy")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/caddy")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	prepare(cmd)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/caddy: %w", err)
	}
	return bin, nil
}

// caddyInstance is one running Caddy with its own directory and ports.
type caddyInstance struct {
	name      string
	bin       string
	dir       string
	httpPort  int
	adminPort int
	cmd       *exec.Cmd
	done      chan struct{}
	logPath   string
}

func newInstance(bin, root, name string) (*caddyInstance, error) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	hp, err := freePort()
	if err != nil {
		return nil, err
	}
	ap, err := freePort()
	if err != nil {
		return nil, err
	}
	return &caddyInstance{name: name, bin: bin, dir: dir, httpPort: hp, adminPort: ap, logPath: filepath.Join(dir, "caddy.log")}, nil
}

func (c *caddyInstance) dbPath() string { return filepath.Join(c.dir, "mfagate.db") }

// globalBlock is shared by every configuration; mfa is the optional `mfa`
// app block.
func (c *caddyInstance) globalBlock(mfa string) string {
	return fmt.Sprintf("{\n\tadmin 127.0.0.1:%d\n\tpersist_config off\n%s}\n", c.adminPort, mfa)
}

// mfaBlock is the `mfa` app with bcrypt cost 10 and storage in the
// instance's temp dir; lockout is an optional lockout block.
func (c *caddyInstance) mfaBlock(lockout string) string {
	return fmt.Sprintf("\tmfa {\n\t\tstorage sqlite %s\n\t\tissuer \"mfagate bench\"\n\t\tbcrypt_cost 10\n%s\t}\n", c.dbPath(), lockout)
}

// site renders the measured site block around handlers.
func (c *caddyInstance) site(handlers string) string {
	return fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n%s}\n", c.httpPort, handlers)
}

func (c *caddyInstance) env() []string {
	return append(os.Environ(),
		"HOME="+c.dir,
		"XDG_DATA_HOME="+filepath.Join(c.dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(c.dir, "config"))
}

func (c *caddyInstance) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.httpPort, path)
}

// start writes the Caddyfile and runs `caddy run` until the site answers.
func (c *caddyInstance) start(caddyfile string) error {
	if err := os.WriteFile(filepath.Join(c.dir, "Caddyfile"), []byte(caddyfile), 0o600); err != nil {
		return err
	}
	logf, err := os.Create(c.logPath)
	if err != nil {
		return err
	}
	c.cmd = exec.Command(c.bin, "run", "--config", "Caddyfile")
	c.cmd.Dir = c.dir
	c.cmd.Env = c.env()
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := cleanup.start(c.cmd); err != nil {
		logf.Close()
		return err
	}
	c.done = make(chan struct{})
	go func() { c.cmd.Wait(); logf.Close(); close(c.done) }()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return fmt.Errorf("caddy %s exited early:\n%s", c.name, c.logTail())
		default:
		}
		resp, err := client.Get(c.url("/"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("caddy %s did not become ready:\n%s", c.name, c.logTail())
}

func (c *caddyInstance) pid() int { return c.cmd.Process.Pid }

func (c *caddyInstance) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop sends SIGTERM and waits (SIGKILL after 10 s).
func (c *caddyInstance) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	cleanup.forget(c.cmd)
}

// cli runs the binary as a CLI in the instance's directory.
func (c *caddyInstance) cli(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	prepare(cmd)
	err := cmd.Run()
	return out.String(), err
}

// addUser creates a user through the real CLI.
func (c *caddyInstance) addUser(name, password string, extra ...string) error {
	args := append([]string{"mfa", "user", "add", name, "--config", "Caddyfile", "--password-stdin"}, extra...)
	out, err := c.cli(password+"\n", args...)
	if err != nil {
		return fmt.Errorf("caddy mfa user add: %v\n%s", err, out)
	}
	return nil
}

// hashPassword runs `caddy hash-password` (bcrypt at the given cost).
func hashPassword(bin, dir, plaintext string, cost int) (string, error) {
	cmd := exec.Command(bin, "hash-password", "--algorithm", "bcrypt", "--bcrypt-cost", fmt.Sprint(cost), "--plaintext", plaintext)
	cmd.Dir = dir
	prepare(cmd)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("caddy hash-password: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
