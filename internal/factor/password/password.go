// Package password hashes and checks account passwords with bcrypt.
//
// Passwords are checked exactly as typed: bcrypt only reads 72 bytes, so
// longer passwords are rejected instead of silently truncated. Checks for
// unknown users compare against a dummy hash so they cost the same time as
// checks for known users.
package password

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// MaxBytes is the longest password bcrypt can check without truncation.
const MaxBytes = 72

// DefaultCost is the bcrypt cost used when none is configured.
const DefaultCost = 12

// MinCost is the lowest accepted bcrypt cost.
const MinCost = 10

// Errors returned by Hash.
var (
	ErrTooLong = fmt.Errorf("password is longer than %d bytes", MaxBytes)
	ErrEmpty   = errors.New("password is empty")
)

// Hasher hashes and verifies passwords at a fixed bcrypt cost.
type Hasher struct {
	cost  int
	dummy []byte // hash of a random value, compared for unknown users
	// slots bounds concurrent VerifyBounded comparisons; budget paces them.
	slots     chan struct{}
	queueWait time.Duration
	shedDelay time.Duration
	budget    *rate.Limiter
	oneCheck  time.Duration // measured cost of one comparison
	// imported runs the checks against hashes dearer than the server's
	// own, apart from the slots and budget (see ImportedChecks); calib
	// says what argon2id costs against bcrypt here.
	imported *importPool
	calib    *calibration
}

// NewHasher returns a Hasher; cost 0 means DefaultCost.
func NewHasher(cost int) (*Hasher, error) {
	if cost == 0 {
		cost = DefaultCost
	}
	if cost < MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost must be between %d and %d, got %d", MinCost, bcrypt.MaxCost, cost)
	}
	start := time.Now()
	dummy, err := bcrypt.GenerateFromPassword([]byte("mfagate dummy password for unknown users"), cost)
	if err != nil {
		return nil, fmt.Errorf("password: dummy hash: %w", err)
	}
	oneCheck := time.Since(start)
	return &Hasher{cost: cost, dummy: dummy, slots: make(chan struct{}, defaultSlots()), queueWait: DefaultQueueWait,
		shedDelay: ShedDelay, oneCheck: oneCheck, budget: newBudget(oneCheck, DefaultCPUShare), imported: newImportPool(), calib: &calibration{}}, nil
}

// Check validates a new password without hashing it.
func Check(pw string) error {
	switch {
	case pw == "":
		return ErrEmpty
	case len(pw) > MaxBytes:
		return ErrTooLong
	}
	return nil
}

// Hash returns the bcrypt hash of pw.
func (h *Hasher) Hash(pw string) (string, error) {
	if err := Check(pw); err != nil {
		return "", err
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), h.cost)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return string(b), nil
}

// Verify reports whether pw matches hash (bcrypt, or an imported argon2id
// hash: see NeedsRehash). An empty hash (unknown user) or an
// over-long password still costs one bcrypt comparison, so timing does not
// tell them apart from a wrong password.
func (h *Hasher) Verify(hash, pw string) bool {
	if IsArgon2id(hash) {
		return h.verifyArgon2(hash, pw)
	}
	target := []byte(hash)
	usable := hash != "" && Check(pw) == nil
	if !usable {
		target = h.dummy
	}
	candidate := []byte(pw)
	if len(candidate) > MaxBytes {
		candidate = candidate[:MaxBytes]
	}
	err := bcrypt.CompareHashAndPassword(target, candidate)
	return usable && err == nil
}
