package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// TemporaryPasswordTTL is how long a password an admin set works.
const TemporaryPasswordTTL = 24 * time.Hour

// ErrNotTemporary: the user's password is their own; choosing a new one
// needs the current one (ChangeOwnPassword).
var ErrNotTemporary = errors.New("the password is not a temporary one")

// ResetPassword gives a user a random temporary password, shown once to
// the admin: it works for 24 hours, never in basic auth, and the user must
// choose their own right after signing in with it. In one transaction it
// also ends the user's sessions and deletes their app passwords (as a
// reset after a suspected compromise must). It returns the password and
// how many app passwords went.
func (s *Accounts) ResetPassword(ctx context.Context, username string) (string, int64, error) {
	res, err := s.apply(ctx, username, Action{Kind: ActionResetPassword})
	if err != nil {
		return "", 0, err
	}
	return res.Secret, res.Count, nil
}

// ChooseNewPassword replaces u's temporary password by one u chose, right
// after signing in with it (both factors passed in the session
// keepSessionHash, which stays; other sessions end), with its audit row
// in the same transaction.
func (s *Accounts) ChooseNewPassword(ctx context.Context, u *model.User, newPW string, keepSessionHash []byte, ip string) error {
	if !u.TemporaryPassword() {
		return ErrNotTemporary
	}
	if err := s.CheckNewPassword(u, newPW); err != nil {
		return err
	}
	if ok, err := s.hasher.VerifyBounded(ctx, u.PasswordHash, newPW); err != nil {
		return err
	} else if ok {
		return ErrSamePassword
	}
	hash, err := s.hasher.HashBounded(ctx, newPW)
	if err != nil {
		return err
	}
	var row model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if _, err := changeOwnPasswordIn(ctx, tx, u, hash, keepSessionHash, false); err != nil {
			return err
		}
		row, err = auditIn(ctx, tx, ownRow(u, audit.PasswordChanged, "temporary password replaced by the user", ip))
		return err
	})
	if errors.Is(err, model.ErrConflict) {
		return ErrPasswordChanged
	}
	if err != nil {
		return fmt.Errorf("core: choose password of %q: %w", u.Username, err)
	}
	s.audit.Logged(row)
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return nil
}

// TemporaryPasswordExpired reports whether u signs in with a temporary
// password that has expired.
func TemporaryPasswordExpired(u *model.User, now time.Time) bool {
	return u.TemporaryPassword() && !now.Before(u.PasswordExpiresAt)
}
