package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// calibratedHasher returns a hasher at cost whose argon2id calibration is
// fixed (100,000 block passes per cost-10 bcrypt of 60 ms), so costs do not
// depend on the machine's load.
func calibratedHasher(t *testing.T, cost int) *Hasher {
	t.Helper()
	h, err := NewHasher(cost)
	if err != nil {
		t.Fatal(err)
	}
	h.calib = fixedCalibration(100_000, 60*time.Millisecond)
	return h
}

// bcryptAt hashes pw at cost.
func bcryptAt(t *testing.T, pw string, cost int) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportedHashCostBound: an imported hash may cost at most 2 checks at
// the server's bcrypt cost: bcrypt 2^(cost − bcrypt_cost), argon2id by the
// calibration and its lanes; above it ErrTooCostly, saying the cost.
// Authelia's default argon2id imports.
func TestImportedHashCostBound(t *testing.T) {
	h := calibratedHasher(t, DefaultCost)
	for _, tc := range []struct {
		name, hash string
		cost       float64
		ok         bool
	}{
		{"bcrypt 11", "$2a$11$" + strings.Repeat("a", 53), 0.5, true},
		{"bcrypt 12", "$2a$12$" + strings.Repeat("a", 53), 1, true},
		{"bcrypt 13", "$2b$13$" + strings.Repeat("a", 53), 2, true},
		{"bcrypt 14", "$2y$14$" + strings.Repeat("a", 53), 4, false},
		// 400,000 block passes per check at cost 12: 1,200,000 on one
		// lane are 3 checks; Authelia's default (64 MiB, 3 passes, 4
		// lanes) about half of one, less on more cores.
		{"argon2id 1.2M passes, 1 lane", "$argon2id$v=19$m=120000,t=10,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + strings.Repeat("A", 43), 3, false},
		{"argon2id 256 MiB, 10 passes, 1 lane", "$argon2id$v=19$m=262144,t=10,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + strings.Repeat("A", 43), 6.5536, false},
		{"Authelia's default", autheliaExample, 196608.0 / 400_000 / float64(min(4, runtime.GOMAXPROCS(0))), true},
	} {
		scheme, cost, err := h.CheckImportedHash(tc.hash)
		if cost < tc.cost*0.999 || cost > tc.cost*1.001 {
			t.Errorf("%s: cost %.3f, want %.3f", tc.name, cost, tc.cost)
		}
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrTooCostly)) {
			t.Errorf("%s (%s): %v", tc.name, scheme, err)
		}
		if err != nil && !strings.Contains(err.Error(), "costs about") {
			t.Errorf("%s: the error does not say the cost: %v", tc.name, err)
		}
	}
	// Authelia's default imports at bcrypt_cost 10 too, on any number of
	// cores, with this calibration (1.97 checks on one core).
	if _, _, err := calibratedHasher(t, MinCost).CheckImportedHash(autheliaExample); err != nil {
		t.Fatalf("Authelia's default at bcrypt cost 10: %v", err)
	}
}

// TestNeedsRehash: every hash whose scheme or cost is not the server's is
// replaced at the first sign-in: argon2id, and bcrypt at another cost.
func TestNeedsRehash(t *testing.T) {
	h := calibratedHasher(t, 11)
	for hash, want := range map[string]bool{
		bcryptAt(t, "pw", 11):               false,
		bcryptAt(t, "pw", 10):               true,
		"$2a$12$" + strings.Repeat("a", 53): true,
		autheliaExample:                     true,
		"":                                  false,
	} {
		if got := h.NeedsRehash(hash); got != want {
			t.Errorf("NeedsRehash(%.10s…) = %v, want %v", hash, got, want)
		}
	}
}

