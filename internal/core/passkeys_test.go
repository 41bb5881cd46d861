package core

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// passkeyFixture is a core with RP ID example.com, a user, a clock the
// test moves, and a software authenticator (virtualwebauthn) on the
// portal's origin https://mfa.example.com.
type passkeyFixture struct {
	c    *Core
	st   store.Store
	user *model.User
	now  time.Time
	site PasskeySite
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
	sess []byte // session A's record hash
}

var yubiKey5 = [16]byte{0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8}

func newPasskeyFixture(t *testing.T, state model.MFAState) *passkeyFixture {
	t.Helper()
	st := teststore.Open(t)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(st, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Issuer: "Example",
		RPID: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	u := &model.User{Username: "alice", MFAState: state}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	f := &passkeyFixture{c: c, st: st, user: u, now: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
		site: PasskeySite{Scheme: "https", Host: "mfa.example.com"},
		rp:   virtualwebauthn.RelyingParty{ID: "example.com", Name: "Example", Origin: "https://mfa.example.com"},
		auth: virtualwebauthn.NewAuthenticator(), cred: newSoftwareCredential(),
		sess: bytes.Repeat([]byte{0xa}, 32)}
	f.auth.Aaguid = yubiKey5
	c.Passkeys.now = func() time.Time { return f.now }
	return f
}

// fullCOSEKeyLen is the length of a P-256 COSE key with 32-byte x and y
// coordinates, as virtualwebauthn encodes it.
const fullCOSEKeyLen = 77

// newSoftwareCredential is a new ES256 credential of the software
// authenticator. virtualwebauthn writes the key's coordinates without
// their leading zero bytes (big.Int.Bytes), which go-webauthn rightly
// refuses, so keys with a coordinate below 2^248 (1 in 64) are skipped.
func newSoftwareCredential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		if len(c.Key.AttestationData()) == fullCOSEKeyLen {
			return c
		}
	}
}

// beginRegistration begins a registration in session sess and returns
// the options as the authenticator reads them.
func (f *passkeyFixture) beginRegistration(t *testing.T, sess []byte) *virtualwebauthn.AttestationOptions {
	t.Helper()
	opts, err := f.c.Passkeys.BeginRegistration(t.Context(), f.user, sess, f.site)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(opts))
	if err != nil {
		t.Fatalf("options %s: %v", opts, err)
	}
	return parsed
}

// register runs a whole registration of f.cred in session A.
func (f *passkeyFixture) register(t *testing.T) *model.WebAuthnCredential {
	t.Helper()
	opts := f.beginRegistration(t, f.sess)
	resp := virtualwebauthn.CreateAttestationResponse(f.rp, f.auth, f.cred, *opts)
	c, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "", []byte(resp), "192.0.2.1")
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return c
}

// beginAssertion begins the passkey step in session sess.
func (f *passkeyFixture) beginAssertion(t *testing.T, sess []byte) *virtualwebauthn.AssertionOptions {
	t.Helper()
	opts, err := f.c.Passkeys.BeginAssertion(t.Context(), f.user, sess, f.site)
	if err != nil {
		t.Fatalf("BeginAssertion: %v", err)
	}
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(opts))
	if err != nil {
		t.Fatalf("options %s: %v", opts, err)
	}
	return parsed
}

// answer is the authenticator's answer to opts as rp's page would send it.
func (f *passkeyFixture) answer(rp virtualwebauthn.RelyingParty, opts *virtualwebauthn.AssertionOptions) []byte {
	return []byte(virtualwebauthn.CreateAssertionResponse(rp, f.auth, f.cred, *opts))
}

func (f *passkeyFixture) finish(t *testing.T, sess, answer []byte) (*model.WebAuthnCredential, error) {
	t.Helper()
	return f.c.Passkeys.FinishAssertion(t.Context(), f.user, sess, f.site, answer, "192.0.2.1")
}

func (f *passkeyFixture) events(t *testing.T) []string {
	t.Helper()
	evs, err := f.st.AuditEvents(t.Context(), f.user.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Event)
	}
	return out
}

