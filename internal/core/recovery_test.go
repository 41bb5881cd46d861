package core

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/recoverycode"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/pushservice"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// recoveryFixture is a sign-in fixture whose alice has a set of recovery
// codes, and counts the bcrypt comparisons of recovery codes.
type recoveryFixture struct {
	*signInFixture
	codes    []string
	bcrypts  atomic.Int64
	client   Client
	sessions int
}

func newRecoveryFixture(t *testing.T) *recoveryFixture {
	t.Helper()
	f := &recoveryFixture{signInFixture: newSignInFixture(t, teststore.Open(t), model.StagePassword),
		client: Client{IP: "192.0.2.7", UserAgent: "test", Site: "site.example"}}
	verify := f.c.RecoveryCodes.verify
	f.c.RecoveryCodes.verify = func(ctx context.Context, hash, code string) (bool, error) {
		f.bcrypts.Add(1)
		return verify(ctx, hash, code)
	}
	var err error
	if f.codes, err = f.c.RecoveryCodes.Generate(context.Background(), f.alice, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	return f
}

// pendingSession starts a new sign-in of alice past the password step
// and returns its input for code.
func (f *recoveryFixture) attempt(t *testing.T, code string) RecoveryCodeInput {
	t.Helper()
	f.sessions++
	now := time.Now()
	// The password step a few seconds ago.
	sess := model.Session{IDHash: hashOf("pending " + code + string(rune('a'+f.sessions))), UserID: f.alice.ID,
		Stage: model.StagePassword, CreatedAt: now.Add(-3 * time.Second), LastSeenAt: now, Origin: "https://site.example"}
	if err := f.st.CreateSession(context.Background(), &sess); err != nil {
		t.Fatal(err)
	}
	return RecoveryCodeInput{Code: code, Pending: Pending{Session: sess, User: *f.alice}, Client: f.client,
		Rotation: Rotation{OldHash: sess.IDHash, IDHash: hashOf("done " + string(sess.IDHash)), Origin: sess.Origin, At: now}}
}

func (f *recoveryFixture) use(t *testing.T, code string) Progress {
	t.Helper()
	pr, err := f.c.SignIn.RecoveryCode(context.Background(), f.attempt(t, code))
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func (f *recoveryFixture) left(t *testing.T) int {
	t.Helper()
	n, err := f.c.RecoveryCodes.Left(context.Background(), f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecoveryCodeWorksOnce: a code completes the sign-in (typed in any
// case, with or without its dashes), in the claim and ONE apply
// transaction (the code used, the session rotated, the audit and
// sign-in log rows, the notice); the same code never works again.
func TestRecoveryCodeWorksOnce(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	if len(f.codes) != recoverycode.Count || f.left(t) != 10 {
		t.Fatalf("generated %d codes, %d left", len(f.codes), f.left(t))
	}
	in := f.attempt(t, strings.ToLower(recoverycode.Group(f.codes[3])))
	f.st.Reset()
	pr, err := f.c.SignIn.RecoveryCode(ctx, in)
	if err != nil || pr.State != StateComplete || pr.Refused != ReasonNone || !pr.Rotated {
		t.Fatalf("right code: %+v, %v", pr, err)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
		t.Errorf("writes %v, want the claim and one apply", got)
	}
	rec, _, err := f.c.Sessions.Find(ctx, in.Rotation.IDHash)
	if err != nil || rec == nil || rec.Stage != model.StageComplete || rec.MFAAt.IsZero() {
		t.Fatalf("session after the code: %+v, %v", rec, err)
	}
	if f.left(t) != 9 {
		t.Errorf("%d codes left, want 9", f.left(t))
	}
	rows, err := f.c.SignInLog.Recent(ctx, f.alice.ID, 5)
	if err != nil || len(rows) == 0 || rows[0].SecondFactor != "recovery code" || rows[0].Result != model.SignInSuccess {
		t.Errorf("sign-in log %+v, %v; want a successful sign-in with a recovery code", rows, err)
	}
	for _, code := range []string{f.codes[3], recoverycode.Group(f.codes[3])} {
		if pr := f.use(t, code); pr.Refused == ReasonNone || pr.State != StateRecoveryCode {
			t.Errorf("the used code %q again: %+v", code, pr)
		}
	}
	// Every other code still works, once each.
	if pr := f.use(t, f.codes[0]); pr.Refused != ReasonNone {
		t.Errorf("another code: %+v", pr)
	}
	if f.left(t) != 8 {
		t.Errorf("%d codes left, want 8", f.left(t))
	}
}

// TestRegeneratingVoidsTheOldSet: a new set replaces the old one, in one
// audited transaction; no old code works afterwards.
func TestRegeneratingVoidsTheOldSet(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	old := f.codes
	f.st.Reset()
	fresh, err := f.c.RecoveryCodes.Generate(ctx, f.alice, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update"}) {
		t.Errorf("regenerating: writes %v, want one transaction", got)
	}
	for _, c := range old {
		if slices.Contains(fresh, c) {
			t.Fatalf("the new set repeats an old code")
		}
	}
	if pr := f.use(t, old[0]); pr.Refused != ReasonWrongCode {
		t.Errorf("an old code after regenerating: %+v", pr)
	}
	if pr := f.use(t, fresh[0]); pr.Refused != ReasonNone {
		t.Errorf("a new code: %+v", pr)
	}
	events, err := f.st.AuditEvents(ctx, f.alice.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	generated := 0
	for _, e := range events {
		if e.Event == audit.RecoveryCodesGenerated {
			generated++
		}
	}
	if generated != 2 {
		t.Errorf("%d audit rows of generated codes, want 2", generated)
	}
}

// TestRecoveryCodeCostsOneBcrypt: a right code, a wrong code of the right
// shape, a used code and input that is no code at all each cost exactly
// one bcrypt comparison (the matching code's hash, or the dummy one),
// never one per stored code. (Counted through the comparison's hook; no
// timing is measured, which would be flaky on a shared machine.)
func TestRecoveryCodeCostsOneBcrypt(t *testing.T) {
	f := newRecoveryFixture(t)
	wrong := strings.Repeat("Z", recoverycode.Length)
	for _, c := range f.codes {
		if c == wrong {
			t.Skip("a generated code is the wrong one") // 2^-80
		}
	}
	for _, tc := range []struct {
		name, code string
		passes     bool
	}{
		{"right code", f.codes[1], true},
		{"wrong code", wrong, false},
		{"used code", f.codes[1], false},
		{"not a code", "hello", false},
	} {
		f.bcrypts.Store(0)
		pr := f.use(t, tc.code)
		if (pr.Refused == ReasonNone) != tc.passes {
			t.Errorf("%s: %+v", tc.name, pr)
		}
		if n := f.bcrypts.Load(); n != 1 {
			t.Errorf("%s: %d bcrypt comparisons, want exactly 1", tc.name, n)
		}
	}
}

// TestRecoveryCodeFailuresCountWithCodes: wrong recovery codes and wrong
// authenticator codes fill the same account counter; once it is full, a
// right recovery code is refused as locked, unjudged.
func TestRecoveryCodeFailuresCountWithCodes(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	for i := range bruteforce.DefaultAccountLimit {
		if i%2 == 0 {
			pr, err := f.c.SignIn.Code(ctx, CodeInput{Code: "00000" + string(rune('0'+i)), Pending: Pending{Session: f.sess, User: *f.alice},
				Client: Client{IP: "192.0.2." + string(rune('1'+i%8))}, Rotation: f.rotation("x")})
			if err != nil || pr.Refused != ReasonWrongCode {
				t.Fatalf("wrong code %d: %+v, %v", i, pr, err)
			}
			continue
		}
		f.client.IP = "198.51.100." + string(rune('1'+i%8))
		if pr := f.use(t, strings.Repeat("Y", 15)+string(recoverycode.Alphabet[i])); pr.Refused != ReasonWrongCode {
			t.Fatalf("wrong recovery code %d: %+v", i, pr)
		}
	}
	fl, err := f.st.FailuresFor(ctx, "acct:alice")
	if err != nil || fl.Count != bruteforce.DefaultAccountLimit {
		t.Fatalf("account failures %+v, %v; want %d", fl, err, bruteforce.DefaultAccountLimit)
	}
	f.bcrypts.Store(0)
	if pr := f.use(t, f.codes[0]); pr.Refused != ReasonAccountLocked {
		t.Errorf("a right recovery code on a locked account: %+v", pr)
	}
	if n := f.bcrypts.Load(); n != 0 {
		t.Errorf("a refused claim judged the code (%d comparisons)", n)
	}
	if f.left(t) != 10 {
		t.Errorf("a refused attempt used a code: %d left", f.left(t))
	}
}

// TestRecoveryCodeRefusedForBlockedOrRemovedAccounts: the account checks
// of the password step hold here too: a blocked account is refused even
// with a right code (which stays unused), a removed one's sign-in goes
// nowhere.
func TestRecoveryCodeRefusedForBlockedOrRemovedAccounts(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	in := f.attempt(t, f.codes[0])
	// Blocked after the password passed, its sessions kept (a block made
	// between this sign-in's steps, racing it).
	err := f.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetBlocked(ctx, f.alice.ID, time.Now(), "test")
	})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := f.c.SignIn.RecoveryCode(ctx, in)
	if err != nil || pr.Refused != ReasonBlocked || pr.State != StatePassword {
		t.Fatalf("blocked account: %+v, %v", pr, err)
	}
	if f.left(t) != 10 {
		t.Errorf("a blocked account's attempt used a code: %d left", f.left(t))
	}
	if rec, _, _ := f.c.Sessions.Find(ctx, in.Rotation.IDHash); rec != nil {
		t.Errorf("a blocked account got a session: %+v", rec)
	}
	// Blocked the usual way (sessions ended): nothing to continue.
	if err := f.c.Accounts.As(CLIActor("tester")).Block(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if pr := f.use(t, f.codes[0]); pr.Refused == ReasonNone {
		t.Errorf("blocked by the CLI: %+v", pr)
	}
	in = f.attempt(t, f.codes[1])
	if err := f.c.Accounts.As(CLIActor("tester")).Remove(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	pr, err = f.c.SignIn.RecoveryCode(ctx, in)
	if err != nil || pr.Refused != ReasonSessionGone || pr.State != StatePassword {
		t.Errorf("removed account: %+v, %v", pr, err)
	}
}

// TestResetMethodsRemovesRecoveryCodes: the admin center's and the CLI's
// Reset methods remove the user's recovery codes with their methods.
func TestResetMethodsRemovesRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	if _, err := f.c.Accounts.As(CLIActor("tester")).ResetMethods(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if n := f.left(t); n != 0 {
		t.Errorf("%d recovery codes left after the CLI's reset, want 0", n)
	}
	root, err := f.c.Accounts.Add(ctx, NewUser{Username: "root", Password: "Quartz wombat 7 ledger fjord", MFAState: model.MFAEnforced, Groups: []string{AdminGroup}})
	if err != nil {
		t.Fatal(err)
	}
	teststore.AddTOTP(t, f.st, &model.TOTPAuthenticator{UserID: root.ID, Name: "app", SealedSecret: []byte("s")})
	if _, err := f.c.RecoveryCodes.Generate(ctx, f.alice, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	res, err := f.c.Admin.Apply(ctx, AdminActor(root, "192.0.2.1"), Action{Kind: ActionResetMethods}, []int64{f.alice.ID})
	if err != nil || len(res) != 1 || res[0].Kind == ResultRefused {
		t.Fatalf("admin center reset: %+v, %v", res, err)
	}
	if n := f.left(t); n != 0 {
		t.Errorf("%d recovery codes left after the admin center's reset, want 0", n)
	}
}

// TestRecoveryCodesAreNoMethod: recovery codes never count as a sign-in
// method: an Enforced user's last authenticator stays (keep-last-method)
// whatever codes they hold, and the admin group's usable admins and the
// default method ignore them.
func TestRecoveryCodesAreNoMethod(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	auths, err := f.c.Methods.Authenticators(ctx, f.alice.ID)
	if err != nil || len(auths) != 1 {
		t.Fatal(auths, err)
	}
	err = f.c.Methods.DeleteAuthenticator(ctx, f.alice, auths[0].ID, true, nil, "192.0.2.1")
	if !errors.Is(err, model.ErrLimit) {
		t.Errorf("deleting the last authenticator of a user with recovery codes: %v, want the keep-last-method refusal", err)
	}
	u, err := f.c.Accounts.ByID(ctx, f.alice.ID)
	if err != nil || u.DefaultMethod == model.Method("recovery code") {
		t.Errorf("default method %q, %v", u.DefaultMethod, err)
	}
}

// TestRecoveryIsAnnounced: a recovery leaves a notice on Security info
// (until dismissed), shown once at the next sign-in (not at the
// recovery's own), and pushes a notification-only message to the user's
// paired phone.
func TestRecoveryIsAnnounced(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	pairPhoneForTest(t, f.signInFixture)
	devices, _ := f.c.Phones.Devices(ctx, f.alice.ID)
	sub := &push.Subscription{Endpoint: "https://push.example/sub/1",
		P256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
		Auth:   "tBHItJI5svbpez7KI4CCXg"}
	if err := f.c.Phones.SetPush(ctx, &devices[0], sub); err != nil {
		t.Fatal(err)
	}
	sender := &recordingSender{}
	f.c.RecoveryNotices.sender = sender

	in := f.attempt(t, f.codes[0])
	if pr, err := f.c.SignIn.RecoveryCode(ctx, in); err != nil || pr.Refused != ReasonNone {
		t.Fatalf("recovery: %+v, %v", pr, err)
	}
	notices, err := f.c.RecoveryNotices.Pending(ctx, f.alice.ID)
	if err != nil || len(notices) != 1 || notices[0].Kind != model.RecoveryByCode || notices[0].RemoteIP != "192.0.2.7" {
		t.Fatalf("notices %+v, %v", notices, err)
	}
	text := NoticeText(notices[0])
	if !strings.Contains(text, "recovery code") || !strings.Contains(text, "192.0.2.7") || !strings.Contains(text, "If this wasn't you") {
		t.Errorf("notice text %q", text)
	}
	// The push: one message to the phone's subscription, a notice.
	sender.mu.Lock()
	msgs := slices.Clone(sender.msgs)
	sender.mu.Unlock()
	if len(msgs) != 1 || msgs[0].Subscription.Endpoint != sub.Endpoint {
		t.Fatalf("pushed %+v, want one message to the phone", msgs)
	}
	var p NoticePayload
	if err := json.Unmarshal(msgs[0].Payload, &p); err != nil || !p.Notice || p.Text != text {
		t.Errorf("payload %s (%v), want the notice", msgs[0].Payload, err)
	}

	// Not due at the recovery's own sign-in (started before it), due
	// once at the next.
	if due, _ := f.c.RecoveryNotices.DueAtSignIn(ctx, f.alice.ID, in.Pending.Session.CreatedAt); len(due) != 0 {
		t.Errorf("due at the recovery's own sign-in: %+v", due)
	}
	next := time.Now().Add(time.Second)
	if due, _ := f.c.RecoveryNotices.DueAtSignIn(ctx, f.alice.ID, next); len(due) != 1 {
		t.Fatalf("due at the next sign-in: %+v", due)
	}
	if err := f.c.RecoveryNotices.ShownAtSignIn(ctx, f.alice.ID, next); err != nil {
		t.Fatal(err)
	}
	if due, _ := f.c.RecoveryNotices.DueAtSignIn(ctx, f.alice.ID, next.Add(time.Minute)); len(due) != 0 {
		t.Errorf("due again after being shown: %+v", due)
	}
	// Still on Security info until dismissed.
	if ns, _ := f.c.RecoveryNotices.Pending(ctx, f.alice.ID); len(ns) != 1 {
		t.Errorf("Security info's notices after the sign-in showed it: %+v", ns)
	}
	if err := f.c.RecoveryNotices.Dismiss(ctx, f.alice, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if ns, _ := f.c.RecoveryNotices.Pending(ctx, f.alice.ID); len(ns) != 0 {
		t.Errorf("notices after dismissing: %+v", ns)
	}
}

// TestRecoveryNoticeReachesThePairedPhone: the announcement goes through
// the real Web Push sender to the paired phone's push service, which
// decrypts it as the phone would: a notification-only notice.
func TestRecoveryNoticeReachesThePairedPhone(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	svc := pushservice.New(t)
	keys, err := push.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	sender := push.NewSender(push.Config{Keys: keys, Subscriber: "mailto:ops@example.com", AllowedHosts: []string{svc.Host()},
		RootCAs: svc.RootCAs(), RetryDelay: 5 * time.Millisecond})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		sender.Close(ctx)
	})
	f.c.RecoveryNotices.sender = sender
	f.c.Phones.pushHosts = []string{svc.Host()}
	pairPhoneForTest(t, f.signInFixture)
	devices, _ := f.c.Phones.Devices(ctx, f.alice.ID)
	sub := svc.NewSubscription()
	if err := f.c.Phones.SetPush(ctx, &devices[0], &sub); err != nil {
		t.Fatal(err)
	}
	if pr := f.use(t, f.codes[5]); pr.Refused != ReasonNone {
		t.Fatalf("recovery: %+v", pr)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := svc.Wait(wait, sub, 1)
	if err != nil {
		t.Fatalf("no push reached the phone: %v", err)
	}
	var p NoticePayload
	if err := json.Unmarshal(msgs[0].Payload, &p); err != nil || !p.Notice || !strings.Contains(p.Text, "you signed in with a recovery code") {
		t.Errorf("the phone received %s (%v), want the recovery notice", msgs[0].Payload, err)
	}
}

// TestRecoveryCodeWithTemporaryPassword: a user signed in with an
// admin's temporary password goes on to choose their own after a
// recovery code, as after any second step.
func TestRecoveryCodeWithTemporaryPassword(t *testing.T) {
	ctx := context.Background()
	f := newRecoveryFixture(t)
	if _, _, err := f.c.Accounts.As(CLIActor("tester")).ResetPassword(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	u, err := f.c.Accounts.ByID(ctx, f.alice.ID)
	if err != nil || !u.TemporaryPassword() {
		t.Fatalf("alice after the reset: %+v, %v", u, err)
	}
	f.alice = u
	if pr := f.use(t, f.codes[0]); pr.Refused != ReasonNone || pr.State != StateNewPassword {
		t.Errorf("recovery code with a temporary password: %+v, want the new password step", pr)
	}
}