// TestImportedChecksHaveTheirOwnPool: checks against hashes dearer than the
// server's own (argon2id, bcrypt above its cost) run in their own pool of
// ImportedChecks: with the ordinary budget spent and every ordinary slot
// taken they still run, and they spend nothing of either; when their pool
// is full they are shed with ErrImportedBusy (an ErrBusy: 503 and
// Retry-After) while ordinary checks go on.
func TestImportedChecksHaveTheirOwnPool(t *testing.T) {
	h := calibratedHasher(t, MinCost)
	h.queueWait, h.shedDelay = 20*time.Millisecond, time.Millisecond
	argon := argon2Hash("pw", []byte("0123456789abcdef"), 1024, 1, 1, 32)
	dearBcrypt := bcryptAt(t, "pw", MinCost+1)
	own, _ := h.Hash("pw")
	ctx := context.Background()

	// The ordinary budget has one token left and every slot is taken:
	// imported checks run, and leave the token.
	h.budget = rate.NewLimiter(rate.Limit(1e-9), 1)
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	for _, hash := range []string{argon, dearBcrypt} {
		if ok, err := h.VerifyBounded(ctx, hash, "pw"); !ok || err != nil {
			t.Fatalf("imported check beside a full ordinary pool: %v %v", ok, err)
		}
		waitTurnFree(t, h)
	}
	if tokens := h.budget.Tokens(); tokens < 0.99 {
		t.Fatalf("imported checks spent the ordinary budget: %.2f tokens left of 1", tokens)
	}
	for range cap(h.slots) {
		<-h.slots
	}

	// Their pool full: shed at once (after the queue wait), ordinary
	// checks unaffected.
	for range ImportedChecks {
		h.imported.turns <- struct{}{}
	}
	_, err := h.VerifyBounded(ctx, argon, "pw")
	if !errors.Is(err, ErrImportedBusy) || !errors.Is(err, ErrBusy) {
		t.Fatalf("imported pool full: %v, want ErrImportedBusy (an ErrBusy)", err)
	}
	if _, err := h.VerifyBounded(ctx, dearBcrypt, "pw"); !errors.Is(err, ErrImportedBusy) {
		t.Fatalf("costlier bcrypt, pool full: %v", err)
	}
	if ok, err := h.VerifyBounded(ctx, own, "pw"); !ok || err != nil {
		t.Fatalf("ordinary check while the imported pool is full: %v %v", ok, err)
	}
	for range ImportedChecks {
		<-h.imported.turns
	}
	if ok, err := h.VerifyBounded(ctx, argon, "wrong"); ok || err != nil {
		t.Fatalf("wrong password, pool free again: %v %v", ok, err)
	}
}

// TestImportedTurnHeldForCPUTime: an argon2id check keeps its turn until
// its CPU time on one core has passed (its lanes may have run in
// parallel), so imported checks use about one core at most.
func TestImportedTurnHeldForCPUTime(t *testing.T) {
	h := calibratedHasher(t, MinCost)
	// 1,024 block passes at 10,000 per 3 s bcrypt: 307 ms of CPU.
	h.calib = fixedCalibration(10_000, 3*time.Second)
	hash := argon2Hash("pw", []byte("0123456789abcdef"), 1024, 1, 2, 32)
	start := time.Now()
	if ok, err := h.VerifyBounded(context.Background(), hash, "pw"); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	if len(h.imported.turns) != 1 {
		t.Fatal("the turn was given back before the check's CPU time")
	}
	waitTurnFree(t, h)
	if held := time.Since(start); held < 300*time.Millisecond {
		t.Fatalf("turn held %v, want about 307 ms", held)
	}
}

// waitTurnFree waits until every imported checks' turn is free again.
func waitTurnFree(t *testing.T, h *Hasher) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.imported.turns) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the imported checks' turn is never given back")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCalibrationMeasures: the real measurement gives a ratio within its
// bounds, once.
func TestCalibrationMeasures(t *testing.T) {
	var c calibration
	perBcrypt10, bcrypt10 := c.get()
	if perBcrypt10 < minPassesPerBcrypt10 || perBcrypt10 > maxPassesPerBcrypt10 || bcrypt10 < time.Millisecond {
		t.Fatalf("calibration: %.0f passes per cost-10 bcrypt of %v", perBcrypt10, bcrypt10)
	}
	if again, _ := c.get(); again != perBcrypt10 {
		t.Fatal("measured twice")
	}
	t.Logf("%.0f block passes per cost-10 bcrypt (%v)", perBcrypt10, bcrypt10)
}
