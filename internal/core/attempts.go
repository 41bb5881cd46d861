// Package core is the domain core of mfagate: the rules that hold whoever
// calls (browser pages, basic auth, the CLI). Today it holds the checking
// of guessable secrets; the other state changes are moving here.
package core

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Attempts checks guessable secrets (passwords, codes, app passwords)
// under the brute-force rules: every attempt claims its failure slots
// before the secret is judged, and a right secret gives them back; a
// repeat of a recent wrong secret is refused again without being judged
// or counted.
type Attempts struct {
	store   store.Store
	Limiter *bruteforce.Limiter
	// Logger reports a wrong secret that could not be remembered (its
	// failure stays counted; a repeat is then merely counted again); nil:
	// none.
	Logger *zap.Logger
	// audit logs the blocks failures apply (see capFailedSignIns) to the
	// server log, and events announces them; nil: none.
	audit  *audit.Log
	events *Events
}

// Judge decides one secret for account u. u is nil when there is no such
// account or the attempt was refused by the limits: the judge must then
// pay the same cost as for a real account (a dummy bcrypt), so neither
// answer nor timing tells these cases apart. why says why a secret
// failed (for logs only); an error means it was not judged (shed under
// load, or a store failure).
type Judge func(ctx context.Context, u *model.User) (passed bool, why Reason, err error)

// Guess is the secret an attempt judges, as far as the brute-force rules
// need it: to recognise a repeat of the same wrong secret, which is then
// answered as wrong again without being judged or counted (see
// bruteforce.Fingerprint).
type Guess struct {
	// Secret is the secret as sent; only a keyed hash of it is kept.
	Secret string
	// As says what the secret is checked as and against what, beyond the
	// account's password hash (which is always part of it): the same
	// secret judged the same way is the same guess. Callers put here all
	// their verdict depends on ("account password", the basic-auth
	// rules of the site, a code's time step and candidate secrets).
	As string
	// BasicAuthOnly, when set, says for the account found (nil: no such
	// account) whether failures count against its basic-auth-only
	// counter instead of the account's (see bruteforce.BasicAuthOnly).
	BasicAuthOnly func(u *model.User) bool
	// Upgrade, when set, is asked once the secret passed for an
	// unblocked account (outside any transaction) for the upgrade of the
	// account's password hash to store with the slots' release, in the
	// same transaction (Accounts.PrepareHashUpgrade); nil: none.
	Upgrade func(ctx context.Context, u *model.User) *HashUpgrade
	// SignsIn says a pass is a whole sign-in (basic auth): it starts
	// the account's consecutive failed sign-ins anew, in the transaction
	// that gives its slots back. Else only a completed sign-in does.
	SignsIn bool
}

// GuessAccountPassword is Guess.As for the account password checked as
// such (the sign-in form, the current password of a change): the same
// guess wherever it is typed.
const GuessAccountPassword = "account password"

// DetailRepeat is the audit detail of an attempt refused as a repeat of
// a wrong secret (ReasonRepeat): it was neither judged nor counted.
const DetailRepeat = "same wrong secret again: not counted"

// Outcome is the result of one attempt.
type Outcome struct {
	// User is the account when the secret passed, else nil.
	User *model.User
	// Who names the attempt for logs: the account's ID and name, or, when
	// no account has the typed name, "unknown:" and a keyed hash of it,
	// never the typed text.
	Who model.User
	// Reason says why the attempt failed (for logs only).
	Reason Reason
	// Blocked is set when the secret was right but the account is blocked
	// (a sign-in request was reported as fraud): only someone who knows
	// the secret learns it, so the page may say so.
	Blocked bool
	// BlockedReason is the block's reason when Blocked.
	BlockedReason string
	// Repeat is set when the secret was refused as a repeat of a recent
	// wrong one (Reason is ReasonRepeat).
	Repeat bool
	// BasicAuthOnly is set when the attempt counted against the
	// basic-auth-only counter (see Guess.BasicAuthOnly).
	BasicAuthOnly bool
	// UpgradedHash is the account's new password hash when Guess.Upgrade
	// stored one ("" when none).
	UpgradedHash string
}

// ByName judges secret g sent with a typed username.
func (a *Attempts) ByName(ctx context.Context, typed, ip string, g Guess, judge Judge) (Outcome, error) {
	t, err := a.typedAccount(ctx, typed)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Who: *t.who}
	return a.run(ctx, a.counter(t.subject.Counter, t.user, g, &out), t.user, ip, g, judge, out)
}

