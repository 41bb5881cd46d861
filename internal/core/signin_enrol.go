package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Enrolment ("More information required"): a user with no second factor
// who passed the password scans the secret the password step sealed into
// the session and proves it with a code; the authenticator is stored and
// the sign-in completes in the same transaction.

// errAlreadyEnrolled rolls the enrolment's changes back when the user has
// an authenticator by now (enrolled in another browser meanwhile).
var errAlreadyEnrolled = errors.New("core: the user has an authenticator already")

// EnrolmentSecret returns the secret being enrolled in the clear, for the
// page to show; ok is false when the session enrols nothing, or the user
// has an authenticator by now (AbandonEnrolment).
func (s *SignIn) EnrolmentSecret(ctx context.Context, p Pending) (secret []byte, ok bool, err error) {
	if p.Session.PendingTOTP == nil || p.Session.Stage != model.StagePassword {
		return nil, false, nil
	}
	auths, err := s.codes.store.TOTPAuthenticators(ctx, p.User.ID)
	if err != nil {
		return nil, false, fmt.Errorf("core: authenticators: %w", err)
	}
	if len(auths) > 0 {
		return nil, false, nil
	}
	secret, err = s.codes.Open(p.User.ID, p.Session.PendingTOTP)
	if err != nil {
		return nil, false, fmt.Errorf("core: pending secret: %w", err)
	}
	return secret, true, nil
}

// AbandonInput is a session leaving enrolment.
type AbandonInput struct {
	Pending  Pending
	Client   Client
	Rotation Rotation
}

// AbandonEnrolment drops the secret being enrolled by a user who has an
// authenticator by now: the sign-in continues with a code from it.
func (s *SignIn) AbandonEnrolment(ctx context.Context, in AbandonInput) (Progress, error) {
	u := &in.Pending.User
	rec := in.Rotation.record(in.Pending.Session)
	rec.PendingTOTP = nil
	ev := in.Client.auditRow(u, audit.SignInCodeFail, ReasonAlreadyEnrolled.Audit())
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := replaceSession(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		return s.appendRows(ctx, tx, []model.AuditEvent{ev}, nil)
	})
	if errors.Is(err, errSessionGone) {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("core: ending enrolment of %q: %w", u.Username, err)
	}
	s.logged(ev)
	return Progress{State: StateCode, Refused: ReasonAlreadyEnrolled, User: u, Rotated: true}, nil
}

// Enrol proves the secret being enrolled with a code from the new app:
// then, in one transaction, the slots go back, the code's step is used,
// the authenticator is stored (only while the user has none), an Enabled
// user becomes Enforced, the sign-in completes under a new identifier,
// audited and logged. A user who has enrolled elsewhere meanwhile
// continues with a code instead (as AbandonEnrolment).
func (s *SignIn) Enrol(ctx context.Context, in CodeInput) (Progress, error) {
	u := &in.Pending.User
	sealed := in.Pending.Session.PendingTOTP
	if sealed == nil || in.Pending.Session.Stage != model.StagePassword {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	secret, err := s.codes.Open(u.ID, sealed)
	if err != nil {
		return Progress{}, fmt.Errorf("core: pending secret: %w", err)
	}
	c, err := s.checkCode(ctx, u, [][]byte{secret}, in.Code, in.Client.IP)
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
			events, err = s.codeRefused(ctx, tx, in.Client, u, why, "enrolment: ")
			return err
		}
		events, err = s.enrolIn(ctx, tx, u.ID, sealed, in.Client)
		if errors.Is(err, errAlreadyEnrolled) {
			// Enrolled elsewhere meanwhile: on with a code from that app.
			why = ReasonAlreadyEnrolled
			rec.Stage, rec.MFAAt = model.StagePassword, in.Pending.Session.MFAAt
			events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInCodeFail, why.Audit())}
			if err := replaceSession(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
				return err
			}
			return s.appendRows(ctx, tx, events, nil)
		}
		if err != nil {
			return err
		}
		if err := replaceSession(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		events = append(events, in.Client.auditRow(u, audit.SignInComplete, methodEnrolled))
		row := in.Client.signInRow(u, factorCode, model.SignInSuccess, ReasonNone)
		return s.appendRows(ctx, tx, events, &row)
	})
	switch {
	case errors.Is(err, errSessionGone):
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	case err != nil:
		return Progress{}, fmt.Errorf("core: enrolment of %q: %w", u.Username, err)
	}
	s.logged(events...)
	c.at.logged(ctx)
	switch why {
	case ReasonNone:
	case ReasonAlreadyEnrolled:
		return Progress{State: StateCode, Refused: why, User: u, Rotated: true}, nil
	default:
		return Progress{State: StateEnrol, Refused: why, User: u}, nil
	}
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return s.progressTo(StateComplete, u, rec.RedirectTo), nil
}

