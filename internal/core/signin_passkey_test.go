package core

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// passkeySignIn is a passkeyFixture whose core runs on a counting store
// (account limit 3) and whose user has a password and a registered
// passkey: the sign-in's passkey step.
type passkeySignIn struct {
	*passkeyFixture
	counted *countingstore.Store
	n       int // sessions begun
}

func newPasskeySignIn(t *testing.T) *passkeySignIn {
	t.Helper()
	counted := countingstore.New(teststore.Open(t))
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(counted, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Issuer: "Example",
		RPID: "example.com", Lockout: bruteforce.Config{AccountLimit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Accounts.Add(t.Context(), NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	f := &passkeyFixture{c: c, st: counted, user: u, now: time.Now(),
		site: PasskeySite{Scheme: "https", Host: "mfa.example.com"},
		rp:   virtualwebauthn.RelyingParty{ID: "example.com", Name: "Example", Origin: "https://mfa.example.com"},
		auth: virtualwebauthn.NewAuthenticator(), cred: newSoftwareCredential(),
		sess: bytes.Repeat([]byte{0xa}, 32)}
	f.auth.Aaguid = yubiKey5
	c.Passkeys.now = func() time.Time { return f.now }
	f.register(t)
	return &passkeySignIn{passkeyFixture: f, counted: counted}
}

// password signs in with the password on f.site and returns the pending
// session it stored and where it stands.
func (f *passkeySignIn) password(t *testing.T) (Pending, State) {
	t.Helper()
	f.n++
	id := hashOf("pending " + string(rune('A'+f.n)))
	pr, err := f.c.SignIn.Password(t.Context(), PasswordInput{Username: "alice", Password: "right password",
		Site: policy.Site{}, Passkey: f.site, Client: Client{IP: "192.0.2.9", Site: "mfa.example.com"},
		Rotation: Rotation{IDHash: id, Origin: "https://mfa.example.com", At: time.Now()}})
	if err != nil || pr.Refused != ReasonNone {
		t.Fatalf("password: %+v %v", pr, err)
	}
	s, err := f.st.SessionByHash(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.st.UserByID(t.Context(), f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	return Pending{Session: *s, User: *u}, pr.State
}

// step sends answer in the passkey step of pending.
func (f *passkeySignIn) step(t *testing.T, pending Pending, answer []byte) Progress {
	t.Helper()
	pr, err := f.c.SignIn.Passkey(t.Context(), PasskeyInput{Site: f.site, Response: answer, Pending: pending,
		Client:   Client{IP: "192.0.2.9", Site: "mfa.example.com"},
		Rotation: Rotation{OldHash: pending.Session.IDHash, IDHash: hashOf(string(pending.Session.IDHash) + "next"), Origin: pending.Session.Origin, At: time.Now()}})
	if err != nil {
		t.Fatalf("Passkey: %v", err)
	}
	return pr
}

// stage is where the session record hash stands now ("" when gone).
func (f *passkeySignIn) stage(t *testing.T, hash []byte) model.Stage {
	t.Helper()
	s, err := f.st.SessionByHash(t.Context(), hash)
	if err != nil {
		return ""
	}
	return s.Stage
}

func (f *passkeySignIn) lastSignIn(t *testing.T) model.SignIn {
	t.Helper()
	rows, err := f.c.SignInLog.Recent(t.Context(), f.user.ID, 1)
	if err != nil || len(rows) == 0 {
		t.Fatalf("sign-in log: %v %v", rows, err)
	}
	return rows[0]
}

// TestPasskeySignInSecondFactor: after the password, a user with a
// passkey usable on the site stands at the passkey step; an answer to
// the challenge bound to the pending session completes it under a new
// identity, with the audit row and a sign-in log row naming the passkey;
// the step is the failure claim and ONE apply transaction.
func TestPasskeySignInSecondFactor(t *testing.T) {
	f := newPasskeySignIn(t)
	pending, state := f.password(t)
	if state != StatePasskey {
		t.Fatalf("after the password: %q, want %q", state, StatePasskey)
	}
	f.cred.Counter = 3
	answer := f.answer(f.rp, f.beginAssertion(t, pending.Session.IDHash))
	f.counted.Reset()
	pr := f.step(t, pending, answer)
	if w := f.counted.Writes(); !slices.Equal(w, []string{"Update", "Update"}) {
		t.Errorf("passkey step writes %v, want the claim then one apply transaction", w)
	}
	if pr.Refused != ReasonNone || pr.State != StateComplete || !pr.Rotated {
		t.Fatalf("progress = %+v", pr)
	}
	if f.stage(t, pending.Session.IDHash) != "" {
		t.Errorf("the pending record survived its rotation")
	}
	if got := f.stage(t, hashOf(string(pending.Session.IDHash)+"next")); got != model.StageComplete {
		t.Errorf("new record's stage = %q, want complete", got)
	}
	row := f.lastSignIn(t)
	if row.SecondFactor != "passkey" || row.Result != model.SignInSuccess {
		t.Errorf("sign-in log row = %+v", row)
	}
	evs := f.events(t)
	if !hasPasskeyEvent(evs, audit.SignInComplete) || !hasPasskeyEvent(evs, audit.SignInPasskeyOK) {
		t.Errorf("audit = %v", evs)
	}
	stored, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if stored[0].SignCount != 3 || stored[0].LastUsedAt.IsZero() {
		t.Errorf("credential after use = %+v", stored[0])
	}
}

// refused checks a refused passkey step: at the passkey step still, the
// session pending, a failure row in the sign-in log.
func (f *passkeySignIn) refused(t *testing.T, what string, pending Pending, pr Progress, want Reason) {
	t.Helper()
	if pr.State != StatePasskey || pr.Refused != want {
		t.Errorf("%s: progress = %+v, want refused (%v)", what, pr, want)
	}
	if got := f.stage(t, pending.Session.IDHash); got != model.StagePassword {
		t.Errorf("%s: the pending session is at %q, want still pending", what, got)
	}
	if row := f.lastSignIn(t); row.Result != model.SignInFailure || row.SecondFactor != "passkey" {
		t.Errorf("%s: sign-in log row = %+v", what, row)
	}
}

// TestPasskeySignInWrongOriginOrRPID: an answer collected on another
// origin, or for another RP ID, does not complete the sign-in.
func TestPasskeySignInWrongOriginOrRPID(t *testing.T) {
	f := newPasskeySignIn(t)
	pending, _ := f.password(t)
	evil := f.rp
	evil.Origin = "https://mfa.example.com.evil.org"
	pr := f.step(t, pending, f.answer(evil, f.beginAssertion(t, pending.Session.IDHash)))
	f.refused(t, "wrong origin", pending, pr, ReasonPasskeyRefused)
	wrong := f.rp
	wrong.ID = "mfa.example.com"
	pr = f.step(t, pending, f.answer(wrong, f.beginAssertion(t, pending.Session.IDHash)))
	f.refused(t, "wrong RP ID", pending, pr, ReasonPasskeyRefused)
}

// TestPasskeySignInReplayRefused: an answer that completed one sign-in
// completes no other: not without a challenge, not against a new one.
func TestPasskeySignInReplayRefused(t *testing.T) {
	f := newPasskeySignIn(t)
	first, _ := f.password(t)
	f.cred.Counter = 1
	answer := f.answer(f.rp, f.beginAssertion(t, first.Session.IDHash))
	if pr := f.step(t, first, answer); pr.State != StateComplete {
		t.Fatalf("first use: %+v", pr)
	}
	second, _ := f.password(t)
	f.refused(t, "replay, nothing pending", second, f.step(t, second, answer), ReasonPasskeyRefused)
	f.beginAssertion(t, second.Session.IDHash)
	f.refused(t, "replay against a new challenge", second, f.step(t, second, answer), ReasonRepeat)
	// The same answer, as a new guess (another sign-in): still refused.
	third, _ := f.password(t)
	f.beginAssertion(t, third.Session.IDHash)
	pr := f.step(t, third, answer)
	if pr.State == StateComplete {
		t.Errorf("replayed answer completed a third sign-in")
	}
}

// TestPasskeySignInBoundToSession: the answer to session A's challenge
// does not complete session B; A's own step still takes it.
func TestPasskeySignInBoundToSession(t *testing.T) {
	f := newPasskeySignIn(t)
	a, _ := f.password(t)
	b, _ := f.password(t)
	answerA := f.answer(f.rp, f.beginAssertion(t, a.Session.IDHash))
	f.refused(t, "A's answer in B (nothing pending in B)", b, f.step(t, b, answerA), ReasonPasskeyRefused)
	if got := f.stage(t, b.Session.IDHash); got != model.StagePassword {
		t.Errorf("B at %q", got)
	}
	if pr := f.step(t, a, answerA); pr.State != StateComplete {
		t.Errorf("A's answer in A: %+v", pr)
	}
}

// TestPasskeySignInCounterRegression: a sign count that goes backwards
// refuses the step and is audited.
func TestPasskeySignInCounterRegression(t *testing.T) {
	f := newPasskeySignIn(t)
	first, _ := f.password(t)
	f.cred.Counter = 10
	if pr := f.step(t, first, f.answer(f.rp, f.beginAssertion(t, first.Session.IDHash))); pr.State != StateComplete {
		t.Fatalf("first use: %+v", pr)
	}
	second, _ := f.password(t)
	f.cred.Counter = 4
	pr := f.step(t, second, f.answer(f.rp, f.beginAssertion(t, second.Session.IDHash)))
	f.refused(t, "sign count 4 after 10", second, pr, ReasonPasskeyCloned)
	if !hasPasskeyEvent(f.events(t), audit.SignInPasskeyCloned) {
		t.Errorf("the regression is not audited")
	}
}

// TestPasskeySignInDeletedCredential: a passkey deleted after the step
// began does not complete it.
func TestPasskeySignInDeletedCredential(t *testing.T) {
	f := newPasskeySignIn(t)
	pending, _ := f.password(t)
	answer := f.answer(f.rp, f.beginAssertion(t, pending.Session.IDHash))
	cs, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if err := f.c.Passkeys.Delete(context.Background(), f.user, cs[0].ID, false, pending.Session.IDHash, ""); err != nil {
		t.Fatal(err)
	}
	f.refused(t, "deleted credential", pending, f.step(t, pending, answer), ReasonPasskeyRefused)
}

// TestPasskeySignInRefusalsCount: refused answers count against the
// account's limit like wrong codes: once it is reached even a right
// answer is refused unjudged, its challenge left alone.
func TestPasskeySignInRefusalsCount(t *testing.T) {
	f := newPasskeySignIn(t)
	pending, _ := f.password(t)
	evil := f.rp
	evil.Origin = "https://evil.example.org"
	for i := range 3 {
		pr := f.step(t, pending, f.answer(evil, f.beginAssertion(t, pending.Session.IDHash)))
		if pr.Refused != ReasonPasskeyRefused {
			t.Fatalf("refusal %d: %+v", i, pr)
		}
	}
	// Each refusal is one more consecutive failed sign-in too.
	if n, err := f.st.FailedSignIns(t.Context(), f.user.ID); err != nil || n != 3 {
		t.Errorf("consecutive failed sign-ins after 3 refused assertions: %d, %v", n, err)
	}
	pr := f.step(t, pending, f.answer(f.rp, f.beginAssertion(t, pending.Session.IDHash)))
	f.refused(t, "right answer over the limit", pending, pr, ReasonAccountLocked)
}

// TestFirstMethodOrder: the user's own default wins when they have it
// here; without one the strongest goes first: passkey, phone, code.
func TestFirstMethodOrder(t *testing.T) {
	cases := []struct {
		chosen               model.Method
		passkey, phone, code bool
		want                 State
	}{
		{model.MethodNone, true, true, true, StatePasskey},
		{model.MethodNone, false, true, true, StatePhone},
		{model.MethodNone, false, false, true, StateCode},
		{model.MethodNone, false, false, false, ""},
		{model.MethodCode, true, true, true, StateCode},
		{model.MethodPush, true, true, true, StatePhone},
		{model.MethodPasskey, true, true, true, StatePasskey},
		// A default the user has not here: the system's order.
		{model.MethodPasskey, false, true, true, StatePhone},
		{model.MethodPush, true, false, true, StatePasskey},
		{model.MethodCode, false, true, false, StatePhone},
	}
	for _, c := range cases {
		if got := firstMethod(c.chosen, c.passkey, c.phone, c.code); got != c.want {
			t.Errorf("firstMethod(%q, passkey %v, phone %v, code %v) = %q, want %q", c.chosen, c.passkey, c.phone, c.code, got, c.want)
		}
	}
}

// TestPasswordLeadsToSystemPreferredMethod: after the password, a user
// with a passkey, a phone and an authenticator app and no default goes
// to the passkey; on a site whose host is not under the RP ID (or with
// no site to run a ceremony on) to the phone; their chosen default (the
// code) wins.
func TestPasswordLeadsToSystemPreferredMethod(t *testing.T) {
	f := newPasskeySignIn(t)
	sf := &signInFixture{c: f.c, st: f.counted, alice: f.user}
	pairPhoneForTest(t, sf)
	sealed, _ := f.c.Codes.Seal(f.user.ID, []byte("0123456789abcdefghij"))
	if err := f.c.Methods.AddAuthenticator(t.Context(), f.user, sealed, "192.0.2.1", false); err != nil {
		t.Fatal(err)
	}
	if _, state := f.password(t); state != StatePasskey {
		t.Errorf("no default: %q, want passkey", state)
	}
	f.site = PasskeySite{Scheme: "https", Host: "app.example.org"}
	if _, state := f.password(t); state != StatePhone {
		t.Errorf("site not under the RP ID: %q, want phone", state)
	}
	f.site = PasskeySite{}
	if _, state := f.password(t); state != StatePhone {
		t.Errorf("no passkey site: %q, want phone", state)
	}
	f.site = PasskeySite{Scheme: "https", Host: "mfa.example.com"}
	if err := f.c.Methods.SetDefaultMethod(t.Context(), f.user, model.MethodCode, ""); err != nil {
		t.Fatal(err)
	}
	if _, state := f.password(t); state != StateCode {
		t.Errorf("default code: %q, want code", state)
	}
}

// TestReverifyPasskey: a complete session re-verifies with a passkey:
// the challenge bound to it, the claim and one transaction, the session
// under a new identifier with its second factor's time now; an answer
// from another origin is refused and audited, the session unchanged.
func TestReverifyPasskey(t *testing.T) {
	f := newPasskeySignIn(t)
	pending, _ := f.password(t)
	f.cred.Counter = 1
	if pr := f.step(t, pending, f.answer(f.rp, f.beginAssertion(t, pending.Session.IDHash))); pr.State != StateComplete {
		t.Fatalf("sign-in: %+v", pr)
	}
	done, err := f.st.SessionByHash(t.Context(), hashOf(string(pending.Session.IDHash)+"next"))
	if err != nil {
		t.Fatal(err)
	}
	complete := Pending{Session: *done, User: pending.User}
	reverify := func(answer []byte, next string) Progress {
		t.Helper()
		pr, err := f.c.SignIn.ReverifyPasskey(t.Context(), PasskeyInput{Site: f.site, Response: answer, Pending: complete,
			Client:   Client{IP: "192.0.2.9"},
			Rotation: Rotation{OldHash: done.IDHash, IDHash: hashOf(next), Origin: done.Origin, At: time.Now().Add(time.Minute)}},
			ReverifySecurityInfo)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	evil := f.rp
	evil.Origin = "https://evil.example.org"
	f.cred.Counter = 2
	if pr := reverify(f.answer(evil, f.beginAssertion(t, done.IDHash)), "bad"); pr.Refused != ReasonPasskeyRefused || pr.Rotated {
		t.Errorf("wrong origin: %+v", pr)
	}
	if f.stage(t, done.IDHash) != model.StageComplete {
		t.Errorf("the session changed on a refusal")
	}
	f.cred.Counter = 3
	answer := f.answer(f.rp, f.beginAssertion(t, done.IDHash))
	f.counted.Reset()
	pr := reverify(answer, "reverified")
	if w := f.counted.Writes(); !slices.Equal(w, []string{"Update", "Update"}) {
		t.Errorf("re-verification writes %v, want the claim then one apply transaction", w)
	}
	if pr.Refused != ReasonNone || !pr.Rotated {
		t.Fatalf("re-verification: %+v", pr)
	}
	s, err := f.st.SessionByHash(t.Context(), hashOf("reverified"))
	if err != nil || !s.MFAAt.After(done.MFAAt) || s.Stage != model.StageComplete {
		t.Errorf("re-verified session = %+v, %v", s, err)
	}
}
