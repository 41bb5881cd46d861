package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// passwordlessFixture is a passkeyFixture on a store that counts its
// writes, with alice's passkey registered and her software authenticator
// answering with her user handle (a discoverable credential).
type passwordlessFixture struct {
	*passkeyFixture
	counting *countingstore.Store
	handle   []byte
}

func newPasswordlessFixture(t *testing.T) *passwordlessFixture {
	t.Helper()
	return newPasswordlessFixtureOn(t, teststore.Open(t))
}

// newPasswordlessFixtureOn is newPasswordlessFixture on st.
func newPasswordlessFixtureOn(t *testing.T, st store.Store) *passwordlessFixture {
	t.Helper()
	counting := countingstore.New(st)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(counting, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Issuer: "Example",
		RPID: "example.com", Lockout: bruteforce.Config{AccountLimit: 10, IPLimit: 50}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Accounts.Add(t.Context(), NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	f := &passwordlessFixture{counting: counting, passkeyFixture: &passkeyFixture{c: c, st: counting, user: u,
		now:  time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
		site: PasskeySite{Scheme: "https", Host: "mfa.example.com"},
		rp:   virtualwebauthn.RelyingParty{ID: "example.com", Name: "Example", Origin: "https://mfa.example.com"},
		auth: virtualwebauthn.NewAuthenticator(), cred: newSoftwareCredential(),
		sess: bytes.Repeat([]byte{0xa}, 32)}}
	c.Passkeys.now = func() time.Time { return f.now }
	f.register(t)
	f.handle = userHandle(t, counting, u.ID)
	f.auth.Options.UserHandle = f.handle
	return f
}

// userHandle is the user's stored WebAuthn user handle.
func userHandle(t *testing.T, st store.Store, userID int64) []byte {
	t.Helper()
	var h []byte
	err := st.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
		var err error
		h, err = tx.WebAuthnUserHandle(ctx, userID, bytes.Repeat([]byte{0xff}, 32))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// begin asks for passwordless options on f.site: the options as the
// authenticator reads them and the challenge cookie's token.
func (f *passwordlessFixture) begin(t *testing.T) (*virtualwebauthn.AssertionOptions, string) {
	t.Helper()
	raw, token, err := f.c.SignIn.PasswordlessOptions(policy.Site{}, f.site)
	if err != nil {
		t.Fatalf("PasswordlessOptions: %v", err)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(string(raw))
	if err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return opts, token
}

// newRotation is a fresh session identity for a browser with no session.
func (f *passwordlessFixture) newRotation() Rotation {
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return Rotation{IDHash: id, Origin: "https://mfa.example.com:443", At: f.now}
}

// signIn sends answer with the cookie's token from a new browser.
func (f *passwordlessFixture) signIn(t *testing.T, token string, answer []byte) (Progress, Rotation) {
	t.Helper()
	rot := f.newRotation()
	pr, err := f.c.SignIn.Passwordless(t.Context(), PasswordlessInput{Token: token, Response: answer, RedirectTo: "/app",
		Where: f.site, Client: Client{IP: "192.0.2.1", UserAgent: "test", Site: "mfa.example.com"}, Rotation: rot})
	if err != nil {
		t.Fatalf("Passwordless: %v", err)
	}
	return pr, rot
}

// refused checks that an answer was refused for why, said nothing of the
// account, and stored no session.
func (f *passwordlessFixture) refused(t *testing.T, what string, pr Progress, rot Rotation, why Reason) {
	t.Helper()
	if pr.State != StatePassword || pr.Refused != why || pr.Rotated || pr.User != nil || pr.BlockedReason != "" {
		t.Errorf("%s: progress = %+v, want refused (%v) and nothing about the account", what, pr, why)
	}
	if _, err := f.st.SessionByHash(t.Context(), rot.IDHash); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("%s: a session was stored: %v", what, err)
	}
}

// TestPasswordlessSignIn: a discoverable passkey with user verification
// signs alice in without her password: the session is complete with its
// second factor done, the sign count and last use are recorded, the
// audit and sign-in log say how, and her failure slots are given back.
// The options ask for user verification and list no credentials.
func TestPasswordlessSignIn(t *testing.T) {
	f := newPasswordlessFixture(t)
	raw, token, err := f.c.SignIn.PasswordlessOptions(policy.Site{}, f.site)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			Challenge        string `json:"challenge"`
			RPID             string `json:"rpId"`
			UserVerification string `json:"userVerification"`
			AllowCredentials []any  `json:"allowCredentials"`
			Timeout          int    `json:"timeout"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	challenge, _ := base64.RawURLEncoding.DecodeString(o.PublicKey.Challenge)
	if o.PublicKey.RPID != "example.com" || o.PublicKey.UserVerification != "required" || len(o.PublicKey.AllowCredentials) != 0 ||
		len(challenge) != 32 || o.PublicKey.Timeout != int(PasskeyChallengeLifetime.Milliseconds()) {
		t.Errorf("options = %s", raw)
	}
	opts, _ := virtualwebauthn.ParseAssertionOptions(string(raw))
	f.cred.Counter = 4
	pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
	if pr.State != StateComplete || pr.Refused != ReasonNone || !pr.Rotated || pr.User == nil || pr.User.ID != f.user.ID ||
		pr.RedirectTo != "/app" {
		t.Fatalf("progress = %+v, want complete as alice", pr)
	}
	sess, err := f.st.SessionByHash(t.Context(), rot.IDHash)
	if err != nil || sess.UserID != f.user.ID || sess.Stage != model.StageComplete || sess.MFAAt.IsZero() ||
		sess.RedirectTo != "/app" {
		t.Fatalf("session = %+v, %v; want alice's, complete, second factor done", sess, err)
	}
	if !(policy.Site{}).SessionSatisfies(sess, f.user) || !(policy.Site{RequireMFA: true}).SessionSatisfies(sess, f.user) {
		t.Errorf("the session does not satisfy a site that requires MFA")
	}
	creds, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if creds[0].SignCount != 4 || !creds[0].LastUsedAt.Equal(f.now) {
		t.Errorf("credential after use = %+v", creds[0])
	}
	ev := f.events(t)
	if !hasPasskeyEvent(ev, audit.SignInComplete) || !hasPasskeyEvent(ev, audit.SignInPasskeyOK) {
		t.Errorf("audit = %v, want the passkey's use and the completed sign-in", ev)
	}
	rows, err := f.st.SignIns(t.Context(), model.SignInFilter{UserID: f.user.ID})
	if err != nil || len(rows) != 1 || rows[0].Result != model.SignInSuccess || rows[0].Factors() != "passkey" {
		t.Errorf("sign-in log = %+v, %v; want one success by passkey", rows, err)
	}
	for _, key := range []string{bruteforce.AccountKey("alice"), "ip:192.0.2.1"} {
		if fl, _ := f.st.FailuresFor(t.Context(), key); fl.Count != 0 {
			t.Errorf("%s counter = %d after a success, want 0", key, fl.Count)
		}
	}
}

// TestPasswordlessIsClaimThenOneTransaction: the transition, passed or
// refused, is the claim of its failure slots and one apply transaction;
// the options store nothing.
func TestPasswordlessIsClaimThenOneTransaction(t *testing.T) {
	f := newPasswordlessFixture(t)
	f.counting.Reset()
	opts, token := f.begin(t)
	if w := f.counting.Writes(); len(w) != 0 {
		t.Errorf("options wrote %v, want nothing", w)
	}
	f.counting.Reset()
	if pr, _ := f.signIn(t, token, f.answer(f.rp, opts)); pr.State != StateComplete {
		t.Fatalf("progress = %+v", pr)
	}
	if w := f.counting.Writes(); !slices.Equal(w, []string{"Update", "Update"}) {
		t.Errorf("a passwordless sign-in wrote %v, want the claim and one apply transaction", w)
	}
	f.counting.Reset()
	f.signIn(t, token, f.answer(f.rp, opts)) // replayed
	if w := f.counting.Writes(); !slices.Equal(w, []string{"Update", "Update"}) {
		t.Errorf("a refused passwordless sign-in wrote %v, want the claim and one apply transaction", w)
	}
}

// TestPasswordlessWrongOriginRefused: an answer collected on another
// origin than the site's, even under the RP ID, is refused, audited, and
// keeps its failure slots.
func TestPasswordlessWrongOriginRefused(t *testing.T) {
	f := newPasswordlessFixture(t)
	for _, origin := range []string{"https://mfa.example.com.evil.org", "https://app.example.com", "http://mfa.example.com",
		"https://mfa.example.com:443"} {
		opts, token := f.begin(t)
		evil := f.rp
		evil.Origin = origin
		pr, rot := f.signIn(t, token, f.answer(evil, opts))
		f.refused(t, origin, pr, rot, ReasonPasskeyRefused)
		if why := f.refusalWhy(t); !strings.Contains(why, "origin") {
			t.Errorf("answer from %s refused for %q, want its origin", origin, why)
		}
	}
	if fl, _ := f.st.FailuresFor(t.Context(), bruteforce.AccountKey("alice")); fl.Count == 0 {
		t.Errorf("refused answers gave their failure slots back")
	}
	if n, err := f.st.FailedSignIns(t.Context(), f.user.ID); err != nil || n != 4 {
		t.Errorf("consecutive failed sign-ins after 4 refused answers: %d, %v; want 4", n, err)
	}
}

// TestPasswordlessWrongRPIDRefused: an authenticator answering for
// another RP ID is refused.
func TestPasswordlessWrongRPIDRefused(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	wrong := f.rp
	wrong.ID = "mfa.example.com"
	pr, rot := f.signIn(t, token, f.answer(wrong, opts))
	f.refused(t, "another RP ID", pr, rot, ReasonPasskeyRefused)
	if why := f.refusalWhy(t); !strings.Contains(why, "RP Hash mismatch") {
		t.Errorf("refused for %q, want the RP ID hash", why)
	}
}

// TestPasswordlessReplayRefused: an answer and its cookie pass once;
// sent again (from any browser) they are refused as a replay.
func TestPasswordlessReplayRefused(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	f.cred.Counter = 1
	answer := f.answer(f.rp, opts)
	if pr, _ := f.signIn(t, token, answer); pr.State != StateComplete {
		t.Fatalf("first use: %+v", pr)
	}
	pr, rot := f.signIn(t, token, answer)
	f.refused(t, "replay", pr, rot, ReasonPasskeyReplayed)
	// A fresh answer (higher count) to the used challenge is refused too.
	f.cred.Counter = 2
	pr, rot = f.signIn(t, token, f.answer(f.rp, opts))
	f.refused(t, "a new answer to a used challenge", pr, rot, ReasonPasskeyReplayed)
}

// TestPasswordlessChallengeBoundToCookie: the challenge is the cookie's:
// browser A's answer sent with browser B's cookie is refused, and so is
// a cookie whose challenge was swapped (its MAC no longer matches) or
// that was made for another site.
func TestPasswordlessChallengeBoundToCookie(t *testing.T) {
	f := newPasswordlessFixture(t)
	optsA, tokenA := f.begin(t)
	_, tokenB := f.begin(t)
	answerA := f.answer(f.rp, optsA)
	pr, rot := f.signIn(t, tokenB, answerA)
	f.refused(t, "A's answer with B's cookie", pr, rot, ReasonPasskeyRefused)
	if why := f.refusalWhy(t); !strings.Contains(why, "hallenge") {
		t.Errorf("refused for %q, want the challenge", why)
	}

	// B swaps A's challenge into its own cookie: the MAC gives it away.
	rawA, _ := base64.RawURLEncoding.DecodeString(tokenA)
	rawB, _ := base64.RawURLEncoding.DecodeString(tokenB)
	forged := append(append([]byte{}, rawB[:9]...), rawA[9:challengeBodyLen]...)
	forged = append(forged, rawB[challengeBodyLen:]...)
	pr, rot = f.signIn(t, base64.RawURLEncoding.EncodeToString(forged), answerA)
	f.refused(t, "a forged cookie", pr, rot, ReasonPasskeyChallenge)

	// A cookie made on another site under the RP ID.
	_, other, err := f.c.SignIn.PasswordlessOptions(policy.Site{}, PasskeySite{Scheme: "https", Host: "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	pr, rot = f.signIn(t, other, answerA)
	f.refused(t, "another site's cookie", pr, rot, ReasonPasskeyChallenge)
	for _, token := range []string{"", "x", strings.Repeat("A", 200)} {
		pr, rot = f.signIn(t, token, answerA)
		f.refused(t, "cookie "+token, pr, rot, ReasonPasskeyChallenge)
	}
	// A's own cookie still works: nothing above used it.
	if pr, _ := f.signIn(t, tokenA, answerA); pr.State != StateComplete {
		t.Errorf("A's answer with A's cookie: %+v", pr)
	}
}

// TestPasswordlessChallengeExpired: a cookie answered within five
// minutes passes; after, it is refused.
func TestPasswordlessChallengeExpired(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	f.now = f.now.Add(PasskeyChallengeLifetime - time.Second)
	f.cred.Counter = 1
	if pr, _ := f.signIn(t, token, f.answer(f.rp, opts)); pr.State != StateComplete {
		t.Fatalf("within the lifetime: %+v", pr)
	}
	opts, token = f.begin(t)
	f.now = f.now.Add(PasskeyChallengeLifetime)
	f.cred.Counter = 2
	pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
	f.refused(t, "expired", pr, rot, ReasonPasskeyChallenge)
}

// TestPasswordlessCounterRegressionRefused: a sign count that goes
// backwards is refused and audited as a clone; the stored count stays.
func TestPasswordlessCounterRegressionRefused(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	f.cred.Counter = 10
	if pr, _ := f.signIn(t, token, f.answer(f.rp, opts)); pr.State != StateComplete {
		t.Fatal(pr)
	}
	for _, n := range []uint32{10, 3} {
		opts, token := f.begin(t)
		f.cred.Counter = n
		pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
		f.refused(t, "regression", pr, rot, ReasonPasskeyCloned)
	}
	if creds, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID); creds[0].SignCount != 10 {
		t.Errorf("stored sign count = %d, want 10", creds[0].SignCount)
	}
	if !hasPasskeyEvent(f.events(t), audit.SignInPasskeyCloned) {
		t.Errorf("the regression is not audited")
	}
	// The rule is checked again under the user's lock (a concurrent
	// sign-in may have passed the count between judge and apply).
	v := passwordlessVerdict{stored: &model.WebAuthnCredential{ID: 1}, signCount: 10}
	if !signCountWentBack(10, v.signCount) || signCountWentBack(0, 0) || signCountWentBack(10, 11) {
		t.Errorf("signCountWentBack disagrees with the clone rule")
	}
}

// TestPasswordlessDeletedCredentialRefused: a passkey deleted after the
// options were given is refused.
func TestPasswordlessDeletedCredentialRefused(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	creds, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if err := f.c.Passkeys.Delete(t.Context(), f.user, creds[0].ID, false, nil, ""); err != nil {
		t.Fatal(err)
	}
	pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
	f.refused(t, "deleted credential", pr, rot, ReasonPasskeyRefused)
	if why := f.refusalWhy(t); !strings.Contains(why, "credential") {
		t.Errorf("refused for %q, want the credential", why)
	}
}

// TestPasswordlessNeedsUserVerification: an answer without the user
// verification flag (presence alone: something one has, not two factors)
// is refused.
func TestPasswordlessNeedsUserVerification(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	f.auth.Options.UserNotVerified = true
	pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
	f.refused(t, "no user verification", pr, rot, ReasonPasskeyRefused)
	if why := f.refusalWhy(t); !strings.Contains(strings.ToLower(why), "verif") {
		t.Errorf("refused for %q, want the missing user verification", why)
	}
}

// TestPasswordlessAccountChecks: blocked, locked, removed and
// temporary-password accounts are refused as at the password step. A
// blocked account is told so (with its reason) and a temporary password
// named only because the passkey verified; a locked account's answer is
// not even judged, and looks like any refusal.
func TestPasswordlessAccountChecks(t *testing.T) {
	t.Run("blocked", func(t *testing.T) {
		f := newPasswordlessFixture(t)
		err := f.st.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			return tx.SetBlocked(ctx, f.user.ID, f.now, model.BlockedByReport)
		})
		if err != nil {
			t.Fatal(err)
		}
		opts, token := f.begin(t)
		pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
		if pr.State != StatePassword || pr.Refused != ReasonBlocked || pr.BlockedReason != model.BlockedByReport || pr.Rotated {
			t.Errorf("blocked: progress = %+v", pr)
		}
		if _, err := f.st.SessionByHash(t.Context(), rot.IDHash); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("blocked: a session was stored")
		}
	})
	t.Run("locked", func(t *testing.T) {
		f := newPasswordlessFixture(t)
		for range 10 {
			if _, err := f.c.SignIn.Password(t.Context(), PasswordInput{Username: "alice", Password: "wrong " + time.Now().String(),
				Client: Client{IP: "198.51.100.7"}, Rotation: f.newRotation()}); err != nil {
				t.Fatal(err)
			}
		}
		opts, token := f.begin(t)
		f.cred.Counter = 9
		pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
		f.refused(t, "locked", pr, rot, ReasonAccountLocked)
		if creds, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID); creds[0].SignCount != 0 {
			t.Errorf("a locked account's answer was judged and used (sign count %d)", creds[0].SignCount)
		}
	})
	t.Run("temporary password", func(t *testing.T) {
		f := newPasswordlessFixture(t)
		if _, _, err := f.c.Accounts.ResetPassword(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		opts, token := f.begin(t)
		pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
		if pr.State != StatePassword || pr.Refused != ReasonTemporaryPassword || pr.Rotated || pr.User != nil {
			t.Errorf("temporary password: progress = %+v", pr)
		}
		if _, err := f.st.SessionByHash(t.Context(), rot.IDHash); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("temporary password: a session was stored")
		}
	})
	t.Run("removed", func(t *testing.T) {
		f := newPasswordlessFixture(t)
		opts, token := f.begin(t)
		if err := f.c.Accounts.Remove(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
		f.refused(t, "removed", pr, rot, ReasonPasskeyRefused)
	})
	t.Run("unknown handle", func(t *testing.T) {
		f := newPasswordlessFixture(t)
		opts, token := f.begin(t)
		f.auth.Options.UserHandle = bytes.Repeat([]byte{7}, 32)
		pr, rot := f.signIn(t, token, f.answer(f.rp, opts))
		f.refused(t, "unknown handle", pr, rot, ReasonPasskeyRefused)
		if fl, _ := f.st.FailuresFor(t.Context(), "ip:192.0.2.1"); fl.Count != 1 {
			t.Errorf("ip counter = %d after an unknown passkey, want 1", fl.Count)
		}
		rows, err := f.st.SignIns(t.Context(), model.SignInFilter{Result: model.SignInFailure})
		if err != nil || len(rows) != 1 || rows[0].Username != unknownPasskey || rows[0].UserID != 0 || rows[0].Factors() != "passkey" {
			t.Errorf("sign-in log = %+v, %v; want one failure of an unknown passkey", rows, err)
		}
	})
}

// TestPasswordlessOff: with `passkeys_passwordless off` neither the
// options nor the transition run, and nothing is stored.
func TestPasswordlessOff(t *testing.T) {
	f := newPasswordlessFixture(t)
	opts, token := f.begin(t)
	off := policy.Site{PasskeyNeedsPassword: true}
	f.counting.Reset()
	if _, _, err := f.c.SignIn.PasswordlessOptions(off, f.site); !errors.Is(err, ErrPasswordlessOff) {
		t.Errorf("options: err = %v, want ErrPasswordlessOff", err)
	}
	_, err := f.c.SignIn.Passwordless(t.Context(), PasswordlessInput{Token: token, Response: f.answer(f.rp, opts), Site: off,
		Where: f.site, Client: Client{IP: "192.0.2.1"}, Rotation: f.newRotation()})
	if !errors.Is(err, ErrPasswordlessOff) {
		t.Errorf("sign-in: err = %v, want ErrPasswordlessOff", err)
	}
	if w := f.counting.Writes(); len(w) != 0 {
		t.Errorf("writes = %v, want none", w)
	}
	if creds, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID); !creds[0].LastUsedAt.IsZero() {
		t.Errorf("the passkey was used on a site that turned passwordless off")
	}
}

// TestPasswordlessOnPostgres: on PostgreSQL too a passkey signs in once
// and its replay, or concurrent answers to one challenge, pass once (the
// used challenge's row; a conflict leaves the apply transaction usable
// for its refusal's rows).
func TestPasswordlessOnPostgres(t *testing.T) {
	f := newPasswordlessFixtureOn(t, teststore.OpenPostgres(t))
	opts, token := f.begin(t)
	f.cred.Counter = 1
	answer := f.answer(f.rp, opts)
	if pr, _ := f.signIn(t, token, answer); pr.State != StateComplete {
		t.Fatalf("first use: %+v", pr)
	}
	pr, rot := f.signIn(t, token, answer)
	f.refused(t, "replay", pr, rot, ReasonPasskeyReplayed)

	opts, token = f.begin(t)
	f.cred.Counter = 2
	answer = f.answer(f.rp, opts)
	const n = 4
	done := make(chan Progress, n)
	for range n {
		go func() {
			rot := f.newRotation()
			pr, err := f.c.SignIn.Passwordless(context.Background(), PasswordlessInput{Token: token, Response: answer,
				Where: f.site, Client: Client{IP: "192.0.2.1"}, Rotation: rot})
			if err != nil {
				t.Error(err)
			}
			done <- pr
		}()
	}
	passed := 0
	for range n {
		if pr := <-done; pr.State == StateComplete {
			passed++
		}
	}
	if passed != 1 {
		t.Errorf("%d of %d concurrent uses of one answer passed, want 1", passed, n)
	}
}
