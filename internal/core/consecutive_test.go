package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// capFixture is a core whose limiter runs on a fake clock, with the cap
// on consecutive failed sign-ins at limit, and alice (Enforced, with an
// authenticator app).
type capFixture struct {
	c      *Core
	st     *countingstore.Store
	alice  *model.User
	secret []byte
	now    time.Time
	n      int // attempts made: each gets its own secret and browser
}

func newCapFixture(t *testing.T, st store.Store, limit int) *capFixture {
	t.Helper()
	ctx := context.Background()
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f := &capFixture{st: countingstore.New(st), secret: []byte("0123456789abcdefghij"), now: time.Now().UTC().Truncate(time.Second)}
	key := []byte("0123456789abcdef0123456789abcdef")
	f.c, err = New(f.st, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Issuer: "Test",
		PushHosts: []string{"push.example"},
		Lockout:   bruteforce.Config{ConsecutiveLimit: limit, Now: func() time.Time { return f.now }}})
	if err != nil {
		t.Fatal(err)
	}
	f.alice, err = f.c.Accounts.Add(ctx, NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := f.c.Codes.Seal(f.alice.ID, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.c.Methods.AddAuthenticator(ctx, f.alice, sealed, "192.0.2.1", false); err != nil {
		t.Fatal(err)
	}
	return f
}

// next counts one more attempt and, every DefaultAccountLimit attempts,
// moves the clock past the windowed lockout, so only the cap on
// consecutive failures can stop the account.
func (f *capFixture) next() int {
	if f.n > 0 && f.n%bruteforce.DefaultAccountLimit == 0 {
		f.now = f.now.Add(bruteforce.DefaultLockout + time.Minute)
	}
	f.n++
	return f.n
}

func (f *capFixture) rotation(old []byte) Rotation {
	return Rotation{OldHash: old, IDHash: hashOf(fmt.Sprintf("browser %d", f.n)), Origin: "https://site.example", At: f.now}
}

func (f *capFixture) client() Client { return Client{IP: "192.0.2.9", Site: "site.example"} }

// password signs in as name with pw from a new browser.
func (f *capFixture) password(t *testing.T, name, pw string) Progress {
	t.Helper()
	f.next()
	for {
		pr, err := f.c.SignIn.Password(context.Background(), PasswordInput{Username: name, Password: pw,
			Client: f.client(), Rotation: f.rotation(nil)})
		if errors.Is(err, password.ErrBusy) { // shed on a busy machine: nothing counted, try again
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("password: %v", err)
		}
		return pr
	}
}

// wrongPassword is one more wrong (never repeated) password of alice,
// which must have been judged as wrong.
func (f *capFixture) wrongPassword(t *testing.T) {
	t.Helper()
	if pr := f.password(t, "alice", fmt.Sprintf("wrong password %d", f.n)); pr.Refused != ReasonWrongPassword {
		t.Fatalf("wrong password %d: %+v, want it judged wrong", f.n, pr)
	}
}

// pending is alice's sign-in after the right password: at the code step.
func (f *capFixture) pending(t *testing.T) Pending {
	t.Helper()
	pr := f.password(t, "alice", "right password")
	if pr.Refused != ReasonNone || pr.State != StateCode {
		t.Fatalf("right password: %+v", pr)
	}
	sess, err := f.st.SessionByHash(context.Background(), hashOf(fmt.Sprintf("browser %d", f.n)))
	if err != nil {
		t.Fatal(err)
	}
	return Pending{Session: *sess, User: *f.alice}
}

// code sends code at the code step of p.
func (f *capFixture) code(t *testing.T, p Pending, code string) Progress {
	t.Helper()
	f.next()
	pr, err := f.c.SignIn.Code(context.Background(), CodeInput{Code: code, Pending: p, Client: f.client(),
		Rotation: f.rotation(p.Session.IDHash)})
	if err != nil {
		t.Fatalf("code: %v", err)
	}
	return pr
}

func (f *capFixture) rightCode(t *testing.T) string {
	t.Helper()
	c, err := totp.CodeAt(totp.EncodeSecret(f.secret), time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a code that is not alice's now (nor in the steps beside).
func (f *capFixture) wrongCode(t *testing.T) string {
	t.Helper()
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (f.n*7919+i*104729)%1000000)
		if _, ok := matchAny([][]byte{f.secret}, c, time.Now()); !ok {
			return c
		}
	}
}

func (f *capFixture) failed(t *testing.T) int {
	t.Helper()
	n, err := f.st.FailedSignIns(context.Background(), f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *capFixture) user(t *testing.T) *model.User {
	t.Helper()
	u, err := f.st.UserByID(context.Background(), f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *capFixture) audited(t *testing.T, event string) []model.AuditEvent {
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

// TestHundredConsecutiveWrongPasswordsBlock: NIST SP 800-63B-4's cap.
// 100 wrong passwords, spread over ten windows (the clock passes each
// windowed lockout), block the account at exactly the 100th, in that
// failure's own transaction (the claim, then one apply): the sessions
// end and the block is audited; the right password then learns of the
// block, a wrong one does not.
func TestHundredConsecutiveWrongPasswordsBlock(t *testing.T) {
	for name, open := range map[string]func(testing.TB) store.Store{
		"sqlite":     func(t testing.TB) store.Store { return teststore.Open(t) },
		"postgresql": func(t testing.TB) store.Store { return teststore.OpenPostgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newCapFixture(t, open(t), 0) // the default: 100
			signedIn := model.Session{IDHash: hashOf("signed in"), UserID: f.alice.ID, Stage: model.StageComplete,
				CreatedAt: f.now, LastSeenAt: f.now}
			if err := f.st.CreateSession(ctx, &signedIn); err != nil {
				t.Fatal(err)
			}
			for range bruteforce.DefaultConsecutiveLimit - 1 {
				f.wrongPassword(t)
			}
			if n := f.failed(t); n != 99 {
				t.Fatalf("after 99 wrong passwords: %d consecutive failures", n)
			}
			if u := f.user(t); !u.BlockedAt.IsZero() {
				t.Fatalf("blocked after 99 failures: %q", u.BlockedReason)
			}
			if _, err := f.st.SessionByHash(ctx, signedIn.IDHash); err != nil {
				t.Fatalf("the session ended before the cap: %v", err)
			}
			f.st.Reset()
			f.wrongPassword(t)
			if got := f.st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
				t.Errorf("the 100th failure: writes %v, want the claim and one apply (with the block)", got)
			}
			u := f.user(t)
			if u.BlockedAt.IsZero() || u.BlockedReason != model.BlockedByFailedSignIns || !u.BlockedAt.Equal(f.now) {
				t.Fatalf("after 100 failures: blocked at %v (%q), want at %v for %q", u.BlockedAt, u.BlockedReason, f.now,
					model.BlockedByFailedSignIns)
			}
			if _, err := f.st.SessionByHash(ctx, signedIn.IDHash); err == nil {
				t.Error("the block left the user's session")
			}
			if ev := f.audited(t, audit.UserBlockedFailedSignIns); len(ev) != 1 || ev[0].RemoteIP != "192.0.2.9" {
				t.Errorf("block audit rows: %+v", ev)
			}

			// Past the lockout: no password is judged any more, right or
			// wrong (at most the cap's failures are ever judged); both
			// look like a locked account and neither signs in nor counts.
			f.now = f.now.Add(time.Hour)
			f.st.Reset()
			for _, pw := range []string{"yet another wrong one", "right password"} {
				if pr := f.password(t, "alice", pw); pr.Refused != ReasonAccountLocked || pr.BlockedReason != "" || pr.Rotated {
					t.Errorf("%q for the blocked account: %+v, want refused as locked, unjudged", pw, pr)
				}
			}
			if got := len(f.st.Writes()); got != 2 {
				t.Errorf("unjudged attempts wrote %d transactions, want 2 (their refusals' rows only)", got)
			}
			if ev := f.audited(t, audit.UserBlockedFailedSignIns); len(ev) != 1 {
				t.Errorf("more failures of the blocked account blocked it again: %d rows", len(ev))
			}
		})
	}
}

// TestSuccessStartsConsecutiveFailuresAnew: a completed sign-in (password
// and code) sets the count back to 0; the right password alone does not
// (the second step may still fail). Unknown names count against nobody.
func TestSuccessStartsConsecutiveFailuresAnew(t *testing.T) {
	const limit = 12
	f := newCapFixture(t, teststore.Open(t), limit)
	for range limit - 1 {
		f.wrongPassword(t)
	}
	p := f.pending(t)
	if n := f.failed(t); n != limit-1 {
		t.Fatalf("the right password alone reset the count to %d", n)
	}
	if pr := f.code(t, p, f.rightCode(t)); pr.Refused != ReasonNone || pr.State != StateComplete {
		t.Fatalf("right code: %+v", pr)
	}
	if n := f.failed(t); n != 0 {
		t.Fatalf("after a completed sign-in: %d consecutive failures, want 0", n)
	}
	for range limit - 1 {
		f.wrongPassword(t)
	}
	for i := range 3 {
		if pr := f.password(t, "alicia", fmt.Sprintf("guess %d", i)); pr.Refused != ReasonUnknownUser {
			t.Fatalf("unknown user: %+v", pr)
		}
	}
	if u := f.user(t); !u.BlockedAt.IsZero() || f.failed(t) != limit-1 {
		t.Fatalf("after %d failures since the success: blocked %q, count %d", limit-1, u.BlockedReason, f.failed(t))
	}
	f.wrongPassword(t)
	if u := f.user(t); u.BlockedReason != model.BlockedByFailedSignIns {
		t.Fatalf("at the cap: blocked %q", u.BlockedReason)
	}
}

// TestEveryFactorsFailuresCountTowardsTheCap: wrong codes, recovery codes
// and access passes are consecutive failures as wrong passwords are, and
// the failure that reaches the cap blocks, whatever its kind.
func TestEveryFactorsFailuresCountTowardsTheCap(t *testing.T) {
	const limit = 10
	f := newCapFixture(t, teststore.Open(t), limit)
	ctx := context.Background()
	f.wrongPassword(t) // 1
	p := f.pending(t)
	for range 3 { // 2..4
		if pr := f.code(t, p, f.wrongCode(t)); pr.Refused != ReasonWrongCode {
			t.Fatalf("wrong code: %+v", pr)
		}
	}
	if n := f.failed(t); n != 4 {
		t.Fatalf("after a wrong password and 3 wrong codes: %d", n)
	}
	for i := range 3 { // 5..7
		f.next()
		pr, err := f.c.SignIn.RecoveryCode(ctx, RecoveryCodeInput{Code: fmt.Sprintf("ABCD-EFGH-JKLM-NP%02d", i), Pending: p,
			Client: f.client(), Rotation: f.rotation(p.Session.IDHash)})
		if err != nil || pr.Refused == ReasonNone {
			t.Fatalf("wrong recovery code: %+v %v", pr, err)
		}
	}
	if n := f.failed(t); n != 7 {
		t.Fatalf("after 3 wrong recovery codes: %d, want 7", n)
	}
	for i := range 3 { // 8..10
		f.next()
		pr, err := f.c.SignIn.AccessPass(ctx, AccessPassInput{Username: "alice", Pass: fmt.Sprintf("WRONG-PASS-%04d-AAAA", i),
			Client: f.client(), Rotation: f.rotation(nil)})
		if err != nil || pr.Refused == ReasonNone {
			t.Fatalf("wrong access pass: %+v %v", pr, err)
		}
		if i < 2 && !f.user(t).BlockedAt.IsZero() {
			t.Fatalf("blocked before the cap, at %d failures", f.failed(t))
		}
	}
	if u := f.user(t); u.BlockedReason != model.BlockedByFailedSignIns {
		t.Fatalf("after %d failures of every kind: blocked %q", limit, u.BlockedReason)
	}
}

// TestBasicAuthCountsAndStartsAnew: wrong secrets in basic auth are
// consecutive failures; a basic-auth pass (a whole sign-in) starts the
// count anew.
func TestBasicAuthCountsAndStartsAnew(t *testing.T) {
	f := newCapFixture(t, teststore.Open(t), 10)
	ctx := context.Background()
	try := func(secret string) Outcome {
		t.Helper()
		f.next()
		out, err := f.c.Attempts.ByName(ctx, "alice", "192.0.2.9", Guess{Secret: secret, As: "basic auth", SignsIn: true},
			func(ctx context.Context, u *model.User) (bool, Reason, error) {
				return u != nil && secret == "app password", ReasonWrongPassword, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for i := range 4 {
		if out := try(fmt.Sprintf("wrong %d", i)); out.User != nil {
			t.Fatal("a wrong secret passed")
		}
	}
	if n := f.failed(t); n != 4 {
		t.Fatalf("after 4 wrong basic-auth secrets: %d", n)
	}
	if out := try("app password"); out.User == nil {
		t.Fatalf("the right secret: %+v", out)
	}
	if n := f.failed(t); n != 0 {
		t.Fatalf("after a basic-auth pass: %d, want 0", n)
	}
}

// TestUnblockClearsTheCap: the CLI's unblock lifts the cap's block and
// sets the count back to 0, so the account has the whole cap again.
func TestUnblockClearsTheCap(t *testing.T) {
	const limit = 10
	f := newCapFixture(t, teststore.Open(t), limit)
	for range limit {
		f.wrongPassword(t)
	}
	if u := f.user(t); u.BlockedReason != model.BlockedByFailedSignIns {
		t.Fatalf("not blocked at the cap: %q", u.BlockedReason)
	}
	if _, err := f.c.Accounts.Unblock(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if u := f.user(t); !u.BlockedAt.IsZero() || f.failed(t) != 0 {
		t.Fatalf("after unblock: blocked %q, %d consecutive failures", u.BlockedReason, f.failed(t))
	}
	f.wrongPassword(t)
	if u := f.user(t); !u.BlockedAt.IsZero() {
		t.Fatal("one failure after the unblock blocked again")
	}
	if pr := f.password(t, "alice", "right password"); pr.Refused != ReasonNone {
		t.Fatalf("right password after unblock: %+v", pr)
	}
}

// TestWrongNumberReachesTheCap: a wrong number typed on the phone is a
// consecutive failure; the one that reaches the cap blocks the account in
// the answer's transaction, ends its sessions, is audited, and tells
// every node to drop the user's cached sessions.
func TestWrongNumberReachesTheCap(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	var dropped []int64
	f.c.Events.Subscribe(func(ev Event) {
		if ev.Kind == EventUser {
			dropped = append(dropped, ev.UserID)
		}
	})
	signedIn := model.Session{IDHash: hashOf("signed in"), UserID: f.user.ID, Stage: model.StageComplete,
		CreatedAt: time.Now(), LastSeenAt: time.Now()}
	if err := f.st.CreateSession(ctx, &signedIn); err != nil {
		t.Fatal(err)
	}
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		for range bruteforce.DefaultConsecutiveLimit - 2 {
			if _, err := tx.AddFailedSignIn(ctx, f.user.ID); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range 2 {
		ap := f.request(t, fmt.Sprintf("browser-%d", i))
		wrong := (ap.Number + 1) % 100
		f.counted.Reset()
		if status, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, fmt.Sprintf("%02d", wrong)); err != nil ||
			status != model.ApprovalWrongNumber {
			t.Fatalf("wrong number: %s, %v", status, err)
		}
		if got := f.counted.Writes(); !slices.Equal(got, []string{"Update"}) {
			t.Errorf("wrong number %d: writes %v, want one transaction", i, got)
		}
		u, err := f.st.UserByID(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if blocked := u.BlockedReason == model.BlockedByFailedSignIns; blocked != (i == 1) {
			t.Fatalf("after wrong number %d (%d failures in a row): blocked %q", i, bruteforce.DefaultConsecutiveLimit-1+i,
				u.BlockedReason)
		}
	}
	if _, err := f.st.SessionByHash(ctx, signedIn.IDHash); err == nil {
		t.Error("the block left the user's session")
	}
	if !slices.Contains(dropped, f.user.ID) {
		t.Error("the block was not announced: cached sessions would outlive it")
	}
	rows, err := f.st.AuditEvents(ctx, f.user.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Event == audit.UserBlockedFailedSignIns {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d block audit rows, want 1", n)
	}
}
