package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// testUpgradePasswordHash: an imported hash is replaced by a new hash of
// the same password only while it is still the stored one; sessions and
// app passwords stay, and no other user is touched.
func testUpgradePasswordHash(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("alice")
	u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"
	noErr(t, "CreateUser", s.CreateUser(ctx, u))
	other := mustCreateUser(t, s, "bob")
	mustCreateSession(t, s, newSession(80, u.ID, base()))
	mustCreateSession(t, s, newSession(81, u.ID, base()))
	noErr(t, "CreateAppPassword", createAppPassword(ctx, s, newAppPassword(u.ID, 80), model.MaxAppPasswords))

	noErr(t, "UpgradePasswordHash", upgradePasswordHash(ctx, s, u.ID, u.PasswordHash, "$2a$12$upgraded"))
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.PasswordHash != "$2a$12$upgraded" || got.UpdatedAt.Before(u.UpdatedAt) {
		t.Errorf("after the upgrade: hash %q, updated %v", got.PasswordHash, got.UpdatedAt)
	}
	if left := sessionsLeft(t, s, 80, 81); len(left) != 2 {
		t.Errorf("sessions left %v, want both", left)
	}
	if aps, _ := s.AppPasswords(ctx, u.ID); len(aps) != 1 {
		t.Errorf("app passwords after the upgrade: %d, want 1", len(aps))
	}
	if b, _ := s.UserByID(ctx, other.ID); b.PasswordHash != other.PasswordHash {
		t.Errorf("bob's hash changed to %q", b.PasswordHash)
	}

	// The guard: from a hash no longer stored (another node upgraded, or
	// the password was changed meanwhile), nothing changes.
	err = upgradePasswordHash(ctx, s, u.ID, u.PasswordHash, "$2a$12$second")
	wantErr(t, "UpgradePasswordHash(stale)", err, model.ErrConflict)
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != "$2a$12$upgraded" {
		t.Errorf("a stale upgrade applied: %q", got.PasswordHash)
	}
	err = upgradePasswordHash(ctx, s, u.ID+1000, "x", "y")
	wantErr(t, "UpgradePasswordHash(unknown user)", err, model.ErrNotFound)

	// A temporary password's expiry is left as it is.
	exp := base().Add(24 * 3600e9)
	_, err = setTemporaryPassword(s, ctx, other.ID, "$2a$10$temporary", exp)
	noErr(t, "SetTemporaryPassword", err)
	noErr(t, "UpgradePasswordHash(temporary)", upgradePasswordHash(ctx, s, other.ID, "$2a$10$temporary", "$2a$12$temporary"))
	if b, _ := s.UserByID(ctx, other.ID); !b.PasswordExpiresAt.Equal(ms(exp)) {
		t.Errorf("expiry after an upgrade: %v, want %v", b.PasswordExpiresAt, ms(exp))
	}
}

// testUpgradePasswordHashConcurrent: of upgrades from the same hash (the
// user signing in on several nodes at once), exactly one applies.
func testUpgradePasswordHashConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n = 8
	var errs [n]error
	parallel(n, func(i int) {
		errs[i] = upgradePasswordHash(ctx, s, u.ID, u.PasswordHash, fmt.Sprintf("$2a$12$upgraded-%d", i))
	})
	wins, winner := 0, -1
	for i, err := range errs {
		switch {
		case err == nil:
			wins, winner = wins+1, i
		case !errors.Is(err, model.ErrConflict):
			t.Errorf("upgrade #%d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent upgrades from the same hash applied, want 1", wins)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != fmt.Sprintf("$2a$12$upgraded-%d", winner) {
		t.Errorf("hash = %q, want the winner's", got.PasswordHash)
	}
}

// upgradePasswordHash runs Tx.UpgradePasswordHash in a transaction of its
// own.
func upgradePasswordHash(ctx context.Context, s store.Store, userID int64, oldHash, newHash string) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.UpgradePasswordHash(ctx, userID, oldHash, newHash)
	})
}
