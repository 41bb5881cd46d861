package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mfagate/mfagate/internal/store"
)

// AddTOTP stores an authenticator and sets a.ID and a.CreatedAt.
// store.ErrNotFound when the user does not exist.
func (s *Store) AddTOTP(ctx context.Context, a *store.TOTPAuthenticator, onlyFirst bool) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := now()
	var id int64
	var promoted bool
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		if onlyFirst {
			n, err := lockedCountTOTP(ctx, tx, a.UserID)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("%w: the user has an authenticator already", store.ErrConflict)
			}
		}
		if err := tx.QueryRow(ctx,
			"INSERT INTO totp_authenticators (user_id, name, sealed_secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
			a.UserID, a.Name, nonNilBlob(a.SealedSecret), t).Scan(&id); err != nil {
			return err
		}
		// Registering a method makes an Enabled user Enforced, in the same
		// transaction.
		tag, err := tx.Exec(ctx, "UPDATE users SET mfa_state = $1, updated_at = $2 WHERE id = $3 AND mfa_state = $4",
			string(store.MFAEnforced), t, a.UserID, string(store.MFAEnabled))
		promoted = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, wrap(ctx, "add totp", err)
	}
	a.ID, a.CreatedAt = id, t
	return promoted, nil
}

// lockedCountTOTP takes the user's row lock for the rest of tx, which
// serialises checks on one user's authenticators, then counts them;
// pgx.ErrNoRows for unknown users.
func lockedCountTOTP(ctx context.Context, tx pgx.Tx, userID int64) (int64, error) {
	var one int
	if err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", userID).Scan(&one); err != nil {
		return 0, err
	}
	var n int64
	err := tx.QueryRow(ctx, "SELECT count(*) FROM totp_authenticators WHERE user_id = $1", userID).Scan(&n)
	return n, err
}

// TOTPAuthenticators lists a user's authenticators, oldest first.
func (s *Store) TOTPAuthenticators(ctx context.Context, userID int64) ([]store.TOTPAuthenticator, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx,
		"SELECT id, user_id, name, sealed_secret, created_at FROM totp_authenticators WHERE user_id = $1 ORDER BY created_at, id",
		userID)
	if err != nil {
		return nil, wrap(ctx, "list totp", err)
	}
	defer rows.Close()
	var out []store.TOTPAuthenticator
	for rows.Next() {
		var a store.TOTPAuthenticator
		var created time.Time
		if err := rows.Scan(&a.ID, &a.UserID, &a.Name, &a.SealedSecret, &created); err != nil {
			return nil, wrap(ctx, "list totp", err)
		}
		a.CreatedAt = created.UTC()
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
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		if keepOne {
			n, err := lockedCountTOTP(ctx, tx, userID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return fmt.Errorf("%w: the last authenticator of the user is kept", store.ErrLimit)
			}
		}
		tag, err := tx.Exec(ctx, "DELETE FROM totp_authenticators WHERE id = $1 AND user_id = $2", id, userID)
		if err != nil {
			return err
		}
		return affectedOne(tag)
	})
	return wrap(ctx, "delete totp", err)
}
