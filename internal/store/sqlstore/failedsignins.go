package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mfagate/mfagate/internal/model"
)

// FailedSignIns returns the user's consecutive failed sign-in attempts
// (users.failed_sign_ins); model.ErrNotFound for unknown IDs.
func (s *Store) FailedSignIns(ctx context.Context, userID int64) (int, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var n int
	err := s.row(ctx, s.r, "SELECT failed_sign_ins FROM users WHERE id = ?", userID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = model.ErrNotFound
	}
	if err != nil {
		return 0, s.wrap(ctx, "failed sign-ins", err)
	}
	return n, nil
}

// AddFailedSignIn adds one to the user's consecutive failed sign-ins and
// returns the new count, in one statement; model.ErrNotFound for unknown
// IDs.
func (t *tx) AddFailedSignIn(ctx context.Context, userID int64) (int, error) {
	var n int
	err := t.s.row(ctx, t.tx, "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ? RETURNING failed_sign_ins",
		userID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = model.ErrNotFound
	}
	if err != nil {
		return 0, t.wrap(ctx, "add failed sign-in", err)
	}
	return n, nil
}

// ResetFailedSignIns sets the user's consecutive failed sign-ins back to
// 0 (an unknown ID is fine); a count already at 0 is not written.
func (t *tx) ResetFailedSignIns(ctx context.Context, userID int64) error {
	_, err := t.s.exec(ctx, t.tx, "UPDATE users SET failed_sign_ins = 0 WHERE id = ? AND failed_sign_ins <> 0", userID)
	return t.wrap(ctx, "reset failed sign-ins", err)
}
