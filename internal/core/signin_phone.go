package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// PhoneInput is a session whose sign-in request (RequestID) the phone has
// approved: the second step by phone, or a re-verification.
type PhoneInput struct {
	RequestID string
	Pending   Pending
	Client    Client
	Rotation  Rotation
}

// Phone completes the sign-in with the phone's approval of this session's
// request, in one transaction: the request is consumed (only the browser
// that asked can use it, once, on whichever node it polls), the session
// completes under a new identifier, audited and logged. A request not (or
// no longer) approved for this session is refused (ReasonApprovalGone);
// the phone's answer itself was counted when it came (Approvals.Answer).
func (s *SignIn) Phone(ctx context.Context, in PhoneInput) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StagePassword {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	rec := in.Rotation.record(in.Pending.Session)
	rec.Stage, rec.MFAAt, rec.PendingTOTP = model.StageComplete, in.Rotation.At, nil
	ev := in.Client.auditRow(u, audit.SignInComplete, methodPhone)
	row := in.Client.signInRow(u, factorNotification, model.SignInSuccess, ReasonNone)
	why, err := s.consume(ctx, in, &rec, func(ctx context.Context, tx store.Tx) error {
		return s.appendRows(ctx, tx, []model.AuditEvent{ev}, &row)
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: phone step of %q: %w", u.Username, err)
	}
	if why != ReasonNone {
		return Progress{State: StatePassword, Refused: why, User: u}, nil
	}
	s.logged(ev)
	return s.progressTo(StateComplete, u, rec.RedirectTo), nil
}

// consume consumes the approved request of in's session, replacing the
// session by rec, and runs also in the same transaction. It says why
// nothing happened: the request is not approved for this session
// (ReasonApprovalGone) or the session is gone (ReasonSessionGone).
func (s *SignIn) consume(ctx context.Context, in PhoneInput, rec *model.Session, also func(context.Context, store.Tx) error) (Reason, error) {
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ConsumeApproval(ctx, in.RequestID, in.Rotation.OldHash, rec); err != nil {
			return err
		}
		return also(ctx, tx)
	})
	switch {
	case errors.Is(err, model.ErrConflict):
		return ReasonApprovalGone, nil
	case errors.Is(err, model.ErrNotFound):
		return ReasonSessionGone, nil
	}
	return ReasonNone, err
}
