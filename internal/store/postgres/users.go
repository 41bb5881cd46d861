package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mfagate/mfagate/internal/store"
)

// userColumns selects a user and its sorted groups in one statement (one
// snapshot); the table alias must be u.
const userColumns = `u.id, u.username, u.display_name, u.email, u.password_hash, u.mfa_state, u.default_method,
	u.created_at, u.updated_at,
	ARRAY(SELECT g.grp FROM user_groups g WHERE g.user_id = u.id ORDER BY g.grp)`

// CreateUser inserts u with its groups and sets u.ID, u.CreatedAt,
// u.UpdatedAt and u.Groups (sorted, unique, without empty names).
// store.ErrConflict when the username exists.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if err := validUser(u); err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	t, groups := now(), normGroups(u.Groups)
	var id int64
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = insertUser(ctx, tx, u, groups, t, false)
		return err
	})
	if err != nil {
		return wrap(ctx, "create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Groups = id, t, t, groups
	return nil
}

// CreateFirstUser inserts u only when the users table is empty and reports
// whether it did. When the table looks empty, the insert runs in a
// transaction holding a SHARE ROW EXCLUSIVE lock on users: it conflicts with
// itself and with every INSERT, so concurrent CreateFirstUser and CreateUser
// calls on any node are serialised and the NOT EXISTS check, taken after
// the lock, sees all of them. Once a user exists, no lock is taken.
func (s *Store) CreateFirstUser(ctx context.Context, u *store.User) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if err := validUser(u); err != nil {
		return false, fmt.Errorf("postgres: create first user: %w", err)
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM users)").Scan(&exists); err != nil {
		return false, wrap(ctx, "create first user", err)
	}
	if exists {
		return false, nil
	}
	t, groups := now(), normGroups(u.Groups)
	var id int64
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		var err error
		id, err = insertUser(ctx, tx, u, groups, t, true)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // not the first user
		}
		return err
	})
	if err != nil {
		return false, wrap(ctx, "create first user", err)
	}
	if id == 0 {
		return false, nil
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Groups = id, t, t, groups
	return true, nil
}

func validUser(u *store.User) error {
	if !u.MFAState.Valid() {
		return fmt.Errorf("invalid MFA state %q", u.MFAState)
	}
	if !validMethod(u.DefaultMethod) {
		return fmt.Errorf("invalid default method %q", u.DefaultMethod)
	}
	return nil
}

// insertUser inserts u and its groups; with onlyFirst the row is inserted
// only when no user exists, else pgx.ErrNoRows.
func insertUser(ctx context.Context, tx pgx.Tx, u *store.User, groups []string, t time.Time, onlyFirst bool) (int64, error) {
	q := `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`
	if onlyFirst {
		q = `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz, $7::timestamptz
			WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id`
	}
	var id int64
	err := tx.QueryRow(ctx, q, u.Username, u.DisplayName, u.Email, u.PasswordHash,
		string(u.MFAState), string(u.DefaultMethod), t).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, insertGroups(ctx, tx, id, groups)
}

// normGroups returns a sorted copy of g without duplicates or empty names,
// nil when nothing is left.
func normGroups(g []string) []string {
	out := slices.DeleteFunc(slices.Clone(g), func(s string) bool { return s == "" })
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func insertGroups(ctx context.Context, tx pgx.Tx, userID int64, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "INSERT INTO user_groups (user_id, grp) SELECT $1, unnest($2::text[])", userID, groups)
	return err
}

// UserByName finds a user by (lower-cased) username; store.ErrNotFound
// otherwise.
func (s *Store) UserByName(ctx context.Context, username string) (*store.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users u WHERE u.username = $1", username))
	if err != nil {
		return nil, wrap(ctx, "user by name", err)
	}
	return u, nil
}

// UserByID finds a user by ID; store.ErrNotFound otherwise.
func (s *Store) UserByID(ctx context.Context, id int64) (*store.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users u WHERE u.id = $1", id))
	if err != nil {
		return nil, wrap(ctx, "user by id", err)
	}
	return u, nil
}

