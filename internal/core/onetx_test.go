package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// Each change a user makes outside the sign-in steps is ONE store write:
// the change and its audit row commit together or not at all.

// oneWrite runs change on f's counting store and fails unless it was
// exactly one write transaction.
func (f *signInFixture) oneWrite(t *testing.T, what string, change func() error) {
	t.Helper()
	f.st.Reset()
	if err := change(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update"}) {
		t.Errorf("%s: writes %v, want one Update", what, got)
	}
}

// audited returns alice's audit rows of event.
func (f *signInFixture) audited(t *testing.T, event string) []model.AuditEvent {
	t.Helper()
	rows, err := f.st.AuditEvents(context.Background(), f.alice.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.AuditEvent
	for _, r := range rows {
		if r.Event == event {
			out = append(out, r)
		}
	}
	return out
}

// TestSignOutIsOneTransaction: signing out deletes the session and writes
// its audit row in one transaction.
func TestSignOutIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	f.oneWrite(t, "sign-out", func() error {
		return f.c.SignIn.SignOut(ctx, f.sess.IDHash, &Pending{Session: f.sess, User: *f.alice}, Client{IP: "192.0.2.9"})
	})
	if _, err := f.st.SessionByHash(ctx, f.sess.IDHash); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("session after sign-out: %v", err)
	}
	if ev := f.audited(t, audit.SignOut); len(ev) != 1 || ev[0].RemoteIP != "192.0.2.9" {
		t.Errorf("sign-out audit rows: %+v", ev)
	}
}

// TestEndAllButIsOneTransaction: "sign out everywhere else" ends the
// other sessions and writes its audit row in one transaction.
func TestEndAllButIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	for _, name := range []string{"other 1", "other 2"} {
		if err := f.st.CreateSession(ctx, &model.Session{IDHash: hashOf(name), UserID: f.alice.ID, Stage: model.StageComplete}); err != nil {
			t.Fatal(err)
		}
	}
	f.oneWrite(t, "sign out everywhere else", func() error {
		n, err := f.c.Sessions.EndAllBut(ctx, f.alice, f.sess.IDHash, "192.0.2.9")
		if err == nil && n != 2 {
			t.Errorf("ended %d, want 2", n)
		}
		return err
	})
	if _, err := f.st.SessionByHash(ctx, f.sess.IDHash); err != nil {
		t.Errorf("kept session: %v", err)
	}
	if ev := f.audited(t, audit.SessionsEnded); len(ev) != 1 {
		t.Errorf("audit rows: %+v", ev)
	}
}

// TestRenameIsOneTransaction: renaming an authenticator app or a phone
// stores the name and its audit row in one transaction; a refused rename
// (no such method) stores neither.
func TestRenameIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	auths, err := f.st.TOTPAuthenticators(ctx, f.alice.ID)
	if err != nil || len(auths) != 1 {
		t.Fatalf("authenticators = %v, %v", auths, err)
	}
	token, sess, code := hashOf("token"), hashOf("pairing session"), hashOf("code")
	if err := f.st.CreatePairing(ctx, &model.Pairing{TokenHash: token, UserID: f.alice.ID, SessionHash: sess, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.RegisterDevice(ctx, token, &model.Device{Name: "Phone", PublicKey: []byte("spki")}, code, time.Now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	d := teststore.ConfirmPairing(t, f.st, f.alice.ID, sess, code)

	f.oneWrite(t, "rename authenticator", func() error {
		return f.c.Methods.RenameAuthenticator(ctx, f.alice, auths[0].ID, "Work laptop", "192.0.2.9")
	})
	f.oneWrite(t, "rename phone", func() error { return f.c.Phones.Rename(ctx, f.alice, d.ID, "Pixel", "192.0.2.9") })
	if ev := f.audited(t, audit.TOTPRenamed); len(ev) != 1 || !strings.HasSuffix(ev[0].Detail, ": Work laptop") {
		t.Errorf("authenticator rename audit rows: %+v", ev)
	}
	if ev := f.audited(t, audit.DeviceRenamed); len(ev) != 1 || !strings.HasSuffix(ev[0].Detail, ": Pixel") {
		t.Errorf("phone rename audit rows: %+v", ev)
	}
	if err := f.c.Phones.Rename(ctx, f.alice, d.ID+1000, "Nope", "192.0.2.9"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("rename of an unknown phone: %v, want model.ErrNotFound", err)
	}
	if ev := f.audited(t, audit.DeviceRenamed); len(ev) != 1 {
		t.Errorf("a refused rename left an audit row: %+v", ev)
	}
}

// TestAppPasswordChangesAreOneTransaction: creating and deleting an app
// password each store the change and its audit row in one transaction;
// the limit is checked in Go inside it, under the user's lock.
func TestAppPasswordChangesAreOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	var pw string
	f.oneWrite(t, "create", func() (err error) {
		pw, err = f.c.AppPasswords.Create(ctx, f.alice, "mail", "192.0.2.9")
		return err
	})
	ap, err := f.c.AppPasswords.Find(ctx, f.alice.ID, pw)
	if err != nil {
		t.Fatalf("created app password: %v", err)
	}
	if ev := f.audited(t, audit.AppPasswordCreated); len(ev) != 1 || ev[0].Detail != "mail" {
		t.Errorf("create audit rows: %+v", ev)
	}
	f.oneWrite(t, "delete", func() error { return f.c.AppPasswords.Delete(ctx, f.alice, ap.ID, "192.0.2.9") })
	if ev := f.audited(t, audit.AppPasswordDeleted); len(ev) != 1 {
		t.Errorf("delete audit rows: %+v", ev)
	}
	if err := f.c.AppPasswords.Delete(ctx, f.alice, ap.ID, "192.0.2.9"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("second delete: %v, want model.ErrNotFound", err)
	}
	if ev := f.audited(t, audit.AppPasswordDeleted); len(ev) != 1 {
		t.Errorf("a refused delete left an audit row: %+v", ev)
	}

	// The rule in the transaction: at the limit, nothing is added.
	add := func(i int) error {
		return f.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			return addAppPasswordIn(ctx, tx, &model.AppPassword{UserID: f.alice.ID, Name: "x", Hash: "h", LookupTag: hashOf(fmt.Sprint("tag ", i))}, 3)
		})
	}
	for i := range 3 {
		if err := add(i); err != nil {
			t.Fatalf("app password %d: %v", i, err)
		}
	}
	if err := add(3); !errors.Is(err, model.ErrLimit) {
		t.Errorf("past the limit: %v, want model.ErrLimit", err)
	}
	if aps, err := f.st.AppPasswords(ctx, f.alice.ID); err != nil || len(aps) != 3 {
		t.Errorf("app passwords = %d, %v; want 3", len(aps), err)
	}
	if err := f.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return addAppPasswordIn(ctx, tx, &model.AppPassword{UserID: f.alice.ID + 1000, Name: "x", Hash: "h", LookupTag: hashOf("unknown")}, 3)
	}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("unknown user: %v, want model.ErrNotFound", err)
	}
}