// refusalWhy is the detail of the newest refusal audited for the user.
func (f *passkeyFixture) refusalWhy(t *testing.T) string {
	t.Helper()
	evs, err := f.st.AuditEvents(t.Context(), f.user.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Event == audit.SignInPasskeyFail || e.Event == audit.PasskeyRegisterFail {
			return e.Detail
		}
	}
	return ""
}

func hasPasskeyEvent(events []string, e string) bool {
	for _, x := range events {
		if x == e {
			return true
		}
	}
	return false
}

// TestPasskeyRegister: the options carry the RP ID, a 32-byte random user
// handle (the same on the next ceremony), resident key preferred,
// credProps, attestation none and user verification preferred; the
// credential is stored with its RP ID, AAGUID and make as name; the
// first passkey promotes an Enabled user to Enforced, audited.
func TestPasskeyRegister(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnabled)
	raw, err := f.c.Passkeys.BeginRegistration(t.Context(), f.user, f.sess, f.site)
	if err != nil {
		t.Fatal(err)
	}
	var creation protocol.CredentialCreation
	if err := jsonUnmarshal(raw, &creation); err != nil {
		t.Fatal(err)
	}
	o := creation.Response
	handle, _ := base64.RawURLEncoding.DecodeString(userIDString(t, raw))
	if o.RelyingParty.ID != "example.com" || len(handle) != 32 || bytes.Contains(handle, []byte("alice")) ||
		o.AuthenticatorSelection.ResidentKey != protocol.ResidentKeyRequirementPreferred ||
		o.AuthenticatorSelection.UserVerification != protocol.VerificationPreferred ||
		o.Attestation != protocol.PreferNoAttestation || !o.Extensions.CredProps ||
		o.Timeout != int(PasskeyChallengeLifetime.Milliseconds()) {
		t.Errorf("creation options = %s", raw)
	}
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp := virtualwebauthn.CreateAttestationResponse(f.rp, f.auth, f.cred, *parsed)
	c, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "", []byte(resp), "192.0.2.1")
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	stored, err := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if err != nil || len(stored) != 1 {
		t.Fatalf("credentials = %+v, %v", stored, err)
	}
	s := stored[0]
	if s.ID != c.ID || !bytes.Equal(s.CredentialID, f.cred.ID) || s.RPID != "example.com" || s.Name != "YubiKey 5 Series" ||
		!bytes.Equal(s.AAGUID, yubiKey5[:]) || !s.UserVerified || len(s.PublicKey) == 0 {
		t.Errorf("stored credential = %+v", s)
	}
	u, _ := f.st.UserByID(t.Context(), f.user.ID)
	if u.MFAState != model.MFAEnforced {
		t.Errorf("MFA state = %q, want enforced after the first passkey", u.MFAState)
	}
	ev := f.events(t)
	if !hasPasskeyEvent(ev, audit.PasskeyRegistered) || !hasPasskeyEvent(ev, audit.MFAStateChanged) {
		t.Errorf("audit = %v, want the registration and the promotion", ev)
	}
	// The handle is the user's for good.
	again, _ := f.c.Passkeys.BeginRegistration(t.Context(), f.user, f.sess, f.site)
	if userIDString(t, again) != userIDString(t, raw) {
		t.Errorf("the user handle changed between ceremonies")
	}
}

// TestPasskeyAssertSecondFactor: a registered passkey answers the
// sign-in step; the sign count and last use are recorded and audited.
func TestPasskeyAssertSecondFactor(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	reg := f.register(t)
	f.cred.Counter = 5
	opts := f.beginAssertion(t, f.sess)
	if len(opts.AllowCredentials) != 1 || opts.RelyingPartyID != "example.com" {
		t.Errorf("assertion options = %+v", opts)
	}
	used, err := f.finish(t, f.sess, f.answer(f.rp, opts))
	if err != nil {
		t.Fatalf("FinishAssertion: %v", err)
	}
	if used.ID != reg.ID || used.SignCount != 5 || !used.LastUsedAt.Equal(f.now) {
		t.Errorf("used = %+v", used)
	}
	stored, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if stored[0].SignCount != 5 || !stored[0].LastUsedAt.Equal(f.now) {
		t.Errorf("stored after use = %+v", stored[0])
	}
	if !hasPasskeyEvent(f.events(t), audit.SignInPasskeyOK) {
		t.Errorf("no %s audit row", audit.SignInPasskeyOK)
	}
}

