package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Re-verification: a complete session proves a second factor again
// before a change (Security info, the admin center). It takes any second
// factor the user has: a code (ReverifyCode) or the phone's approval of a
// request made for the session (ReverifyPhone). On success the session
// continues under a new identifier with its second factor's time now.

// Where a re-verification is asked for, as the audit names it.
const (
	ReverifySecurityInfo = "re-verification"
	ReverifyAdminCenter  = "admin center re-verification"
)

// ReverifyCode re-verifies with a code (where: ReverifySecurityInfo or
// ReverifyAdminCenter): claim, then one transaction with the step's use,
// the slots' settlement and the session's new identifier, or the
// failure's audit row.
func (s *SignIn) ReverifyCode(ctx context.Context, in CodeInput, where string) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StageComplete {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	secrets, err := s.codes.secretsOf(ctx, u)
	if err != nil {
		return Progress{}, err
	}
	if len(secrets) == 0 {
		return Progress{State: StateComplete, Refused: ReasonNoSecondFactor, User: u}, nil
	}
	c, err := s.checkCode(ctx, u, secrets, in.Code, in.Client.IP)
	if err != nil {
		return Progress{}, err
	}
	rec := in.Rotation.record(in.Pending.Session)
	rec.MFAAt = in.Rotation.At
	var why Reason
	var events []model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		events = nil
		if why, err = c.settle(ctx, tx, u.ID); err != nil {
			return err
		}
		if why != ReasonNone {
			events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInCodeFail, where+": "+why.Audit())}
			return s.appendRows(ctx, tx, events, nil)
		}
		if err := reverified(ctx, tx, u.ID); err != nil {
			return err
		}
		return replaceSession(ctx, tx, in.Rotation.OldHash, &rec)
	})
	if errors.Is(err, errSessionGone) {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("core: re-verification of %q: %w", u.Username, err)
	}
	s.logged(events...)
	c.at.logged(ctx)
	if why != ReasonNone {
		return Progress{State: StateComplete, Refused: why, User: u}, nil
	}
	return Progress{State: StateComplete, User: u, RedirectTo: rec.RedirectTo, Rotated: true}, nil
}

// ReverifyPhone re-verifies with the phone's approval of the request made
// for this session (Approvals.Request), in one transaction: the request
// is consumed and the session continues under a new identifier.
func (s *SignIn) ReverifyPhone(ctx context.Context, in PhoneInput) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StageComplete {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	rec := in.Rotation.record(in.Pending.Session)
	rec.MFAAt = in.Rotation.At
	why, err := s.consume(ctx, in, &rec, func(ctx context.Context, tx store.Tx) error { return reverified(ctx, tx, u.ID) })
	if err != nil {
		return Progress{}, fmt.Errorf("core: re-verification of %q: %w", u.Username, err)
	}
	if why != ReasonNone {
		return Progress{State: StateComplete, Refused: why, User: u}, nil
	}
	return Progress{State: StateComplete, User: u, RedirectTo: rec.RedirectTo, Rotated: true}, nil
}

// reverified applies, in a re-verification's transaction, what a
// successful authentication of the user resets: their consecutive failed
// sign-ins (NIST SP 800-63B-4: earlier failures are disregarded after a
// success). A completed sign-in does the same with its success row.
func reverified(ctx context.Context, tx store.Tx, userID int64) error {
	return tx.ResetFailedSignIns(ctx, userID)
}

// SecondFactors says which second factors u can re-verify with.
func (s *SignIn) SecondFactors(ctx context.Context, u *model.User) (code, phone bool, err error) {
	auths, err := s.codes.store.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return false, false, fmt.Errorf("core: authenticators: %w", err)
	}
	phone, err = s.hasPhone(ctx, u.ID)
	return len(auths) > 0, phone, err
}
