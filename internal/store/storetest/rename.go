package storetest

import (
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

	noErr(t, "RenameTOTP", s.RenameTOTP(ctx, u.ID, a.ID, "Work phone"))
	wantErr(t, "RenameTOTP(other user)", s.RenameTOTP(ctx, v.ID, a.ID, "Mallory"), model.ErrNotFound)
	wantErr(t, "RenameTOTP(unknown)", s.RenameTOTP(ctx, u.ID, a.ID+1000, "x"), model.ErrNotFound)
	list, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if len(list) != 1 || list[0].Name != "Work phone" {
		t.Errorf("authenticators after rename = %+v, want one named %q", list, "Work phone")
	}

	noErr(t, "RenameDevice", s.RenameDevice(ctx, u.ID, d.ID, "Pixel"))
	wantErr(t, "RenameDevice(other user)", s.RenameDevice(ctx, v.ID, d.ID, "Mallory"), model.ErrNotFound)
	wantErr(t, "RenameDevice(unknown)", s.RenameDevice(ctx, u.ID, d.ID+1000, "x"), model.ErrNotFound)
	if got := mustDevice(t, s, d.ID); got.Name != "Pixel" || !got.Active {
		t.Errorf("device after rename = %+v, want active and named Pixel", got)
	}
	// Renaming to the same name again is no error.
	noErr(t, "RenameDevice(same name)", s.RenameDevice(ctx, u.ID, d.ID, "Pixel"))
}