// TestPasskeyWrongOriginRefused: an answer collected on another origin
// (a look-alike site relaying the challenge) is refused, even for the
// right RP ID, and the challenge is used up.
func TestPasskeyWrongOriginRefused(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	f.register(t)
	for _, origin := range []string{"https://mfa.example.com.evil.org", "https://app.example.com", "http://mfa.example.com",
		"https://MFA.example.com", "https://mfa.example.com:443"} {
		opts := f.beginAssertion(t, f.sess)
		evil := f.rp
		evil.Origin = origin
		if _, err := f.finish(t, f.sess, f.answer(evil, opts)); !errors.Is(err, ErrPasskeyRefused) {
			t.Errorf("answer from %s: err = %v, want ErrPasskeyRefused", origin, err)
		}
		if why := f.refusalWhy(t); !strings.Contains(why, "origin") {
			t.Errorf("answer from %s refused for %q, want its origin", origin, why)
		}
		if _, err := f.finish(t, f.sess, f.answer(f.rp, opts)); !errors.Is(err, ErrPasskeyChallenge) {
			t.Errorf("after a refused answer the challenge must be used up: err = %v", err)
		}
	}
	// Registration too.
	opts := f.beginRegistration(t, f.sess)
	evil := f.rp
	evil.Origin = "https://evil.org"
	other := newSoftwareCredential()
	resp := virtualwebauthn.CreateAttestationResponse(evil, f.auth, other, *opts)
	if _, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "", []byte(resp), ""); !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("registration from another origin: err = %v, want ErrPasskeyRefused", err)
	}
}

// TestPasskeyWrongRPIDRefused: an authenticator answering for another RP
// ID (its rpIdHash) is refused, at registration and at sign-in.
func TestPasskeyWrongRPIDRefused(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	wrong := f.rp
	wrong.ID = "mfa.example.com"
	opts := f.beginRegistration(t, f.sess)
	resp := virtualwebauthn.CreateAttestationResponse(wrong, f.auth, f.cred, *opts)
	if _, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "", []byte(resp), ""); !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("registration for another RP ID: err = %v, want ErrPasskeyRefused", err)
	}
	if why := f.refusalWhy(t); !strings.Contains(why, "RP Hash mismatch") {
		t.Errorf("registration refused for %q, want the RP ID hash", why)
	}
	f.register(t)
	aopts := f.beginAssertion(t, f.sess)
	if _, err := f.finish(t, f.sess, f.answer(wrong, aopts)); !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("assertion for another RP ID: err = %v, want ErrPasskeyRefused", err)
	}
	if why := f.refusalWhy(t); !strings.Contains(why, "RP Hash mismatch") {
		t.Errorf("assertion refused for %q, want the RP ID hash", why)
	}
}

// TestPasskeyReplayRefused: the same answer sent twice passes once; sent
// against a newer challenge it is refused too.
func TestPasskeyReplayRefused(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	f.register(t)
	f.cred.Counter = 1
	answer := f.answer(f.rp, f.beginAssertion(t, f.sess))
	if _, err := f.finish(t, f.sess, answer); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := f.finish(t, f.sess, answer); !errors.Is(err, ErrPasskeyChallenge) {
		t.Errorf("replay: err = %v, want ErrPasskeyChallenge", err)
	}
	f.beginAssertion(t, f.sess)
	if _, err := f.finish(t, f.sess, answer); !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("replay against a new challenge: err = %v, want ErrPasskeyRefused", err)
	}
	if why := f.refusalWhy(t); !strings.Contains(why, "challenge") {
		t.Errorf("replay refused for %q, want the challenge", why)
	}
}

