package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// errRefused is a rule's refusal inside Update: returned as is.
var errRefused = errors.New("refused by the rule")

// Update commits what fn wrote when it returns nil, and nothing when it
// returns an error, which comes back as is.
func testUpdateCommitRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetMFAState(ctx, u.ID, model.MFAEnforced); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &model.AuditEvent{UserID: u.ID, Username: u.Username, Event: "test.commit"})
	})
	noErr(t, "Update (commit)", err)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetMFAState(ctx, u.ID, model.MFADisabled); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &model.AuditEvent{UserID: u.ID, Username: u.Username, Event: "test.rollback"}); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Update (rolled back) = %v, want the callback's error", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.MFAState != model.MFAEnforced {
		t.Errorf("MFA state = %q, want %q (the rolled-back change must not stick)", got.MFAState, model.MFAEnforced)
	}
	events, err := s.AuditEvents(ctx, u.ID, 0)
	noErr(t, "AuditEvents", err)
	if len(events) != 1 || events[0].Event != "test.commit" {
		t.Errorf("audit = %+v, want the committed event only", events)
	}
}

// LockUser reads the row and says model.ErrNotFound for none; the row
// operations keep the store's sentinels inside a transaction.
func testUpdateLockUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice", "admins")
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		checkUser(t, got, u)
		return nil
	})
	noErr(t, "Update", err)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.LockUser(ctx, u.ID+1000)
		return err
	})
	wantErr(t, "LockUser (unknown)", err, model.ErrNotFound)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteTOTP(ctx, u.ID, 12345)
	})
	wantErr(t, "DeleteTOTP (unknown)", err, model.ErrNotFound)
}

// Check-then-act under LockUser holds across concurrent transactions:
// goroutines that each add an authenticator only while the user has fewer
// than max leave exactly max (a rule in Go, serialised by the lock).
func testUpdateLockUserConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n, limit = 8, 3
	var errs [n]error
	parallel(n, func(i int) {
		errs[i] = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.LockUser(ctx, u.ID); err != nil {
				return err
			}
			c, err := tx.Methods(ctx, u.ID)
			if err != nil {
				return err
			}
			if c.Total() >= limit {
				return errRefused
			}
			return tx.AddTOTP(ctx, &model.TOTPAuthenticator{UserID: u.ID, Name: fmt.Sprint("app ", i), SealedSecret: []byte{byte(i)}})
		})
	})
	added := 0
	for i, err := range errs {
		switch {
		case err == nil:
			added++
		case !errors.Is(err, errRefused):
			t.Errorf("Update #%d: %v", i, err)
		}
	}
	list, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if added != limit || len(list) != limit {
		t.Errorf("%d added, %d stored; want exactly %d", added, len(list), limit)
	}
}

// GroupMembers and Methods see the transaction's own writes; two
// concurrent "remove the other admin's last method" changes under
// LockAdmins leave one admin with a method (the last-admin rule, in Go).
func testUpdateGroupMembersConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreateUser(t, s, "alice", "admins")
	b := mustCreateUser(t, s, "bob", "admins")
	mustCreateUser(t, s, "carol", "staff")
	ids := map[int64]int64{}
	for _, u := range []*model.User{a, b} {
		auth := &model.TOTPAuthenticator{UserID: u.ID, Name: "app", SealedSecret: []byte{1}}
		noErr(t, "AddTOTP", addTOTP(s, ctx, auth))
		ids[u.ID] = auth.ID
	}
	removeLast := func(victim int64) error {
		return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.LockAdmins(ctx, "admins"); err != nil {
				return err
			}
			if err := tx.DeleteTOTP(ctx, victim, ids[victim]); err != nil {
				return err
			}
			members, err := tx.GroupMembers(ctx, "admins")
			if err != nil {
				return err
			}
			for _, m := range members {
				if m.BlockedAt.IsZero() && m.Methods.Total() > 0 {
					return nil
				}
			}
			return errRefused
		})
	}
	var errs [2]error
	parallel(2, func(i int) { errs[i] = removeLast([]int64{a.ID, b.ID}[i]) })
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errRefused):
			t.Errorf("Update #%d: %v", i, err)
		}
	}
	var left int
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		members, err := tx.GroupMembers(ctx, "admins")
		if len(members) != 2 {
			t.Errorf("GroupMembers = %+v, want alice and bob", members)
		}
		for _, m := range members {
			left += m.Methods.Total()
		}
		return err
	})
	noErr(t, "GroupMembers", err)
	if ok != 1 || left != 1 {
		t.Errorf("%d removals passed, %d methods left; want exactly 1 and 1", ok, left)
	}
}

