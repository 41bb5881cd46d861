package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// errDiskFull is the audit row's write failing.
var errDiskFull = errors.New("disk full")

// auditFailing is a store whose transactions cannot write an audit row.
type auditFailing struct{ store.Store }

func (s auditFailing) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.Store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return fn(ctx, auditFailingTx{tx}) })
}

type auditFailingTx struct{ store.Tx }

func (auditFailingTx) AppendAudit(context.Context, *model.AuditEvent) error { return errDiskFull }

// TestAccountChangesAreOneTransaction: removing a method (Security info)
// and resetting a user's methods (the admin center, the CLI) delete the
// method, end the sessions and write the audit row in one transaction:
// when the audit row cannot be written, nothing happened — the methods
// and the sessions are all still there.
func TestAccountChangesAreOneTransaction(t *testing.T) {
	ctx := context.Background()
	st := teststore.Open(t)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(auditFailing{st}, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}})
	if err != nil {
		t.Fatal(err)
	}
	root := &model.User{Username: "root", PasswordHash: "x", MFAState: model.MFAEnforced, Groups: []string{AdminGroup}}
	ann := &model.User{Username: "ann", PasswordHash: "x", MFAState: model.MFAEnforced}
	for _, u := range []*model.User{root, ann} {
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	teststore.AddTOTP(t, st, &model.TOTPAuthenticator{UserID: root.ID, Name: "app", SealedSecret: []byte("s")})
	a, phone := teststore.Methods(t, st, ann.ID, []byte("s"))
	for i, id := range [][]byte{[]byte("session-hash-of-this-browser-000"), []byte("session-hash-of-other-browser-00")} {
		if err := st.CreateSession(ctx, &model.Session{IDHash: id, UserID: ann.ID, Stage: model.StageComplete, CreatedAt: time.Now().Add(time.Duration(i))}); err != nil {
			t.Fatal(err)
		}
	}
	this := []byte("session-hash-of-this-browser-000")
	changes := map[string]func() error{
		"delete authenticator": func() error { return c.Methods.DeleteAuthenticator(ctx, ann, a.ID, true, this, "192.0.2.1") },
		"remove phone":         func() error { return c.Phones.Remove(ctx, ann, phone.ID, true, this, "192.0.2.1") },
		"admin center reset": func() error {
			_, err := c.Admin.Apply(ctx, AdminActor(root, "192.0.2.1"), Action{Kind: ActionResetMethods}, []int64{ann.ID})
			return err
		},
		"cli reset": func() error { _, err := c.Accounts.As(CLIActor("tester")).ResetMethods(ctx, "ann"); return err },
	}
	for name, change := range changes {
		if err := change(); !errors.Is(err, errDiskFull) {
			t.Errorf("%s: %v, want the audit row's failure", name, err)
		}
		auths, _ := st.TOTPAuthenticators(ctx, ann.ID)
		devices, _ := st.Devices(ctx, ann.ID)
		if len(auths) != 1 || len(devices) != 2 {
			t.Errorf("%s without its audit row: %d authenticators, %d phones left; want all", name, len(auths), len(devices))
		}
		for _, id := range [][]byte{this, []byte("session-hash-of-other-browser-00")} {
			if _, err := st.SessionByHash(ctx, id); err != nil {
				t.Errorf("%s without its audit row ended a session: %v", name, err)
			}
		}
	}
}

// TestPasskeysAreMethodsLikeTheOthers: a passkey counts among the user's
// methods when another is removed, and resetting the user's methods
// removes and counts it too.
func TestPasskeysAreMethodsLikeTheOthers(t *testing.T) {
	ctx := context.Background()
	f := newAdminFixture(t, "")
	root := f.user(t, "root", true, AdminGroup)
	ann := f.user(t, "ann", false)
	a := &model.TOTPAuthenticator{UserID: ann.ID, Name: "app", SealedSecret: []byte("s")}
	teststore.AddTOTP(t, f.st, a)
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		return tx.AddWebAuthnCredential(ctx, &model.WebAuthnCredential{UserID: ann.ID, CredentialID: []byte("cred"),
			PublicKey: []byte("cose-key"), AttestationType: "none", AAGUID: make([]byte, 16), Name: "Key", RPID: "example.com"})
	})
	// The passkey remains: the authenticator may go although a method
	// must be kept.
	if err := f.c.Methods.DeleteAuthenticator(ctx, ann, a.ID, true, nil, ""); err != nil {
		t.Fatalf("deleting the authenticator beside a passkey: %v", err)
	}
	res, err := f.c.Admin.Apply(ctx, AdminActor(root, ""), Action{Kind: ActionResetMethods}, []int64{ann.ID})
	if err != nil || len(res) != 1 || res[0].Count != 1 {
		t.Fatalf("reset: %+v %v, want the passkey counted", res, err)
	}
	if creds, err := f.st.WebAuthnCredentials(ctx, ann.ID); err != nil || len(creds) != 0 {
		t.Errorf("passkeys after the reset: %+v %v", creds, err)
	}
}
