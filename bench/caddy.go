package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/caddyproc"
)

// buildCaddy builds ./cmd/caddy of the module rooted at root into dir.
func buildCaddy(root, dir string) (string, error) { return caddyproc.Build(root, dir) }

// caddyInstance is one running Caddy (see package caddyproc) with a name
// for the report and its output in a log file.
type caddyInstance struct {
	*caddyproc.Instance
	name    string
	logPath string
}

func newInstance(bin, root, name string) (*caddyInstance, error) {
	inst, err := caddyproc.New(bin, filepath.Join(root, name))
	if err != nil {
		return nil, err
	}
	// Every child is tracked, so Ctrl-C or a failure leaves none behind.
	inst.Starter = cleanup.start
	return &caddyInstance{Instance: inst, name: name, logPath: filepath.Join(inst.Dir, "caddy.log")}, nil
}

func (c *caddyInstance) dbPath() string { return filepath.Join(c.Dir, "mfagate.db") }

// globalBlock is shared by every configuration; mfa is the optional `mfa`
// app block.
func (c *caddyInstance) globalBlock(mfa string) string {
	return fmt.Sprintf("{\n\tadmin 127.0.0.1:%d\n\tpersist_config off\n%s}\n", c.AdminPort, mfa)
}

// mfaBlock is the `mfa` app with bcrypt cost 10 and storage in the
// instance's temp dir; lockout is an optional lockout block.
func (c *caddyInstance) mfaBlock(lockout string) string {
	return fmt.Sprintf("\tmfa {\n\t\tstorage sqlite %s\n\t\tissuer \"mfagate bench\"\n\t\tbcrypt_cost 10\n%s\t}\n", c.dbPath(), lockout)
}

// site renders the measured site block around handlers.
func (c *caddyInstance) site(handlers string) string {
	return fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n%s}\n", c.HTTPPort, handlers)
}

func (c *caddyInstance) url(path string) string { return c.URL(path) }

// start writes the Caddyfile and runs `caddy run` until the site answers.
func (c *caddyInstance) start(caddyfile string) error {
	if err := c.WriteCaddyfile(caddyfile); err != nil {
		return err
	}
	logf, err := os.Create(c.logPath)
	if err != nil {
		return err
	}
	if err := c.Launch(logf, "run", "--config", "Caddyfile"); err != nil {
		logf.Close()
		return err
	}
	done := c.Done()
	go func() { <-done; logf.Close() }()
	if err := c.WaitReady("/", 30*time.Second); err != nil {
		return fmt.Errorf("caddy %s: %w:\n%s", c.name, err, c.logTail())
	}
	return nil
}

func (c *caddyInstance) pid() int { return c.Cmd().Process.Pid }

func (c *caddyInstance) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop sends SIGTERM and waits (SIGKILL after 10 s).
func (c *caddyInstance) stop() {
	c.Stop(10 * time.Second)
	if cmd := c.Cmd(); cmd != nil {
		cleanup.forget(cmd)
	}
}

// addUser creates a user through the real CLI.
func (c *caddyInstance) addUser(name, password string, extra ...string) error {
	return c.AddUser(name, password, extra...)
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
