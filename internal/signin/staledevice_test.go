package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/mfagate/mfagate/internal/basicauth"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/wiring"
)

// deviceFixture is a browser sign-in and basic auth on one core, with
// alice Enforced (so basic auth takes her app passwords only) and an app
// password created and then deleted, as a forgotten device still has it.
type deviceFixture struct {
	p       *Portal
	svc     *wiring.Services
	user    *model.User
	deleted string // the deleted app password
}

func newDeviceFixture(t *testing.T) *deviceFixture {
	t.Helper()
	ctx := context.Background()
	svc := testfixture.Services(t)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.SetMFAState(ctx, u.ID, model.MFAEnforced); err != nil {
		t.Fatal(err)
	}
	u.MFAState = model.MFAEnforced
	pw, err := svc.Core.AppPasswords.Create(ctx, u, "old phone", "192.0.2.50")
	if err != nil {
		t.Fatal(err)
	}
	aps, err := svc.Core.AppPasswords.List(ctx, u.ID)
	if err != nil || len(aps) != 1 {
		t.Fatalf("app passwords: %v %v", aps, err)
	}
	if err := svc.Core.AppPasswords.Delete(ctx, u, aps[0].ID, "192.0.2.50"); err != nil {
		t.Fatal(err)
	}
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	return &deviceFixture{p: p, svc: svc, user: u, deleted: pw}
}

// basic sends one basic-auth check and returns its refusal (nil: passed).
func (f *deviceFixture) basic(t *testing.T, site policy.Site, secret, ip string) *basicauth.ErrDenied {
	t.Helper()
	_, err := f.svc.Verifier.Verify(context.Background(), site, "alice", secret, ip)
	var d *basicauth.ErrDenied
	if err != nil && !errors.As(err, &d) {
		t.Fatal(err)
	}
	return d
}

