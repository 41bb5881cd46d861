package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// Only A-Z is folded; any other byte outside the ASCII set is refused, so a
// Unicode case mapping cannot make another spelling of an existing name.
func TestNormalizeUsername(t *testing.T) {
	ok := map[string]string{
		"alice":                 "alice",
		"ALICE":                 "alice",
		"Alice.B_c@d-e":         "alice.b_c@d-e",
		"  bob\t":               "bob",
		"0123456789":            "0123456789",
		strings.Repeat("a", 64): strings.Repeat("a", 64),
	}
	for in, want := range ok {
		got, err := NormalizeUsername(in)
		if err != nil || got != want {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	refused := []string{
		"al\u0130ce",                     // dotted capital I: strings.ToLower gives "alice"
		"al\u0131ce",                     // dotless small i: upper-cases to I
		"alice\u212a",                    // Kelvin sign: lower-cases to k
		"\uff41\uff4c\uff49\uff43\uff45", // fullwidth "alice"
		"\uff21LICE",                     // fullwidth A
		"ali\u017fe",                     // long s: upper-cases to S
		"alice\u200b",                    // zero-width space
		"alice\u00a0",                    // no-break space (not trimmed)
		"al ice",
		"alice,bob",
		"alice\x00",
		"alic\xe9",
		"",
		"   ",
		strings.Repeat("a", 65),
	}
	for _, in := range refused {
		if got, err := NormalizeUsername(in); !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want ErrInvalidUsername", in, got, err)
		}
	}
}

func TestNormalizeGroups(t *testing.T) {
	got, err := NormalizeGroups([]string{" staff ", "admins", "", "staff", "Ops team", "équipe"})
	if err != nil || strings.Join(got, "|") != "Ops team|admins|staff|équipe" {
		t.Fatalf("NormalizeGroups = %q, %v", got, err)
	}
	for _, g := range []string{"staff,admins", "staff\nadmins", "staff\x00", "staff\u202e", "sta\u200bff", "\ufeffstaff", "st\xffaff"} {
		_, err := NormalizeGroups([]string{"ok", g})
		if !errors.Is(err, ErrInvalidGroup) {
			t.Errorf("NormalizeGroups(%q): %v, want ErrInvalidGroup", g, err)
			continue
		}
		if want := fmt.Sprintf("group %q", g); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name the group (%s)", err, want)
		}
	}
}

func newService(t *testing.T) (*Accounts, store.Store) {
	t.Helper()
	st := teststore.Open(t)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return NewAccounts(st, h), st
}

func TestAddRefusesBadGroupAndStoresNothing(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	_, err := svc.Add(ctx, NewUser{Username: "alice", Password: "alice password", Groups: []string{"staff,admins"}})
	if !errors.Is(err, ErrInvalidGroup) {
		t.Fatalf("Add: %v, want ErrInvalidGroup", err)
	}
	if _, err := st.UserByName(ctx, "alice"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("user stored anyway: %v", err)
	}
}

// addWithAppPassword creates alice with one app password.
func addWithAppPassword(t *testing.T, svc *Accounts, st store.Store) *model.User {
	t.Helper()
	ctx := context.Background()
	u, err := svc.Add(ctx, NewUser{Username: "alice", Password: "alice password"})
	if err != nil {
		t.Fatal(err)
	}
	ap := &model.AppPassword{UserID: u.ID, Name: "mail", Hash: "x", LookupTag: []byte("tag-of-alice-0001")}
	if err := teststore.AddAppPassword(ctx, st, ap); err != nil {
		t.Fatal(err)
	}
	return u
}

// An admin's reset follows a suspected compromise: app passwords made by
// the intruder must stop working with the old password, and it is audited.
func TestSetPasswordDeletesAppPasswords(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	u := addWithAppPassword(t, svc, st)
	n, err := svc.SetPassword(ctx, "alice", "new alice password", PasswordReset{})
	if err != nil || n != 1 {
		t.Fatalf("SetPassword = %d, %v; want 1 deleted", n, err)
	}
	if aps, err := st.AppPasswords(ctx, u.ID); err != nil || len(aps) != 0 {
		t.Fatalf("app passwords after reset: %v, %v", aps, err)
	}
	events, err := st.AuditEvents(ctx, u.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !hasEvent(events, audit.AppPasswordsPurged, "password reset: 1 deleted") || !hasEvent(events, audit.PasswordChanged, "") {
		t.Fatalf("audit events %+v lack the reset and the deletion", events)
	}
}

func TestSetPasswordKeepAppPasswords(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	u := addWithAppPassword(t, svc, st)
	n, err := svc.SetPassword(ctx, "alice", "new alice password", PasswordReset{KeepAppPasswords: true})
	if err != nil || n != 0 {
		t.Fatalf("SetPassword = %d, %v", n, err)
	}
	if aps, err := st.AppPasswords(ctx, u.ID); err != nil || len(aps) != 1 {
		t.Fatalf("app passwords after reset with keep: %v, %v", aps, err)
	}
	events, _ := st.AuditEvents(ctx, u.ID, 10)
	if hasEvent(events, audit.AppPasswordsPurged, "") {
		t.Fatalf("deletion audited although kept: %+v", events)
	}
}

func hasEvent(events []model.AuditEvent, name, detail string) bool {
	for _, e := range events {
		if e.Event == name && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// TestRemoveClearsFailureCounter: a user removed while locked out and
// added again under the same name starts with a clean counter.
func TestRemoveClearsFailureCounter(t *testing.T) {
	s, st := newService(t)
	ctx := t.Context()
	if _, err := s.Add(ctx, NewUser{Username: "lena", Password: "lena rides a violet tractor"}); err != nil {
		t.Fatal(err)
	}
	key := bruteforce.AccountKey("lena")
	if _, _, err := st.ClaimFailure(ctx, key, time.Now(), time.Hour, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "lena"); err != nil {
		t.Fatal(err)
	}
	if f, err := st.FailuresFor(ctx, key); err != nil || f != (model.Failures{}) {
		t.Fatalf("counter after removal = %+v, %v; want none", f, err)
	}
}

// countingStore counts CreateFirstUser calls.
type countingStore struct {
	store.Store
	firstUserCalls int
}

func (c *countingStore) CreateFirstUser(ctx context.Context, u *model.User) (bool, error) {
	c.firstUserCalls++
	return c.Store.CreateFirstUser(ctx, u)
}

// Bootstrap looks for users before it hashes a password: on a store that
// has users (every start but the first) it neither hashes nor creates.
func TestBootstrapOnlyOnEmptyStore(t *testing.T) {
	_, st := newService(t)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	svc := NewAccounts(cs, h)
	ctx := context.Background()
	pw, err := svc.Bootstrap(ctx)
	if err != nil || pw == "" || cs.firstUserCalls != 1 {
		t.Fatalf("empty store: password %q, %v, %d CreateFirstUser calls", pw, err, cs.firstUserCalls)
	}
	pw, err = svc.Bootstrap(ctx)
	if err != nil || pw != "" || cs.firstUserCalls != 1 {
		t.Fatalf("store with a user: password %q, %v, %d CreateFirstUser calls; want none", pw, err, cs.firstUserCalls)
	}
}
