package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
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

// TestOwnPasswordChangeIsClaimThenOneTransaction: the user's own password
// change is the current password's failure-slot claim, then ONE
// transaction: the slots' release, the new hash, the other sessions'
// end, the app passwords' deletion and the audit rows. A wrong current
// password is the claim, then one transaction keeping the slots and
// writing its audit row. Choosing a new password after a temporary one is
// one transaction.
func TestOwnPasswordChangeIsClaimThenOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	if err := f.st.CreateSession(ctx, &model.Session{IDHash: hashOf("other"), UserID: f.alice.ID, Stage: model.StageComplete}); err != nil {
		t.Fatal(err)
	}
	if err := teststore.AddAppPassword(ctx, f.st, &model.AppPassword{UserID: f.alice.ID, Name: "mail", Hash: "h", LookupTag: hashOf("tag")}); err != nil {
		t.Fatal(err)
	}
	fresh := func() *model.User {
		u, err := f.st.UserByID(ctx, f.alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	claimThenApply := []string{"Update", "Update"}
	f.st.Reset()
	err := f.c.Accounts.ChangeOwnPassword(ctx, fresh(), "wrong password", aliceNew, f.sess.IDHash, true, "192.0.2.9")
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong current password: %v", err)
	}
	if got := f.st.Writes(); !slices.Equal(got, claimThenApply) {
		t.Errorf("wrong current password: writes %v, want %v", got, claimThenApply)
	}
	if ev := f.audited(t, audit.PasswordChangeFail); len(ev) != 1 {
		t.Errorf("refusal audit rows: %+v", ev)
	}

	f.st.Reset()
	if err := f.c.Accounts.ChangeOwnPassword(ctx, fresh(), "right password", aliceNew, f.sess.IDHash, true, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if got := f.st.Writes(); !slices.Equal(got, claimThenApply) {
		t.Errorf("password change: writes %v, want %v", got, claimThenApply)
	}
	if !f.c.Accounts.hasher.Verify(fresh().PasswordHash, aliceNew) {
		t.Error("the new password was not stored")
	}
	if _, err := f.st.SessionByHash(ctx, hashOf("other")); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("other session after the change: %v", err)
	}
	if _, err := f.st.SessionByHash(ctx, f.sess.IDHash); err != nil {
		t.Errorf("this session after the change: %v", err)
	}
	if aps, err := f.st.AppPasswords(ctx, f.alice.ID); err != nil || len(aps) != 0 {
		t.Errorf("app passwords after the change: %d, %v", len(aps), err)
	}
	if ev := f.audited(t, audit.PasswordChanged); len(ev) != 1 {
		t.Errorf("change audit rows: %+v", ev)
	}
	if ev := f.audited(t, audit.AppPasswordsPurged); len(ev) != 1 || !strings.Contains(ev[0].Detail, "1 deleted") {
		t.Errorf("purge audit rows: %+v", ev)
	}
	// The right password gave its slot back; the wrong one kept its own.
	if fl, err := f.st.FailuresFor(ctx, bruteforce.AccountKey("alice")); err != nil || fl.Count != 1 {
		t.Errorf("alice's failures = %+v, %v; want 1 (the wrong password's)", fl, err)
	}

	// A temporary password replaced by the user's own: one transaction.
	temp, err := f.c.Accounts.hasher.Hash("temporary password 1234")
	if err != nil {
		t.Fatal(err)
	}
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		return tx.SetPassword(ctx, f.alice.ID, temp, time.Now().Add(time.Hour))
	})
	f.oneWrite(t, "choose a new password", func() error {
		return f.c.Accounts.ChooseNewPassword(ctx, fresh(), "wholly different 99 words", f.sess.IDHash, "192.0.2.9")
	})
	if u := fresh(); u.TemporaryPassword() || !f.c.Accounts.hasher.Verify(u.PasswordHash, "wholly different 99 words") {
		t.Error("the chosen password was not stored as permanent")
	}
	if ev := f.audited(t, audit.PasswordChanged); len(ev) != 2 {
		t.Errorf("change audit rows: %+v", ev)
	}
}

// TestHashUpgradeIsOneTransaction: replacing a hash of another cost after
// a right password stores the new hash and its audit row in one
// transaction.
func TestHashUpgradeIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	old, err := bcrypt.GenerateFromPassword([]byte("right password"), bcrypt.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		return tx.SetPassword(ctx, f.alice.ID, string(old), time.Time{})
	})
	u, err := f.st.UserByID(ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	f.oneWrite(t, "hash upgrade", func() (err error) {
		hash, err = f.c.Accounts.UpgradePasswordHash(ctx, u, "right password", "192.0.2.9")
		return err
	})
	if got, _ := f.st.UserByID(ctx, f.alice.ID); hash == "" || got.PasswordHash != hash {
		t.Errorf("stored hash %q, upgrade returned %q", got.PasswordHash, hash)
	}
	if ev := f.audited(t, audit.PasswordHashUpgraded); len(ev) != 1 {
		t.Errorf("upgrade audit rows: %+v", ev)
	}
}