// TestPasskeyBoundToSession: an answer to session A's challenge does not
// complete session B (nothing pending there, or B's own challenge), and
// leaves A's challenge for A.
func TestPasskeyBoundToSession(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	f.register(t)
	sessB := bytes.Repeat([]byte{0xb}, 32)
	answerA := f.answer(f.rp, f.beginAssertion(t, f.sess))
	if _, err := f.finish(t, sessB, answerA); !errors.Is(err, ErrPasskeyChallenge) {
		t.Errorf("A's answer in B (nothing pending): err = %v, want ErrPasskeyChallenge", err)
	}
	f.beginAssertion(t, sessB)
	if _, err := f.finish(t, sessB, answerA); !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("A's answer in B (B pending): err = %v, want ErrPasskeyRefused", err)
	}
	if why := f.refusalWhy(t); !strings.Contains(why, "challenge") {
		t.Errorf("A's answer in B refused for %q, want the challenge", why)
	}
	if _, err := f.finish(t, f.sess, answerA); err != nil {
		t.Errorf("A's answer in A: %v", err)
	}
}

// TestPasskeyCounterRegressionRefused: a sign count that goes backwards
// (a clone) is refused and audited, and the stored count stays; an
// authenticator that always reports 0 is fine.
func TestPasskeyCounterRegressionRefused(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	f.register(t)
	f.cred.Counter = 10
	if _, err := f.finish(t, f.sess, f.answer(f.rp, f.beginAssertion(t, f.sess))); err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint32{10, 3} {
		f.cred.Counter = n
		if _, err := f.finish(t, f.sess, f.answer(f.rp, f.beginAssertion(t, f.sess))); !errors.Is(err, ErrPasskeyCloned) {
			t.Errorf("sign count %d after 10: err = %v, want ErrPasskeyCloned", n, err)
		}
	}
	stored, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if stored[0].SignCount != 10 {
		t.Errorf("stored sign count = %d, want 10", stored[0].SignCount)
	}
	if !hasPasskeyEvent(f.events(t), audit.SignInPasskeyCloned) {
		t.Errorf("the regression is not audited")
	}

	zero := newPasskeyFixture(t, model.MFAEnforced)
	zero.register(t)
	for range 2 {
		if _, err := zero.finish(t, zero.sess, zero.answer(zero.rp, zero.beginAssertion(t, zero.sess))); err != nil {
			t.Errorf("an authenticator that always reports 0: %v", err)
		}
	}
}

// TestPasskeyDeletedCredentialRefused: a passkey deleted after the step
// began is refused.
func TestPasskeyDeletedCredentialRefused(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	reg := f.register(t)
	// A second passkey, so the user still has one to begin a step with.
	other := newSoftwareCredential()
	opts := f.beginRegistration(t, f.sess)
	resp := virtualwebauthn.CreateAttestationResponse(f.rp, f.auth, other, *opts)
	if _, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "Backup key", []byte(resp), ""); err != nil {
		t.Fatal(err)
	}
	answer := f.answer(f.rp, f.beginAssertion(t, f.sess))
	if err := f.c.Passkeys.Delete(t.Context(), f.user, reg.ID, true, f.sess, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.finish(t, f.sess, answer); !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("deleted credential: err = %v, want ErrPasskeyRefused", err)
	}
	if why := f.refusalWhy(t); !strings.Contains(why, "credential") {
		t.Errorf("deleted credential refused for %q, want the credential", why)
	}
	if err := f.c.Passkeys.Delete(t.Context(), f.user, reg.ID, false, nil, ""); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("deleting again: err = %v, want model.ErrNotFound", err)
	}
	if !hasPasskeyEvent(f.events(t), audit.PasskeyDeleted) {
		t.Errorf("the deletion is not audited")
	}
}

// TestPasskeyExcludeCredentials: a second registration lists the
// registered credential in excludeCredentials, so the authenticator
// declines; an answer that registers it anyway is refused.
func TestPasskeyExcludeCredentials(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	f.register(t)
	opts := f.beginRegistration(t, f.sess)
	if !f.cred.IsExcludedForAttestation(*opts) {
		t.Fatalf("excludeCredentials = %v, want the registered credential", opts.ExcludeCredentials)
	}
	resp := virtualwebauthn.CreateAttestationResponse(f.rp, f.auth, f.cred, *opts)
	if _, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "", []byte(resp), ""); !errors.Is(err, ErrPasskeyRegistered) {
		t.Errorf("registering the same credential again: err = %v, want ErrPasskeyRegistered", err)
	}
	if cs, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID); len(cs) != 1 {
		t.Errorf("credentials = %d, want 1", len(cs))
	}
	if !hasPasskeyEvent(f.events(t), audit.PasskeyRegisterFail) {
		t.Errorf("the refused registration is not audited")
	}
}

