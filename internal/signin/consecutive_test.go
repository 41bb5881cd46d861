package signin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/wiring"
)

// An account blocked at the cap on consecutive failed sign-ins has no
// password judged any more: the right one gets the one answer of every
// failure, as a wrong one and an unknown name do, and names no block
// (which would tell a guesser they found the password).
func TestCappedAccountJudgesNoMorePasswords(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	const limit = bruteforce.MinConsecutiveLimit
	svc := testfixture.ServicesWith(t, wiring.Options{Lockout: bruteforce.Config{ConsecutiveLimit: limit, Now: clock}})
	if _, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password"}); err != nil {
		t.Fatal(err)
	}
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	for i := range limit {
		if body := postLogin(p, "alice", fmt.Sprintf("wrong %d", i), "192.0.2.9").Body.String(); !strings.Contains(body, msgBadLogin) {
			t.Fatalf("wrong password %d:\n%s", i, body)
		}
	}
	u, err := svc.Store.UserByName(ctx, "alice")
	if err != nil || u.BlockedReason != model.BlockedByFailedSignIns {
		t.Fatalf("after %d wrong passwords: blocked %q, %v", limit, u.BlockedReason, err)
	}
	mu.Lock()
	now = now.Add(bruteforce.DefaultLockout + time.Minute) // past the windowed lockout
	mu.Unlock()
	for _, c := range []struct{ user, pw string }{{"alice", "another wrong one"}, {"nobody", "right password"}} {
		body := postLogin(p, c.user, c.pw, "192.0.2.9").Body.String()
		if !strings.Contains(body, msgBadLogin) || strings.Contains(body, "blocked") {
			t.Errorf("%s with a wrong password: the block shows, or not the usual answer:\n%s", c.user, body)
		}
	}
	// Not even the right password is judged: the same answer, no block
	// named, no session.
	w := postLogin(p, "alice", "right password", "192.0.2.9")
	if body := w.Body.String(); !strings.Contains(body, msgBadLogin) || strings.Contains(body, "blocked") || w.Header().Get("Location") != "" {
		t.Errorf("right password of the blocked account: %d %q\n%s", w.Code, w.Header().Get("Location"), body)
	}
}
