package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// passFixture is the sign-in fixture (alice, Enforced, with an
// authenticator she lost) with a fake clock for issuing and judging.
type passFixture struct {
	*signInFixture
	now time.Time
	n   int
}

func newPassFixture(t *testing.T) *passFixture {
	t.Helper()
	f := &passFixture{signInFixture: newSignInFixture(t, teststore.Open(t), model.StagePassword),
		now: time.Now().UTC().Truncate(time.Second)}
	f.c.Admin.now = func() time.Time { return f.now }
	f.c.SignIn.now = func() time.Time { return f.now }
	return f
}

// issue gives alice a pass as the CLI does.
func (f *passFixture) issue(t *testing.T, lifetime time.Duration, once bool) string {
	t.Helper()
	pass, expires, err := f.c.Accounts.As(CLIActor("root")).IssueAccessPass(context.Background(), "alice", lifetime, once)
	if err != nil {
		t.Fatalf("issuing a pass: %v", err)
	}
	want := lifetime
	if want == 0 {
		want = AccessPassDefaultLifetime
	}
	if !expires.Equal(f.now.Add(want)) {
		t.Fatalf("pass expires %v, want %v", expires, f.now.Add(want))
	}
	return pass
}

// signIn signs in as name with pass, from a new browser.
func (f *passFixture) signIn(t *testing.T, name, pass string) Progress {
	t.Helper()
	f.n++
	pr, err := f.c.SignIn.AccessPass(context.Background(), AccessPassInput{Username: name, Pass: pass, RedirectTo: "/.mfa/security",
		Client: Client{IP: "192.0.2.9", Site: "site.example"}, Rotation: Rotation{IDHash: hashOf("pass browser " + string(rune('a'+f.n))),
			Origin: "https://site.example", At: f.now}})
	if err != nil {
		t.Fatalf("access pass sign-in: %v", err)
	}
	return pr
}

func (f *passFixture) auditEvents(t *testing.T) []string {
	t.Helper()
	evs, err := f.st.AuditEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Event+": "+e.Detail)
	}
	return out
}

func hasPassEvent(events []string, prefix string) bool {
	return slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, prefix) })
}

