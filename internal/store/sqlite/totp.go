package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/store"
)

// AddTOTP stores an authenticator and sets a.ID and a.CreatedAt.
// store.ErrNotFound when the user does not exist.
func (s *Store) AddTOTP(ctx context.Context, a *store.TOTPAuthenticator, onlyFirst bool) (bool, error) {
	t := now()
	var id int64
	var promoted bool
	// One writer at a time (immediate transactions), so the count and the
	// insert cannot interleave with another AddTOTP.
	err := s.write(ctx, func(tx *sql.Tx) error {
		if onlyFirst {
			n, err := countTOTP(ctx, tx, a.UserID)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("%w: the user has an authenticator already", store.ErrConflict)
			}
		}
		res, err := tx.ExecContext(ctx,
			"INSERT INTO totp_authenticators (user_id, name, sealed_secret, created_at) VALUES (?, ?, ?, ?)",
			a.UserID, a.Name, nonNilBlob(a.SealedSecret), toMS(t))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		promoted, err = promoteEnabled(ctx, tx, a.UserID, t)
		return err
	})
	if err != nil {
		return false, wrap(ctx, "add totp", err)
	}
	a.ID, a.CreatedAt = id, t
	return promoted, nil
}

// promoteEnabled switches an Enabled user to Enforced and reports whether
// it did (users in another state keep theirs).
func promoteEnabled(ctx context.Context, tx *sql.Tx, userID int64, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, "UPDATE users SET mfa_state = ?, updated_at = ? WHERE id = ? AND mfa_state = ?",
		string(store.MFAEnforced), toMS(at), userID, string(store.MFAEnabled))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// nonNilBlob keeps an empty secret from becoming NULL.
func nonNilBlob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// TOTPAuthenticators lists a user's authenticators, oldest first.
func (s *Store) TOTPAuthenticators(ctx context.Context, userID int64) ([]store.TOTPAuthenticator, error) {
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT id, user_id, name, sealed_secret, created_at FROM totp_authenticators WHERE user_id = ? ORDER BY created_at, id",
		userID)
	if err != nil {
		return nil, wrap(ctx, "list totp", err)
	}
	defer rows.Close()
	var out []store.TOTPAuthenticator
	for rows.Next() {
		var a store.TOTPAuthenticator
		var created int64
		if err := rows.Scan(&a.ID, &a.UserID, &a.Name, &a.SealedSecret, &created); err != nil {
			return nil, wrap(ctx, "list totp", err)
		}
		a.CreatedAt = fromMS(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list totp", err)
	}
	return out, nil
}

// DeleteTOTP removes authenticator id of the user; store.ErrNotFound when
// the user has no such authenticator.
func (s *Store) DeleteTOTP(ctx context.Context, userID, id int64, keepOne bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if keepOne {
			n, err := countTOTP(ctx, tx, userID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return fmt.Errorf("%w: the last authenticator of the user is kept", store.ErrLimit)
			}
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM totp_authenticators WHERE id = ? AND user_id = ?", id, userID)
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	return wrap(ctx, "delete totp", err)
}

// countTOTP counts the user's authenticators inside tx.
func countTOTP(ctx context.Context, tx *sql.Tx, userID int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM totp_authenticators WHERE user_id = ?", userID).Scan(&n)
	return n, err
}