// ListUsers returns all users ordered by username, with their groups.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT "+userColumns+" FROM users u ORDER BY u.username")
	if err != nil {
		return nil, wrap(ctx, "list users", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(ctx, "list users", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list users", err)
	}
	return users, nil
}

func scanUser(r pgx.Row) (*store.User, error) {
	var u store.User
	var state, method string
	var created, updated time.Time
	if err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.PasswordHash, &state, &method,
		&created, &updated, &u.Groups); err != nil {
		return nil, err
	}
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
	u.MFAState, u.DefaultMethod = store.MFAState(state), store.Method(method)
	u.CreatedAt, u.UpdatedAt = created.UTC(), updated.UTC()
	return &u, nil
}

// UpdateUserProfile replaces DisplayName, Email and Groups of user u.ID and
// sets u.UpdatedAt and u.Groups (normalised); store.ErrNotFound for unknown
// IDs.
func (s *Store) UpdateUserProfile(ctx context.Context, u *store.User) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t, groups := now(), normGroups(u.Groups)
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE users SET display_name = $1, email = $2, updated_at = $3 WHERE id = $4",
			u.DisplayName, u.Email, t, u.ID)
		if err != nil {
			return err
		}
		if err := affectedOne(tag); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM user_groups WHERE user_id = $1", u.ID); err != nil {
			return err
		}
		return insertGroups(ctx, tx, u.ID, groups)
	})
	if err != nil {
		return wrap(ctx, "update user profile", err)
	}
	u.UpdatedAt, u.Groups = t, groups
	return nil
}

// SetPassword replaces the password hash; store.ErrNotFound for unknown IDs.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string, dropAppPasswords bool) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var dropped int64
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", hash, now(), userID)
		if err != nil {
			return err
		}
		if err := affectedOne(tag); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID); err != nil {
			return err
		}
		if !dropAppPasswords {
			return nil
		}
		tag, err = tx.Exec(ctx, "DELETE FROM app_passwords WHERE user_id = $1", userID)
		dropped = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap(ctx, "set password", err)
	}
	return dropped, nil
}

// SetMFAState changes the MFA state; store.ErrNotFound for unknown IDs.
func (s *Store) SetMFAState(ctx context.Context, userID int64, state store.MFAState) error {
	if !state.Valid() {
		return fmt.Errorf("postgres: set mfa state: invalid state %q", state)
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return wrap(ctx, "set mfa state", s.updateUser(ctx, "mfa_state", string(state), userID))
}

// SetDefaultMethod changes the default sign-in method; an unknown method is
// an error, store.ErrNotFound for unknown IDs.
func (s *Store) SetDefaultMethod(ctx context.Context, userID int64, m store.Method) error {
	if !validMethod(m) {
		return fmt.Errorf("postgres: set default method: invalid method %q", m)
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return wrap(ctx, "set default method", s.updateUser(ctx, "default_method", string(m), userID))
}

// validMethod reports whether m is a known default method (or none).
func validMethod(m store.Method) bool {
	switch m {
	case store.MethodNone, store.MethodCode, store.MethodPush:
		return true
	}
	return false
}

// updateUser sets one text column (a constant from this package) and
// updated_at.
func (s *Store) updateUser(ctx context.Context, column, val string, userID int64) error {
	tag, err := s.pool.Exec(ctx, "UPDATE users SET "+column+" = $1, updated_at = $2 WHERE id = $3", val, now(), userID)
	if err != nil {
		return err
	}
	return affectedOne(tag)
}

// DeleteUser removes the user (groups, authenticators, app passwords and
// sessions go by cascade, audit events stay) and the named failure
// counters in one transaction. store.ErrNotFound for unknown IDs.
func (s *Store) DeleteUser(ctx context.Context, userID int64, failureKeys ...string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM users WHERE id = $1", userID)
		if err != nil {
			return err
		}
		if err := affectedOne(tag); err != nil {
			return err
		}
		if len(failureKeys) > 0 {
			_, err = tx.Exec(ctx, "DELETE FROM failures WHERE key = ANY($1)", failureKeys)
		}
		return err
	})
	return wrap(ctx, "delete user", err)
}

// ClaimTOTPStep records, in one conditional UPDATE, that the user used time
// step step. It reports false when a step >= step was already claimed (or
// the user does not exist). Concurrent claims of one row queue on its row
// lock and re-check the condition on the committed row, so one wins.
func (s *Store) ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx,
		"UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2", userID, step)
	if err != nil {
		return false, wrap(ctx, "claim totp step", err)
	}
	return tag.RowsAffected() == 1, nil
}
