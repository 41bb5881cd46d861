package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// CodeInput is a code typed as the second step (or to re-verify).
type CodeInput struct {
	Code     string
	Pending  Pending
	Client   Client
	Rotation Rotation
}

// errSessionGone rolls back a transition whose session was ended
// meanwhile (signed out elsewhere, blocked): it goes nowhere.
var errSessionGone = errors.New("core: the sign-in's session was ended meanwhile")

// codeCheck is a code judged against candidate secrets: the attempt and,
// when a secret matched, the time step it matched in.
type codeCheck struct {
	at      *attempt
	step    int64
	matched bool
}

// checkCode claims the attempt's slots and judges code against
// candidates (outside any transaction); the step is used in the apply.
func (s *SignIn) checkCode(ctx context.Context, u *model.User, candidates [][]byte, code, ip string) (*codeCheck, error) {
	now := s.codes.now()
	at, err := s.attempts.claimAttempt(ctx, bruteforce.Account(u.Username), u, ip, codeGuess(candidates, code, now))
	if err != nil {
		return nil, err
	}
	c := &codeCheck{at: at}
	if at.judged() {
		c.step, c.matched = s.matchCode(candidates, code, now)
	}
	return c, nil
}

// settle applies a code check in tx: a matching code uses its time step
// (once: a second use of the step is refused as a reused code), the slots
// go back or stay. It says why the code failed (ReasonNone: it passed).
func (c *codeCheck) settle(ctx context.Context, tx store.Tx, userID int64) (Reason, error) {
	why := c.at.refused
	if c.at.judged() {
		why = ReasonWrongCode
		if c.matched {
			claimed, err := tx.ClaimTOTPStep(ctx, userID, c.step)
			if err != nil {
				return ReasonNone, err
			}
			why = ReasonCodeReused
			if claimed {
				why = ReasonNone
			}
		}
	}
	return why, c.at.settle(ctx, tx, why == ReasonNone)
}

// Code is the second step with a code from one of the user's
// authenticator apps: complete on success, else refused (wrong, reused,
// locked: one answer for all on the page).
func (s *SignIn) Code(ctx context.Context, in CodeInput) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StagePassword {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	secrets, err := s.codes.secretsOf(ctx, u)
	if err != nil {
		return Progress{}, err
	}
	c, err := s.checkCode(ctx, u, secrets, in.Code, in.Client.IP)
	if err != nil {
		return Progress{}, err
	}
	rec := in.completed()
	var why Reason
	var events []model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if why, err = c.settle(ctx, tx, u.ID); err != nil {
			return err
		}
		if why != ReasonNone {
			events, err = s.codeRefused(ctx, tx, in.Client, u, why, "")
			return err
		}
		if err := replaceSession(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInComplete, methodCode)}
		row := in.Client.signInRow(u, factorCode, model.SignInSuccess, ReasonNone)
		return s.appendRows(ctx, tx, events, &row)
	})
	if errors.Is(err, errSessionGone) {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("core: code step of %q: %w", u.Username, err)
	}
	s.logged(events...)
	c.at.logged(ctx)
	if why != ReasonNone {
		return Progress{State: StateCode, Refused: why, User: u}, nil
	}
	return s.progressTo(StateComplete, u, rec.RedirectTo), nil
}

// completed is the pending session completed by a second factor just
// now, under the rotation's new identity.
func (in CodeInput) completed() model.Session {
	rec := in.Rotation.record(in.Pending.Session)
	rec.Stage, rec.MFAAt, rec.PendingTOTP = model.StageComplete, in.Rotation.At, nil
	return rec
}

// codeRefused writes a refused code's audit row (its detail after what
// the code was for, "" at sign-in) and sign-in log row in tx, and returns
// the audit rows to log once committed.
func (s *SignIn) codeRefused(ctx context.Context, tx store.Tx, c Client, u *model.User, why Reason, what string) ([]model.AuditEvent, error) {
	events := []model.AuditEvent{c.auditRow(u, audit.SignInCodeFail, what+why.Audit())}
	row := c.signInRow(u, factorCode, model.SignInFailure, why)
	return events, s.appendRows(ctx, tx, events, &row)
}

// The audit's words for how a sign-in completed.
const (
	methodCode     = "authenticator code"
	methodEnrolled = "authenticator enrolled"
	methodPhone    = "phone approval"
)

// replaceSession stores rec in place of the record oldHash, or rolls the
// transaction back with errSessionGone when that one was ended meanwhile.
func replaceSession(ctx context.Context, tx store.Tx, oldHash []byte, rec *model.Session) error {
	err := tx.ReplaceSession(ctx, oldHash, rec)
	if errors.Is(err, model.ErrNotFound) {
		return errSessionGone
	}
	return err
}
