package core

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
)

// TestConfirmingAPhonePromotesEnabled: pairing a phone registers a
// method, so an Enabled user becomes Enforced in the confirmation's
// transaction (the rule promoteOnNewMethod, audited); other states stay,
// and a wrong code changes none.
func TestConfirmingAPhonePromotesEnabled(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t)
	for i, c := range []struct{ state, after model.MFAState }{
		{model.MFAEnabled, model.MFAEnforced},
		{model.MFADisabled, model.MFADisabled},
		{model.MFAEnforced, model.MFAEnforced},
	} {
		u := &model.User{Username: fmt.Sprintf("u%d", i), MFAState: c.state}
		if err := f.st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		sess := fmt.Appendf(nil, "pairing-session-%016d", i)
		token, err := f.c.Phones.StartPairing(ctx, u, sess)
		if err != nil {
			t.Fatal(err)
		}
		d := &model.Device{Name: "Phone", PublicKey: []byte("key")}
		if err := f.st.RegisterDevice(ctx, token.hash(), d, f.c.Phones.codeHash(token.hash(), "123456"), f.c.Phones.now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.Phones.Confirm(ctx, u, sess, "654321", "192.0.2.1"); err != ErrWrongPairCode {
			t.Fatalf("wrong code: %v", err)
		}
		if got, _ := f.st.UserByID(ctx, u.ID); got.MFAState != c.state {
			t.Errorf("%s user: a wrong code changed the state to %s", c.state, got.MFAState)
		}
		if _, err := f.c.Phones.Confirm(ctx, u, sess, "123456", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.UserByID(ctx, u.ID)
		if err != nil || got.MFAState != c.after {
			t.Errorf("%s user after pairing: %+v %v, want %s", c.state, got, err, c.after)
		}
		events, err := f.st.AuditEvents(ctx, u.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		promoted := false
		for _, e := range events {
			promoted = promoted || (e.Event == audit.MFAStateChanged && e.Detail == "enabled -> enforced (method registered)")
		}
		if promoted != (c.state == model.MFAEnabled) {
			t.Errorf("%s user: promotion audited %v: %+v", c.state, promoted, events)
		}
	}
}

// TestLastAdminCountsPasskeys: an admin whose one second factor is a
// passkey is a usable admin: removing the other admin's last method
// leaves one, and removing the passkey-only admin's passkey, when it is
// the last usable admin, is refused.
func TestLastAdminCountsPasskeys(t *testing.T) {
	passkeyOnly := model.Member{ID: 1, Methods: model.MethodCount{Passkeys: 1}}
	withCode := model.Member{ID: 2, Methods: model.MethodCount{Authenticators: 1}}
	noMethod := model.Member{ID: 2}
	if n := usableAdmins([]model.Member{passkeyOnly}); n != 1 {
		t.Errorf("usableAdmins(passkey only) = %d, want 1", n)
	}
	if err := keepAnAdmin([]model.Member{passkeyOnly, withCode}, []model.Member{passkeyOnly, noMethod}); err != nil {
		t.Errorf("a passkey-only admin is left: %v", err)
	}
	if err := keepAnAdmin([]model.Member{passkeyOnly, noMethod}, []model.Member{{ID: 1}, noMethod}); !errors.Is(err, model.ErrLastAdmin) {
		t.Errorf("removing the last admin's passkey: %v, want ErrLastAdmin", err)
	}
}
