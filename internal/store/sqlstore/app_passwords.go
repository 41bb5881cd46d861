package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const appPasswordColumns = `id, user_id, name, hash, lookup_tag, created_at, last_used_at, last_used_ip`

// CreateAppPassword inserts a and sets a.ID and a.CreatedAt. In one write
// transaction it selects the user's row with the dialect's LockUserRow
// (model.ErrNotFound when there is no such user), counts the user's app
// passwords (model.ErrLimit when there are already limit or more; a limit
// <= 0 admits none) and inserts. Creators for one user, on any node, queue
// on the row lock (SQLite: the write lock), and the count sees what the
// previous holder committed, so the limit is never exceeded. An existing
// LookupTag of the same user is model.ErrConflict.
func (s *Store) CreateAppPassword(ctx context.Context, a *model.AppPassword, limit int) error {
	if len(a.LookupTag) == 0 {
		return fmt.Errorf("%s: create app password: empty lookup tag", s.d.Name)
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := Now()
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, err := s.lockedCount(ctx, tx, "app_passwords", a.UserID)
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("%w (%d of %d)", model.ErrLimit, n, limit)
		}
		return s.row(ctx, tx, "INSERT INTO app_passwords (user_id, name, hash, lookup_tag, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			a.UserID, a.Name, a.Hash, a.LookupTag, s.tm(t)).Scan(&id)
	})
	if err != nil {
		return s.wrap(ctx, "create app password", err)
	}
	a.ID, a.CreatedAt = id, t
	return nil
}

// lockedCount locks the user's row for the rest of tx (LockUserRow), which
// serialises checks on one user's rows of table, then counts them;
// sql.ErrNoRows for unknown users.
func (s *Store) lockedCount(ctx context.Context, tx *sql.Tx, table string, userID int64) (int, error) {
	var n int
	if err := s.lockUserRow(ctx, tx, userID); err != nil {
		return 0, err
	}
	err := s.row(ctx, tx, "SELECT count(*) FROM "+table+" WHERE user_id = ?", userID).Scan(&n)
	return n, err
}

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

// DeleteAppPassword removes app password id of the user; model.ErrNotFound
// when the user has no such app password (including another user's ID).
func (s *Store) DeleteAppPassword(ctx context.Context, userID, id int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "DELETE FROM app_passwords WHERE id = ? AND user_id = ?", id, userID)
	return s.wrap(ctx, "delete app password", err)
}

// deleteAppPasswordsSQL deletes every app password of user ?.
const deleteAppPasswordsSQL = "DELETE FROM app_passwords WHERE user_id = ?"

// DeleteAppPasswords deletes the user's app passwords.
func (t *tx) DeleteAppPasswords(ctx context.Context, userID int64) (int64, error) {
	n, err := t.s.count(ctx, t.tx, deleteAppPasswordsSQL, userID)
	return n, t.wrap(ctx, "delete app passwords", err)
}
