package basicauth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// plainChecker compares without the sign-in CPU budget (the test sends
// hundreds of uncached checks on purpose) and counts comparisons against
// real hashes.
type plainChecker struct{ real atomic.Int64 }

func (c *plainChecker) VerifyBounded(_ context.Context, hash, pw string) (bool, error) {
	if hash == "" {
		return false, nil
	}
	c.real.Add(1)
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil, nil
}

// cheapAppPassword re-hashes the fixture's app password at bcrypt's
// minimum cost, so hundreds of uncached checks stay fast.
func cheapAppPassword(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	hash, err := bcrypt.GenerateFromPassword([]byte(f.pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := teststore.DeleteAppPassword(ctx, f.st, f.user.ID, f.ap.ID); err != nil {
		t.Fatal(err)
	}
	ap := &model.AppPassword{UserID: f.user.ID, Name: "dav", Hash: string(hash), LookupTag: f.ap.LookupTag}
	if err := teststore.AddAppPassword(ctx, f.st, ap); err != nil {
		t.Fatal(err)
	}
	f.ap = ap
}

// spelling returns the i-th accepted spelling of an app password (upper
// and lower case letters by the bits of i): each is its own cache entry,
// so each first use is an uncached check.
func spelling(pw string, i int) string {
	b := []byte(pw)
	for j := range b {
		if i&(1<<j) != 0 {
			b[j] = strings.ToUpper(string(b[j]))[0]
		}
	}
	return string(b)
}

// TestRightAppPasswordNeverLocks: 1,000 requests with the right app
// password, half of them uncached, from 8 clients at once, all pass and
// leave no failure behind.
func TestRightAppPasswordNeverLocks(t *testing.T) {
	f := newFixture(t)
	cheapAppPassword(t, f)
	checker := &plainChecker{}
	f.v.hasher = checker
	ctx := context.Background()
	jobs := make(chan int)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				pw := f.pw
				if i%2 == 1 {
					pw = spelling(f.pw, i)
				}
				if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", pw, "192.0.2.1"); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for i := range 1000 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of 1000 right app-password requests refused", n)
	}
	if n := checker.real.Load(); n < 500 {
		t.Fatalf("only %d uncached checks, want at least 500", n)
	}
	for _, k := range []string{"acct:wanda", "ip:192.0.2.1"} {
		if c, err := f.st.FailuresFor(ctx, k); err != nil || c.Count != 0 || !c.LockedUntil.IsZero() {
			t.Fatalf("%s after 1000 right requests = %+v, %v", k, c, err)
		}
	}
	t.Logf("1000 requests, %d uncached checks, counters empty", checker.real.Load())
}

// TestParallelBasicAuthGuessesStopAtTheLimit: 100 wrong account passwords
// at once (the user is Enabled, so they are compared) get at most
// AccountLimit comparisons against the real hash, and the right password
// sent after them is refused.
func TestParallelBasicAuthGuessesStopAtTheLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.st.SetMFAState(ctx, f.user.ID, model.MFAEnabled); err != nil {
		t.Fatal(err)
	}
	checker := &plainChecker{}
	f.v.hasher = checker
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 100 {
		wg.Go(func() {
			<-start
			// Each is refused, by the judge or by the limit; what counts
			// is how many reach the real hash (below).
			_, _ = f.v.Verify(ctx, policy.Site{}, "wanda", spelling("wrong password!", i), "192.0.2.1")
		})
	}
	close(start)
	wg.Wait()
	if n := checker.real.Load(); n > bruteforce.DefaultAccountLimit {
		t.Fatalf("%d wrong guesses compared against the real hash, limit %d", n, bruteforce.DefaultAccountLimit)
	}
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", "account pw", "192.0.2.2"); !denied(err) {
		t.Fatalf("right password on a locked account: %v", err)
	}
	t.Logf("100 parallel wrong passwords: %d compared", checker.real.Load())
}

