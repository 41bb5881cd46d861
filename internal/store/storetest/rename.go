package storetest

import (
	"context"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// testRenameMethods: a user renames their own authenticator and phone;
// another user's, or an unknown one, is model.ErrNotFound and unchanged.
func testRenameMethods(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	a := mustAddTOTP(t, s, u.ID)
	d := mustPairDevice(t, s, u.ID, 1)

	noErr(t, "RenameTOTP", renameTOTP(ctx, s, u.ID, a.ID, "Work phone"))
	wantErr(t, "RenameTOTP(other user)", renameTOTP(ctx, s, v.ID, a.ID, "Mallory"), model.ErrNotFound)
	wantErr(t, "RenameTOTP(unknown)", renameTOTP(ctx, s, u.ID, a.ID+1000, "x"), model.ErrNotFound)
	list, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if len(list) != 1 || list[0].Name != "Work phone" {
		t.Errorf("authenticators after rename = %+v, want one named %q", list, "Work phone")
	}

	noErr(t, "RenameDevice", renameDevice(ctx, s, u.ID, d.ID, "Pixel"))
	wantErr(t, "RenameDevice(other user)", renameDevice(ctx, s, v.ID, d.ID, "Mallory"), model.ErrNotFound)
	wantErr(t, "RenameDevice(unknown)", renameDevice(ctx, s, u.ID, d.ID+1000, "x"), model.ErrNotFound)
	if got := mustDevice(t, s, d.ID); got.Name != "Pixel" || !got.Active {
		t.Errorf("device after rename = %+v, want active and named Pixel", got)
	}
	// Renaming to the same name again is no error.
	noErr(t, "RenameDevice(same name)", renameDevice(ctx, s, u.ID, d.ID, "Pixel"))
}

// renameTOTP runs Tx.RenameTOTP in a transaction of its own.
func renameTOTP(ctx context.Context, s store.Store, userID, id int64, name string) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.RenameTOTP(ctx, userID, id, name) })
}

// renameDevice runs Tx.RenameDevice in a transaction of its own.
func renameDevice(ctx context.Context, s store.Store, userID, id int64, name string) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.RenameDevice(ctx, userID, id, name) })
}
