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