// TestPushAnswerIsOneTransaction: a phone's answer is ONE transaction:
// the request's new status, a report's block, a wrong number's failure
// slot, the audit row and, for an answer that ends the sign-in, the
// sign-in log row.
func TestPushAnswerIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t)
	for i, c := range []struct {
		decision string
		right    bool
		event    string
		logged   bool
	}{
		{DecisionApprove, true, audit.PushApproved, false},
		{DecisionDeny, false, audit.PushDenied, true},
		{DecisionApprove, false, audit.PushWrongNumber, true},
		{DecisionReport, false, audit.PushReported, true},
	} {
		ap := f.request(t, fmt.Sprint("browser ", i))
		number := strconv.Itoa(10 + (ap.Number-10+1)%90) // another two-digit number
		if c.right {
			number = strconv.Itoa(ap.Number)
		}
		signIns, err := f.st.SignIns(ctx, model.SignInFilter{})
		if err != nil {
			t.Fatal(err)
		}
		f.counted.Reset()
		if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, c.decision, number); err != nil {
			t.Fatalf("%s: %v", c.event, err)
		}
		if got := f.counted.Writes(); !slices.Equal(got, []string{"Update"}) {
			t.Errorf("%s: writes %v, want one Update", c.event, got)
		}
		rows, err := f.st.AuditEvents(ctx, f.user.ID, 1)
		if err != nil || len(rows) != 1 || rows[0].Event != c.event || rows[0].Username != "alice" {
			t.Errorf("%s: last audit row %+v, %v", c.event, rows, err)
		}
		after, err := f.st.SignIns(ctx, model.SignInFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if logged := len(after) == len(signIns)+1; logged != c.logged {
			t.Errorf("%s: sign-in log rows %d → %d", c.event, len(signIns), len(after))
		}
	}
	if fl, err := f.st.FailuresFor(ctx, bruteforce.AccountKey("alice")); err != nil || fl.Count != 1 {
		t.Errorf("alice's failures = %+v, %v; want 1 (the wrong number's)", fl, err)
	}
	if u, err := f.st.UserByID(ctx, f.user.ID); err != nil || u.BlockedAt.IsZero() {
		t.Errorf("after a report: %+v, %v; want blocked", u, err)
	}
}

// TestPushRequestIsOneTransaction: a sign-in request is ONE transaction:
// the fatigue limit counted under the user's lock, the request (the
// earlier pending one cancelled) and its audit row; a request refused by
// the limit writes its sign-in log row in one transaction too.
func TestPushRequestIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t)
	var first *model.Approval
	for i := range approvalsPerWindow {
		f.counted.Reset()
		ap := f.request(t, fmt.Sprint("browser ", i))
		if got := f.counted.Writes(); !slices.Equal(got, []string{"Update"}) {
			t.Errorf("request %d: writes %v, want one Update", i, got)
		}
		if first == nil {
			first = ap
		}
	}
	if old, err := f.st.ApprovalByID(ctx, first.ID); err != nil || old.Status != model.ApprovalCancelled {
		t.Errorf("the first request after later ones: %+v, %v; want cancelled", old, err)
	}
	rows, err := f.st.AuditEvents(ctx, f.user.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	requested := 0
	for _, r := range rows {
		if r.Event == audit.PushRequested {
			requested++
		}
	}
	if requested != approvalsPerWindow {
		t.Errorf("%d request audit rows, want %d", requested, approvalsPerWindow)
	}
	f.counted.Reset()
	_, err = f.c.Approvals.Request(ctx, f.user, []byte("one too many"), Context{Site: "files.example.com", RemoteIP: "203.0.113.7"})
	if !errors.Is(err, ErrTooManyApprovals) {
		t.Fatalf("past the limit: %v", err)
	}
	if got := f.counted.Writes(); !slices.Equal(got, []string{"Update"}) {
		t.Errorf("refused request: writes %v, want one Update", got)
	}
	log, err := f.st.SignIns(ctx, model.SignInFilter{})
	if err != nil || len(log) != 1 || log[0].Reason != ReasonTooManyRequests.Log() {
		t.Errorf("sign-in log after the refusal: %+v, %v", log, err)
	}
}

// TestAddUserIsOneTransaction: a new user and its audit row commit in one
// transaction, and a taken name stores neither.
func TestAddUserIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	accounts := f.c.Accounts.WithActor("cli (os user tester)")
	nu := NewUser{Username: "bob", Password: "correct horse battery staple 42", MFAState: model.MFAEnabled}
	var bob *model.User
	f.oneWrite(t, "add user", func() (err error) {
		bob, err = accounts.Add(ctx, nu)
		return err
	})
	rows, err := f.st.AuditEvents(ctx, bob.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Event != audit.UserCreated || !strings.Contains(rows[0].Detail, "cli (os user tester)") {
		t.Errorf("audit rows of the new user: %+v", rows)
	}
	f.st.Reset()
	if _, err := accounts.Add(ctx, nu); !errors.Is(err, ErrUserExists) && (err == nil || !strings.Contains(err.Error(), "already exists")) {
		t.Errorf("adding bob again: %v, want already exists", err)
	}
	again, err := f.st.AuditEvents(ctx, bob.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 {
		t.Errorf("bob's audit rows after a refused duplicate: %+v, want the one creation", again)
	}
}

// TestPushExpiryIsOneTransaction: a request's expiry and its one
// sign-in log row commit together; a second look writes nothing more.
func TestPushExpiryIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t)
	ap := f.request(t, "browser")
	later := ap.ExpiresAt.Add(time.Second)
	f.c.Approvals.now = func() time.Time { return later }
	for i := range 2 {
		f.counted.Reset()
		if err := f.c.Approvals.Expire(ctx, ap); err != nil {
			t.Fatalf("Expire #%d: %v", i+1, err)
		}
		if got := f.counted.Writes(); !slices.Equal(got, []string{"Update"}) {
			t.Errorf("Expire #%d: writes %v, want one Update", i+1, got)
		}
	}
	got, err := f.st.ApprovalByID(ctx, ap.ID)
	if err != nil || got.Status != model.ApprovalExpired {
		t.Errorf("request after expiry: %+v, %v", got, err)
	}
	log, err := f.st.SignIns(ctx, model.SignInFilter{})
	if err != nil || len(log) != 1 || log[0].Reason != ReasonExpired.Log() {
		t.Errorf("sign-in log after two looks at an expired request: %+v, %v; want one expired row", log, err)
	}
}
