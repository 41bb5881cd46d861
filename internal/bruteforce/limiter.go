// Package bruteforce limits password and code guessing. Failures are counted
// in the store per account and per client IP, so limits survive restarts and
// are shared by every node; all factors share the account counter.
//
// An attempt claims its slot in both counters before its secret is checked
// (Claim), and a right secret gives back its own slots and nothing else
// (Release). The store makes each claim atomic, so however many guesses
// arrive at once, on one node or several, at most the limit of them is ever
// checked per window. A success never clears the counter: that would hand
// the guesses of a burst still in flight (or of an attacker who knows the
// password and waits for the user to sign in) a fresh set of slots. Wrong
// guesses age out with their window, or an admin unblocks the account.
//
// Beyond the windows, the core counts an account's consecutive failed
// sign-ins and blocks the account at ConsecutiveLimit (NIST SP 800-63B-4:
// no more than 100); the limiter only holds that limit.
//
// Basic auth where only app passwords pass counts against a counter of its
// own (BasicAuthOnly), and a repeat of a recent wrong secret is not counted
// again (repeats.go): a forgotten device must not lock its owner out.
package bruteforce

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Defaults, well under NIST SP 800-63B's 100 consecutive failures.
const (
	DefaultAccountLimit = 10
	DefaultIPLimit      = 50
	DefaultWindow       = 15 * time.Minute
	DefaultLockout      = 15 * time.Minute
)

// The cap on an account's consecutive failed sign-ins (Config.
// ConsecutiveLimit). NIST SP 800-63B-4 says a verifier SHALL limit them
// to no more than 100, so the cap can be lowered but never lifted or
// turned off; below 10 a user's own typos would block them too easily.
const (
	DefaultConsecutiveLimit = 100
	MinConsecutiveLimit     = 10
	MaxConsecutiveLimit     = 100
)

// Config sets the limits; zero values take the defaults.
type Config struct {
	AccountLimit int
	IPLimit      int
	Window       time.Duration
	Lockout      time.Duration
	// ConsecutiveLimit blocks an account (until an admin unblocks it)
	// after this many failed sign-ins in a row, however many windows and
	// lockouts apart; only a successful sign-in starts the count anew.
	// MinConsecutiveLimit..MaxConsecutiveLimit (the configuration
	// validates it); zero, or anything above the maximum, takes
	// DefaultConsecutiveLimit.
	ConsecutiveLimit int
	// Now is the clock; nil: time.Now (tests set a fake one).
	Now func() time.Time
}

// Counters is the part of store.Store the limiter uses.
type Counters interface {
	ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error)
	ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error
	WrongSecretSeen(ctx context.Context, key string, digest []byte, since time.Time) (bool, error)
	RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error
}

// Limiter decides whether an attempt may be checked at all.
type Limiter struct {
	counters Counters
	cfg      Config
	nameKey  []byte
	// secretKey keys the hashes of wrong secrets (see Repeats).
	secretKey []byte
	now       func() time.Time
}

