package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
)

// Refusals of ChangeOwnPassword that the page explains next to a field
// (besides the policy's *password.PolicyError for the new password).
var (
	// ErrWrongPassword: the current password was wrong, or the account's
	// failure limit was reached (the same answer, as at sign-in).
	ErrWrongPassword = errors.New("the current password is not right")
	// ErrSamePassword: the new password is the current one.
	ErrSamePassword = errors.New("the new password is the same as the current one")
	// ErrPasswordChanged: the password was changed elsewhere (an admin's
	// reset, another session) after the current one was checked; nothing
	// changed.
	ErrPasswordChanged = errors.New("the password was changed elsewhere in the meantime")
)

// ChangeOwnPassword is the user's own password change (Security info). u is
// the account as stored now (its hash is what the current password is
// checked against). The new password must pass the password policy; the
// current one is checked under the brute-force rules, so a wrong one
// counts against the account and ip like a wrong code. Then, in one store
// transaction and only if the password was not changed meanwhile, the
// hash is replaced, every other session of the user ends (keepSessionHash,
// the one making the change, stays) and, with deleteAppPasswords, their
// app passwords go. Audited; other nodes drop what they cache about u.
//
// Errors: ErrWrongPassword, ErrSamePassword, ErrPasswordChanged, a
// *password.PolicyError, password.ErrBusy (shed under load: nothing was
// checked or changed), or a store failure.
func (s *Accounts) ChangeOwnPassword(ctx context.Context, u *model.User, current, newPW string, keepSessionHash []byte, deleteAppPasswords bool, ip string) error {
	if s.attempts == nil {
		return errors.New("core: password changes need the server's core")
	}
	// The cheap checks first: a refused new password costs no bcrypt and
	// no attempt.
	if err := s.CheckNewPassword(u, newPW); err != nil {
		return err
	}
	if newPW == current {
		return ErrSamePassword
	}
	out, err := s.attempts.ForUser(ctx, u, ip, Guess{Secret: current, As: GuessAccountPassword}, func(ctx context.Context, judged *model.User) (bool, Reason, error) {
		hash := ""
		if judged != nil {
			hash = judged.PasswordHash
		}
		// Refused by the limits: a dummy comparison, so the answer and
		// its time are those of a wrong password.
		ok, err := s.hasher.VerifyBounded(ctx, hash, current)
		if err != nil {
			return false, ReasonNone, err
		}
		if !ok {
			return false, ReasonWrongCurrentPassword, nil
		}
		return true, ReasonNone, nil
	})
	if err != nil {
		return err
	}
	if out.User == nil {
		s.ownRecord(ctx, u, audit.PasswordChangeFail, out.Reason.Audit(), ip)
		return ErrWrongPassword
	}
	hash, err := s.hasher.HashBounded(ctx, newPW)
	if err != nil {
		return err
	}
	n, err := s.store.ChangePassword(ctx, u.ID, u.PasswordHash, hash, keepSessionHash, deleteAppPasswords)
	if errors.Is(err, model.ErrConflict) {
		return ErrPasswordChanged
	}
	if err != nil {
		return fmt.Errorf("core: change password of %q: %w", u.Username, err)
	}
	s.ownRecord(ctx, u, audit.PasswordChanged, "changed by the user; other sessions ended", ip)
	if deleteAppPasswords {
		s.ownRecord(ctx, u, audit.AppPasswordsPurged, fmt.Sprintf("password change: %d deleted", n), ip)
	}
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return nil
}

// ownRecord audits a change the user made themselves, from ip.
func (s *Accounts) ownRecord(ctx context.Context, u *model.User, event, detail, ip string) {
	s.audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: event, RemoteIP: ip, Detail: detail})
}
