package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/accesspass"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
)

// AccessPassInput is the access-pass form: a username and the
// Temporary Access Pass an admin gave the user (accesspass.go).
type AccessPassInput struct {
	Username, Pass string
	// RedirectTo is where the restricted session goes: Security info.
	RedirectTo string
	Client     Client
	Rotation   Rotation
}

// The sign-in log's and the audit's words for a pass sign-in: it stands
// for both factors.
const (
	factorAccessPass     = "access pass"
	factorAccessPassOnly = "not required: access pass"
)

// AccessPass signs in with a Temporary Access Pass, as the password step
// does with a password: the account's and the address's failure slots
// are claimed first (one transaction), the pass is judged outside any
// transaction (one bcrypt whatever the case: a dummy one for no account,
// no pass or a refused claim), then ONE transaction applies the outcome.
// A right pass that still works moves the sign-in to StateAccessPass: a
// session that reaches Security info only (model.StageAccessPass), to
// register a new method; a one-time pass is used up in that transaction.
// Unknown user, no pass, wrong, expired or used pass and a locked
// account are refused alike; a blocked account is told so only when the
// pass was right, as at the password step, and an account with an
// admin's temporary password is refused (that password is its way in).
func (s *SignIn) AccessPass(ctx context.Context, in AccessPassInput) (Progress, error) {
	a := s.attempts
	t, err := a.typedAccount(ctx, in.Username)
	if err != nil {
		return Progress{}, err
	}
	user, subject, who := t.user, t.subject, t.who
	pass, err := s.accessPassOf(ctx, user)
	if err != nil {
		return Progress{}, err
	}
	typed := accesspass.Normalize(in.Pass)
	at, err := a.claimAttempt(ctx, bruteforce.Account(subject.Counter), user, in.Client.IP,
		Guess{Secret: typed, As: accessPassGuess(pass)})
	if err != nil {
		return Progress{}, err
	}
	passed, why := false, at.refused
	if !at.repeat {
		judged := pass
		if !at.judged() {
			judged = nil // refused by the limits: the real hash is not consulted
		}
		ok, reason, err := s.judgeAccessPass(ctx, user, judged, typed)
		if err != nil {
			return Progress{}, a.abandon(ctx, at, err)
		}
		if at.judged() {
			passed, why = ok, reason
		}
	}
	if passed {
		why = accountBar(user, false)
	}
	if !passed || why != ReasonNone {
		var expired *model.AccessPass
		if at.judged() && pass != nil && pass.Expired(s.now()) {
			expired = pass
		}
		pr, err := s.accessPassRefused(ctx, at, who, passed, why, expired, in)
		if why == ReasonBlocked && passed {
			pr.BlockedReason = user.BlockedReason
		}
		return pr, err
	}
	return s.accessPassPassed(ctx, at, user, pass, in)
}

// accessPassOf is u's pass (nil: no account, or no pass).
func (s *SignIn) accessPassOf(ctx context.Context, u *model.User) (*model.AccessPass, error) {
	if u == nil {
		return nil, nil
	}
	p, err := s.store.AccessPass(ctx, u.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: access pass: %w", err)
	}
	return p, nil
}

// accessPassGuess is Guess.As of a pass: the same text against another
// pass (a new one issued) is another guess.
func accessPassGuess(p *model.AccessPass) string {
	id := int64(0)
	if p != nil {
		id = p.ID
	}
	return "access pass\x00" + strconv.FormatInt(id, 10)
}

// judgeAccessPass judges typed against u's pass p (nil: no account or no
// pass, or the claim was refused): one bounded bcrypt in every case.
func (s *SignIn) judgeAccessPass(ctx context.Context, u *model.User, p *model.AccessPass, typed string) (bool, Reason, error) {
	hash := ""
	if p != nil {
		hash = p.Hash
	}
	matched, err := s.hasher.VerifyBounded(ctx, hash, typed)
	switch {
	case err != nil:
		return false, ReasonNone, err
	case u == nil:
		return false, ReasonUnknownUser, nil
	case p == nil:
		return false, ReasonNoAccessPass, nil
	case !matched:
		return false, ReasonWrongAccessPass, nil
	case p.Expired(s.now()):
		return false, ReasonAccessPassExpired, nil
	case p.UsedUp():
		return false, ReasonAccessPassUsed, nil
	}
	return true, ReasonNone, nil
}