// A claim, a release and the apply of a sign-in (step, session, audit,
// log) run in transactions as they do outside them.
func testUpdateSignInApply(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	old := newSession(1, u.ID, base())
	mustCreateSession(t, s, old)
	now := time.Now()
	var window time.Time
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		ok, f, err := tx.ClaimFailure(ctx, "k", now, time.Minute, 10, time.Minute)
		if err == nil && (!ok || f.Count != 1) {
			t.Errorf("ClaimFailure = %v, %+v; want a first claim", ok, f)
		}
		window = f.WindowStart
		return err
	})
	noErr(t, "Update (claim)", err)
	next := newSession(2, u.ID, base())
	next.Stage = model.StageComplete
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ReleaseFailure(ctx, "k", window, 10); err != nil {
			return err
		}
		if ok, err := tx.ClaimTOTPStep(ctx, u.ID, 100); err != nil || !ok {
			return fmt.Errorf("claim step: %v, %w", ok, err)
		}
		if err := tx.ReplaceSession(ctx, old.IDHash, next); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &model.AuditEvent{UserID: u.ID, Username: u.Username, Event: "signin.complete"}); err != nil {
			return err
		}
		return tx.AppendSignIn(ctx, &model.SignIn{UserID: u.ID, Username: u.Username, Result: model.SignInSuccess})
	})
	noErr(t, "Update (apply)", err)
	f, err := s.FailuresFor(ctx, "k")
	noErr(t, "FailuresFor", err)
	if f.Count != 0 {
		t.Errorf("counter after release = %+v, want none", f)
	}
	if ok, err := s.ClaimTOTPStep(ctx, u.ID, 100); err != nil || ok {
		t.Errorf("ClaimTOTPStep again = %v, %v; want refused", ok, err)
	}
	_, err = s.SessionByHash(ctx, old.IDHash)
	wantErr(t, "old session", err, model.ErrNotFound)
	got, err := s.SessionByHash(ctx, next.IDHash)
	noErr(t, "new session", err)
	if got.Stage != model.StageComplete {
		t.Errorf("stage = %q, want complete", got.Stage)
	}
	rows, err := s.SignIns(ctx, model.SignInFilter{})
	noErr(t, "SignIns", err)
	if len(rows) != 1 {
		t.Errorf("sign-in log = %+v, want one row", rows)
	}
	// A replaced session that is gone refuses the whole apply.
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AppendAudit(ctx, &model.AuditEvent{UserID: u.ID, Username: u.Username, Event: "must.not.stay"}); err != nil {
			return err
		}
		return tx.ReplaceSession(ctx, old.IDHash, newSession(3, u.ID, base()))
	})
	wantErr(t, "ReplaceSession (gone)", err, model.ErrNotFound)
	events, err := s.AuditEvents(ctx, u.ID, 0)
	noErr(t, "AuditEvents", err)
	for _, e := range events {
		if e.Event == "must.not.stay" {
			t.Errorf("audit row of a rolled-back apply was kept")
		}
	}
	// DeleteSessions keeps the one named.
	mustCreateSession(t, s, newSession(4, u.ID, base()))
	var n int64
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.DeleteSessions(ctx, u.ID, next.IDHash)
		return err
	})
	noErr(t, "DeleteSessions", err)
	if n != 1 {
		t.Errorf("DeleteSessions ended %d, want 1", n)
	}
	_, err = s.SessionByHash(ctx, next.IDHash)
	noErr(t, "kept session", err)
}

