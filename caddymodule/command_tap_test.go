package caddymodule

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/factor/accesspass"
)

// `caddy mfa user tap` prints a Temporary Access Pass once with its
// expiry and stores only its hash (one-time with --once, the lifetime
// given); a multi-use pass longer than 8 hours is refused with the
// reason; a second pass replaces the first.
func TestCLITapIssuesAPass(t *testing.T) {
	st, config := cliStore(t, "alice")
	ctx := context.Background()
	alice, err := st.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI(t, "", "user", "tap", "alice", "--lifetime", "2h", "--once", "--config", config)
	if err != nil {
		t.Fatalf("tap: %v\n%s", err, stdout)
	}
	m := regexp.MustCompile(`Temporary Access Pass of alice \(one-time, shown once\): ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})\nexpires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 2 hours\)\n`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("tap printed:\n%s", stdout)
	}
	p, err := st.AccessPass(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Once || time.Until(p.ExpiresAt) > 2*time.Hour || time.Until(p.ExpiresAt) < 2*time.Hour-time.Minute ||
		!strings.HasPrefix(p.IssuedBy, "cli") || strings.Contains(p.Hash, m[1]) {
		t.Errorf("stored pass %+v", p)
	}
	if bcrypt.CompareHashAndPassword([]byte(p.Hash), []byte(accesspass.Normalize(m[1]))) != nil {
		t.Error("the stored hash is not the printed pass's")
	}
	stdout, _, err = runCLI(t, "", "user", "tap", "alice", "--lifetime", "9h", "--config", config)
	if err == nil || !strings.Contains(err.Error(), "at most 8 hours") {
		t.Fatalf("a 9h multi-use pass: %v\n%s", err, stdout)
	}
	if again, err := st.AccessPass(ctx, alice.ID); err != nil || again.ID != p.ID {
		t.Fatalf("a refused issue changed the pass: %+v %v", again, err)
	}
	stdout, _, err = runCLI(t, "", "user", "tap", "alice", "--config", config)
	if err != nil || !strings.Contains(stdout, "(multi-use, shown once)") || !strings.Contains(stdout, "(in 1 hour)") {
		t.Fatalf("default tap: %v\n%s", err, stdout)
	}
	if again, err := st.AccessPass(ctx, alice.ID); err != nil || again.ID == p.ID || again.Once {
		t.Fatalf("the second pass did not replace the first: %+v %v", again, err)
	}
	if _, _, err := runCLI(t, "", "user", "tap", "nobody", "--config", config); err == nil {
		t.Error("a pass for an unknown user")
	}
}
