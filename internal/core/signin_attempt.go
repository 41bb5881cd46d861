package core

import (
	"context"
	"errors"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// attempt is one guessable secret on its way through a transition: a
// repeat of a recent wrong secret is recognised first (a read) and refused
// unjudged; anything else claims its failure slots in the account's and
// the address's counters in ONE transaction (claim) committed before the
// secret is judged, and settles them in the transaction that applies the
// outcome (settle): a right secret gives them back, a wrong one keeps them
// and is remembered.
type attempt struct {
	limiter     *bruteforce.Limiter
	counter     bruteforce.Counter
	fingerprint []byte
	claim       *bruteforce.Claim
	// refused is why the claim was refused (the limits); ReasonNone
	// when it holds its slots.
	refused Reason
	repeat  bool
	// userID is the account a failure counts against beyond the windowed
	// counters: its consecutive failed sign-ins (0: no account, an
	// unknown name counts nothing there).
	userID int64
	ip     string
	// audit logs blocked after the outcome's transaction committed, and
	// events announces it (the user's sessions and cached credentials are
	// gone).
	audit  *audit.Log
	events *Events
	// blocked is the audit row of the block the failure's settle applied
	// (the account reached the cap on consecutive failed sign-ins); nil:
	// none.
	blocked *model.AuditEvent
}

// claimAttempt starts an attempt of u (nil: no such account; counter
// then names the typed name's stand-in) with guess g from ip.
func (a *Attempts) claimAttempt(ctx context.Context, counter bruteforce.Counter, u *model.User, ip string, g Guess) (*attempt, error) {
	state := g.As
	if u != nil {
		// What any verdict on the account may depend on: a new
		// password or MFA state makes every secret a new guess.
		state += "\x00" + u.PasswordHash + "\x00" + string(u.MFAState) + "\x00" + u.PasswordExpiresAt.String()
	}
	at := &attempt{limiter: a.Limiter, counter: counter, fingerprint: a.Limiter.Fingerprint(counter, state, g.Secret),
		audit: a.audit, events: a.events, ip: ip}
	if u != nil {
		at.userID = u.ID
	}
	repeat, err := a.Limiter.Repeated(ctx, counter, at.fingerprint)
	if err != nil {
		return nil, err
	}
	if repeat {
		at.repeat, at.refused = true, ReasonRepeat
		return at, nil
	}
	return a.claim(ctx, at, u, func(ctx context.Context, tx store.Tx) (*bruteforce.Claim, string, error) {
		return a.Limiter.ClaimIn(ctx, tx, counter, ip)
	})
}

// claimProof starts an attempt whose proof is no typed secret (a
// passkey's answer, different every time: nothing to recognise as a
// repeat). In one transaction, committed before the proof is judged, it
// claims ip's failure slot and, when the proof names an account (u; nil:
// none), that account's too.
func (a *Attempts) claimProof(ctx context.Context, u *model.User, ip string) (*attempt, error) {
	at := &attempt{limiter: a.Limiter, audit: a.audit, events: a.events, ip: ip}
	if u != nil {
		at.counter, at.userID = bruteforce.Account(u.Username), u.ID
	}
	return a.claim(ctx, at, u, func(ctx context.Context, tx store.Tx) (*bruteforce.Claim, string, error) {
		if u == nil {
			return a.Limiter.ClaimAddressIn(ctx, tx, ip)
		}
		return a.Limiter.ClaimIn(ctx, tx, at.counter, ip)
	})
}

// claim commits at's failure slots (claimIn, in one transaction) before
// anything is judged; an account at the cap on consecutive failed
// sign-ins claims nothing and is refused as locked (reachedTheCap).
func (a *Attempts) claim(ctx context.Context, at *attempt, u *model.User,
	claimIn func(context.Context, store.Tx) (*bruteforce.Claim, string, error)) (*attempt, error) {
	if reachedTheCap(u) {
		at.refused = ReasonAccountLocked
		return at, nil
	}
	err := a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		claim, why, err := claimIn(ctx, tx)
		at.claim, at.refused = claim, ReasonNone
		if err == nil && claim == nil {
			at.refused = lockReason(why)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return at, nil
}

// reachedTheCap reports whether u (nil: no account) is blocked for
// reaching the cap on consecutive failed sign-ins. Its secrets are no
// longer judged at all, right or wrong (a dummy bcrypt keeps the time),
// so at most the cap's failures are ever judged between two successes,
// as NIST SP 800-63B-4 asks; the answer is the locked account's, which
// looks like a wrong password. Only an admin's unblock ends it.
func reachedTheCap(u *model.User) bool {
	return u != nil && !u.BlockedAt.IsZero() && u.BlockedReason == model.BlockedByFailedSignIns
}

// judged reports whether the secret is to be judged against the real
// account: a refused claim (or a repeat) judges nothing real.
func (at *attempt) judged() bool { return at.claim != nil }

// settle applies the verdict in the outcome's transaction: passed gives
// the slots back, a failure keeps them, adds one to the account's
// consecutive failed sign-ins (blocking it at the cap: capFailedSignIns)
// and remembers the secret. A refused or repeated attempt holds nothing
// and counts nothing. A pass does not reset the consecutive count: only
// a completed sign-in does (a success row of the sign-in log).
func (at *attempt) settle(ctx context.Context, tx store.Tx, passed bool) error {
	at.blocked = nil // fn may run again
	if at.claim == nil {
		return nil
	}
	if passed {
		return at.limiter.ReleaseIn(ctx, tx, at.claim)
	}
	if at.userID != 0 {
		blocked, err := capFailedSignIns(ctx, tx, at.userID, at.ip, at.limiter.ConsecutiveLimit(), at.limiter.Now())
		if err != nil {
			return err
		}
		at.blocked = blocked
	}
	if at.fingerprint == nil { // a proof, not a secret (claimProof)
		return nil
	}
	return at.limiter.WrongIn(ctx, tx, at.counter, at.fingerprint)
}

// logged writes the block a committed failure applied (if any) to the
// server log (its audit row was stored with it) and announces it, so
// every node drops the user's cached sessions and credentials.
func (at *attempt) logged(ctx context.Context) {
	if at == nil || at.blocked == nil {
		return
	}
	if at.audit != nil {
		at.audit.Logged(*at.blocked)
	}
	if at.events != nil {
		at.events.Publish(ctx, Event{Kind: EventUser, UserID: at.blocked.UserID})
	}
}

// abandon gives the slots back of an attempt whose secret was not judged
// (shed under load, a store failure), joined to err.
func (a *Attempts) abandon(ctx context.Context, at *attempt, err error) error {
	if at == nil || at.claim == nil {
		return err
	}
	rerr := a.store.Update(context.WithoutCancel(ctx), func(ctx context.Context, tx store.Tx) error {
		return at.limiter.ReleaseIn(ctx, tx, at.claim)
	})
	return errors.Join(err, rerr)
}
