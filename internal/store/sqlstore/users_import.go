package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// importBatch is how many users one statement of CreateUsers inserts (10
// arguments each: far below both databases' limits).
const importBatch = 200

// CreateUsers inserts us with their groups in one write transaction, or
// nothing; see store.Store.CreateUsers. Users go in multi-row statements
// of importBatch, after a check that none of the batch's names exists (so
// the conflict names the user on both databases). The call is bounded by
// the query timeout once per batch.
func (s *Store) CreateUsers(ctx context.Context, us []*model.User) error {
	if len(us) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(us))
	for _, u := range us {
		switch {
		case !u.MFAState.Valid():
			return fmt.Errorf("%s: create users: user %q: invalid MFA state %q", s.d.Name, u.Username, u.MFAState)
		case !validMethod(u.DefaultMethod):
			return fmt.Errorf("%s: create users: user %q: invalid default method %q", s.d.Name, u.Username, u.DefaultMethod)
		case seen[u.Username]:
			return s.wrap(ctx, "create users", fmt.Errorf("user %q given twice: %w", u.Username, model.ErrConflict))
		}
		seen[u.Username] = true
	}
	if s.d.QueryTimeout > 0 {
		var cancel context.CancelFunc
		batches := (len(us) + importBatch - 1) / importBatch
		ctx, cancel = context.WithTimeout(ctx, time.Duration(batches)*s.d.QueryTimeout)
		defer cancel()
	}
	t := Now()
	ids := make(map[string]int64, len(us))
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(us); start += importBatch {
			batch := us[start:min(start+importBatch, len(us))]
			if err := s.refuseExisting(ctx, tx, batch); err != nil {
				return err
			}
			if err := s.insertUserBatch(ctx, tx, batch, t, ids); err != nil {
				return err
			}
		}
		return s.insertGroupBatch(ctx, tx, us, ids)
	})
	if err != nil {
		return s.wrap(ctx, "create users", err)
	}
	for _, u := range us {
		u.ID, u.CreatedAt, u.UpdatedAt, u.Groups = ids[u.Username], t, t, normGroups(u.Groups)
		if !u.BlockedAt.IsZero() {
			u.BlockedAt = stored(u.BlockedAt)
		}
	}
	return nil
}

// placeholders returns n groups of "(?, …)" of width w, comma-separated.
func placeholders(n, w int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", w), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

// refuseExisting fails with model.ErrConflict naming the first user of
// batch whose name is taken.
func (s *Store) refuseExisting(ctx context.Context, tx *sql.Tx, batch []*model.User) error {
	args := make([]any, len(batch))
	for i, u := range batch {
		args[i] = u.Username
	}
	q := "SELECT username FROM users WHERE username IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ") +
		") ORDER BY username LIMIT 1"
	var name string
	err := s.row(ctx, tx, q, args...).Scan(&name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("user %q: %w", name, model.ErrConflict)
}

// insertUserBatch inserts batch in one statement and records each new ID
// by username.
func (s *Store) insertUserBatch(ctx context.Context, tx *sql.Tx, batch []*model.User, t time.Time, ids map[string]int64) error {
	const cols = 10
	args := make([]any, 0, cols*len(batch))
	for _, u := range batch {
		args = append(args, u.Username, u.DisplayName, u.Email, u.PasswordHash, string(u.MFAState),
			string(u.DefaultMethod), s.nullTm(u.BlockedAt), u.BlockedReason, s.tm(t), s.tm(t))
	}
	rows, err := s.query(ctx, tx, `INSERT INTO users (username, display_name, email, password_hash, mfa_state,
		default_method, blocked_at, blocked_reason, created_at, updated_at) VALUES `+placeholders(len(batch), cols)+
		` RETURNING id, username`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		ids[name] = id
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(batch) {
		return fmt.Errorf("inserted %d users of %d", n, len(batch))
	}
	return nil
}

// insertGroupBatch inserts the groups of us (normalised), many rows per
// statement.
func (s *Store) insertGroupBatch(ctx context.Context, tx *sql.Tx, us []*model.User, ids map[string]int64) error {
	const perStatement = 500
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := s.exec(ctx, tx, "INSERT INTO user_groups (user_id, grp) VALUES "+placeholders(len(args)/2, 2), args...)
		args = args[:0]
		return err
	}
	for _, u := range us {
		for _, g := range normGroups(u.Groups) {
			args = append(args, ids[u.Username], g)
			if len(args) == 2*perStatement {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
