package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/store"
)

const appPasswordColumns = `id, user_id, name, hash, lookup_tag, created_at, last_used_at, last_used_ip`

// CreateAppPassword inserts a and sets a.ID and a.CreatedAt. In one BEGIN
// IMMEDIATE transaction it checks that the user exists (store.ErrNotFound),
// counts the user's app passwords (store.ErrLimit when there are already
// limit or more; a limit <= 0 admits none) and inserts. The write lock held
// from BEGIN makes the check and the insert atomic across nodes. An existing
// LookupTag of the same user is store.ErrConflict.
func (s *Store) CreateAppPassword(ctx context.Context, a *store.AppPassword, limit int) error {
	if len(a.LookupTag) == 0 {
		return errors.New("sqlite: create app password: empty lookup tag")
	}
	t := now()
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx,
			"SELECT (SELECT count(*) FROM app_passwords WHERE user_id = u.id) FROM users u WHERE u.id = ?",
			a.UserID).Scan(&n)
		if err != nil {
			return err // sql.ErrNoRows: unknown user
		}
		if n >= limit {
			return fmt.Errorf("%w (%d of %d)", store.ErrLimit, n, limit)
		}
		res, err := tx.ExecContext(ctx,
			"INSERT INTO app_passwords (user_id, name, hash, lookup_tag, created_at) VALUES (?, ?, ?, ?, ?)",
			a.UserID, a.Name, a.Hash, a.LookupTag, toMS(t))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return wrap(ctx, "create app password", err)
	}
	a.ID, a.CreatedAt = id, t
	return nil
}

// AppPasswords lists a user's app passwords, oldest first (by creation time,
// then ID).
func (s *Store) AppPasswords(ctx context.Context, userID int64) ([]store.AppPassword, error) {
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT "+appPasswordColumns+" FROM app_passwords WHERE user_id = ? ORDER BY created_at, id", userID)
	if err != nil {
		return nil, wrap(ctx, "list app passwords", err)
	}
	defer rows.Close()
	var out []store.AppPassword
	for rows.Next() {
		a, err := scanAppPassword(rows)
		if err != nil {
			return nil, wrap(ctx, "list app passwords", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list app passwords", err)
	}
	return out, nil
}

// AppPasswordByTag finds the user's app password with lookup tag tag;
// store.ErrNotFound otherwise.
func (s *Store) AppPasswordByTag(ctx context.Context, userID int64, tag []byte) (*store.AppPassword, error) {
	row := s.rdb.QueryRowContext(ctx,
		"SELECT "+appPasswordColumns+" FROM app_passwords WHERE user_id = ? AND lookup_tag = ?", userID, nonNilBlob(tag))
	a, err := scanAppPassword(row)
	if err != nil {
		return nil, wrap(ctx, "app password by tag", err)
	}
	return a, nil
}

func scanAppPassword(r scanner) (*store.AppPassword, error) {
	var a store.AppPassword
	var created int64
	var used sql.NullInt64
	if err := r.Scan(&a.ID, &a.UserID, &a.Name, &a.Hash, &a.LookupTag, &created, &used, &a.LastUsedIP); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastUsedAt = fromMS(created), fromNullMS(used)
	return &a, nil
}

// TouchAppPassword records a use at at (now when zero) from ip;
// store.ErrNotFound if the app password is gone.
func (s *Store) TouchAppPassword(ctx context.Context, id int64, at time.Time, ip string) error {
	at = normTime(at, now)
	res, err := s.wdb.ExecContext(ctx, "UPDATE app_passwords SET last_used_at = ?, last_used_ip = ? WHERE id = ?",
		toMS(at), ip, id)
	if err == nil {
		err = affectedOne(res)
	}
	return wrap(ctx, "touch app password", err)
}

// DeleteAppPassword removes app password id of the user; store.ErrNotFound
// when the user has no such app password (including another user's ID).
func (s *Store) DeleteAppPassword(ctx context.Context, userID, id int64) error {
	res, err := s.wdb.ExecContext(ctx, "DELETE FROM app_passwords WHERE id = ? AND user_id = ?", id, userID)
	if err == nil {
		err = affectedOne(res)
	}
	return wrap(ctx, "delete app password", err)
}

// DeleteAllAppPasswords removes all of a user's app passwords and returns
// how many.
func (s *Store) DeleteAllAppPasswords(ctx context.Context, userID int64) (int64, error) {
	n, err := s.execCount(ctx, "DELETE FROM app_passwords WHERE user_id = ?", userID)
	return n, wrap(ctx, "delete all app passwords", err)
}