// typed is the account a typed username names: the user (nil: none),
// the failure subject its attempts count against (an unknown name's own,
// so unknown and known names are throttled alike), and who the logs name.
type typed struct {
	user    *model.User
	subject bruteforce.Subject
	who     *model.User
}

// typedAccount looks up the account a typed username names (a name that
// cannot be one names none).
func (a *Attempts) typedAccount(ctx context.Context, username string) (typed, error) {
	name, err := NormalizeUsername(username)
	if err != nil {
		name = "" // cannot be an account
	}
	user, err := a.find(ctx, name)
	if err != nil {
		return typed{}, err
	}
	t := typed{user: user, subject: a.Limiter.SubjectFor(username, name)}
	t.who = &model.User{Username: t.subject.Unknown}
	if user != nil {
		t.who = &model.User{ID: user.ID, Username: user.Username}
	}
	return t, nil
}

// ForUser judges secret g of a known account (a code after the password).
func (a *Attempts) ForUser(ctx context.Context, u *model.User, ip string, g Guess, judge Judge) (Outcome, error) {
	out := Outcome{Who: model.User{ID: u.ID, Username: u.Username}}
	return a.run(ctx, a.counter(u.Username, u, g, &out), u, ip, g, judge, out)
}

// counter picks the per-account counter the attempt claims its slot in.
func (a *Attempts) counter(name string, user *model.User, g Guess, out *Outcome) bruteforce.Counter {
	if g.BasicAuthOnly != nil && g.BasicAuthOnly(user) {
		out.BasicAuthOnly = true
		return bruteforce.BasicAuthOnly(name)
	}
	return bruteforce.Account(name)
}

func (a *Attempts) find(ctx context.Context, name string) (*model.User, error) {
	if name == "" {
		return nil, nil
	}
	u, err := a.store.UserByName(ctx, name)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: user: %w", err)
	}
	return u, nil
}

// run judges one attempt (see attempt): a repeat of a recent wrong
// secret is refused as it was before, unjudged and uncounted; anything
// else claims its slots in one transaction before the judge runs, and a
// second settles them: a right secret gives them back, a wrong one keeps
// them and is remembered.
func (a *Attempts) run(ctx context.Context, counter bruteforce.Counter, user *model.User, ip string, g Guess, judge Judge, out Outcome) (Outcome, error) {
	at, err := a.claimAttempt(ctx, counter, user, ip, g)
	if err != nil {
		return Outcome{}, err
	}
	if at.repeat {
		out.Reason, out.Repeat = ReasonRepeat, true
		return out, nil
	}
	judged := user
	if !at.judged() {
		judged = nil // refused: the real secret is not consulted at all
	}
	passed, why, err := judge(ctx, judged)
	if err != nil {
		// Not judged: neither a failure nor a success.
		return Outcome{}, a.abandon(ctx, at, err)
	}
	switch {
	case !at.judged():
		out.Reason = at.refused
		return out, nil
	case !passed || user == nil:
		out.Reason = why
		// Its slots stay counted (claimed before); settling adds it to
		// the account's consecutive failures (which may block it) and
		// remembers it, so a repeat counts no more. A failed settle
		// loses only that one count and memory, so the verdict stands.
		err := a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return at.settle(ctx, tx, false) })
		if err != nil && a.Logger != nil {
			a.Logger.Warn("counting a wrong secret", zap.Error(err))
		}
		if err == nil {
			at.logged(ctx)
		}
		return out, nil
	}
	var up *HashUpgrade
	if g.Upgrade != nil && user.BlockedAt.IsZero() {
		up = g.Upgrade(ctx, user)
	}
	err = a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := at.settle(ctx, tx, true); err != nil {
			return err
		}
		if g.SignsIn && user.BlockedAt.IsZero() {
			if err := tx.ResetFailedSignIns(ctx, user.ID); err != nil {
				return err
			}
		}
		if up == nil {
			return nil
		}
		return up.applyIn(ctx, tx)
	})
	if err != nil {
		return Outcome{}, err
	}
	if !user.BlockedAt.IsZero() {
		out.Reason, out.Blocked, out.BlockedReason = ReasonBlocked, true, user.BlockedReason
		return out, nil
	}
	if up != nil {
		out.UpgradedHash = up.done(ctx)
	}
	out.User = user
	return out, nil
}