// TestAccessPassLifetimeBounds: 10 minutes to 30 days (default 1 hour);
// a multi-use pass at most 8 hours, refused with an error that says so.
func TestAccessPassLifetimeBounds(t *testing.T) {
	for _, tc := range []struct {
		lifetime time.Duration
		once     bool
		ok       bool
	}{
		{0, false, true}, {10 * time.Minute, false, true}, {10*time.Minute - time.Second, true, false},
		{8 * time.Hour, false, true}, {8*time.Hour + time.Minute, false, false}, {8*time.Hour + time.Minute, true, true},
		{30 * 24 * time.Hour, true, true}, {30*24*time.Hour + time.Minute, true, false},
	} {
		act, err := Action{Kind: ActionAccessPass, Lifetime: tc.lifetime, Once: tc.once}.CheckAccessPass()
		if (err == nil) != tc.ok {
			t.Errorf("lifetime %v once %v: %v, want ok %v", tc.lifetime, tc.once, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrAccessPassLifetime) {
			t.Errorf("lifetime %v: error %v is not ErrAccessPassLifetime", tc.lifetime, err)
		}
		if tc.lifetime == 0 && act.Lifetime != time.Hour {
			t.Errorf("default lifetime %v, want 1h", act.Lifetime)
		}
	}
	_, err := Action{Kind: ActionAccessPass, Lifetime: 9 * time.Hour}.CheckAccessPass()
	if err == nil || !strings.Contains(err.Error(), "at most 8 hours") {
		t.Errorf("9h multi-use: %v, want the 8-hour cap named", err)
	}
	f := newPassFixture(t)
	if _, _, err := f.c.Accounts.As(CLIActor("")).IssueAccessPass(context.Background(), "alice", 9*time.Hour, false); !errors.Is(err, ErrAccessPassLifetime) {
		t.Errorf("issuing a 9h multi-use pass: %v, want refused", err)
	}
	if _, err := f.st.AccessPass(context.Background(), f.alice.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a refused issue stored a pass: %v", err)
	}
}

// TestAccessPassWorksWithinItsLifetimeOnly: a multi-use pass signs in
// twice within its lifetime, into a session that reaches Security info
// only; at its expiry it is refused, removed, and its expiry audited.
func TestAccessPassWorksWithinItsLifetimeOnly(t *testing.T) {
	f := newPassFixture(t)
	pass := f.issue(t, 0, false)
	if len(strings.ReplaceAll(pass, "-", "")) != 16 {
		t.Fatalf("pass %q: want 16 symbols", pass)
	}
	stored, err := f.st.AccessPass(context.Background(), f.alice.ID)
	if err != nil || strings.Contains(stored.Hash, strings.ReplaceAll(pass, "-", "")) || !strings.HasPrefix(stored.Hash, "$2") {
		t.Fatalf("stored pass %+v, %v: want a bcrypt hash", stored, err)
	}
	pr := f.signIn(t, "alice", strings.ToLower(pass))
	if pr.Refused != ReasonNone || pr.State != StateAccessPass || !pr.Rotated {
		t.Fatalf("first use: %+v", pr)
	}
	f.now = f.now.Add(59 * time.Minute)
	pr = f.signIn(t, "Alice", strings.ReplaceAll(pass, "-", " "))
	if pr.Refused != ReasonNone || pr.State != StateAccessPass {
		t.Fatalf("second use of a multi-use pass within its lifetime: %+v", pr)
	}
	rec, _, err := f.c.Sessions.Find(context.Background(), hashOf("pass browser "+string(rune('a'+f.n))))
	if err != nil || rec == nil || rec.Stage != model.StageAccessPass || !rec.MFAAt.Equal(f.now) || rec.RedirectTo != "/.mfa/security" {
		t.Fatalf("restricted session %+v, %v", rec, err)
	}
	if (policy.Site{}).SessionSatisfies(rec, f.alice) || (policy.Site{RequireMFA: true}).SessionSatisfies(rec, f.alice) {
		t.Error("a pass session satisfies a site's policy: it would reach the upstream")
	}
	f.now = f.now.Add(time.Minute) // exactly its expiry
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonAccessPassExpired || pr.State != StatePassword {
		t.Fatalf("at expiry: %+v, want refused as expired", pr)
	}
	if _, err := f.st.AccessPass(context.Background(), f.alice.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the expired pass was not removed: %v", err)
	}
	evs := f.auditEvents(t)
	if !hasPassEvent(evs, audit.AccessPassExpired+": multi-use pass expired") || !hasPassEvent(evs, audit.AccessPassIssued+": Temporary Access Pass issued (multi-use, valid 1 hour") ||
		!hasPassEvent(evs, audit.SignInAccessPassOK+": multi-use pass, use 2") {
		t.Errorf("audit rows %v: want the issue, the uses and the expiry", evs)
	}
	rows, err := f.c.SignInLog.Recent(context.Background(), f.alice.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Result != model.SignInFailure || rows[1].Factors() != "access pass" || rows[1].Result != model.SignInSuccess {
		t.Errorf("sign-in log %+v", rows)
	}
}

// TestAccessPassOnceWorksOnce: a one-time pass signs in once; the second
// use is refused (and counts as a failure).
func TestAccessPassOnceWorksOnce(t *testing.T) {
	f := newPassFixture(t)
	pass := f.issue(t, 2*24*time.Hour, true)
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonNone {
		t.Fatalf("first use: %+v", pr)
	}
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonAccessPassUsed {
		t.Fatalf("second use of a one-time pass: %+v, want refused", pr)
	}
}

// TestAccessPassAtMostOnePerUser: issuing another pass replaces the
// first, which no longer works; the replacement is audited.
func TestAccessPassAtMostOnePerUser(t *testing.T) {
	f := newPassFixture(t)
	first := f.issue(t, time.Hour, false)
	second := f.issue(t, time.Hour, true)
	if pr := f.signIn(t, "alice", first); pr.Refused != ReasonWrongAccessPass {
		t.Fatalf("the replaced pass: %+v, want refused", pr)
	}
	if pr := f.signIn(t, "alice", second); pr.Refused != ReasonNone {
		t.Fatalf("the new pass: %+v", pr)
	}
	if evs := f.auditEvents(t); !hasPassEvent(evs, audit.AccessPassReplaced+": multi-use pass issued") {
		t.Errorf("audit rows %v: want the replacement", evs)
	}
}

// TestAccessPassNeverIssuedToSelf: an admin cannot issue a pass to
// themselves in the admin center; another admin can issue them one.
func TestAccessPassNeverIssuedToSelf(t *testing.T) {
	f := newAdminFixture(t, "")
	root := f.user(t, "root", true, AdminGroup)
	other := f.user(t, "other", true, AdminGroup)
	res := f.apply(t, root, Action{Kind: ActionAccessPass}, root.ID)
	if len(res) != 1 || res[0].Kind != ResultSkipped || res[0].Secret != "" {
		t.Fatalf("self-issue: %+v, want skipped without a pass", res)
	}
	if _, err := f.st.AccessPass(f.ctx, root.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("self-issue stored a pass: %v", err)
	}
	res = f.apply(t, other, Action{Kind: ActionAccessPass, Lifetime: 30 * time.Minute, Once: true}, root.ID)
	if len(res) != 1 || res[0].Kind != ResultChanged || len(res[0].Secret) != 19 || res[0].Expires.IsZero() {
		t.Fatalf("issue by another admin: %+v", res)
	}
	if _, err := f.c.Admin.Apply(f.ctx, AdminActor(other, ""), Action{Kind: ActionAccessPass}, []int64{root.ID, other.ID}); err == nil {
		t.Error("a pass issued to two users at once")
	}
}

// TestAccessPassRefusalsCountAgainstTheAccount: wrong passes claim the
// account's failure slots; at the limit even the right pass is refused
// as locked, and so is the password.
func TestAccessPassRefusalsCountAgainstTheAccount(t *testing.T) {
	f := newPassFixture(t)
	pass := f.issue(t, 0, false)
	for i := range bruteforce.DefaultAccountLimit {
		wrong := "WRONGPASS" + string(rune('A'+i)) + "AAAAAA"
		if pr := f.signIn(t, "alice", wrong); pr.Refused != ReasonWrongAccessPass {
			t.Fatalf("wrong pass %d: %+v", i, pr)
		}
	}
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonAccountLocked {
		t.Fatalf("right pass after the limit: %+v, want locked", pr)
	}
	pr, err := f.c.SignIn.Password(context.Background(), PasswordInput{Username: "alice", Password: "right password",
		Client: Client{IP: "192.0.2.10"}, Rotation: Rotation{IDHash: hashOf("pw"), At: time.Now()}})
	if err != nil || pr.Refused != ReasonAccountLocked {
		t.Fatalf("password after wrong passes: %+v %v, want locked", pr, err)
	}
}

// TestAccessPassIsClaimThenOneTransaction: a right pass and a wrong one
// each take the claim and one apply transaction.
func TestAccessPassIsClaimThenOneTransaction(t *testing.T) {
	f := newPassFixture(t)
	pass := f.issue(t, 0, true)
	f.st.Reset()
	if pr := f.signIn(t, "alice", "AAAA-BBBB-CCCC-DDDD"); pr.Refused == ReasonNone {
		t.Fatal("a wrong pass passed")
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
		t.Errorf("wrong pass: writes %v, want the claim and one apply", got)
	}
	f.st.Reset()
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonNone {
		t.Fatalf("right pass: %+v", pr)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
		t.Errorf("right pass: writes %v, want the claim and one apply", got)
	}
}

// TestAccessPassAccountChecks: a blocked account is refused (told so
// only with the right pass), an account with an admin's temporary
// password is refused, a removed one is unknown: as at the password step.
func TestAccessPassAccountChecks(t *testing.T) {
	ctx := context.Background()
	f := newPassFixture(t)
	pass := f.issue(t, 0, false)
	if pr := f.signIn(t, "alice", "AAAA-BBBB-CCCC-DDDD"); pr.Refused != ReasonWrongAccessPass {
		t.Fatalf("wrong pass: %+v", pr)
	}
	if err := f.c.Accounts.Block(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	pr := f.signIn(t, "alice", pass)
	if pr.Refused != ReasonBlocked || pr.BlockedReason == "" || pr.State != StatePassword {
		t.Fatalf("blocked account: %+v, want refused as blocked", pr)
	}
	if _, err := f.c.Accounts.Unblock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.c.Accounts.ResetPassword(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonTemporaryPassword || pr.State != StatePassword {
		t.Fatalf("temporary-password account: %+v, want refused", pr)
	}
	if err := f.c.Accounts.Remove(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if pr := f.signIn(t, "alice", pass); pr.Refused != ReasonUnknownUser {
		t.Fatalf("removed account: %+v, want unknown", pr)
	}
}

// TestAccessPassIsAnnounced: a sign-in with a pass is a recovery, and
// every recovery is announced like a recovery code's: a notice on
// Security info naming the pass, due once at the next sign-in, and a push
// to the user's paired phone after the commit.
func TestAccessPassIsAnnounced(t *testing.T) {
	ctx := context.Background()
	f := newPassFixture(t)
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

	if pr := f.signIn(t, "alice", f.issue(t, 0, true)); pr.Refused != ReasonNone || pr.State != StateAccessPass {
		t.Fatalf("pass sign-in: %+v", pr)
	}
	notices, err := f.c.RecoveryNotices.Pending(ctx, f.alice.ID)
	if err != nil || len(notices) != 1 || notices[0].Kind != model.RecoveryByPass || notices[0].RemoteIP != "192.0.2.9" {
		t.Fatalf("notices %+v, %v; want one naming the pass", notices, err)
	}
	if text := NoticeText(notices[0]); !strings.Contains(text, "Temporary Access Pass") {
		t.Errorf("notice text %q does not name the pass", text)
	}
	if due, _ := f.c.RecoveryNotices.DueAtSignIn(ctx, f.alice.ID, f.now.Add(time.Minute)); len(due) != 1 {
		t.Errorf("due at the next sign-in: %+v, want the notice", due)
	}
	sender.mu.Lock()
	defer sender.mu.Unlock()
	if len(sender.msgs) != 1 || sender.msgs[0].Subscription.Endpoint != sub.Endpoint {
		t.Fatalf("pushed %+v, want one message to the phone", sender.msgs)
	}

	// A refused pass announces nothing.
	if pr := f.signIn(t, "alice", "AAAA-AAAA-AAAA-AAAA"); pr.Refused == ReasonNone {
		t.Fatalf("a wrong pass passed: %+v", pr)
	}
	if ns, _ := f.c.RecoveryNotices.Pending(ctx, f.alice.ID); len(ns) != 1 {
		t.Errorf("notices after a refused pass: %d, want still 1", len(ns))
	}
}
