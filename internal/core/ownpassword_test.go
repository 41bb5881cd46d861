package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

const (
	alicePassword = "orchid lantern 42 quibble"
	aliceNew      = "saffron mosaic drift 7 fennel"
)

// passwordFixture is a core on a real SQLite store with alice, three of
// her sessions (the first is "this browser") and two app passwords.
type passwordFixture struct {
	c        *Core
	st       store.Store
	user     *model.User
	sessions [][]byte
	mu       sync.Mutex
	events   []Event
}

func newPasswordFixture(t *testing.T) *passwordFixture {
	t.Helper()
	ctx := context.Background()
	st := teststore.Open(t)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(st, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Issuer: "Example Corp",
		Lockout: bruteforce.Config{AccountLimit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	f := &passwordFixture{c: c, st: st}
	c.Events.Subscribe(func(ev Event) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.events = append(f.events, ev)
	})
	if _, err := c.Accounts.Add(ctx, NewUser{Username: "alice", Password: alicePassword}); err != nil {
		t.Fatal(err)
	}
	if f.user, err = st.UserByName(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		h := []byte(fmt.Sprintf("session-%d-of-alice-0123456789abcdef", i))
		if err := c.Sessions.Start(ctx, &model.Session{IDHash: h, UserID: f.user.ID, Stage: model.StageComplete}); err != nil {
			t.Fatal(err)
		}
		f.sessions = append(f.sessions, h)
	}
	for i := range 2 {
		ap := &model.AppPassword{UserID: f.user.ID, Name: fmt.Sprint("device ", i), Hash: "x", LookupTag: []byte(fmt.Sprintf("tag-%d-of-alice-0123456789abcdef", i))}
		if err := teststore.AddAppPassword(ctx, st, ap); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *passwordFixture) fresh(t *testing.T) *model.User {
	t.Helper()
	u, err := f.st.UserByID(context.Background(), f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// live says which of alice's sessions remain.
func (f *passwordFixture) live(t *testing.T) []int {
	t.Helper()
	var out []int
	for i, h := range f.sessions {
		rec, _, err := f.c.Sessions.Find(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil {
			out = append(out, i)
		}
	}
	return out
}

func (f *passwordFixture) change(t *testing.T, current, newPW string, dropAppPasswords bool) error {
	t.Helper()
	return f.c.Accounts.ChangeOwnPassword(context.Background(), f.fresh(t), current, newPW, f.sessions[0], dropAppPasswords, "192.0.2.7")
}

func (f *passwordFixture) audited(t *testing.T, event string) []model.AuditEvent {
	t.Helper()
	all, err := f.st.AuditEvents(context.Background(), f.user.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.AuditEvent
	for _, e := range all {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

func (f *passwordFixture) userEvents() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ev := range f.events {
		if ev.Kind == EventUser && ev.UserID == f.user.ID {
			n++
		}
	}
	return n
}

// unchanged fails unless alice still has her password, sessions and app
// passwords.
func (f *passwordFixture) unchanged(t *testing.T) {
	t.Helper()
	if !f.c.Accounts.hasher.Verify(f.fresh(t).PasswordHash, alicePassword) {
		t.Error("password changed")
	}
	if got := f.live(t); len(got) != 3 {
		t.Errorf("sessions left %v", got)
	}
	if aps, _ := f.st.AppPasswords(context.Background(), f.user.ID); len(aps) != 2 {
		t.Errorf("app passwords left: %d", len(aps))
	}
}

// A wrong current password is refused and counted against the account
// like a wrong code; at the limit even the right one is refused.
func TestChangeOwnPasswordWrongCurrentCounts(t *testing.T) {
	f := newPasswordFixture(t)
	ctx := context.Background()
	if err := f.change(t, "not my password", aliceNew, true); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong current: %v, want ErrWrongPassword", err)
	}
	fails, err := f.st.FailuresFor(ctx, bruteforce.AccountKey("alice"))
	if err != nil || fails.Count != 1 {
		t.Fatalf("account counter %+v, %v; want 1 failure", fails, err)
	}
	if ev := f.audited(t, audit.PasswordChangeFail); len(ev) != 1 || ev[0].RemoteIP != "192.0.2.7" {
		t.Errorf("failure audit: %+v", ev)
	}
	f.unchanged(t)
	for i := range 2 {
		// Distinct: a repeat of the same wrong password counts once.
		_ = f.change(t, fmt.Sprintf("still not it %d", i), aliceNew, false)
	}
	if err := f.change(t, alicePassword, aliceNew, false); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("right current password over the limit: %v, want ErrWrongPassword", err)
	}
	f.unchanged(t)
}

// A new password the policy refuses changes nothing and costs no attempt.
func TestChangeOwnPasswordRefusesWeak(t *testing.T) {
	f := newPasswordFixture(t)
	for _, weak := range []string{"password1", "alice2024", "examplecorp2024", "short"} {
		err := f.change(t, alicePassword, weak, true)
		var pe *password.PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("new password %q: %v, want a PolicyError", weak, err)
		}
	}
	if err := f.change(t, alicePassword, alicePassword, true); !errors.Is(err, ErrSamePassword) {
		t.Errorf("same password: %v, want ErrSamePassword", err)
	}
	if fails, _ := f.st.FailuresFor(context.Background(), bruteforce.AccountKey("alice")); fails.Count != 0 {
		t.Errorf("refused new passwords counted as failures: %+v", fails)
	}
	f.unchanged(t)
}

// Success replaces the password, ends the other sessions but keeps this
// one, keeps app passwords unless asked, is audited and announced.
func TestChangeOwnPassword(t *testing.T) {
	f := newPasswordFixture(t)
	ctx := context.Background()
	before := f.userEvents()
	if err := f.change(t, alicePassword, aliceNew, false); err != nil {
		t.Fatal(err)
	}
	u := f.fresh(t)
	if !f.c.Accounts.hasher.Verify(u.PasswordHash, aliceNew) || f.c.Accounts.hasher.Verify(u.PasswordHash, alicePassword) {
		t.Fatal("the new password does not replace the old one")
	}
	if got := f.live(t); fmt.Sprint(got) != "[0]" {
		t.Errorf("sessions left %v, want only this one [0]", got)
	}
	if aps, _ := f.st.AppPasswords(ctx, f.user.ID); len(aps) != 2 {
		t.Errorf("app passwords deleted without being asked: %d left", len(aps))
	}
	ev := f.audited(t, audit.PasswordChanged)
	if len(ev) != 1 || ev[0].Detail != "changed by the user; other sessions ended" || ev[0].RemoteIP != "192.0.2.7" {
		t.Errorf("audit: %+v", ev)
	}
	if len(f.audited(t, audit.AppPasswordsPurged)) != 0 {
		t.Error("app passwords purge audited without one")
	}
	if f.userEvents() <= before {
		t.Error("no user event published")
	}

	// Again, asking for the app passwords to go.
	if err := f.change(t, aliceNew, alicePassword+" again", true); err != nil {
		t.Fatal(err)
	}
	if aps, _ := f.st.AppPasswords(ctx, f.user.ID); len(aps) != 0 {
		t.Errorf("app passwords left: %d", len(aps))
	}
	if ev := f.audited(t, audit.AppPasswordsPurged); len(ev) != 1 || !strings.Contains(ev[0].Detail, "2 deleted") {
		t.Errorf("purge audit: %+v", ev)
	}
	if got := f.live(t); fmt.Sprint(got) != "[0]" {
		t.Errorf("sessions left %v, want [0]", got)
	}
}

// A change checked against a password that was reset meanwhile (by the
// admin) does not undo the reset.
func TestChangeOwnPasswordAfterReset(t *testing.T) {
	f := newPasswordFixture(t)
	stale := f.fresh(t)
	if _, err := f.c.Accounts.SetPassword(context.Background(), "alice", "admin chose this long one", PasswordReset{}); err != nil {
		t.Fatal(err)
	}
	err := f.c.Accounts.ChangeOwnPassword(context.Background(), stale, alicePassword, aliceNew, f.sessions[0], false, "192.0.2.7")
	if !errors.Is(err, ErrPasswordChanged) {
		t.Fatalf("change after a reset: %v, want ErrPasswordChanged", err)
	}
	if !f.c.Accounts.hasher.Verify(f.fresh(t).PasswordHash, "admin chose this long one") {
		t.Fatal("the admin's reset was overwritten")
	}
}

// "Sign out everywhere" ends the user's other sessions, keeps this one,
// is audited and announced.
func TestEndAllBut(t *testing.T) {
	f := newPasswordFixture(t)
	before := f.userEvents()
	n, err := f.c.Sessions.EndAllBut(context.Background(), f.user, f.sessions[1], "192.0.2.7")
	if err != nil || n != 2 {
		t.Fatalf("EndAllBut = %d, %v; want 2", n, err)
	}
	if got := f.live(t); fmt.Sprint(got) != "[1]" {
		t.Errorf("sessions left %v, want [1]", got)
	}
	if ev := f.audited(t, audit.SessionsEnded); len(ev) != 1 || !strings.Contains(ev[0].Detail, "2 ended") || ev[0].RemoteIP != "192.0.2.7" {
		t.Errorf("audit: %+v", ev)
	}
	if f.userEvents() <= before {
		t.Error("no user event published")
	}
}

// Chosen passwords (CLI add and reset) pass the policy, with the reason in
// the error; the first admin's random one is not judged.
func TestAddAndSetPasswordApplyPolicy(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	svc = svc.WithPasswordPolicy(password.DefaultPolicy(), "Example Corp")
	_, err := svc.Add(ctx, NewUser{Username: "alice", Password: "alice2024"})
	var pe *password.PolicyError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "username") {
		t.Fatalf("name-based password: %v", err)
	}
	if _, err := st.UserByName(ctx, "alice"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("refused user stored: %v", err)
	}
	if _, err := svc.Add(ctx, NewUser{Username: "alice", Password: alicePassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetPassword(ctx, "alice", "password1", PasswordReset{}); !errors.As(err, &pe) {
		t.Fatalf("weak reset: %v", err)
	}
	lax := svc.WithPasswordPolicy(password.Policy{MinScore: 0}, "Example Corp")
	if _, err := lax.SetPassword(ctx, "alice", "password1", PasswordReset{}); err != nil {
		t.Fatalf("min score 0: %v", err)
	}
	if _, err := lax.SetPassword(ctx, "alice", "short", PasswordReset{}); !errors.Is(err, password.ErrTooShort) {
		t.Fatalf("min score 0, short: %v", err)
	}
}
