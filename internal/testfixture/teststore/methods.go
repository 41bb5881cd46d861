package teststore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Methods gives the user, straight in the store, one authenticator app
// (sealed is its sealed secret), one active phone and, waiting on a
// pairing link for its confirmation code, one more phone that is no
// sign-in method yet. It returns the authenticator and the active phone.
func Methods(t testing.TB, st store.Store, userID int64, sealed []byte) (*model.TOTPAuthenticator, *model.Device) {
	t.Helper()
	ctx := context.Background()
	a := &model.TOTPAuthenticator{UserID: userID, Name: "Authenticator app", SealedSecret: sealed}
	if err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddTOTP(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	active := pair(t, st, userID, 0, true)
	pair(t, st, userID, 1, false)
	return a, active
}

// pair registers phone i of the user through a link of its own and, with
// confirm, enters its code.
func pair(t testing.TB, st store.Store, userID int64, i int, confirm bool) *model.Device {
	t.Helper()
	ctx := context.Background()
	token := fmt.Appendf(nil, "token-%012d-%013d", userID, i)
	sess := fmt.Appendf(nil, "session-%012d-%011d", userID, i)
	code := []byte("code-hash")
	if err := st.CreatePairing(ctx, &model.Pairing{TokenHash: token, UserID: userID, SessionHash: sess, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	d := &model.Device{Name: fmt.Sprintf("Phone %d", i), PublicKey: []byte("spki")}
	if err := st.RegisterDevice(ctx, token, d, code, time.Now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	if !confirm {
		return d
	}
	var got *model.Device
	err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.ConfirmPairing(ctx, userID, sess, code, time.Now(), 5)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Update runs fn in one transaction of st, failing the test on an error.
func Update(t testing.TB, st store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// AddTOTP stores an authenticator, straight in the store (no rule: an
// Enabled user stays Enabled).
func AddTOTP(t testing.TB, st store.Store, a *model.TOTPAuthenticator) {
	t.Helper()
	Update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.AddTOTP(ctx, a) })
}

// ConfirmPairing enters the code (its hash) of the phone waiting on the
// user's link made by session sess, straight in the store.
func ConfirmPairing(t testing.TB, st store.Store, userID int64, sess, code []byte) *model.Device {
	t.Helper()
	var d *model.Device
	Update(t, st, func(ctx context.Context, tx store.Tx) error {
		var err error
		d, err = tx.ConfirmPairing(ctx, userID, sess, code, time.Now(), 5)
		return err
	})
	return d
}

// Block blocks the user with reason and ends their sessions, as a block
// does, straight in the store.
func Block(t testing.TB, st store.Store, userID int64, reason string) {
	t.Helper()
	Update(t, st, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetBlocked(ctx, userID, time.Now(), reason); err != nil {
			return err
		}
		_, err := tx.DeleteSessions(ctx, userID, nil)
		return err
	})
}

// Register stores an authenticator with the effect registering one has
// (the core's rule): an Enabled user becomes Enforced.
func Register(t testing.TB, st store.Store, a *model.TOTPAuthenticator) {
	t.Helper()
	Update(t, st, func(ctx context.Context, tx store.Tx) error {
		u, err := tx.LockUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		if err := tx.AddTOTP(ctx, a); err != nil || u.MFAState != model.MFAEnabled {
			return err
		}
		return tx.SetMFAState(ctx, u.ID, model.MFAEnforced)
	})
}

// AddAppPassword stores a (Tx.AddAppPassword, no limit) in a transaction
// of its own, for tests that need app passwords to exist.
func AddAppPassword(ctx context.Context, st store.Store, a *model.AppPassword) error {
	return st.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddAppPassword(ctx, a) })
}

// DeleteAppPassword deletes app password id of the user
// (Tx.DeleteAppPassword) in a transaction of its own.
func DeleteAppPassword(ctx context.Context, st store.Store, userID, id int64) error {
	return st.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAppPassword(ctx, userID, id) })
}
