package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
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
	at, err := s.attempts.claimAttempt(ctx, bruteforce.Account(u.Username), u, ip, Guess{Secret: current, As: GuessAccountPassword})
	if err != nil {
		return err
	}
	why, err := s.judgeCurrent(ctx, at, u, current)
	if err != nil {
		return s.attempts.abandon(ctx, at, err)
	}
	if why != ReasonNone {
		return s.refuseOwnChange(ctx, at, u, why, ip)
	}
	hash, err := s.hasher.HashBounded(ctx, newPW)
	if err != nil {
		return s.attempts.abandon(ctx, at, err)
	}
	var rows []model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		rows = nil
		if err := at.settle(ctx, tx, true); err != nil {
			return err
		}
		n, err := changeOwnPasswordIn(ctx, tx, u, hash, keepSessionHash, deleteAppPasswords)
		if err != nil {
			return err
		}
		events := []model.AuditEvent{ownRow(u, audit.PasswordChanged, "changed by the user; other sessions ended", ip)}
		if deleteAppPasswords {
			events = append(events, ownRow(u, audit.AppPasswordsPurged, fmt.Sprintf("password change: %d deleted", n), ip))
		}
		for _, e := range events {
			stored, err := auditIn(ctx, tx, e)
			if err != nil {
				return err
			}
			rows = append(rows, stored)
		}
		return nil
	})
	if errors.Is(err, model.ErrConflict) {
		// The current password was right: its slots go back.
		return errors.Join(ErrPasswordChanged, s.attempts.abandon(ctx, at, nil))
	}
	if err != nil {
		return fmt.Errorf("core: change password of %q: %w", u.Username, errors.Join(err, s.attempts.abandon(ctx, at, nil)))
	}
	for _, e := range rows {
		s.audit.Logged(e)
	}
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return nil
}

// judgeCurrent judges the current password of a change against u's hash
// (outside any transaction) and says why it fails (ReasonNone: it
// passed). A repeat of a recent wrong password is refused unjudged; a
// claim refused by the limits is judged against no hash, so the answer
// and its time are those of a wrong password; a blocked account fails
// even with the right one.
func (s *Accounts) judgeCurrent(ctx context.Context, at *attempt, u *model.User, current string) (Reason, error) {
	if at.repeat {
		return at.refused, nil
	}
	hash := ""
	if at.judged() {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.VerifyBounded(ctx, hash, current)
	switch {
	case err != nil:
		return ReasonNone, err
	case !at.judged():
		return at.refused, nil
	case !ok:
		return ReasonWrongCurrentPassword, nil
	case !u.BlockedAt.IsZero():
		return ReasonBlocked, nil
	}
	return ReasonNone, nil
}

// refuseOwnChange settles a refused change's attempt (a wrong current
// password keeps its slots and is remembered; a right one of a blocked
// account gives them back) and writes its audit row, in one transaction.
func (s *Accounts) refuseOwnChange(ctx context.Context, at *attempt, u *model.User, why Reason, ip string) error {
	var row model.AuditEvent
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if err := at.settle(ctx, tx, why == ReasonBlocked); err != nil {
			return err
		}
		row, err = auditIn(ctx, tx, ownRow(u, audit.PasswordChangeFail, why.Audit(), ip))
		return err
	})
	if err != nil {
		// The verdict stands; only its memory and row are lost.
		return errors.Join(ErrWrongPassword, fmt.Errorf("core: refused password change of %q: %w", u.Username, err))
	}
	s.audit.Logged(row)
	at.logged(ctx)
	return ErrWrongPassword
}

// changeOwnPasswordIn replaces u's password by hash in tx when it is
// still the one the current password was checked against (u.PasswordHash;
// model.ErrConflict otherwise: an admin's reset or another change came
// first), ends the user's other sessions (keep stays; nil: none) and,
// with dropAppPasswords, their app passwords, saying how many went.
func changeOwnPasswordIn(ctx context.Context, tx store.Tx, u *model.User, hash string, keep []byte, dropAppPasswords bool) (int64, error) {
	cur, err := tx.LockUser(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if cur.PasswordHash != u.PasswordHash {
		return 0, model.ErrConflict
	}
	if err := tx.SetPassword(ctx, u.ID, hash, time.Time{}); err != nil {
		return 0, err
	}
	if _, err := tx.DeleteSessions(ctx, u.ID, keep); err != nil {
		return 0, err
	}
	if !dropAppPasswords {
		return 0, nil
	}
	return tx.DeleteAppPasswords(ctx, u.ID)
}

// ownRow is the audit row of a change the user made themselves, from ip.
func ownRow(u *model.User, event, detail, ip string) model.AuditEvent {
	return model.AuditEvent{UserID: u.ID, Username: u.Username, Event: event, RemoteIP: ip, Detail: detail}
}
