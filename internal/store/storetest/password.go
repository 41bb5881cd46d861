package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// sessionsLeft says which of the sessions hash(ids...) still exist.
func sessionsLeft(t *testing.T, s store.Store, ids ...byte) []byte {
	t.Helper()
	var left []byte
	for _, id := range ids {
		_, err := s.SessionByHash(t.Context(), hash(id))
		switch {
		case err == nil:
			left = append(left, id)
		case !errors.Is(err, model.ErrNotFound):
			t.Fatalf("SessionByHash(%d): %v", id, err)
		}
	}
	return left
}

// changePassword is the user's own change as the core makes it, in one
// transaction: under the user's lock, when the stored hash is still
// currentHash (model.ErrConflict otherwise, and nothing changes), the
// hash becomes newHash (permanent), the user's sessions but keepSession
// end and, with dropAppPasswords, their app passwords go (how many is
// returned). model.ErrNotFound for unknown IDs.
func changePassword(ctx context.Context, s store.Store, userID int64, currentHash, newHash string, keepSession []byte, dropAppPasswords bool) (n int64, err error) {
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		u, err := tx.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		if u.PasswordHash != currentHash {
			return model.ErrConflict
		}
		if err := tx.SetPassword(ctx, userID, newHash, time.Time{}); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, userID, keepSession); err != nil {
			return err
		}
		if dropAppPasswords {
			n, err = tx.DeleteAppPasswords(ctx, userID)
		}
		return err
	})
	return n, err
}

// testChangePassword: the user's own change replaces the hash, ends every
// other session of theirs (the one named stays), deletes their app
// passwords only when asked, and touches no other user.
func testChangePassword(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	for i, id := range []int64{u.ID, u.ID, u.ID, other.ID} {
		mustCreateSession(t, s, newSession(byte(50+i), id, base()))
		noErr(t, "CreateAppPassword", createAppPassword(ctx, s, newAppPassword(id, 50+i), model.MaxAppPasswords))
	}
	n, err := changePassword(ctx, s, u.ID, u.PasswordHash, "$2a$10$changed", hash(50), false)
	noErr(t, "ChangePassword(keep app passwords)", err)
	if got := sessionsLeft(t, s, 50, 51, 52, 53); fmt.Sprint(got) != "[50 53]" {
		t.Errorf("sessions left %v, want [50 53] (the kept one and bob's)", got)
	}
	if aps, _ := s.AppPasswords(ctx, u.ID); n != 0 || len(aps) != 3 {
		t.Errorf("keeping app passwords: %d deleted, %d left; want 0 and 3", n, len(aps))
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != "$2a$10$changed" {
		t.Errorf("hash = %q", got.PasswordHash)
	}

	mustCreateSession(t, s, newSession(54, u.ID, base()))
	n, err = changePassword(ctx, s, u.ID, "$2a$10$changed", "$2a$10$again", hash(54), true)
	noErr(t, "ChangePassword(drop app passwords)", err)
	if aps, _ := s.AppPasswords(ctx, u.ID); n != 3 || len(aps) != 0 {
		t.Errorf("dropping app passwords: %d deleted, %d left; want 3 and 0", n, len(aps))
	}
	if got := sessionsLeft(t, s, 50, 53, 54); fmt.Sprint(got) != "[53 54]" {
		t.Errorf("sessions left %v, want [53 54]", got)
	}
	if aps, _ := s.AppPasswords(ctx, other.ID); len(aps) != 1 {
		t.Errorf("bob's app passwords: %d, want 1", len(aps))
	}

	// nil keeps no session.
	_, err = changePassword(ctx, s, u.ID, "$2a$10$again", "$2a$10$third", nil, false)
	noErr(t, "ChangePassword(keep none)", err)
	if got := sessionsLeft(t, s, 53, 54); fmt.Sprint(got) != "[53]" {
		t.Errorf("sessions left %v, want [53]", got)
	}
}

// testChangePasswordStale: a change checked against a hash that is no
// longer stored (an admin reset, or another change, came first) fails
// with ErrConflict and changes nothing; an unknown user is ErrNotFound.
func testChangePasswordStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	mustCreateSession(t, s, newSession(60, u.ID, base()))
	mustCreateSession(t, s, newSession(61, u.ID, base()))
	noErr(t, "CreateAppPassword", createAppPassword(ctx, s, newAppPassword(u.ID, 60), model.MaxAppPasswords))
	_, err := changePassword(ctx, s, u.ID, "$2a$10$not-the-stored-one", "$2a$10$new", hash(60), true)
	wantErr(t, "ChangePassword(stale hash)", err, model.ErrConflict)
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != u.PasswordHash {
		t.Errorf("hash changed to %q", got.PasswordHash)
	}
	if got := sessionsLeft(t, s, 60, 61); len(got) != 2 {
		t.Errorf("sessions left %v after a refused change", got)
	}
	if aps, _ := s.AppPasswords(ctx, u.ID); len(aps) != 1 {
		t.Errorf("app passwords after a refused change: %d", len(aps))
	}
	_, err = changePassword(ctx, s, u.ID+1000, "x", "y", nil, true)
	wantErr(t, "ChangePassword(unknown user)", err, model.ErrNotFound)
}

// testChangePasswordConcurrent: of changes checked against the same
// stored hash, exactly one applies.
func testChangePasswordConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n = 8
	var errs [n]error
	parallel(n, func(i int) {
		_, errs[i] = changePassword(ctx, s, u.ID, u.PasswordHash, fmt.Sprintf("$2a$10$new-%d", i), nil, false)
	})
	wins, winner := 0, -1
	for i, err := range errs {
		switch {
		case err == nil:
			wins, winner = wins+1, i
		case !errors.Is(err, model.ErrConflict):
			t.Errorf("change #%d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent changes from the same hash applied, want 1", wins)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != fmt.Sprintf("$2a$10$new-%d", winner) {
		t.Errorf("hash = %q, want the winner's", got.PasswordHash)
	}
}

// testDeleteOtherSessions: "sign out everywhere" ends the user's sessions
// but the caller's, and no one else's.
func testDeleteOtherSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	for i := byte(70); i < 73; i++ {
		mustCreateSession(t, s, newSession(i, u.ID, base()))
	}
	mustCreateSession(t, s, newSession(79, v.ID, base()))
	n, err := deleteSessions(ctx, s, u.ID, hash(71))
	noErr(t, "DeleteOtherSessions", err)
	if n != 2 {
		t.Errorf("DeleteOtherSessions = %d, want 2", n)
	}
	if got := sessionsLeft(t, s, 70, 71, 72, 79); fmt.Sprint(got) != "[71 79]" {
		t.Errorf("sessions left %v, want [71 79]", got)
	}
	// Bob's session named as the one to keep protects nothing of alice's
	// and ends nothing of bob's.
	mustCreateSession(t, s, newSession(73, u.ID, base()))
	n, err = deleteSessions(ctx, s, u.ID, hash(79))
	noErr(t, "DeleteOtherSessions(another user's session kept)", err)
	if n != 2 {
		t.Errorf("DeleteOtherSessions = %d, want 2", n)
	}
	if got := sessionsLeft(t, s, 71, 73, 79); fmt.Sprint(got) != "[79]" {
		t.Errorf("sessions left %v, want [79]", got)
	}
	n, err = deleteSessions(ctx, s, u.ID, nil)
	noErr(t, "DeleteOtherSessions(none left)", err)
	if n != 0 {
		t.Errorf("DeleteOtherSessions(none left) = %d", n)
	}
}