// TestPasskeyChallengeExpiry: a ceremony answered within five minutes
// passes; after, it is refused and used up.
func TestPasskeyChallengeExpiry(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	f.register(t)
	opts := f.beginAssertion(t, f.sess)
	f.now = f.now.Add(PasskeyChallengeLifetime - time.Second)
	if _, err := f.finish(t, f.sess, f.answer(f.rp, opts)); err != nil {
		t.Errorf("within the lifetime: %v", err)
	}
	opts = f.beginAssertion(t, f.sess)
	f.now = f.now.Add(PasskeyChallengeLifetime)
	if _, err := f.finish(t, f.sess, f.answer(f.rp, opts)); !errors.Is(err, ErrPasskeyChallenge) {
		t.Errorf("after the lifetime: err = %v, want ErrPasskeyChallenge", err)
	}
	ropts := f.beginRegistration(t, f.sess)
	f.now = f.now.Add(PasskeyChallengeLifetime + time.Second)
	other := newSoftwareCredential()
	resp := virtualwebauthn.CreateAttestationResponse(f.rp, f.auth, other, *ropts)
	if _, err := f.c.Passkeys.FinishRegistration(t.Context(), f.user, f.sess, f.site, "", []byte(resp), ""); !errors.Is(err, ErrPasskeyChallenge) {
		t.Errorf("registration after the lifetime: err = %v, want ErrPasskeyChallenge", err)
	}
}

// TestPasskeyNotOfferedOffSite: a site not under the RP ID, or not https
// (but localhost), offers no passkeys; a user without passkeys gets
// ErrNoPasskey.
func TestPasskeyNotOfferedOffSite(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	for _, site := range []PasskeySite{{"https", "example.org"}, {"http", "app.example.com"}, {"https", "notexample.com"}} {
		if f.c.Passkeys.Offered(site) {
			t.Errorf("%v: offered", site)
		}
		if _, err := f.c.Passkeys.BeginRegistration(t.Context(), f.user, f.sess, site); !errors.Is(err, ErrPasskeyNotOffered) {
			t.Errorf("%v: err = %v, want ErrPasskeyNotOffered", site, err)
		}
	}
	if !f.c.Passkeys.Offered(PasskeySite{"https", "app.example.com:8443"}) {
		t.Errorf("a site under the RP ID is not offered")
	}
	if _, err := f.c.Passkeys.BeginAssertion(t.Context(), f.user, f.sess, f.site); !errors.Is(err, ErrNoPasskey) {
		t.Errorf("BeginAssertion without passkeys: err = %v, want ErrNoPasskey", err)
	}

	// Without an RP ID (no portal, no rp_id) each site's own host is it:
	// the demo on localhost works over http; an address never does.
	f.c.Passkeys.rpID = ""
	for site, want := range map[PasskeySite]bool{
		{"http", "localhost:8080"}: true, {"https", "app.example.com"}: true, {"https", "[::1]:8443"}: false,
		{"https", "127.0.0.1:8443"}: false, {"https", "co.uk"}: false, {"http", "app.example.com"}: false,
	} {
		if got := f.c.Passkeys.Offered(site); got != want {
			t.Errorf("without an RP ID, %v offered = %v, want %v", site, got, want)
		}
	}
	if got := f.c.Passkeys.RPID(PasskeySite{"http", "localhost:8080"}); got != "localhost" {
		t.Errorf("RP ID on localhost:8080 = %q, want localhost", got)
	}
}