// TestDeniedNamesUnknownUsersByHash: a refused attempt names a real
// account by its name, and anything else only by a keyed hash, never as
// typed (the gateway writes this name to the audit and server logs).
func TestDeniedNamesUnknownUsersByHash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for typed, want := range map[string]string{"wanda": "wanda", "Wanda": "wanda"} {
		var d *ErrDenied
		if _, err := f.v.Verify(ctx, policy.Site{}, typed, "aaaabbbbccccdddd", "192.0.2.1"); !errors.As(err, &d) || d.Username != want {
			t.Errorf("%q: denied as %+v (%v), want %q", typed, d, err, want)
		}
	}
	for _, typed := range []string{"my secret password", "nobody"} {
		var d *ErrDenied
		if _, err := f.v.Verify(ctx, policy.Site{}, typed, "x", "192.0.2.1"); !errors.As(err, &d) ||
			!strings.HasPrefix(d.Username, "unknown:") || strings.Contains(d.Username, typed) {
			t.Errorf("%q: denied as %+v (%v), want an unknown:<hash> label", typed, d, err)
		}
	}
}

// gatedChecker holds every comparison until gate closes (or its context
// ends), and reports the first one starting.
type gatedChecker struct {
	inner   passwordChecker
	gate    chan struct{}
	started chan struct{}
	once    sync.Once
	n       atomic.Int64
}

func (g *gatedChecker) VerifyBounded(ctx context.Context, hash, pw string) (bool, error) {
	g.n.Add(1)
	g.once.Do(func() { close(g.started) })
	select {
	case <-g.gate:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return g.inner.VerifyBounded(ctx, hash, pw)
}

// TestSharedCheckSurvivesFirstCallerLeaving: identical requests share one
// check; when the client that started it disconnects, the others still
// get their answer.
func TestSharedCheckSurvivesFirstCallerLeaving(t *testing.T) {
	f := newFixture(t)
	checker := &gatedChecker{inner: f.v.hasher, gate: make(chan struct{}), started: make(chan struct{})}
	f.v.hasher = checker
	first, leave := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := f.v.Verify(first, policy.Site{}, "wanda", f.pw, "192.0.2.1")
		firstErr <- err
	}()
	<-checker.started
	secondErr := make(chan error, 1)
	go func() {
		_, err := f.v.Verify(context.Background(), policy.Site{}, "wanda", f.pw, "192.0.2.1")
		secondErr <- err
	}()
	time.Sleep(100 * time.Millisecond) // the second joins the running check
	leave()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client that left got %v, want context.Canceled", err)
	}
	close(checker.gate)
	if err := <-secondErr; err != nil {
		t.Fatalf("the request that joined the check failed with the first client: %v", err)
	}
	if n := checker.n.Load(); n != 1 {
		t.Fatalf("%d comparisons, want 1 shared", n)
	}
	if c, _ := f.st.FailuresFor(context.Background(), "acct:wanda"); c.Count != 0 {
		t.Fatalf("the shared check left a failure slot behind: %+v", c)
	}
}

// allChecker counts every comparison, dummy ones included.
type allChecker struct {
	inner passwordChecker
	n     atomic.Int64
}

func (c *allChecker) VerifyBounded(ctx context.Context, hash, pw string) (bool, error) {
	c.n.Add(1)
	return c.inner.VerifyBounded(ctx, hash, pw)
}

// TestRepeatedWrongSecretIsNotJudgedAgain: a device sending one deleted
// app password 100 times pays one bcrypt comparison and one failure slot
// (on the basic-auth-only counter and its address, never the account's);
// each refusal says the app password was not recognised.
func TestRepeatedWrongSecretIsNotJudgedAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	stale := f.pw
	if err := teststore.DeleteAppPassword(ctx, f.st, f.user.ID, f.ap.ID); err != nil {
		t.Fatal(err)
	}
	checker := &allChecker{inner: f.v.hasher}
	f.v.hasher = checker
	for i := range 100 {
		_, err := f.v.Verify(ctx, policy.Site{}, "wanda", stale, "192.0.2.1")
		var d *ErrDenied
		if !errors.As(err, &d) || !strings.HasPrefix(d.Detail, DetailAppPasswordUnknown) {
			t.Fatalf("attempt %d: %v, want refused as %q", i, err, DetailAppPasswordUnknown)
		}
	}
	if n := checker.n.Load(); n != 1 {
		t.Fatalf("%d bcrypt comparisons for one secret sent 100 times, want 1", n)
	}
	for k, want := range map[string]int{"acct:wanda": 0, bruteforce.BasicAuthOnlyKey("wanda"): 1, "ip:192.0.2.1": 1} {
		if c, err := f.st.FailuresFor(ctx, k); err != nil || c.Count != want {
			t.Errorf("%s = %+v, %v; want %d", k, c, err, want)
		}
	}
}
