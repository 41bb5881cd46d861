package password

import (
	"math"
	"runtime"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// calibration is what an argon2id check costs on this machine against a
// bcrypt comparison, measured once per hasher, the first time an imported
// hash needs it (an import, or the first check against an imported hash):
// a server without imported users never spends the measurement's CPU.
//
// An earlier version measured one argon2 run against the start-up's one
// bcrypt, and a busy start inflated the ratio fivefold; the fixed ratio
// that replaced it was off by 2× on other machines. This measurement is
// robust to a busy machine instead:
//   - both sides are short runs of about the same length (argon2id over
//     4 MiB, one pass, one lane; bcrypt at cost 6, scaled by 2^(cost−6),
//     which is exact for bcrypt: its key schedule doubles per cost step),
//     so a preemption hits them alike, and a run of a few milliseconds
//     often fits between two;
//   - they alternate, so a load that comes and goes meets both;
//   - each side keeps the minimum of its runs: load only ever adds time,
//     so the fastest run is the closest to the undisturbed cost;
//   - a first run of each is thrown away, and before each argon2id run
//     the previous one's memory is freed (runtime.GC), so the run reuses
//     it: in a fresh process (the CLI's import) every run otherwise
//     touched new pages, and page faults doubled argon2id's measured cost.
//
// On a 2-core machine at load 19 the ratio so measured stayed within ±10%
// (66,000–80,000 block passes per cost-10 bcrypt, over 12 measurements).
type calibration struct {
	once sync.Once
	// passesPerBcrypt10 is how many 1 KiB argon2 block passes cost as
	// much CPU as one bcrypt comparison at cost 10; bcrypt10 is how long
	// that comparison takes, undisturbed.
	passesPerBcrypt10 float64
	bcrypt10          time.Duration
}

// Calibration runs and bounds.
const (
	calibrationRounds = 15
	calibrationKiB    = 4 * 1024
	calibrationBcrypt = 6
	// The measured ratio is kept within these bounds (a machine whose
	// measurement falls outside them is misread, not that different).
	minPassesPerBcrypt10 = 10_000
	maxPassesPerBcrypt10 = 1_000_000
)

// get returns the measurement, measuring on first use.
func (c *calibration) get() (passesPerBcrypt10 float64, bcrypt10 time.Duration) {
	c.once.Do(c.measure)
	return c.passesPerBcrypt10, c.bcrypt10
}

func (c *calibration) measure() {
	pw, salt := []byte("mfagate calibration"), []byte("mfagate calibration salt")
	argonRun := func() time.Duration {
		// Freed, the previous run's memory is reused: no page faults
		// of a fresh heap (a CLI's import) inflate the run.
		runtime.GC()
		start := time.Now()
		argon2.IDKey(pw, salt, 1, calibrationKiB, 1, 32)
		return time.Since(start)
	}
	bcryptRun := func() time.Duration {
		start := time.Now()
		_, _ = bcrypt.GenerateFromPassword(pw, calibrationBcrypt) // cannot fail at this cost and length
		return time.Since(start)
	}
	argonRun()
	bcryptRun()
	bestArgon, bestBcrypt := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range calibrationRounds {
		bestArgon = min(bestArgon, argonRun())
		bestBcrypt = min(bestBcrypt, bcryptRun())
	}
	bcrypt10 := bestBcrypt << (10 - calibrationBcrypt)
	perPass := float64(max(bestArgon, time.Microsecond)) / calibrationKiB
	c.set(float64(bcrypt10)/perPass, bcrypt10)
}

// set records a measurement within the bounds.
func (c *calibration) set(passesPerBcrypt10 float64, bcrypt10 time.Duration) {
	c.passesPerBcrypt10 = min(max(passesPerBcrypt10, minPassesPerBcrypt10), maxPassesPerBcrypt10)
	c.bcrypt10 = max(bcrypt10, time.Millisecond)
}

// fixed returns a calibration already measured (for tests).
func fixedCalibration(passesPerBcrypt10 float64, bcrypt10 time.Duration) *calibration {
	c := &calibration{}
	c.once.Do(func() { c.set(passesPerBcrypt10, bcrypt10) })
	return c
}
