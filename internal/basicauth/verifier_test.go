package basicauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/apppassword"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// countingStore counts app-password lookups (one per uncached check).
type countingStore struct {
	store.Store
	lookups atomic.Int64
}

func (c *countingStore) AppPasswordByTag(ctx context.Context, userID int64, tag []byte) (*model.AppPassword, error) {
	c.lookups.Add(1)
	return c.Store.AppPasswordByTag(ctx, userID, tag)
}

type fixture struct {
	v    *Verifier
	st   *countingStore
	user *model.User
	pw   string
	ap   *model.AppPassword
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	raw := teststore.Open(t)
	st := &countingStore{Store: raw}
	h, _ := password.NewHasher(password.MinCost)
	acct, _ := h.Hash("account pw")
	u := &model.User{Username: "wanda", PasswordHash: acct, MFAState: model.MFAEnforced}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	v, _ := newVerifier(t, st, h, key)
	pw, _ := apppassword.Generate()
	hash, _ := h.Hash(pw)
	ap := &model.AppPassword{UserID: u.ID, Name: "dav", Hash: hash, LookupTag: secrets.UserTag(key, u.ID, pw)}
	if err := teststore.AddAppPassword(ctx, st, ap); err != nil {
		t.Fatal(err)
	}
	return &fixture{v: v, st: st, user: u, pw: pw, ap: ap}
}

func denied(err error) bool {
	var d *ErrDenied
	return errors.As(err, &d)
}

func TestAppPasswordAndAccountPasswordRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.v.Verify(ctx, policy.Site{}, "wanda", apppassword.Group(f.pw), "192.0.2.1")
	if err != nil || res.Kind != KindAppPassword || res.User.Username != "wanda" {
		t.Fatalf("app password: %+v %v", res, err)
	}
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", "account pw", "192.0.2.1"); !denied(err) {
		t.Fatalf("enforced user's account password: %v", err)
	}
	if err := f.st.SetMFAState(ctx, f.user.ID, model.MFAEnabled); err != nil {
		t.Fatal(err)
	}
	if res, err := f.v.Verify(ctx, policy.Site{}, "wanda", "account pw", "192.0.2.1"); err != nil || res.Kind != KindAccountPassword {
		t.Fatalf("enabled user's account password: %v", err)
	}
	if _, err := f.v.Verify(ctx, policy.Site{RefuseAccountPassword: true}, "wanda", "account pw", "192.0.2.1"); !denied(err) {
		t.Fatalf("app_passwords_only site: %v", err)
	}
	if _, err := f.v.Verify(ctx, policy.Site{}, "nobody", f.pw, "192.0.2.1"); !denied(err) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestCachedSuccessNeverOutlivesDeletion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 3 {
		if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.st.lookups.Load(); n != 1 {
		t.Fatalf("3 checks did %d lookups, want 1 (cache)", n)
	}
	if err := teststore.DeleteAppPassword(ctx, f.st, f.user.ID, f.ap.ID); err != nil {
		t.Fatal(err)
	}
	f.v.ForgetUser(f.user.ID)
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); !denied(err) {
		t.Fatalf("deleted app password accepted: %v", err)
	}
}

func TestBurstSharesOneCheck(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.v.Verify(context.Background(), policy.Site{}, "wanda", f.pw, "192.0.2.1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// singleflight joins requests that overlap; a straggler may start a
	// second check after the first finished but before it was cached.
	if n := f.st.lookups.Load(); n > 2 {
		t.Fatalf("16 concurrent checks did %d bcrypt lookups", n)
	}
}

func TestFailuresCountTowardLockout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range bruteforce.DefaultAccountLimit {
		// Distinct secrets: a repeat of the same wrong one counts once.
		if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", fmt.Sprintf("aaaabbbbccccdd%02d", i), "192.0.2.7"); !denied(err) {
			t.Fatalf("wrong app password %d: %v", i, err)
		}
	}
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.8"); !denied(err) {
		t.Fatalf("locked account accepted a right app password: %v", err)
	}
}

// TestStaleEntryRevalidatesWithoutBcrypt: after the TTL a cached success is
// re-checked against the store (a deletion elsewhere is seen), and a still
// valid one keeps working without a new bcrypt comparison.
func TestStaleEntryRevalidatesWithoutBcrypt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clock := time.Now()
	f.v.now = func() time.Time { return clock }
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	counter := &countingChecker{inner: f.v.hasher}
	f.v.hasher = counter
	clock = clock.Add(DefaultCacheTTL + time.Second)
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); err != nil {
		t.Fatalf("stale but valid entry: %v", err)
	}
	if n := counter.n.Load(); n != 0 {
		t.Fatalf("re-validation paid %d bcrypt comparisons", n)
	}
	// Deleted by another node (no ForgetUser here): refused once stale.
	if err := teststore.DeleteAppPassword(ctx, f.st, f.user.ID, f.ap.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); err != nil {
		t.Fatalf("within the TTL the cached success stands: %v", err)
	}
	clock = clock.Add(DefaultCacheTTL + time.Second)
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); err == nil {
		t.Fatal("deleted app password accepted after the TTL")
	}
}

// countingChecker counts bcrypt comparisons.
type countingChecker struct {
	inner passwordChecker
	n     atomic.Int64
}

func (c *countingChecker) VerifyBounded(ctx context.Context, hash, pw string) (bool, error) {
	c.n.Add(1)
	return c.inner.VerifyBounded(ctx, hash, pw)
}

// TestRequireMFASiteTakesAppPasswordsOnly: basic auth cannot carry a
// second factor, so on a require_mfa site the account password of a
// Disabled or a new (Enabled, not enrolled) user is refused, also after a
// success cached for a site without require_mfa; app passwords still pass.
func TestRequireMFASiteTakesAppPasswordsOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	requireMFA := policy.Site{RequireMFA: true}
	for _, state := range []model.MFAState{model.MFADisabled, model.MFAEnabled} {
		if err := f.st.SetMFAState(ctx, f.user.ID, state); err != nil {
			t.Fatal(err)
		}
		f.v.ForgetUser(f.user.ID)
		if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", "account pw", "192.0.2.1"); err != nil {
			t.Fatalf("%s user's account password on a plain site: %v", state, err)
		}
		if res, err := f.v.Verify(ctx, requireMFA, "wanda", "account pw", "192.0.2.1"); !denied(err) {
			t.Fatalf("%s user's account password on a require_mfa site: %+v %v", state, res, err)
		}
		if res, err := f.v.Verify(ctx, requireMFA, "wanda", f.pw, "192.0.2.1"); err != nil || res.Kind != KindAppPassword {
			t.Fatalf("%s user's app password on a require_mfa site: %+v %v", state, res, err)
		}
	}
}

// newVerifier builds a Verifier on st through the core, as the wiring does,
// with key as every server key.
func newVerifier(t testing.TB, st store.Store, h *password.Hasher, key []byte) (*Verifier, error) {
	t.Helper()
	c, err := core.New(st, core.Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}})
	if err != nil {
		t.Fatal(err)
	}
	return New(c, h)
}