// accessPassRefused applies a refused pass in one transaction: the slots
// stay counted (given back when the pass was right but the account
// refused), the audit and sign-in log rows; a pass found expired is
// deleted, its expiry audited.
func (s *SignIn) accessPassRefused(ctx context.Context, at *attempt, who *model.User, right bool, why Reason,
	expired *model.AccessPass, in AccessPassInput) (Progress, error) {
	events := []model.AuditEvent{in.Client.auditRow(who, audit.SignInAccessPassFail, why.Audit())}
	row := in.Client.signInRow(who, "", model.SignInFailure, why)
	row.FirstFactor = factorAccessPass
	if expired != nil {
		events = append(events, endedPassRow(who, expired, s.now(), "found expired at a sign-in attempt, removed", in.Client.IP))
	}
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := at.settle(ctx, tx, right); err != nil {
			return err
		}
		if expired != nil {
			err := tx.DeleteAccessPass(ctx, expired.UserID, expired.ID)
			if errors.Is(err, model.ErrNotFound) {
				return s.appendRows(ctx, tx, events[:1], &row) // gone meanwhile: its end was audited there
			}
			if err != nil {
				return err
			}
		}
		return s.appendRows(ctx, tx, events, &row)
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: refusing an access pass: %w", err)
	}
	s.logged(events...)
	at.logged(ctx)
	p := Progress{State: StatePassword, Refused: why}
	if who.ID != 0 {
		p.User = who
	}
	return p, nil
}

// accessPassPassed applies a right pass in ONE transaction: the pass
// counted (a one-time pass used up: of two sign-ins with it at once, on
// any node, one passes), the slots given back, the browser's session
// replaced by a restricted one (model.StageAccessPass, its second factor
// now: Security info takes the pass as the re-verification a new method
// asks for), the audit row and the sign-in log row.
func (s *SignIn) accessPassPassed(ctx context.Context, at *attempt, u *model.User, p *model.AccessPass, in AccessPassInput) (Progress, error) {
	rec := in.Rotation.record(model.Session{UserID: u.ID, Stage: model.StageAccessPass, RedirectTo: in.RedirectTo,
		RemoteIP: in.Client.IP, UserAgent: safetext.Clean(in.Client.UserAgent, 256), MFAAt: in.Rotation.At})
	var why Reason
	var events []model.AuditEvent
	var ann *Announcement
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		why, events, ann = ReasonNone, nil, nil
		err := tx.UseAccessPass(ctx, u.ID, p.ID, in.Rotation.At)
		if errors.Is(err, model.ErrNotFound) {
			// A one-time pass used (or the pass replaced) meanwhile.
			why = ReasonAccessPassUsed
			if err := at.settle(ctx, tx, false); err != nil {
				return err
			}
			events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInAccessPassFail, why.Audit())}
			row := in.Client.signInRow(u, "", model.SignInFailure, why)
			row.FirstFactor = factorAccessPass
			return s.appendRows(ctx, tx, events, &row)
		}
		if err != nil {
			return err
		}
		if err := at.settle(ctx, tx, true); err != nil {
			return err
		}
		if err := startOrReplace(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInAccessPassOK,
			fmt.Sprintf("%s pass, use %d; Security info only", passKind(p.Once), p.Uses+1))}
		row := in.Client.signInRow(u, factorAccessPassOnly, model.SignInSuccess, ReasonNone)
		row.FirstFactor = factorAccessPass
		if err := s.appendRows(ctx, tx, events, &row); err != nil {
			return err
		}
		// Every recovery is announced: the notice now, the push after
		// the commit.
		ann, err = s.notices.announceRecovery(ctx, tx, u, model.RecoveryByPass, in.Client, in.Rotation.At)
		return err
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: access pass of %q: %w", u.Username, err)
	}
	s.logged(events...)
	at.logged(ctx)
	if why != ReasonNone {
		return Progress{State: StatePassword, Refused: why, User: u}, nil
	}
	ann.Push(ctx)
	return Progress{State: StateAccessPass, User: u, RedirectTo: rec.RedirectTo, Rotated: true}, nil
}
