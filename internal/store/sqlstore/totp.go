package sqlstore

import (
	"context"

	"github.com/mfagate/mfagate/internal/model"
)

// TOTPAuthenticators lists a user's authenticators, oldest first.
func (s *Store) TOTPAuthenticators(ctx context.Context, userID int64) ([]model.TOTPAuthenticator, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	out, err := s.totpAuthenticators(ctx, s.r, userID)
	if err != nil {
		return nil, s.wrap(ctx, "list totp", err)
	}
	return out, nil
}

func (s *Store) totpAuthenticators(ctx context.Context, x db, userID int64) ([]model.TOTPAuthenticator, error) {
	rows, err := s.query(ctx, x,
		"SELECT id, user_id, name, sealed_secret, created_at FROM totp_authenticators WHERE user_id = ? ORDER BY created_at, id", userID)
	return scanAll(rows, err, func(r scanner) (*model.TOTPAuthenticator, error) {
		var a model.TOTPAuthenticator
		var created dbTime
		err := r.Scan(&a.ID, &a.UserID, &a.Name, &a.SealedSecret, &created)
		a.CreatedAt = created.t
		return &a, err
	})
}

// RenameTOTP names authenticator id of the user.
func (t *tx) RenameTOTP(ctx context.Context, userID, id int64, name string) error {
	err := t.s.execOne(ctx, t.tx, "UPDATE totp_authenticators SET name = ? WHERE id = ? AND user_id = ?", name, id, userID)
	return t.wrap(ctx, "rename totp", err)
}

// AddTOTP inserts an authenticator.
func (t *tx) AddTOTP(ctx context.Context, a *model.TOTPAuthenticator) error {
	at := Now()
	var id int64
	err := t.s.row(ctx, t.tx, "INSERT INTO totp_authenticators (user_id, name, sealed_secret, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		a.UserID, a.Name, nonNilBlob(a.SealedSecret), t.s.tm(at)).Scan(&id)
	if err != nil {
		return t.wrap(ctx, "add totp", err)
	}
	a.ID, a.CreatedAt = id, at
	return nil
}

// DeleteTOTP deletes one authenticator of the user.
func (t *tx) DeleteTOTP(ctx context.Context, userID, id int64) error {
	err := t.s.execOne(ctx, t.tx, "DELETE FROM totp_authenticators WHERE id = ? AND user_id = ?", id, userID)
	return t.wrap(ctx, "delete totp", err)
}

// TOTPAuthenticators lists the user's authenticators.
func (t *tx) TOTPAuthenticators(ctx context.Context, userID int64) ([]model.TOTPAuthenticator, error) {
	out, err := t.s.totpAuthenticators(ctx, t.tx, userID)
	return out, t.wrap(ctx, "list totp", err)
}
