package caddymodule

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The first start logs the bootstrapped admin's username and password and
// sends the admin to Security info → Change password, not to the CLI.
func TestFirstStartLogPointsToSecurityInfo(t *testing.T) {
	a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "mfagate.db")), BcryptCost: 10}
	if err := provision(t, a); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	a.logger = zap.New(core)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Cleanup(); err != nil {
			t.Error(err)
		}
	})
	entries := logs.FilterMessageSnippet("created the first admin user").All()
	if len(entries) != 1 {
		t.Fatalf("%d first-admin log entries, want 1: %v", len(entries), logs.All())
	}
	e := entries[0]
	if !strings.Contains(e.Message, "Security info → Change password") || strings.Contains(e.Message, "caddy mfa user passwd") {
		t.Errorf("first-start message %q does not point to Security info → Change password", e.Message)
	}
	fields := e.ContextMap()
	if fields["username"] != "admin" {
		t.Errorf("username field %v, want admin", fields["username"])
	}
	if pw, _ := fields["password"].(string); len(pw) < 12 {
		t.Errorf("password field %q is missing or short", pw)
	}
}
