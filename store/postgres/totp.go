package postgres

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/store"
)

// AddTOTP stores an authenticator and sets a.ID and a.CreatedAt.
// store.ErrNotFound when the user does not exist.
func (s *Store) AddTOTP(ctx context.Context, a *store.TOTPAuthenticator) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := now()
	var id int64
	err := s.pool.QueryRow(ctx,
		"INSERT INTO totp_authenticators (user_id, name, sealed_secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		a.UserID, a.Name, nonNilBlob(a.SealedSecret), t).Scan(&id)
	if err != nil {
		return wrap(ctx, "add totp", err)
	}
	a.ID, a.CreatedAt = id, t
	return nil
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
func (s *Store) DeleteTOTP(ctx context.Context, userID, id int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM totp_authenticators WHERE id = $1 AND user_id = $2", id, userID)
	if err == nil {
		err = affectedOne(tag)
	}
	return wrap(ctx, "delete totp", err)
}