// TestPasskeyCrossOriginRefused: an answer collected in a cross-origin
// frame is refused even from the right origin.
func TestPasskeyCrossOriginRefused(t *testing.T) {
	if err := checkClientData(protocol.CollectedClientData{Origin: "https://mfa.example.com"}, "https://mfa.example.com"); err != nil {
		t.Errorf("same origin: %v", err)
	}
	if err := checkClientData(protocol.CollectedClientData{Origin: "https://mfa.example.com", CrossOrigin: true,
		TopOrigin: "https://evil.org"}, "https://mfa.example.com"); err == nil {
		t.Errorf("a cross-origin answer is accepted")
	}
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }

// userIDString is the user handle (base64url) of creation options.
func userIDString(t *testing.T, raw []byte) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	return o.PublicKey.User.ID
}

// TestPasskeyDeleteKeepsLastMethod: with keepOne the user's last sign-in
// method is kept when it is a passkey; with an authenticator app beside
// it, the passkey goes, and the other sessions end.
func TestPasskeyDeleteKeepsLastMethod(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	reg := f.register(t)
	if err := f.c.Passkeys.Delete(t.Context(), f.user, reg.ID, true, f.sess, ""); !errors.Is(err, model.ErrLimit) {
		t.Fatalf("deleting the last method: err = %v, want model.ErrLimit", err)
	}
	teststore.AddTOTP(t, f.st, &model.TOTPAuthenticator{UserID: f.user.ID, Name: "app", SealedSecret: []byte("sealed")})
	keep := &model.Session{IDHash: f.sess, UserID: f.user.ID, Stage: model.StageComplete, CreatedAt: f.now, LastSeenAt: f.now}
	other := &model.Session{IDHash: bytes.Repeat([]byte{0xb}, 32), UserID: f.user.ID, Stage: model.StageComplete, CreatedAt: f.now, LastSeenAt: f.now}
	for _, s := range []*model.Session{keep, other} {
		if err := f.st.CreateSession(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.c.Passkeys.Delete(t.Context(), f.user, reg.ID, true, f.sess, ""); err != nil {
		t.Fatalf("deleting a passkey beside an authenticator: %v", err)
	}
	if _, err := f.st.SessionByHash(t.Context(), other.IDHash); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the other session survived the removal: %v", err)
	}
	if _, err := f.st.SessionByHash(t.Context(), keep.IDHash); err != nil {
		t.Errorf("the session making the change ended: %v", err)
	}
}

// TestPasskeyChallengesRandom: each ceremony gets a fresh random
// challenge of at least 16 bytes.
func TestPasskeyChallengesRandom(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	a, b := f.beginRegistration(t, f.sess), f.beginRegistration(t, f.sess)
	if len(a.Challenge) < 16 || bytes.Equal(a.Challenge, b.Challenge) {
		t.Errorf("challenges %x and %x: want two different ones of 16 bytes or more", a.Challenge, b.Challenge)
	}
}

// TestPasskeyRename: a good name is stored (trimmed) and audited; a bad
// one is refused with safetext's reason and nothing changes; another
// user's passkey is not found.
func TestPasskeyRename(t *testing.T) {
	f := newPasskeyFixture(t, model.MFAEnforced)
	reg := f.register(t)
	if err := f.c.Passkeys.Rename(t.Context(), f.user, reg.ID, "  Work key  ", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Passkeys.Rename(t.Context(), f.user, reg.ID, "", ""); !errors.Is(err, safetext.ErrNameEmpty) {
		t.Errorf("empty name: err = %v, want safetext.ErrNameEmpty", err)
	}
	bob := &model.User{Username: "bob", MFAState: model.MFAEnforced}
	if err := f.st.CreateUser(t.Context(), bob); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Passkeys.Rename(t.Context(), bob, reg.ID, "Mine now", ""); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("another user's passkey: err = %v, want model.ErrNotFound", err)
	}
	cs, _ := f.c.Passkeys.Credentials(t.Context(), f.user.ID)
	if cs[0].Name != "Work key" {
		t.Errorf("name = %q, want %q", cs[0].Name, "Work key")
	}
	if !hasPasskeyEvent(f.events(t), audit.PasskeyRenamed) {
		t.Errorf("the rename is not audited")
	}
}