func (f *deviceFixture) failures(t *testing.T, key string) int {
	t.Helper()
	c, err := f.svc.Store.FailuresFor(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return c.Count
}

// TestForgottenDeviceDoesNotLockItsOwnerOut: a phone still sending a
// deleted app password (rclone: 370 failures in one run) never locks the
// account: where basic auth takes app passwords only, its failures count
// against the client address and the basic-auth-only counter, and the
// same wrong secret again counts once. The user's browser sign-in from the
// same address (one home network) then still works, and the log says why
// the device was refused.
func TestForgottenDeviceDoesNotLockItsOwnerOut(t *testing.T) {
	f := newDeviceFixture(t)
	for _, site := range []policy.Site{{}, {RequireMFA: true}, {RefuseAccountPassword: true}} {
		for i := range 370 {
			d := f.basic(t, site, f.deleted, "192.0.2.50")
			if d == nil {
				t.Fatal("a deleted app password passed")
			}
			if i == 0 && d.Detail != basicauth.DetailAppPasswordUnknown {
				t.Fatalf("refusal detail %q, want %q", d.Detail, basicauth.DetailAppPasswordUnknown)
			}
		}
	}
	if n := f.failures(t, bruteforce.AccountKey("alice")); n != 0 {
		t.Fatalf("the account's counter holds %d failures of basic auth that takes app passwords only", n)
	}
	// Three sites, three ways of judging: each counted once.
	if n := f.failures(t, bruteforce.BasicAuthOnlyKey("alice")); n != 3 {
		t.Fatalf("basic-auth-only counter = %d after one secret repeated on 3 sites, want 3", n)
	}
	if n := f.failures(t, "ip:192.0.2.50"); n != 3 {
		t.Fatalf("the device's address counter = %d, want 3", n)
	}
	if w := postLogin(f.p, "alice", "right password", "192.0.2.50"); w.Code != http.StatusSeeOther {
		t.Fatalf("the owner's browser sign-in after 1,110 failures of a forgotten device: %d", w.Code)
	}
}

// TestBasicAuthOnlyCounterRefusesBasicAuthAlone: distinct wrong secrets
// where basic auth takes app passwords only lock basic auth for the
// account at the limit (a right app password is then refused too, with
// 401 as any refusal), but never the browser sign-in.
func TestBasicAuthOnlyCounterRefusesBasicAuthAlone(t *testing.T) {
	f := newDeviceFixture(t)
	ctx := context.Background()
	right, err := f.svc.Core.AppPasswords.Create(ctx, f.user, "laptop", "192.0.2.60")
	if err != nil {
		t.Fatal(err)
	}
	for i := range bruteforce.DefaultAccountLimit {
		if d := f.basic(t, policy.Site{}, fmt.Sprintf("wrongguess%06d", i), fmt.Sprintf("198.51.100.%d", i)); d == nil || d.Detail != basicauth.DetailAppPasswordUnknown {
			t.Fatalf("wrong guess %d: %+v", i, d)
		}
	}
	if d := f.basic(t, policy.Site{}, right, "203.0.113.7"); d == nil || d.Detail != "account locked" {
		t.Fatalf("right app password with basic auth locked for the account: %+v, want refused as locked", d)
	}
	if n := f.failures(t, bruteforce.AccountKey("alice")); n != 0 {
		t.Fatalf("the account's counter holds %d failures", n)
	}
	if w := postLogin(f.p, "alice", "right password", "203.0.113.7"); w.Code != http.StatusSeeOther {
		t.Fatalf("browser sign-in while basic auth is locked: %d", w.Code)
	}
}

// TestRepeatedWrongPasswordCountsOnce: the same wrong password sent 50
// times is one failure (it is recognised by its keyed hash and not even
// judged again); distinct wrong passwords still lock at the limit, with
// repeats between them changing nothing.
func TestRepeatedWrongPasswordCountsOnce(t *testing.T) {
	p, st := newPortal(t)
	for range 50 {
		postLogin(p, "alice", "summer2024", "192.0.2.1")
	}
	for _, k := range []string{bruteforce.AccountKey("alice"), "ip:192.0.2.1"} {
		if c, err := st.FailuresFor(t.Context(), k); err != nil || c.Count != 1 {
			t.Fatalf("%s after one wrong password sent 50 times = %+v, %v; want 1", k, c, err)
		}
	}
	if w := postLogin(p, "alice", "right password", "192.0.2.1"); w.Code != http.StatusSeeOther {
		t.Fatalf("right password after 50 repeats of one wrong one: %d", w.Code)
	}

	// Distinct wrong passwords: the limit holds, repeats or not (the one
	// above stays counted: a success gives back only its own slot).
	for i := range bruteforce.DefaultAccountLimit - 2 {
		for range 3 {
			postLogin(p, "alice", fmt.Sprintf("guess %d", i), "198.51.100.7")
		}
	}
	if w := postLogin(p, "alice", "right password", "198.51.100.8"); w.Code != http.StatusSeeOther {
		t.Fatalf("right password after %d distinct wrong ones: %d", bruteforce.DefaultAccountLimit-1, w.Code)
	}
	postLogin(p, "alice", "one more guess", "198.51.100.7")
	if w := postLogin(p, "alice", "right password", "198.51.100.8"); w.Code != http.StatusOK {
		t.Fatalf("right password after %d distinct wrong ones: %d, want refused", bruteforce.DefaultAccountLimit, w.Code)
	}
}

// TestRepeatedWrongCodeCountsOnce: the same wrong code sent again in the
// same time step is not checked again nor counted.
func TestRepeatedWrongCodeCountsOnce(t *testing.T) {
	p, st := newPortal(t)
	secret, cookie := enrolledAlice(t, p, st)
	code := wrongCodes(t, secret, 1)[0]
	for range 30 {
		postCode(p, cookie, code, "192.0.2.1")
	}
	// A step may end during the loop: then the code is a new guess once.
	if c, err := st.FailuresFor(t.Context(), bruteforce.AccountKey("alice")); err != nil || c.Count > 2 {
		t.Fatalf("account counter after one wrong code sent 30 times = %+v, %v; want 1 (2 across a step)", c, err)
	}
	if n := countEvents(t, st, "signin.code.fail", core.DetailRepeat); n < 28 {
		t.Fatalf("%d repeats recognised of 29 or 28", n)
	}
}
