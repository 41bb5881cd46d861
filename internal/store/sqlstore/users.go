package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const userColumns = `u.id, u.username, u.display_name, u.email, u.password_hash, u.mfa_state, u.default_method, u.blocked_at, u.blocked_reason, u.password_expires_at, u.created_at, u.updated_at`

// selectUsers selects users (alias u) and their groups as a JSON array, in
// one statement (one snapshot).
func (s *Store) selectUsers() string {
	return "SELECT " + userColumns + ", " + s.d.GroupsJSON + " FROM users u"
}

const insertUserSQL = `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

const insertFirstUserSQL = `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
	SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id`

// CreateUser inserts u with its groups and sets u.ID, u.CreatedAt,
// u.UpdatedAt and u.Groups (sorted, unique, without empty names).
// model.ErrConflict when the username exists.
func (s *Store) CreateUser(ctx context.Context, u *model.User) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.insertUser(ctx, u, false)
	return s.wrap(ctx, "create user", err)
}

// CreateFirstUser inserts u only when the users table is empty and reports
// whether it did. When the table looks empty, the conditional insert runs
// in a write transaction that first takes the dialect's
// LockUsersForFirst (PostgreSQL: a SHARE ROW EXCLUSIVE lock on users, which
// conflicts with itself and with every INSERT; SQLite: the write lock), so
// the NOT EXISTS check sees every concurrent insert. Once a user exists, no
// lock is taken.
func (s *Store) CreateFirstUser(ctx context.Context, u *model.User) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var exists bool
	if err := s.row(ctx, s.r, "SELECT EXISTS (SELECT 1 FROM users)").Scan(&exists); err != nil {
		return false, s.wrap(ctx, "create first user", err)
	}
	if exists {
		return false, nil
	}
	ok, err := s.insertUser(ctx, u, true)
	return ok, s.wrap(ctx, "create first user", err)
}

// insertUser inserts u and its groups in one transaction; with onlyFirst the
// row is inserted only when no user exists.
func (s *Store) insertUser(ctx context.Context, u *model.User, onlyFirst bool) (bool, error) {
	if !u.MFAState.Valid() {
		return false, fmt.Errorf("invalid MFA state %q", u.MFAState)
	}
	if !validMethod(u.DefaultMethod) {
		return false, fmt.Errorf("invalid default method %q", u.DefaultMethod)
	}
	q := insertUserSQL
	if onlyFirst {
		q = orDefault(s.d.InsertFirstUserSQL, insertFirstUserSQL)
	}
	t, groups := Now(), normGroups(u.Groups)
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if onlyFirst && s.d.LockUsersForFirst != "" {
			if _, err := tx.ExecContext(ctx, s.d.LockUsersForFirst); err != nil {
				return err
			}
		}
		err := s.row(ctx, tx, q, u.Username, u.DisplayName, u.Email, u.PasswordHash,
			string(u.MFAState), string(u.DefaultMethod), s.tm(t), s.tm(t)).Scan(&id)
		if err == nil && !u.PasswordExpiresAt.IsZero() {
			// A temporary password an admin chose (Add user).
			err = s.execOne(ctx, tx, "UPDATE users SET password_expires_at = ? WHERE id = ?", s.tm(u.PasswordExpiresAt), id)
		}
		if onlyFirst && errors.Is(err, sql.ErrNoRows) {
			return nil // not the first user
		}
		if err != nil {
			return err
		}
		return s.insertGroups(ctx, tx, id, groups)
	})
	if err != nil || id == 0 {
		return false, err
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Groups = id, t, t, groups
	return true, nil
}

// orDefault returns a unless it is empty, else b.
func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
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

func (s *Store) insertGroups(ctx context.Context, tx *sql.Tx, userID int64, groups []string) error {
	for _, g := range groups {
		if _, err := s.exec(ctx, tx, "INSERT INTO user_groups (user_id, grp) VALUES (?, ?)", userID, g); err != nil {
			return err
		}
	}
	return nil
}

// UserByName finds a user by (lower-cased) username; model.ErrNotFound
// otherwise.
func (s *Store) UserByName(ctx context.Context, username string) (*model.User, error) {
	return s.userWhere(ctx, "user by name", "username = ?", username)
}

// UserByID finds a user by ID; model.ErrNotFound otherwise.
func (s *Store) UserByID(ctx context.Context, id int64) (*model.User, error) {
	return s.userWhere(ctx, "user by id", "id = ?", id)
}

// userWhere loads one user and its groups.
func (s *Store) userWhere(ctx context.Context, op, cond string, arg any) (*model.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	u, err := scanUser(s.row(ctx, s.r, s.selectUsers()+" WHERE u."+cond, arg))
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return u, nil
}

// ListUsers returns all users ordered by username, with their groups.
func (s *Store) ListUsers(ctx context.Context) ([]model.User, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.query(ctx, s.r, s.selectUsers()+" ORDER BY u.username")
	users, err := scanAll(rows, err, scanUser)
	if err != nil {
		return nil, s.wrap(ctx, "list users", err)
	}
	return users, nil
}

type scanner interface{ Scan(dest ...any) error }

// scanAll scans every row of a query (rows, err) with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

func scanUser(r scanner) (*model.User, error) {
	var c userCols
	if err := r.Scan(c.targets()...); err != nil {
		return nil, err
	}
	u, err := c.user()
	return &u, err
}

// userCols receives the columns of selectUsers (userColumns, then the
// groups as JSON), for every query that reads users.
type userCols struct {
	u                                model.User
	state, method                    string
	blocked, pwExpires, created, upd dbTime
	groups                           []byte
}

func (c *userCols) targets() []any {
	return []any{&c.u.ID, &c.u.Username, &c.u.DisplayName, &c.u.Email, &c.u.PasswordHash, &c.state, &c.method,
		&c.blocked, &c.u.BlockedReason, &c.pwExpires, &c.created, &c.upd, &c.groups}
}

// user completes the scanned user.
func (c *userCols) user() (model.User, error) {
	u := c.u
	u.Groups = nil
	if err := json.Unmarshal(c.groups, &u.Groups); err != nil {
		return u, fmt.Errorf("groups of user %d: %w", u.ID, err)
	}
	u.Groups = normGroups(u.Groups)
	u.MFAState, u.DefaultMethod = model.MFAState(c.state), model.Method(c.method)
	u.BlockedAt, u.PasswordExpiresAt, u.CreatedAt, u.UpdatedAt = c.blocked.t, c.pwExpires.t, c.created.t, c.upd.t
	return u, nil
}

// UpdateUserProfile replaces DisplayName, Email and Groups of user u.ID and
// sets u.UpdatedAt and u.Groups (normalised); model.ErrNotFound for unknown
// IDs.
func (s *Store) UpdateUserProfile(ctx context.Context, u *model.User) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t, groups := Now(), normGroups(u.Groups)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.execOne(ctx, tx, "UPDATE users SET display_name = ?, email = ?, updated_at = ? WHERE id = ?",
			u.DisplayName, u.Email, s.tm(t), u.ID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM user_groups WHERE user_id = ?", u.ID); err != nil {
			return err
		}
		return s.insertGroups(ctx, tx, u.ID, groups)
	})
	if err != nil {
		return s.wrap(ctx, "update user profile", err)
	}
	u.UpdatedAt, u.Groups = t, groups
	return nil
}

// SetPassword replaces the password hash, ends the user's sessions and
// optionally deletes their app passwords, in one transaction; see
// store.Store.SetPassword.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string, dropAppPasswords bool) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.replacePassword(ctx, userID, nil, hash, time.Time{}, nil, dropAppPasswords)
	return n, s.wrap(ctx, "set password", err)
}

// SetTemporaryPassword replaces the password hash by an admin's temporary
// one valid until expires, ends the user's sessions and deletes their app
// passwords, in one transaction; see store.Store.SetTemporaryPassword.
func (s *Store) SetTemporaryPassword(ctx context.Context, userID int64, hash string, expires time.Time) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.replacePassword(ctx, userID, nil, hash, expires, nil, true)
	return n, s.wrap(ctx, "set temporary password", err)
}

// ChangePassword replaces the password hash when it is still currentHash,
// ends the user's other sessions and optionally deletes their app
// passwords, in one transaction; see store.Store.ChangePassword.
func (s *Store) ChangePassword(ctx context.Context, userID int64, currentHash, newHash string, keepSession []byte, dropAppPasswords bool) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.replacePassword(ctx, userID, &currentHash, newHash, time.Time{}, keepSession, dropAppPasswords)
	return n, s.wrap(ctx, "change password", err)
}

// replacePassword is SetPassword and ChangePassword: with current, the
// update applies only to that stored hash (the row is locked by the
// update, so of two changes checked against the same hash one wins).
func (s *Store) replacePassword(ctx context.Context, userID int64, current *string, hash string, expires time.Time, keepSession []byte, dropAppPasswords bool) (int64, error) {
	var dropped int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if current == nil {
			if err := s.execOne(ctx, tx, "UPDATE users SET password_hash = ?, password_expires_at = ?, updated_at = ? WHERE id = ?",
				hash, s.nullTm(expires), s.tm(Now()), userID); err != nil {
				return err
			}
		} else {
			n, err := s.count(ctx, tx, "UPDATE users SET password_hash = ?, password_expires_at = ?, updated_at = ? WHERE id = ? AND password_hash = ?",
				hash, s.nullTm(expires), s.tm(Now()), userID, *current)
			if err != nil {
				return err
			}
			if n == 0 {
				return s.missingOrChanged(ctx, tx, userID)
			}
		}
		if _, err := s.deleteSessionsBut(ctx, tx, userID, keepSession); err != nil {
			return err
		}
		if !dropAppPasswords {
			return nil
		}
		var err error
		dropped, err = s.count(ctx, tx, "DELETE FROM app_passwords WHERE user_id = ?", userID)
		return err
	})
	if err != nil {
		return 0, err
	}
	return dropped, nil
}

// missingOrChanged tells why a conditional update of user userID changed
// no row: model.ErrNotFound when there is no such user, else
// model.ErrConflict (the condition no longer holds).
func (s *Store) missingOrChanged(ctx context.Context, tx *sql.Tx, userID int64) error {
	var exists bool
	if err := s.row(ctx, tx, "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)", userID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return model.ErrNotFound
	}
	return model.ErrConflict
}

// SetMFAState changes the MFA state; model.ErrNotFound for unknown IDs.
func (s *Store) SetMFAState(ctx context.Context, userID int64, state model.MFAState) error {
	if !state.Valid() {
		return fmt.Errorf("%s: set mfa state: invalid state %q", s.d.Name, state)
	}
	return s.updateUser(ctx, "set mfa state", "mfa_state", string(state), userID)
}

// SetDefaultMethod changes the default sign-in method; an unknown method is
// an error, model.ErrNotFound for unknown IDs.
func (s *Store) SetDefaultMethod(ctx context.Context, userID int64, m model.Method) error {
	if !validMethod(m) {
		return fmt.Errorf("%s: set default method: invalid method %q", s.d.Name, m)
	}
	return s.updateUser(ctx, "set default method", "default_method", string(m), userID)
}

// validMethod reports whether m is a known default method (or none).
func validMethod(m model.Method) bool {
	switch m {
	case model.MethodNone, model.MethodCode, model.MethodPush:
		return true
	}
	return false
}

// updateUser sets one text column (a constant of this package) and
// updated_at.
func (s *Store) updateUser(ctx context.Context, op, column, val string, userID int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "UPDATE users SET "+column+" = ?, updated_at = ? WHERE id = ?", val, s.tm(Now()), userID)
	return s.wrap(ctx, op, err)
}

// DeleteUser removes the user (groups, authenticators, app passwords and
// sessions go by cascade, audit events stay) and the named failure
// counters in one transaction. model.ErrNotFound for unknown IDs.
func (s *Store) DeleteUser(ctx context.Context, userID int64, failureKeys ...string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.execOne(ctx, tx, "DELETE FROM users WHERE id = ?", userID); err != nil {
			return err
		}
		for _, k := range failureKeys {
			if _, err := s.exec(ctx, tx, "DELETE FROM failures WHERE key = ?", k); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrap(ctx, "delete user", err)
}

// ClaimTOTPStep records, in one conditional UPDATE, that the user used time
// step step. It reports false when a step >= step was already claimed (or
// the user does not exist). Concurrent claims of one row are serialised by
// the database (write lock or row lock) and re-check the condition, so one
// wins.
func (s *Store) ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ok, err := s.claimTOTPStep(ctx, s.w, userID, step)
	return ok, s.wrap(ctx, "claim totp step", err)
}

func (s *Store) claimTOTPStep(ctx context.Context, x db, userID int64, step int64) (bool, error) {
	n, err := s.count(ctx, x, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, userID, step)
	return n == 1, err
}