// New returns a Limiter with defaults filled in. nameKey keys the hashes
// that stand for typed names which are no account (see SubjectFor); nodes
// sharing a store must use the same key.
func New(c Counters, cfg Config, nameKey []byte) *Limiter {
	if cfg.AccountLimit <= 0 {
		cfg.AccountLimit = DefaultAccountLimit
	}
	if cfg.IPLimit <= 0 {
		cfg.IPLimit = DefaultIPLimit
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Lockout <= 0 {
		cfg.Lockout = DefaultLockout
	}
	if cfg.ConsecutiveLimit <= 0 || cfg.ConsecutiveLimit > MaxConsecutiveLimit {
		cfg.ConsecutiveLimit = DefaultConsecutiveLimit // never above NIST's cap
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Limiter{counters: c, cfg: cfg, nameKey: nameKey, secretKey: deriveKey(nameKey, "mfagate/wrong-secrets"),
		now: now}
}

// ConsecutiveLimit is how many failed sign-ins in a row block an account
// (see Config.ConsecutiveLimit).
func (l *Limiter) ConsecutiveLimit() int { return l.cfg.ConsecutiveLimit }

// Now is the limiter's clock: the time its claims are counted at.
func (l *Limiter) Now() time.Time { return l.now() }

// AccountKey is the store key of an account's failure counter (for code
// that removes or unblocks accounts; everything else goes through the
// Limiter).
func AccountKey(account string) string { return accountKey(account) }

// BasicAuthOnlyKey is the store key of an account's basic-auth-only
// counter (see BasicAuthOnly).
func BasicAuthOnlyKey(account string) string { return basicKey(account) }

func accountKey(account string) string { return "acct:" + account }
func basicKey(account string) string   { return "basic:" + account }
func ipKey(ip string) string           { return "ip:" + ip }

// Counter names the per-account counter an attempt claims its slot in
// (besides its IP's).
type Counter struct{ key string }

// Account is the counter every check of a guessable secret of the account
// shares: the browser sign-in's password and codes, and basic auth where
// it accepts the account password. When it is locked, the account is.
func Account(name string) Counter { return Counter{accountKey(name)} }

// BasicAuthOnly is the counter of basic-auth attempts where only app
// passwords are accepted: a 16-letter random app password cannot be
// guessed in practice, so those failures (mostly a forgotten device still
// sending a deleted one) must never lock the account. When this counter is
// locked, basic auth refuses the account; the browser sign-in does not
// look at it.
func BasicAuthOnly(name string) Counter { return Counter{basicKey(name)} }

// Claim is the slots one attempt holds in the account and IP counters,
// each with the start of the window it was counted in.
type Claim struct {
	account, ip             string
	accountWindow, ipWindow time.Time
}

// Claim reserves one failure slot in the account's and the IP's counter
// before a secret is checked. When either is full or locked it returns a
// nil Claim and why ("account locked", "ip locked"), and holds nothing:
// callers must then still run the normal check and answer exactly as for a
// wrong secret, so a lock reveals nothing the attacker did not already know.
// A claim that is not released stays counted as a failure.
func (l *Limiter) Claim(ctx context.Context, account, ip string) (*Claim, string, error) {
	return l.ClaimOn(ctx, Account(account), ip)
}

// ClaimOn is Claim on counter (the account's or its basic-auth-only one).
func (l *Limiter) ClaimOn(ctx context.Context, counter Counter, ip string) (*Claim, string, error) {
	return l.ClaimIn(ctx, l.counters, counter, ip)
}

// Writer is what a claim, its release and the memory of a wrong secret
// write: the store, or one of its transactions (so that the core claims
// an attempt's slots in both counters in one transaction, and settles
// them in the transaction that applies the attempt's outcome).
type Writer interface {
	ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error)
	ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error
	RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error
}

// ClaimIn is ClaimOn writing through w.
func (l *Limiter) ClaimIn(ctx context.Context, w Writer, counter Counter, ip string) (*Claim, string, error) {
	now := l.now()
	c := &Claim{account: counter.key, ip: ipKey(ip)}
	ok, f, err := w.ClaimFailure(ctx, c.account, now, l.cfg.Window, l.cfg.AccountLimit, l.cfg.Lockout)
	if err != nil {
		return nil, "", fmt.Errorf("bruteforce: account counter: %w", err)
	}
	if !ok {
		return nil, "account locked", nil
	}
	c.accountWindow = f.WindowStart
	ok, f, err = w.ClaimFailure(ctx, c.ip, now, l.cfg.Window, l.cfg.IPLimit, l.cfg.Lockout)
	if err == nil && ok {
		c.ipWindow = f.WindowStart
		return c, "", nil
	}
	// The account slot was taken for an attempt that will not be checked.
	if rerr := w.ReleaseFailure(ctx, c.account, c.accountWindow, l.cfg.AccountLimit); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return nil, "", fmt.Errorf("bruteforce: ip counter: %w", err)
	}
	return nil, "ip locked", nil
}

// ClaimAddressIn reserves one failure slot in the IP's counter alone, for
// an attempt that names no account before it is judged (a passkey whose
// user handle names nobody); nil and "ip locked" when the counter is full
// or locked.
func (l *Limiter) ClaimAddressIn(ctx context.Context, w Writer, ip string) (*Claim, string, error) {
	c := &Claim{ip: ipKey(ip)}
	ok, f, err := w.ClaimFailure(ctx, c.ip, l.now(), l.cfg.Window, l.cfg.IPLimit, l.cfg.Lockout)
	if err != nil {
		return nil, "", fmt.Errorf("bruteforce: ip counter: %w", err)
	}
	if !ok {
		return nil, "ip locked", nil
	}
	c.ipWindow = f.WindowStart
	return c, "", nil
}

// Release gives a claim's slots back: the secret was right (a success must
// never count as a failure) or was never checked (shed under load). A nil
// claim is ignored.
func (l *Limiter) Release(ctx context.Context, c *Claim) error {
	return l.ReleaseIn(ctx, l.counters, c)
}

// ReleaseIn is Release writing through w.
func (l *Limiter) ReleaseIn(ctx context.Context, w Writer, c *Claim) error {
	if c == nil {
		return nil
	}
	if c.account != "" { // "": an address-only claim (ClaimAddressIn)
		if err := w.ReleaseFailure(ctx, c.account, c.accountWindow, l.cfg.AccountLimit); err != nil {
			return fmt.Errorf("bruteforce: release account slot: %w", err)
		}
	}
	if err := w.ReleaseFailure(ctx, c.ip, c.ipWindow, l.cfg.IPLimit); err != nil {
		return fmt.Errorf("bruteforce: release ip slot: %w", err)
	}
	return nil
}
