package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// RecoveryCodeInput is a saved recovery code typed as the second step
// ("Sign in another way" → "Use a recovery code").
type RecoveryCodeInput struct {
	Code     string
	Pending  Pending
	Client   Client
	Rotation Rotation
}

// GuessRecoveryCode is Guess.As for a recovery code.
const GuessRecoveryCode = "recovery code"

// factorRecoveryCode is the sign-in log's second factor of a recovery.
const factorRecoveryCode = "recovery code"

// RecoveryCode is the second step with one of the user's saved recovery
// codes: the failure slots are claimed first, in the account's counter
// codes count in (one limit for both); the code is judged outside any
// transaction with exactly one bcrypt (see RecoveryCodes.judge); then ONE
// transaction applies the outcome: under the user's lock (a removed
// account's sign-in goes nowhere, a blocked one is refused as at the
// password step) the code is marked used, the slots settled, the session
// rotated to complete, the audit and sign-in log rows written and the
// recovery announced (announceRecovery), whose push goes after the
// commit. An admin's temporary password leads on to choosing one's own
// (progressTo), as after any second step.
func (s *SignIn) RecoveryCode(ctx context.Context, in RecoveryCodeInput) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StagePassword {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	at, err := s.attempts.claimAttempt(ctx, bruteforce.Account(u.Username), u, in.Client.IP,
		Guess{Secret: in.Code, As: GuessRecoveryCode})
	if err != nil {
		return Progress{}, err
	}
	var check recoveryCheck
	if at.judged() {
		if check, err = s.recovery.judge(ctx, u.ID, in.Code); err != nil {
			return Progress{}, s.attempts.abandon(ctx, at, err)
		}
	}
	rec := CodeInput{Pending: in.Pending, Rotation: in.Rotation}.completed()
	var why Reason
	var blocked *model.User
	var events []model.AuditEvent
	var ann *Announcement
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		why, blocked, events, ann = ReasonNone, nil, nil, nil
		locked, err := tx.LockUser(ctx, u.ID)
		if errors.Is(err, model.ErrNotFound) {
			return errSessionGone
		}
		if err != nil {
			return err
		}
		left := 0
		why = at.refused
		switch {
		case !at.judged():
		case check.code == nil:
			why = ReasonWrongCode
		case !locked.BlockedAt.IsZero():
			why, blocked = ReasonBlocked, locked
		default:
			if why, left, err = check.use(ctx, tx, u.ID, in.Rotation.At, in.Client.IP); err != nil {
				return err
			}
		}
		if err := at.settle(ctx, tx, why == ReasonNone || why == ReasonBlocked); err != nil {
			return err
		}
		if why != ReasonNone {
			events, err = s.recoveryRefused(ctx, tx, in.Client, u, why)
			return err
		}
		if err := replaceSession(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInComplete, methodRecoveryCode+" ("+strconv.Itoa(left)+" left)")}
		row := in.Client.signInRow(u, factorRecoveryCode, model.SignInSuccess, ReasonNone)
		if err := s.appendRows(ctx, tx, events, &row); err != nil {
			return err
		}
		ann, err = s.notices.announceRecovery(ctx, tx, u, model.RecoveryByCode, in.Client, in.Rotation.At)
		return err
	})
	if errors.Is(err, errSessionGone) {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("core: recovery code step of %q: %w", u.Username, err)
	}
	s.logged(events...)
	at.logged(ctx)
	switch {
	case blocked != nil:
		return Progress{State: StatePassword, Refused: ReasonBlocked, BlockedReason: blocked.BlockedReason, User: u}, nil
	case why != ReasonNone:
		return Progress{State: StateRecoveryCode, Refused: why, User: u}, nil
	}
	ann.Push(ctx)
	return s.progressTo(StateComplete, u, rec.RedirectTo), nil
}

// methodRecoveryCode is the audit's word for a sign-in completed with a
// recovery code.
const methodRecoveryCode = "recovery code"

// recoveryRefused writes a refused recovery code's audit and sign-in log
// rows in tx and returns the audit rows to log once committed.
func (s *SignIn) recoveryRefused(ctx context.Context, tx store.Tx, c Client, u *model.User, why Reason) ([]model.AuditEvent, error) {
	events := []model.AuditEvent{c.auditRow(u, audit.SignInRecoveryCodeFail, why.Audit())}
	row := c.signInRow(u, factorRecoveryCode, model.SignInFailure, why)
	return events, s.appendRows(ctx, tx, events, &row)
}

// HasRecoveryCodes reports whether u has an unused recovery code: the
// second-step pages offer "Use a recovery code" only then.
func (s *SignIn) HasRecoveryCodes(ctx context.Context, u *model.User) (bool, error) {
	n, err := s.recovery.Left(ctx, u.ID)
	return n > 0, err
}
