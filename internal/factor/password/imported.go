package password

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// MaxImportedCost bounds what one check against an imported hash may cost,
// in checks against the server's own hashes (one bcrypt comparison at its
// bcrypt_cost, which is also what a check for an unknown name costs): a
// dearer hash would let anyone tell the account apart by how long a wrong
// password takes, and each guess would spend that much more CPU.
const MaxImportedCost = 2.0

// ImportedChecks is how many checks against hashes dearer than the
// server's own (argon2id, or bcrypt above bcrypt_cost: imported hashes
// until their user's first sign-in) run at once on a node. They wait for
// their turn at most the queue wait and are then shed (ErrImportedBusy),
// and they take neither slots nor budget from ordinary sign-ins; their
// turn is held at least as long as the check's CPU time on one core (an
// argon2id hash's lanes may run in parallel), so together they use about
// one core at most.
const ImportedChecks = 1

// ErrTooCostly is wrapped by CheckImportedHash for a hash above
// MaxImportedCost.
var ErrTooCostly = errors.New("password hash too costly to check")

// ErrImportedBusy is returned (wrapping ErrBusy, so callers answer 503
// with Retry-After) when a check against an imported hash found the
// imported checks' pool full for the whole queue wait.
var ErrImportedBusy = fmt.Errorf("%w: checks against imported password hashes are all in progress", ErrBusy)

// CheckImportedHash says whether a password hash from another system can
// be stored as it is: a bcrypt hash ($2a$, $2b$, $2y$) of cost at least
// MinCost, or an argon2id hash within the Argon2 bounds, costing at most
// MaxImportedCost checks at the server's cost (CheckCost; above it, the
// error wraps ErrTooCostly and says the cost). scheme is "bcrypt" or
// "argon2id". Any other scheme (sha512-crypt $6$, pbkdf2, scrypt, plain
// text) wraps ErrUnsupportedHash; the error never quotes the hash.
func (h *Hasher) CheckImportedHash(hash string) (scheme string, cost float64, err error) {
	switch {
	case IsArgon2id(hash):
		scheme = "argon2id"
		if _, err := parseArgon2id(hash); err != nil {
			return scheme, 0, err
		}
	case hasBcryptPrefix(hash):
		scheme = "bcrypt"
		if err := checkBcrypt(hash, bcrypt.MaxCost); err != nil {
			return scheme, 0, err
		}
	case hash == "":
		return "", 0, fmt.Errorf("%w: no password hash", ErrUnsupportedHash)
	default:
		return "", 0, fmt.Errorf("%w: %s (only bcrypt $2a$/$2b$/$2y$ and argon2id are accepted)", ErrUnsupportedHash, describeScheme(hash))
	}
	cost = h.CheckCost(hash)
	if cost > MaxImportedCost {
		return scheme, cost, fmt.Errorf("%w: a check against this %s hash costs about %.1f checks at this server's bcrypt cost %d, more than %.1f: a wrong password would take that much longer than for an unknown name",
			ErrTooCostly, scheme, cost, h.cost, MaxImportedCost)
	}
	return scheme, cost, nil
}

// CheckCost estimates how long a check against hash takes on this node,
// in checks against the server's own hashes: 2^(cost − bcrypt_cost) for
// bcrypt; for argon2id its m·t block passes, run on min(lanes, cores) cores
// at once, against the measured cost of bcrypt (calibration). That is the
// time an attacker timing answers of an idle node sees. 1 for anything
// else (checked against the dummy hash).
func (h *Hasher) CheckCost(hash string) float64 {
	if p, err := parseArgon2id(hash); err == nil {
		lanes := min(float64(p.lanes), float64(runtime.GOMAXPROCS(0)))
		return h.argon2CPUCost(p) / max(lanes, 1)
	}
	if c, ok := bcryptCost(hash); ok {
		return math.Exp2(float64(c - h.cost))
	}
	return 1
}

// argon2CPUCost is the CPU an argon2id check with p costs, in bcrypt
// comparisons at the server's cost (all lanes together).
func (h *Hasher) argon2CPUCost(p *argon2Params) float64 {
	perBcrypt10, _ := h.calib.get()
	return float64(p.memory) * float64(p.time) / (perBcrypt10 * math.Exp2(float64(h.cost-10)))
}

// bcryptCost is the cost of a bcrypt hash.
func bcryptCost(hash string) (int, bool) {
	if !hasBcryptPrefix(hash) {
		return 0, false
	}
	c, err := bcrypt.Cost([]byte(hash))
	return c, err == nil
}

// NeedsRehash reports whether a stored hash should be replaced, once a
// password matched it, by a bcrypt hash at the server's cost: any scheme
// or cost other than the server's own (imported hashes, and hashes made
// before bcrypt_cost changed). The empty hash (no usable password) never
// matches, so it is never rehashed.
func (h *Hasher) NeedsRehash(hash string) bool {
	if IsArgon2id(hash) {
		return true
	}
	c, ok := bcryptCost(hash)
	return ok && c != h.cost
}

// dearer reports whether a check against hash runs in the imported
// checks' pool: a valid argon2id hash, or bcrypt above the server's cost.
// A cheaper bcrypt hash costs less than one ordinary check and is paced as
// one; an argon2id hash outside the bounds is checked as the dummy.
func (h *Hasher) dearer(hash string) bool {
	if IsArgon2id(hash) {
		_, err := parseArgon2id(hash)
		return err == nil
	}
	c, ok := bcryptCost(hash)
	return ok && c > h.cost
}

// importPool is the imported checks' own pool (ImportedChecks turns).
type importPool struct {
	turns chan struct{}
}

func newImportPool() *importPool {
	return &importPool{turns: make(chan struct{}, ImportedChecks)}
}

// verifyImported is VerifyBounded for a hash dearer than the server's own:
// it waits at most the queue wait for a turn in the imported checks' pool
// (ErrImportedBusy otherwise), checks, and holds the turn until the
// check's CPU time on one core has passed.
func (h *Hasher) verifyImported(ctx context.Context, hash, pw string) (bool, error) {
	if err := h.takeTurn(ctx); err != nil {
		return false, err
	}
	start := time.Now()
	ok := h.Verify(hash, pw)
	if rest := h.cpuTime(hash) - time.Since(start); rest > 0 {
		time.AfterFunc(rest, h.imported.give)
	} else {
		h.imported.give()
	}
	return ok, nil
}

// takeTurn waits at most the queue wait for a turn in the imported
// checks' pool.
func (h *Hasher) takeTurn(ctx context.Context) error {
	select {
	case h.imported.turns <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.queueWait)
	defer t.Stop()
	select {
	case h.imported.turns <- struct{}{}:
		return nil
	case <-t.C:
		return ErrImportedBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *importPool) give() { <-p.turns }

// cpuTime is how long a check against a dearer hash keeps one core busy,
// by the calibration.
func (h *Hasher) cpuTime(hash string) time.Duration {
	_, bcrypt10 := h.calib.get()
	atServerCost := float64(bcrypt10) * math.Exp2(float64(h.cost-10))
	if p, err := parseArgon2id(hash); err == nil {
		return time.Duration(h.argon2CPUCost(p) * atServerCost)
	}
	return time.Duration(h.CheckCost(hash) * atServerCost)
}
