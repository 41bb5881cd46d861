package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Temporary Access Passes (migration 0011): at most one per user.

const accessPassColumns = `id, user_id, hash, once, created_at, expires_at, uses, last_used_at, issued_by`

func scanAccessPass(r scanner) (*model.AccessPass, error) {
	var p model.AccessPass
	var created, expires, used dbTime
	if err := r.Scan(&p.ID, &p.UserID, &p.Hash, &p.Once, &created, &expires, &p.Uses, &used, &p.IssuedBy); err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt, p.LastUsedAt = created.t, expires.t, used.t
	return &p, nil
}

func (s *Store) accessPass(ctx context.Context, x db, userID int64) (*model.AccessPass, error) {
	return scanAccessPass(s.row(ctx, x, "SELECT "+accessPassColumns+" FROM access_passes WHERE user_id = ?", userID))
}

// AccessPass returns the user's pass; model.ErrNotFound when none.
func (s *Store) AccessPass(ctx context.Context, userID int64) (*model.AccessPass, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	p, err := s.accessPass(ctx, s.r, userID)
	if err != nil {
		return nil, s.wrap(ctx, "access pass", err)
	}
	return p, nil
}

// AccessPass returns the user's pass as of now in the transaction.
func (t *tx) AccessPass(ctx context.Context, userID int64) (*model.AccessPass, error) {
	p, err := t.s.accessPass(ctx, t.tx, userID)
	if err != nil {
		return nil, t.wrap(ctx, "access pass", err)
	}
	return p, nil
}

// PutAccessPass replaces the user's pass by p (delete, then insert: the
// unique user_id keeps one).
func (t *tx) PutAccessPass(ctx context.Context, p *model.AccessPass) error {
	s := t.s
	if p.Hash == "" || p.ExpiresAt.IsZero() {
		return fmt.Errorf("%s: put access pass: a pass needs a hash and an expiry", s.d.Name)
	}
	if _, err := s.exec(ctx, t.tx, "DELETE FROM access_passes WHERE user_id = ?", p.UserID); err != nil {
		return t.wrap(ctx, "put access pass", err)
	}
	at := Now()
	var id int64
	err := s.row(ctx, t.tx, `INSERT INTO access_passes (user_id, hash, once, created_at, expires_at, issued_by)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, p.UserID, p.Hash, flag(p.Once), s.tm(at), s.tm(p.ExpiresAt), p.IssuedBy).Scan(&id)
	if err != nil {
		return t.wrap(ctx, "put access pass", err)
	}
	p.ID, p.CreatedAt, p.Uses, p.LastUsedAt = id, at, 0, time.Time{}
	p.ExpiresAt = stored(p.ExpiresAt)
	return nil
}

// UseAccessPass counts a use of pass id; a one-time pass only once (the
// row's update is the check, so of two concurrent uses one counts).
func (t *tx) UseAccessPass(ctx context.Context, userID, id int64, at time.Time) error {
	err := t.s.execOne(ctx, t.tx, `UPDATE access_passes SET uses = uses + 1, last_used_at = ?
		WHERE user_id = ? AND id = ? AND (once = 0 OR uses = 0)`, t.s.tm(normTime(at)), userID, id)
	return t.wrap(ctx, "use access pass", err)
}

// DeleteAccessPass deletes pass id of the user.
func (t *tx) DeleteAccessPass(ctx context.Context, userID, id int64) error {
	err := t.s.execOne(ctx, t.tx, "DELETE FROM access_passes WHERE user_id = ? AND id = ?", userID, id)
	return t.wrap(ctx, "delete access pass", err)
}
