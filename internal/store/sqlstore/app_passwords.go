package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const appPasswordColumns = `id, user_id, name, hash, lookup_tag, created_at, last_used_at, last_used_ip`

// AppPasswords lists a user's app passwords, oldest first (by creation time,
// then ID).
func (s *Store) AppPasswords(ctx context.Context, userID int64) ([]model.AppPassword, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.query(ctx, s.r, "SELECT "+appPasswordColumns+" FROM app_passwords WHERE user_id = ? ORDER BY created_at, id", userID)
	out, err := scanAll(rows, err, scanAppPassword)
	if err != nil {
		return nil, s.wrap(ctx, "list app passwords", err)
	}
	return out, nil
}

// AppPasswordByTag finds the user's app password with lookup tag tag;
// model.ErrNotFound otherwise.
func (s *Store) AppPasswordByTag(ctx context.Context, userID int64, tag []byte) (*model.AppPassword, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	a, err := scanAppPassword(s.row(ctx, s.r,
		"SELECT "+appPasswordColumns+" FROM app_passwords WHERE user_id = ? AND lookup_tag = ?", userID, nonNilBlob(tag)))
	if err != nil {
		return nil, s.wrap(ctx, "app password by tag", err)
	}
	return a, nil
}

func scanAppPassword(r scanner) (*model.AppPassword, error) {
	var a model.AppPassword
	var created, used dbTime
	if err := r.Scan(&a.ID, &a.UserID, &a.Name, &a.Hash, &a.LookupTag, &created, &used, &a.LastUsedIP); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastUsedAt = created.t, used.t
	return &a, nil
}

// TouchAppPassword records a use at at (now when zero) from ip;
// model.ErrNotFound if the app password is gone.
func (s *Store) TouchAppPassword(ctx context.Context, id int64, at time.Time, ip string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "UPDATE app_passwords SET last_used_at = ?, last_used_ip = ? WHERE id = ?", s.tm(normTime(at)), ip, id)
	return s.wrap(ctx, "touch app password", err)
}

// deleteAppPasswordsSQL deletes every app password of user ?.
const deleteAppPasswordsSQL = "DELETE FROM app_passwords WHERE user_id = ?"

// DeleteAppPasswords deletes the user's app passwords.
func (t *tx) DeleteAppPasswords(ctx context.Context, userID int64) (int64, error) {
	n, err := t.s.count(ctx, t.tx, deleteAppPasswordsSQL, userID)
	return n, t.wrap(ctx, "delete app passwords", err)
}

// CountAppPasswords counts the user's app passwords.
func (t *tx) CountAppPasswords(ctx context.Context, userID int64) (int, error) {
	var n int
	err := t.s.row(ctx, t.tx, "SELECT count(*) FROM app_passwords WHERE user_id = ?", userID).Scan(&n)
	return n, t.wrap(ctx, "count app passwords", err)
}

// AddAppPassword inserts a and sets a.ID and a.CreatedAt.
func (t *tx) AddAppPassword(ctx context.Context, a *model.AppPassword) error {
	if len(a.LookupTag) == 0 {
		return fmt.Errorf("%s: add app password: empty lookup tag", t.s.d.Name)
	}
	at := Now()
	var id int64
	err := t.s.row(ctx, t.tx, "INSERT INTO app_passwords (user_id, name, hash, lookup_tag, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		a.UserID, a.Name, a.Hash, a.LookupTag, t.s.tm(at)).Scan(&id)
	if err != nil {
		return t.wrap(ctx, "add app password", err)
	}
	a.ID, a.CreatedAt = id, at
	return nil
}

// DeleteAppPassword deletes app password id of the user.
func (t *tx) DeleteAppPassword(ctx context.Context, userID, id int64) error {
	err := t.s.execOne(ctx, t.tx, "DELETE FROM app_passwords WHERE id = ? AND user_id = ?", id, userID)
	return t.wrap(ctx, "delete app password", err)
}