// The rows of account changes inside one transaction: each sees the
// transaction's own writes, touches only the user named, and says
// model.ErrNotFound for what the user does not have (the transaction
// stays usable after it).
func testUpdateAccountRows(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice", "staff")
	v := mustCreateUser(t, s, "bob")
	dv := mustPairDevice(t, s, v.ID, 1)
	mustAddTOTP(t, s, v.ID)
	mustCreateAppPassword(t, s, u.ID, 1)
	mustCreateAppPassword(t, s, v.ID, 2)
	err := inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		a := &model.TOTPAuthenticator{UserID: u.ID, Name: "app", SealedSecret: []byte("s")}
		if err := tx.AddTOTP(ctx, a); err != nil {
			return err
		}
		list, err := tx.TOTPAuthenticators(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].ID != a.ID {
			return fmt.Errorf("authenticators in the transaction: %+v, %v", list, err)
		}
		if err := tx.DeleteDevice(ctx, u.ID, dv.ID); !errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("deleting another user's phone: %v", err)
		}
		if err := tx.SetProfile(ctx, u.ID+v.ID+1000, "x", "", nil); !errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("profile of an unknown user: %v", err)
		}
		if err := tx.SetProfile(ctx, u.ID, "Alice", "a@example.org", []string{"ops", "staff", "ops"}); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, u.ID, "", time.Time{}); err == nil {
			return errors.New("an empty hash was set")
		}
		if n, err := tx.DeleteAppPasswords(ctx, u.ID); err != nil || n != 1 {
			return fmt.Errorf("app passwords deleted: %d, %v", n, err)
		}
		c, err := tx.Methods(ctx, u.ID)
		if err != nil || c.Authenticators != 1 || c.Phones != 0 {
			return fmt.Errorf("methods before the reset: %+v, %v", c, err)
		}
		if err := tx.DeleteMethods(ctx, u.ID); err != nil {
			return err
		}
		if c, err := tx.Methods(ctx, u.ID); err != nil || c.Total() != 0 {
			return fmt.Errorf("methods after the reset: %+v, %v", c, err)
		}
		return tx.DeleteUser(ctx, v.ID+u.ID+1000)
	})
	wantErr(t, "Update ending with an unknown user's delete", err, model.ErrNotFound)
	// Rolled back: alice as she was.
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.DisplayName == "Alice" || countAppPasswords(t, s, u.ID) != 1 || methods(t, s, u.ID) != 0 {
		t.Errorf("the rolled-back transaction left changes: %+v", got)
	}
	noErr(t, "Update", inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetProfile(ctx, u.ID, "Alice", "a@example.org", []string{"ops", "staff", "ops"})
	}))
	got, _ = s.UserByID(ctx, u.ID)
	if got.DisplayName != "Alice" || !slices.Equal(got.Groups, []string{"ops", "staff"}) {
		t.Errorf("profile: %+v", got)
	}
	// Bob keeps everything.
	if methods(t, s, v.ID) != 2 || countAppPasswords(t, s, v.ID) != 1 {
		t.Errorf("bob's rows changed: %d methods, %d app passwords", methods(t, s, v.ID), countAppPasswords(t, s, v.ID))
	}
}

// CreateUser inside a transaction: the user and its groups are stored
// with it, a rollback stores neither, a taken name is model.ErrConflict.
func testUpdateCreateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	bob := newUser("bob", "staff", "admins")
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, bob); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &model.AuditEvent{UserID: bob.ID, Username: bob.Username, Event: "user.created"})
	})
	noErr(t, "Update (create user)", err)
	got, err := s.UserByName(ctx, "bob")
	noErr(t, "UserByName", err)
	checkUser(t, got, bob)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, newUser("carol")); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Update (rolled back) = %v", err)
	}
	_, err = s.UserByName(ctx, "carol")
	wantErr(t, "rolled-back user", err, model.ErrNotFound)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUser(ctx, newUser("bob"))
	})
	wantErr(t, "CreateUser (taken)", err, model.ErrConflict)
}
