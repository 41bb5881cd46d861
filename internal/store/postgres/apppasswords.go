package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mfagate/mfagate/internal/store"
)

const appPasswordColumns = `id, user_id, name, hash, lookup_tag, created_at, last_used_at, last_used_ip`

// CreateAppPassword inserts a and sets a.ID and a.CreatedAt. In one
// transaction it locks the user's row (FOR NO KEY UPDATE, which conflicts
// with itself; store.ErrNotFound when there is no such user), counts the
// user's app passwords (store.ErrLimit when there are already limit or
// more; a limit <= 0 admits none) and inserts. Creators for one user, on any
// node, queue on the row lock, and the count, a new statement, sees what the
// previous holder committed, so the limit is never exceeded. An existing
// LookupTag of the same user is store.ErrConflict.
func (s *Store) CreateAppPassword(ctx context.Context, a *store.AppPassword, limit int) error {
	if len(a.LookupTag) == 0 {
		return errors.New("postgres: create app password: empty lookup tag")
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := now()
	var id int64
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", a.UserID).Scan(&one); err != nil {
			return err // pgx.ErrNoRows: unknown user
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM app_passwords WHERE user_id = $1", a.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= int64(limit) {
			return fmt.Errorf("%w (%d of %d)", store.ErrLimit, n, limit)
		}
		return tx.QueryRow(ctx,
			`INSERT INTO app_passwords (user_id, name, hash, lookup_tag, created_at) VALUES ($1, $2, $3, $4, $5)
			RETURNING id`,
			a.UserID, a.Name, a.Hash, a.LookupTag, t).Scan(&id)
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
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx,
		"SELECT "+appPasswordColumns+" FROM app_passwords WHERE user_id = $1 ORDER BY created_at, id", userID)
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
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	row := s.pool.QueryRow(ctx,
		"SELECT "+appPasswordColumns+" FROM app_passwords WHERE user_id = $1 AND lookup_tag = $2", userID, nonNilBlob(tag))
	a, err := scanAppPassword(row)
	if err != nil {
		return nil, wrap(ctx, "app password by tag", err)
	}
	return a, nil
}

func scanAppPassword(r pgx.Row) (*store.AppPassword, error) {
	var a store.AppPassword
	var created time.Time
	var used pgtype.Timestamptz
	if err := r.Scan(&a.ID, &a.UserID, &a.Name, &a.Hash, &a.LookupTag, &created, &used, &a.LastUsedIP); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastUsedAt = created.UTC(), fromNullTime(used)
	return &a, nil
}

// TouchAppPassword records a use at at (now when zero) from ip;
// store.ErrNotFound if the app password is gone.
func (s *Store) TouchAppPassword(ctx context.Context, id int64, at time.Time, ip string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	at = normTime(at, now)
	tag, err := s.pool.Exec(ctx, "UPDATE app_passwords SET last_used_at = $1, last_used_ip = $2 WHERE id = $3", at, ip, id)
	if err == nil {
		err = affectedOne(tag)
	}
	return wrap(ctx, "touch app password", err)
}

// DeleteAppPassword removes app password id of the user; store.ErrNotFound
// when the user has no such app password (including another user's ID).
func (s *Store) DeleteAppPassword(ctx context.Context, userID, id int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM app_passwords WHERE id = $1 AND user_id = $2", id, userID)
	if err == nil {
		err = affectedOne(tag)
	}
	return wrap(ctx, "delete app password", err)
}

// DeleteAllAppPasswords removes all of a user's app passwords and returns
// how many.
func (s *Store) DeleteAllAppPasswords(ctx context.Context, userID int64) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.execCount(ctx, "DELETE FROM app_passwords WHERE user_id = $1", userID)
	return n, wrap(ctx, "delete all app passwords", err)
}
