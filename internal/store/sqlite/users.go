package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/mfagate/mfagate/internal/store"
)

const userColumns = `id, username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at`

// CreateUser inserts u with its groups and sets u.ID, u.CreatedAt,
// u.UpdatedAt and u.Groups (sorted, unique, without empty names).
// store.ErrConflict when the username exists.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	_, err := s.insertUser(ctx, u, false)
	return wrap(ctx, "create user", err)
}

// CreateFirstUser inserts u only when the users table is empty, in one
// statement, and reports whether it did.
func (s *Store) CreateFirstUser(ctx context.Context, u *store.User) (bool, error) {
	ok, err := s.insertUser(ctx, u, true)
	return ok, wrap(ctx, "create first user", err)
}

// insertUser inserts u and its groups in one transaction; with onlyFirst the
// row is inserted only when no user exists.
func (s *Store) insertUser(ctx context.Context, u *store.User, onlyFirst bool) (bool, error) {
	if !u.MFAState.Valid() {
		return false, fmt.Errorf("invalid MFA state %q", u.MFAState)
	}
	if !validMethod(u.DefaultMethod) {
		return false, fmt.Errorf("invalid default method %q", u.DefaultMethod)
	}
	q := `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	if onlyFirst {
		q = `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)`
	}
	t := now()
	groups := normGroups(u.Groups)
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, u.Username, u.DisplayName, u.Email, u.PasswordHash,
			string(u.MFAState), string(u.DefaultMethod), toMS(t), toMS(t))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // n == 0: not the first user
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return insertGroups(ctx, tx, id, groups)
	})
	if err != nil || id == 0 {
		return false, err
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Groups = id, t, t, groups
	return true, nil
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

func insertGroups(ctx context.Context, tx *sql.Tx, userID int64, groups []string) error {
	for _, g := range groups {
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_groups (user_id, grp) VALUES (?, ?)", userID, g); err != nil {
			return err
		}
	}
	return nil
}

// UserByName finds a user by (lower-cased) username; store.ErrNotFound
// otherwise.
func (s *Store) UserByName(ctx context.Context, username string) (*store.User, error) {
	u, err := s.userWhere(ctx, "username = ?", username)
	return u, wrap(ctx, "user by name", err)
}

// UserByID finds a user by ID; store.ErrNotFound otherwise.
func (s *Store) UserByID(ctx context.Context, id int64) (*store.User, error) {
	u, err := s.userWhere(ctx, "id = ?", id)
	return u, wrap(ctx, "user by id", err)
}

// userWhere loads one user and its groups from one snapshot.
func (s *Store) userWhere(ctx context.Context, cond string, arg any) (*store.User, error) {
	var u *store.User
	err := s.read(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+cond, arg)
		var err error
		if u, err = scanUser(row); err != nil {
			return err
		}
		groups, err := loadGroups(ctx, tx, "WHERE user_id = ?", u.ID)
		u.Groups = groups[u.ID]
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers returns all users ordered by username, with their groups.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	var users []store.User
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY username")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			users = append(users, *u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		groups, err := loadGroups(ctx, tx, "")
		for i := range users {
			users[i].Groups = groups[users[i].ID]
		}
		return err
	})
	if err != nil {
		return nil, wrap(ctx, "list users", err)
	}
	return users, nil
}

// loadGroups returns sorted groups per user ID for the rows matching where.
func loadGroups(ctx context.Context, tx *sql.Tx, where string, args ...any) (map[int64][]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT user_id, grp FROM user_groups "+where+" ORDER BY user_id, grp", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var g string
		if err := rows.Scan(&id, &g); err != nil {
			return nil, err
		}
		out[id] = append(out[id], g)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (*store.User, error) {
	var u store.User
	var state, method string
	var created, updated int64
	if err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.PasswordHash, &state, &method, &created, &updated); err != nil {
		return nil, err
	}
	u.MFAState, u.DefaultMethod = store.MFAState(state), store.Method(method)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return &u, nil
}

// UpdateUserProfile replaces DisplayName, Email and Groups of user u.ID and
// sets u.UpdatedAt and u.Groups (normalised); store.ErrNotFound for unknown
// IDs.
func (s *Store) UpdateUserProfile(ctx context.Context, u *store.User) error {
	t := now()
	groups := normGroups(u.Groups)
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET display_name = ?, email = ?, updated_at = ? WHERE id = ?",
			u.DisplayName, u.Email, toMS(t), u.ID)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_groups WHERE user_id = ?", u.ID); err != nil {
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

// SetPassword replaces the password hash, ends the user's sessions and
// optionally deletes their app passwords, in one transaction; see
// store.Store.SetPassword.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string, dropAppPasswords bool) (int64, error) {
	var dropped int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, toMS(now()), userID)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID); err != nil {
			return err
		}
		if !dropAppPasswords {
			return nil
		}
		res, err = tx.ExecContext(ctx, "DELETE FROM app_passwords WHERE user_id = ?", userID)
		if err != nil {
			return err
		}
		dropped, err = res.RowsAffected()
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
		return fmt.Errorf("sqlite: set mfa state: invalid state %q", state)
	}
	return wrap(ctx, "set mfa state", s.updateUser(ctx, "mfa_state = ?", string(state), userID))
}

// SetDefaultMethod changes the default sign-in method; an unknown method is
// an error, store.ErrNotFound for unknown IDs.
func (s *Store) SetDefaultMethod(ctx context.Context, userID int64, m store.Method) error {
	if !validMethod(m) {
		return fmt.Errorf("sqlite: set default method: invalid method %q", m)
	}
	return wrap(ctx, "set default method", s.updateUser(ctx, "default_method = ?", string(m), userID))
}

// validMethod reports whether m is a known default method (or none).
func validMethod(m store.Method) bool {
	switch m {
	case store.MethodNone, store.MethodCode, store.MethodPush:
		return true
	}
	return false
}

// updateUser sets one column (set is "col = ?") and updated_at.
func (s *Store) updateUser(ctx context.Context, set string, val any, userID int64) error {
	res, err := s.wdb.ExecContext(ctx, "UPDATE users SET "+set+", updated_at = ? WHERE id = ?", val, toMS(now()), userID)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// DeleteUser removes the user (groups, authenticators, app passwords and
// sessions go by cascade, audit events stay) and the named failure
// counters in one transaction. store.ErrNotFound for unknown IDs.
func (s *Store) DeleteUser(ctx context.Context, userID int64, failureKeys ...string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", userID)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		for _, k := range failureKeys {
			if _, err := tx.ExecContext(ctx, "DELETE FROM failures WHERE key = ?", k); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(ctx, "delete user", err)
}

// ClaimTOTPStep records, in one conditional UPDATE, that the user used time
// step step. It reports false when a step >= step was already claimed (or
// the user does not exist).
func (s *Store) ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	res, err := s.wdb.ExecContext(ctx,
		"UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, userID, step)
	if err != nil {
		return false, wrap(ctx, "claim totp step", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap(ctx, "claim totp step", err)
	}
	return n == 1, nil
}
