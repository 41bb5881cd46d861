package core

import (
	"context"
	"crypto/sha256"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// signInFixture is a core on a counting store with alice, who has an
// authenticator app, and a session of hers at stage.
type signInFixture struct {
	c      *Core
	st     *countingstore.Store
	alice  *model.User
	secret []byte
	sess   model.Session
}

func newSignInFixture(t *testing.T, st store.Store, stage model.Stage) *signInFixture {
	t.Helper()
	ctx := context.Background()
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	counted := countingstore.New(st)
	c, err := New(counted, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, Issuer: "Test",
		PushHosts: []string{"push.example"}})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := c.Accounts.Add(ctx, NewUser{Username: "alice", Password: "right password", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	f := &signInFixture{c: c, st: counted, alice: alice, secret: []byte("0123456789abcdefghij")}
	sealed, err := c.Codes.Seal(alice.ID, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Methods.AddAuthenticator(ctx, alice, sealed, "192.0.2.1", false); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.sess = model.Session{IDHash: hashOf("session 1"), UserID: alice.ID, Stage: stage, CreatedAt: now, LastSeenAt: now,
		Origin: "https://site.example"}
	if err := st.CreateSession(ctx, &f.sess); err != nil {
		t.Fatal(err)
	}
	return f
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// rotation replaces f's session by a new identity.
func (f *signInFixture) rotation(name string) Rotation {
	return Rotation{OldHash: f.sess.IDHash, IDHash: hashOf(name), Origin: f.sess.Origin, At: time.Now()}
}

func (f *signInFixture) code(t *testing.T) string {
	t.Helper()
	c, err := totp.CodeAt(totp.EncodeSecret(f.secret), time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestParallelWrongCodesJudgeExactlyTheLimit: 100 wrong codes sent at once
// for one sign-in are judged exactly AccountLimit times (each claim is
// committed, in one transaction for both counters, before its code is
// looked at); the rest are refused as locked, unjudged. On SQLite and,
// when MFAGATE_TEST_POSTGRES_DSN is set, on PostgreSQL.
func TestParallelWrongCodesJudgeExactlyTheLimit(t *testing.T) {
	for name, open := range map[string]func(testing.TB) store.Store{
		"sqlite":     func(t testing.TB) store.Store { return teststore.Open(t) },
		"postgresql": func(t testing.TB) store.Store { return teststore.OpenPostgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newSignInFixture(t, open(t), model.StagePassword)
			var judged atomic.Int64
			f.c.SignIn.matchCode = func(candidates [][]byte, code string, now time.Time) (int64, bool) {
				judged.Add(1)
				return matchAny(candidates, code, now)
			}
			right := f.code(t)
			var mu sync.Mutex
			reasons := map[Reason]int{}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 100 {
				wg.Go(func() {
					<-start
					code := strconv.Itoa(100000 + i*7919)
					if code == right {
						code = "000000"
					}
					pr, err := f.c.SignIn.Code(context.Background(), CodeInput{Code: code,
						Pending: Pending{Session: f.sess, User: *f.alice},
						Client:  Client{IP: "192.0.2." + strconv.Itoa(i%10), Site: "site.example"}, Rotation: f.rotation("next " + strconv.Itoa(i))})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					reasons[pr.Refused]++
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			if n := judged.Load(); n != bruteforce.DefaultAccountLimit {
				t.Fatalf("%d of 100 parallel wrong codes judged, want exactly %d", n, bruteforce.DefaultAccountLimit)
			}
			wrong := reasons[ReasonWrongCode] + reasons[ReasonCodeReused]
			if wrong != bruteforce.DefaultAccountLimit || reasons[ReasonAccountLocked] != 100-bruteforce.DefaultAccountLimit {
				t.Fatalf("outcomes %v, want %d wrong and the rest locked", reasons, bruteforce.DefaultAccountLimit)
			}
		})
	}
}

// TestReverifyTakesAtMostTwoTransactions: re-verification with a code is
// the claim and one apply; with the phone's approval, one transaction.
func TestReverifyTakesAtMostTwoTransactions(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	pending := Pending{Session: f.sess, User: *f.alice}
	client := Client{IP: "192.0.2.1", Site: "portal.example"}

	f.st.Reset()
	pr, err := f.c.SignIn.ReverifyCode(ctx, CodeInput{Code: "000000", Pending: pending, Client: client, Rotation: f.rotation("x")}, ReverifySecurityInfo)
	if err != nil || pr.Refused == ReasonNone {
		t.Fatalf("wrong code: %+v %v", pr, err)
	}
	if got := f.st.Writes(); len(got) > 2 {
		t.Errorf("wrong code: writes %v", got)
	}
	f.st.Reset()
	rot := f.rotation("re-verified by code")
	pr, err = f.c.SignIn.ReverifyCode(ctx, CodeInput{Code: f.code(t), Pending: pending, Client: client, Rotation: rot}, ReverifySecurityInfo)
	if err != nil || pr.Refused != ReasonNone || !pr.Rotated {
		t.Fatalf("right code: %+v %v", pr, err)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
		t.Errorf("re-verification with a code: writes %v, want the claim and one apply", got)
	}
	rec, _, err := f.c.Sessions.Find(ctx, rot.IDHash)
	if err != nil || rec == nil || time.Since(rec.MFAAt) > time.Minute || rec.Stage != model.StageComplete {
		t.Fatalf("re-verified session: %+v %v", rec, err)
	}

	// The phone: a request for the session, approved, then consumed.
	f.sess = *rec
	pairPhoneForTest(t, f)
	ap, err := f.c.Approvals.Request(ctx, f.alice, f.sess.IDHash, Context{Site: "portal.example", RemoteIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	devices, _ := f.c.Phones.Devices(ctx, f.alice.ID)
	if _, err := f.c.Approvals.Answer(ctx, &devices[0], ap.ID, DecisionApprove, strconv.Itoa(ap.Number)); err != nil {
		t.Fatal(err)
	}
	f.st.Reset()
	rot = f.rotation("re-verified by phone")
	pr, err = f.c.SignIn.ReverifyPhone(ctx, PhoneInput{RequestID: ap.ID, Pending: Pending{Session: f.sess, User: *f.alice}, Client: client, Rotation: rot})
	if err != nil || pr.Refused != ReasonNone || !pr.Rotated {
		t.Fatalf("phone: %+v %v", pr, err)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update"}) {
		t.Errorf("re-verification with the phone: writes %v, want one transaction", got)
	}
	// The request is used: it cannot re-verify again.
	pr, err = f.c.SignIn.ReverifyPhone(ctx, PhoneInput{RequestID: ap.ID, Pending: Pending{Session: f.sess, User: *f.alice}, Client: client, Rotation: f.rotation("again")})
	if err != nil || pr.Refused == ReasonNone {
		t.Fatalf("a used request re-verified again: %+v %v", pr, err)
	}
}

// pairPhoneForTest gives alice an active phone.
func pairPhoneForTest(t *testing.T, f *signInFixture) {
	t.Helper()
	ctx := context.Background()
	sess := []byte("pairing-session-hash-0123456789ab")
	token, err := f.c.Phones.StartPairing(ctx, f.alice, sess)
	if err != nil {
		t.Fatal(err)
	}
	d := &model.Device{Name: "Phone", PublicKey: []byte("key")}
	code := "123456"
	if err := f.st.RegisterDevice(ctx, token.hash(), d, f.c.Phones.codeHash(token.hash(), code), f.c.Phones.now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Phones.Confirm(ctx, f.alice, sess, code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
}

// TestAddAuthenticatorTakesTwoTransactions: adding a further authenticator
// app with its code is the claim and one apply (step, authenticator,
// audit); a wrong code adds nothing.
func TestAddAuthenticatorTakesTwoTransactions(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	secret := []byte("another secret 12345")
	sealed, err := f.c.Codes.Seal(f.alice.ID, secret)
	if err != nil {
		t.Fatal(err)
	}
	in := AnotherInput{User: f.alice, Sealed: sealed, Code: "000000", Client: Client{IP: "192.0.2.1"}}
	f.st.Reset()
	if why, err := f.c.SignIn.AddAuthenticator(ctx, in); err != nil || why == ReasonNone {
		t.Fatalf("wrong code: %v %v", why, err)
	}
	if got := f.st.Writes(); len(got) > 2 {
		t.Errorf("wrong code: writes %v", got)
	}
	in.Code, err = totp.CodeAt(totp.EncodeSecret(secret), time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	f.st.Reset()
	if why, err := f.c.SignIn.AddAuthenticator(ctx, in); err != nil || why != ReasonNone {
		t.Fatalf("right code: %v %v", why, err)
	}
	if got := f.st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
		t.Errorf("adding an authenticator: writes %v, want the claim and one apply", got)
	}
	auths, _ := f.c.Methods.Authenticators(ctx, f.alice.ID)
	if len(auths) != 2 || auths[1].Name != AuthenticatorName+" 2" {
		t.Fatalf("authenticators %+v", auths)
	}
}

// TestReverifyStartsConsecutiveFailuresAnew: a re-verification is a
// successful authentication, so the user's consecutive failed sign-ins
// start anew (a wrong code first counts one), as after a completed
// sign-in.
func TestReverifyStartsConsecutiveFailuresAnew(t *testing.T) {
	ctx := context.Background()
	f := newSignInFixture(t, teststore.Open(t), model.StageComplete)
	pending := Pending{Session: f.sess, User: *f.alice}
	client := Client{IP: "192.0.2.1", Site: "portal.example"}
	if pr, err := f.c.SignIn.ReverifyCode(ctx, CodeInput{Code: "000000", Pending: pending, Client: client, Rotation: f.rotation("x")}, ReverifySecurityInfo); err != nil || pr.Refused == ReasonNone {
		t.Fatalf("wrong code: %+v %v", pr, err)
	}
	if n, err := f.st.FailedSignIns(ctx, f.alice.ID); err != nil || n != 1 {
		t.Fatalf("after a wrong code: %d consecutive failures, %v; want 1", n, err)
	}
	if pr, err := f.c.SignIn.ReverifyCode(ctx, CodeInput{Code: f.code(t), Pending: pending, Client: client, Rotation: f.rotation("y")}, ReverifySecurityInfo); err != nil || pr.Refused != ReasonNone {
		t.Fatalf("right code: %+v %v", pr, err)
	}
	if n, err := f.st.FailedSignIns(ctx, f.alice.ID); err != nil || n != 0 {
		t.Errorf("after re-verifying: %d consecutive failures, %v; want 0", n, err)
	}
}
