package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/accesspass"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// A Temporary Access Pass lets a user who lost every sign-in method back
// in, to Security info only, to register a new one (signin_accesspass.go).
// An admin issues it (the admin center, after re-verifying; the CLI) to
// someone else: never to themselves (Action.RefusedForSelf). It is shown
// once and stored as a bcrypt hash; a user has at most one, so issuing
// another replaces it. Its expiry is audited when it is found expired:
// at a sign-in attempt meeting it (which deletes it) or when the next
// pass replaces it. A pass that expires and is never met again stays,
// unused and useless, until then.

// Lifetimes of a pass.
const (
	AccessPassMinLifetime     = 10 * time.Minute
	AccessPassMaxLifetime     = 30 * 24 * time.Hour
	AccessPassDefaultLifetime = time.Hour
	// AccessPassMaxMultiUse caps a pass that works more than once.
	AccessPassMaxMultiUse = 8 * time.Hour
)

// ErrAccessPassLifetime wraps a refused lifetime; its text says the
// bounds.
var ErrAccessPassLifetime = errors.New("invalid Temporary Access Pass lifetime")

// CheckAccessPass validates an ActionAccessPass's lifetime (0: the
// default) against the bounds: 10 minutes to 30 days, and at most 8
// hours for a pass that works more than once.
func (act Action) CheckAccessPass() (Action, error) {
	if act.Lifetime == 0 {
		act.Lifetime = AccessPassDefaultLifetime
	}
	switch {
	case act.Lifetime < AccessPassMinLifetime || act.Lifetime > AccessPassMaxLifetime:
		return act, fmt.Errorf("%w: %s is outside %s to %s", ErrAccessPassLifetime, humanize.Duration(act.Lifetime),
			humanize.Duration(AccessPassMinLifetime), humanize.Duration(AccessPassMaxLifetime))
	case !act.Once && act.Lifetime > AccessPassMaxMultiUse:
		return act, fmt.Errorf("%w: a pass that works more than once lasts at most %s (asked: %s); make it one-time to last longer",
			ErrAccessPassLifetime, humanize.Duration(AccessPassMaxMultiUse), humanize.Duration(act.Lifetime))
	}
	return act, nil
}

// IssueAccessPass gives a user a Temporary Access Pass as the CLI's
// operator (see Admin.applyOne): the pass, formatted to be shown once,
// and when it expires.
func (s *Accounts) IssueAccessPass(ctx context.Context, username string, lifetime time.Duration, once bool) (string, time.Time, error) {
	res, err := s.apply(ctx, username, Action{Kind: ActionAccessPass, Lifetime: lifetime, Once: once})
	if err != nil {
		return "", time.Time{}, err
	}
	return res.Secret, res.Expires, nil
}

// prepareAccessPass checks the action and makes the pass and its hash
// (bcrypt, before the transaction).
func (a *Admin) prepareAccessPass(in changeInput, res *Result) (changeInput, error) {
	act, err := in.act.CheckAccessPass()
	if err != nil {
		return in, err
	}
	pass, err := accesspass.New()
	if err != nil {
		return in, fmt.Errorf("core: making a Temporary Access Pass: %w", err)
	}
	hash, err := a.hasher.Hash(pass)
	if err != nil {
		return in, fmt.Errorf("core: hashing a Temporary Access Pass: %w", err)
	}
	in.act, in.hash, in.expires = act, hash, in.at.Add(act.Lifetime)
	res.Secret, res.Expires = accesspass.Format(pass), in.expires
	return in, nil
}

// putAccessPass stores the user's new pass in tx in place of any earlier
// one, whose end is audited (expired, or replaced while it still worked).
// It says 1 when one was replaced.
func putAccessPass(ctx context.Context, tx store.Tx, actor Actor, in changeInput, u *model.User) (int64, error) {
	if in.hash == "" || in.expires.IsZero() {
		return 0, errors.New("core: a Temporary Access Pass needs a hash and an expiry")
	}
	old, err := tx.AccessPass(ctx, u.ID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		old = nil
	case err != nil:
		return 0, err
	}
	if old != nil {
		if _, err := auditIn(ctx, tx, endedPassRow(u, old, in.at, "replaced by a new pass; by "+actor.Name, actor.IP)); err != nil {
			return 0, err
		}
	}
	p := &model.AccessPass{UserID: u.ID, Hash: in.hash, Once: in.act.Once, ExpiresAt: in.expires, IssuedBy: actor.String()}
	if err := tx.PutAccessPass(ctx, p); err != nil {
		return 0, err
	}
	if old != nil {
		return 1, nil
	}
	return 0, nil
}

// endedPassRow is the audit row of u's pass p going at now: expired (at
// its expiry), or replaced while it still worked.
func endedPassRow(u *model.User, p *model.AccessPass, now time.Time, why, ip string) model.AuditEvent {
	e := model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.AccessPassReplaced, RemoteIP: ip,
		Detail: fmt.Sprintf("%s pass issued %s, used %d times: %s", passKind(p.Once), p.CreatedAt.UTC().Format(time.RFC3339), p.Uses, why)}
	if p.Expired(now) {
		e.Event = audit.AccessPassExpired
		e.Detail = fmt.Sprintf("%s pass expired %s, used %d times: %s", passKind(p.Once), p.ExpiresAt.UTC().Format(time.RFC3339), p.Uses, why)
	}
	return e
}

func passKind(once bool) string {
	if once {
		return "one-time"
	}
	return "multi-use"
}

// describeAccessPass is the result (and audit detail) of an issue; n is
// 1 when an earlier pass was replaced.
func describeAccessPass(act Action, n int64) string {
	d := fmt.Sprintf("Temporary Access Pass issued (%s, valid %s; shown below, once)", passKind(act.Once), humanize.Duration(act.Lifetime))
	if n == 1 {
		d += "; the earlier pass no longer works"
	}
	return d
}
