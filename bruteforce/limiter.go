// Package bruteforce limits password and code guessing. Failures are counted
// in the store per account and per client IP, so limits survive restarts and
// are shared by every node; all factors share the account counter, and only
// a completed sign-in clears it.
package bruteforce

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/store"
)

// Defaults, well under NIST SP 800-63B's 100 consecutive failures.
const (
	DefaultAccountLimit = 10
	DefaultIPLimit      = 50
	DefaultWindow       = 15 * time.Minute
	DefaultLockout      = 15 * time.Minute
)

// Config sets the limits; zero values take the defaults.
type Config struct {
	AccountLimit int
	IPLimit      int
	Window       time.Duration
	Lockout      time.Duration
}

// Counters is the part of store.Store the limiter uses.
type Counters interface {
	RecordFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (store.Failures, error)
	FailuresFor(ctx context.Context, key string) (store.Failures, error)
	ClearFailures(ctx context.Context, key string) error
}

// Limiter decides whether an attempt may be checked at all.
type Limiter struct {
	counters Counters
	cfg      Config
	now      func() time.Time
}

// New returns a Limiter with defaults filled in.
func New(c Counters, cfg Config) *Limiter {
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
	return &Limiter{counters: c, cfg: cfg, now: time.Now}
}

func accountKey(username string) string { return "acct:" + username }
func ipKey(ip string) string            { return "ip:" + ip }

// Blocked reports why an attempt must be refused ("" when allowed). Callers
// still run the normal check and answer exactly as for a wrong secret, so a
// lock reveals nothing the attacker did not already know.
func (l *Limiter) Blocked(ctx context.Context, username, ip string) (string, error) {
	now := l.now()
	for _, k := range []struct{ key, why string }{{ipKey(ip), "ip locked"}, {accountKey(username), "account locked"}} {
		f, err := l.counters.FailuresFor(ctx, k.key)
		if err != nil {
			return "", fmt.Errorf("bruteforce: %w", err)
		}
		if f.LockedUntil.After(now) {
			return k.why, nil
		}
	}
	return "", nil
}

// Failed counts one failure against the account and the IP.
func (l *Limiter) Failed(ctx context.Context, username, ip string) error {
	now := l.now()
	if _, err := l.counters.RecordFailure(ctx, accountKey(username), now, l.cfg.Window, l.cfg.AccountLimit, l.cfg.Lockout); err != nil {
		return fmt.Errorf("bruteforce: account counter: %w", err)
	}
	if _, err := l.counters.RecordFailure(ctx, ipKey(ip), now, l.cfg.Window, l.cfg.IPLimit, l.cfg.Lockout); err != nil {
		return fmt.Errorf("bruteforce: ip counter: %w", err)
	}
	return nil
}

// Succeeded clears the account counter after a completed sign-in. The IP
// counter is left alone: one good account must not launder an IP's
// guessing at others.
func (l *Limiter) Succeeded(ctx context.Context, username string) error {
	if err := l.counters.ClearFailures(ctx, accountKey(username)); err != nil {
		return fmt.Errorf("bruteforce: clear: %w", err)
	}
	return nil
}
