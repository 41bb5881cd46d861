// Package core is the domain core of mfagate: the rules that hold whoever
// calls (browser pages, basic auth, the CLI). Today it holds the checking
// of guessable secrets; the other state changes are moving here.
package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Attempts checks guessable secrets (passwords, codes, app passwords)
// under the brute-force rules: every attempt claims its failure slots
// before the secret is judged, and a right secret gives them back.
type Attempts struct {
	Store   store.Store
	Limiter *bruteforce.Limiter
}

// Judge decides one secret for account u. u is nil when there is no such
// account or the attempt was refused by the limits: the judge must then
// pay the same cost as for a real account (a dummy bcrypt), so neither
// answer nor timing tells these cases apart. detail says why a secret
// failed (for logs only); an error means it was not judged (shed under
// load, or a store failure).
type Judge func(ctx context.Context, u *model.User) (passed bool, detail string, err error)

// Outcome is the result of one attempt.
type Outcome struct {
	// User is the account when the secret passed, else nil.
	User *model.User
	// Who names the attempt for logs: the account's ID and name, or, when
	// no account has the typed name, "unknown:" and a keyed hash of it,
	// never the typed text.
	Who model.User
	// Detail says why the attempt failed (for logs only).
	Detail string
	// Blocked is set when the secret was right but the account is blocked
	// (a sign-in request was reported as fraud): only someone who knows
	// the secret learns it, so the page may say so.
	Blocked bool
	// BlockedReason is the block's reason when Blocked.
	BlockedReason string
}

// ByName judges a secret sent with a typed username.
func (a *Attempts) ByName(ctx context.Context, typed, ip string, judge Judge) (Outcome, error) {
	name, err := NormalizeUsername(typed)
	if err != nil {
		name = "" // cannot be an account
	}
	user, err := a.find(ctx, name)
	if err != nil {
		return Outcome{}, err
	}
	subject := a.Limiter.SubjectFor(typed, name)
	out := Outcome{Who: model.User{Username: subject.Unknown}}
	if user != nil {
		out.Who = model.User{ID: user.ID, Username: user.Username}
	}
	return a.run(ctx, subject.Counter, user, ip, judge, out)
}

// ForUser judges a secret of a known account (a code after the password).
func (a *Attempts) ForUser(ctx context.Context, u *model.User, ip string, judge Judge) (Outcome, error) {
	return a.run(ctx, u.Username, u, ip, judge, Outcome{Who: model.User{ID: u.ID, Username: u.Username}})
}

func (a *Attempts) find(ctx context.Context, name string) (*model.User, error) {
	if name == "" {
		return nil, nil
	}
	u, err := a.Store.UserByName(ctx, name)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: user: %w", err)
	}
	return u, nil
}

func (a *Attempts) run(ctx context.Context, counter string, user *model.User, ip string, judge Judge, out Outcome) (Outcome, error) {
	claim, blocked, err := a.Limiter.Claim(ctx, counter, ip)
	if err != nil {
		return Outcome{}, err
	}
	judged := user
	if claim == nil {
		judged = nil // refused: the real secret is not consulted at all
	}
	passed, detail, err := judge(ctx, judged)
	if err != nil {
		// Not judged: neither a failure nor a success.
		return Outcome{}, errors.Join(err, a.Limiter.Release(ctx, claim))
	}
	switch {
	case claim == nil:
		out.Detail = blocked
		return out, nil
	case !passed || user == nil:
		out.Detail = detail
		return out, nil
	}
	if err := a.Limiter.Release(ctx, claim); err != nil {
		return Outcome{}, err
	}
	if !user.BlockedAt.IsZero() {
		out.Detail, out.Blocked, out.BlockedReason = "account blocked", true, user.BlockedReason
		return out, nil
	}
	out.User = user
	return out, nil
}
