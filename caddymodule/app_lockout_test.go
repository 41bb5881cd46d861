package caddymodule

import (
	"path/filepath"
	"strings"
	"testing"
)

// lockout consecutive_limit takes 10 to 100 (default 100: NIST SP
// 800-63B-4's cap, which cannot be lifted or turned off); anything else is
// refused before the store opens, with an error naming the option and
// its range. The value reaches the limiter.
func TestConsecutiveLimitChecked(t *testing.T) {
	for _, bad := range []int{-1, 1, 9, 101, 1000} {
		db := filepath.Join(t.TempDir(), "mfagate.db")
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", db), BcryptCost: 10, Lockout: &LockoutConfig{ConsecutiveLimit: bad}}
		err := provision(t, a)
		if err == nil || !strings.Contains(err.Error(), "lockout consecutive_limit must be between 10 and 100") ||
			!strings.Contains(err.Error(), "cannot be turned off") {
			t.Errorf("consecutive_limit %d: %v", bad, err)
		}
		if exists(db) {
			t.Errorf("consecutive_limit %d: the store was opened", bad)
		}
	}
	for set, want := range map[int]int{0: 100, 10: 10, 50: 50, 100: 100} {
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "ok.db")), BcryptCost: 10,
			Lockout: &LockoutConfig{ConsecutiveLimit: set}}
		if err := provision(t, a); err != nil {
			t.Fatalf("consecutive_limit %d refused: %v", set, err)
		}
		if got := a.services.Core.Attempts.Limiter.ConsecutiveLimit(); a.Lockout.ConsecutiveLimit != want || got != want {
			t.Errorf("consecutive_limit %d: option %d, wired %d; want %d", set, a.Lockout.ConsecutiveLimit, got, want)
		}
	}
	// Without a lockout block at all: the default.
	a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "none.db")), BcryptCost: 10}
	if err := provision(t, a); err != nil || a.services.Core.Attempts.Limiter.ConsecutiveLimit() != 100 {
		t.Errorf("no lockout block: %v, limit %d", err, a.services.Core.Attempts.Limiter.ConsecutiveLimit())
	}
}

// The Caddyfile's `lockout { consecutive_limit N }` lands in the JSON; a
// missing, extra, zero or non-numeric argument is refused while adapting.
func TestConsecutiveLimitCaddyfile(t *testing.T) {
	out, err := adapt(t, "{\n\tmfa {\n\t\tlockout {\n\t\t\tconsecutive_limit 50\n\t\t}\n\t}\n}\n")
	if err != nil || !strings.Contains(out, `"consecutive_limit":50`) {
		t.Fatalf("consecutive_limit 50: %v\n%s", err, out)
	}
	for _, bad := range []string{"consecutive_limit", "consecutive_limit fifty", "consecutive_limit 50 60", "consecutive_limit 0",
		"consecutive_limit -5"} {
		if out, err := adapt(t, "{\n\tmfa {\n\t\tlockout {\n\t\t\t"+bad+"\n\t\t}\n\t}\n}\n"); err == nil {
			t.Errorf("%q adapted:\n%s", bad, out)
		}
	}
}