// enrolIn stores the first authenticator of user userID in tx, under the
// user's lock, and promotes an Enabled user; errAlreadyEnrolled when the
// user has one by now. It returns the audit rows of the change.
func (s *SignIn) enrolIn(ctx context.Context, tx store.Tx, userID int64, sealed []byte, c Client) ([]model.AuditEvent, error) {
	u, err := tx.LockUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	a, promoted, err := addAuthenticatorIn(ctx, tx, s.codes.Open, u, sealed, nil, true)
	if errors.Is(err, model.ErrConflict) {
		return nil, errAlreadyEnrolled
	}
	if err != nil {
		return nil, err
	}
	var events []model.AuditEvent
	if promoted {
		events = append(events, c.auditRow(u, audit.MFAStateChanged, "enabled -> enforced (method registered)"))
	}
	return append(events, c.auditRow(u, audit.TOTPEnrolled, a.Name)), nil
}

// AnotherInput is a further authenticator app added on Security info:
// its secret (sealed in the form that showed it) and the code that
// proves the app holds it.
type AnotherInput struct {
	User   *model.User
	Sealed []byte
	Code   string
	Client Client
}

// AddAuthenticator proves and stores a further authenticator app of a
// signed-in user, as enrolment does: the claim, then one transaction with
// the slots' settlement, the code's step, the authenticator and an
// Enabled user's promotion, audited (a wrong code too). It says why the
// code was refused (ReasonNone: added; ReasonAlreadyEnrolled: the user
// has this app already, nothing judged).
func (s *SignIn) AddAuthenticator(ctx context.Context, in AnotherInput) (Reason, error) {
	u := in.User
	secret, err := s.codes.Open(u.ID, in.Sealed)
	if err != nil {
		return ReasonNone, fmt.Errorf("core: pending secret: %w", err)
	}
	// A form posted again is told so before its code is judged; the
	// check that counts runs again in the add's transaction.
	existing, err := s.codes.store.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return ReasonNone, fmt.Errorf("core: authenticators: %w", err)
	}
	if errors.Is(notEnrolledYet(s.codes.Open, u.ID, existing, secret), ErrAlreadyEnrolled) {
		return ReasonAlreadyEnrolled, nil
	}
	c, err := s.checkCode(ctx, u, [][]byte{secret}, in.Code, in.Client.IP)
	if err != nil {
		return ReasonNone, err
	}
	var why Reason
	var events []model.AuditEvent
	var promoted bool
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if why, err = c.settle(ctx, tx, u.ID); err != nil {
			return err
		}
		if why != ReasonNone {
			events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInCodeFail, "adding authenticator: "+why.Audit())}
			return s.appendRows(ctx, tx, events, nil)
		}
		locked, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		// Under the user's lock: the same form posted twice at once adds
		// the app once.
		var a *model.TOTPAuthenticator
		a, promoted, err = addAuthenticatorIn(ctx, tx, s.codes.Open, locked, in.Sealed, secret, false)
		if errors.Is(err, ErrAlreadyEnrolled) {
			why, events = ReasonAlreadyEnrolled, nil
			return nil // the code's step stays used
		}
		if err != nil {
			return err
		}
		events = nil
		if promoted {
			events = append(events, in.Client.auditRow(u, audit.MFAStateChanged, "enabled -> enforced (method registered)"))
		}
		events = append(events, in.Client.auditRow(u, audit.TOTPEnrolled, a.Name))
		return s.appendRows(ctx, tx, events, nil)
	})
	if err != nil {
		return ReasonNone, fmt.Errorf("core: adding an authenticator of %q: %w", u.Username, err)
	}
	s.logged(events...)
	c.at.logged(ctx)
	if why == ReasonNone && promoted {
		s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	}
	return why, nil
}
