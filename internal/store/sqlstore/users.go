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
	var inserted bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		inserted, err = s.insertUserIn(ctx, tx, u, onlyFirst)
		return err
	})
	return inserted && err == nil, err
}

// insertUserIn inserts u and its groups in tx (with onlyFirst, only into
// an empty table) and reports whether it did; it sets u.ID, CreatedAt,
// UpdatedAt and the normalised Groups.
func (s *Store) insertUserIn(ctx context.Context, tx *sql.Tx, u *model.User, onlyFirst bool) (bool, error) {
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
	if onlyFirst && s.d.LockUsersForFirst != "" {
		if _, err := tx.ExecContext(ctx, s.d.LockUsersForFirst); err != nil {
			return false, err
		}
	}
	var id int64
	err := s.row(ctx, tx, q, u.Username, u.DisplayName, u.Email, u.PasswordHash,
		string(u.MFAState), string(u.DefaultMethod), s.tm(t), s.tm(t)).Scan(&id)
	if err == nil && !u.PasswordExpiresAt.IsZero() {
		// A temporary password an admin chose (Add user).
		err = s.execOne(ctx, tx, "UPDATE users SET password_expires_at = ? WHERE id = ?", s.tm(u.PasswordExpiresAt), id)
	}
	if onlyFirst && errors.Is(err, sql.ErrNoRows) {
		return false, nil // not the first user
	}
	if err != nil {
		return false, err
	}
	if err := s.insertGroups(ctx, tx, id, groups); err != nil {
		return false, err
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Groups = id, t, t, groups
	return true, nil
}

// CreateUser inserts u and its groups in the transaction.
func (t *tx) CreateUser(ctx context.Context, u *model.User) error {
	_, err := t.s.insertUserIn(ctx, t.tx, u, false)
	return t.wrap(ctx, "create user", err)
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

// setProfile replaces the user's display name, email and groups at t.
func (s *Store) setProfile(ctx context.Context, tx *sql.Tx, userID int64, displayName, email string, groups []string, t time.Time) error {
	if err := s.execOne(ctx, tx, "UPDATE users SET display_name = ?, email = ?, updated_at = ? WHERE id = ?",
		displayName, email, s.tm(t), userID); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx, "DELETE FROM user_groups WHERE user_id = ?", userID); err != nil {
		return err
	}
	return s.insertGroups(ctx, tx, userID, groups)
}

// setPasswordSQL sets the password hash, its expiry and updated_at of
// user ?.
const setPasswordSQL = "UPDATE users SET password_hash = ?, password_expires_at = ?, updated_at = ? WHERE id = ?"

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
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.wrap(ctx, "set mfa state", s.setUserColumn(ctx, s.w, "mfa_state", string(state), userID))
}

// validMethod reports whether m is a known default method (or none).
func validMethod(m model.Method) bool {
	switch m {
	case model.MethodNone, model.MethodCode, model.MethodPush, model.MethodPasskey:
		return true
	}
	return false
}

// setUserColumn sets one text column (a constant of this package) of the
// user and updated_at, in x; sql.ErrNoRows for an unknown user.
func (s *Store) setUserColumn(ctx context.Context, x db, column, val string, userID int64) error {
	return s.execOne(ctx, x, "UPDATE users SET "+column+" = ?, updated_at = ? WHERE id = ?", val, s.tm(Now()), userID)
}

// lockUserRow locks the user's row for the rest of tx (LockUserRow; on
// SQLite the write transaction holds every lock already), which
// serialises the checks made on that user's rows; sql.ErrNoRows for an
// unknown user.
func (s *Store) lockUserRow(ctx context.Context, tx *sql.Tx, userID int64) error {
	var one int
	return s.row(ctx, tx, "SELECT 1 FROM users WHERE id = ?"+s.d.LockUserRow, userID).Scan(&one)
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

// lockAdmins locks the rows of the group's members, by ID, for the rest
// of tx (nothing where write transactions are serialised).
func (s *Store) lockAdmins(ctx context.Context, tx *sql.Tx, group string) error {
	if s.d.LockUserRow == "" {
		return nil
	}
	rows, err := s.query(ctx, tx, "SELECT u.id FROM users u WHERE "+groupMembersSQL+" ORDER BY u.id"+s.d.LockUserRow, group)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	return errors.Join(rows.Err(), rows.Close())
}

// upgradePasswordHash replaces the password hash when it is still
// oldHash, in one conditional UPDATE (of two upgrades from the same hash,
// one applies); see store.Tx.UpgradePasswordHash.
func (s *Store) upgradePasswordHash(ctx context.Context, tx *sql.Tx, userID int64, oldHash, newHash string) error {
	n, err := s.count(ctx, tx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?",
		newHash, s.tm(Now()), userID, oldHash)
	if err != nil {
		return err
	}
	if n == 0 {
		return s.missingOrChanged(ctx, tx, userID)
	}
	return nil
}

// userPasskeysSQL counts the passkeys of the user aliased u.
const userPasskeysSQL = "(SELECT count(*) FROM webauthn_credentials w WHERE w.user_id = u.id)"

// groupMembersSQL selects the users aliased u in group ?.
const groupMembersSQL = "u.id IN (SELECT g.user_id FROM user_groups g WHERE g.grp = ?)"

// userMethodsSQL counts the second steps of the user aliased u: their
// authenticators and active phones (a phone waiting for its code is
// none). Every count of them is this one.
const userMethodsSQL = `(SELECT count(*) FROM totp_authenticators t WHERE t.user_id = u.id),
	(SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active = 1)`

// LockUser locks and reads the user's row (SQLite: the write lock already
// serialises this transaction).
func (t *tx) LockUser(ctx context.Context, userID int64) (*model.User, error) {
	s := t.s
	if err := s.lockUserRow(ctx, t.tx, userID); err != nil {
		return nil, t.wrap(ctx, "lock user", err)
	}
	u, err := scanUser(s.row(ctx, t.tx, s.selectUsers()+" WHERE u.id = ?", userID))
	if err != nil {
		return nil, t.wrap(ctx, "lock user", err)
	}
	return u, nil
}

// LockAdmins locks the group's members' rows by ID.
func (t *tx) LockAdmins(ctx context.Context, group string) error {
	return t.wrap(ctx, "lock admins", t.s.lockAdmins(ctx, t.tx, group))
}

// Methods counts the user's authenticators and active phones.
func (t *tx) Methods(ctx context.Context, userID int64) (model.MethodCount, error) {
	var c model.MethodCount
	err := t.s.row(ctx, t.tx, "SELECT "+userMethodsSQL+", "+userPasskeysSQL+" FROM users u WHERE u.id = ?", userID).
		Scan(&c.Authenticators, &c.Phones, &c.Passkeys)
	return c, t.wrap(ctx, "count methods", err)
}

// GroupMembers lists the group's members with their method counts.
func (t *tx) GroupMembers(ctx context.Context, group string) ([]model.Member, error) {
	rows, err := t.s.query(ctx, t.tx, "SELECT u.id, u.blocked_at, "+userMethodsSQL+", "+userPasskeysSQL+" FROM users u WHERE "+groupMembersSQL+" ORDER BY u.id", group)
	out, err := scanAll(rows, err, func(r scanner) (*model.Member, error) {
		var m model.Member
		var blocked dbTime
		err := r.Scan(&m.ID, &blocked, &m.Methods.Authenticators, &m.Methods.Phones, &m.Methods.Passkeys)
		m.BlockedAt = blocked.t
		return &m, err
	})
	if err != nil {
		return nil, t.wrap(ctx, "group members", err)
	}
	return out, nil
}

// SetMFAState changes the user's MFA state.
func (t *tx) SetMFAState(ctx context.Context, userID int64, state model.MFAState) error {
	if !state.Valid() {
		return fmt.Errorf("%s: set mfa state: invalid state %q", t.s.d.Name, state)
	}
	return t.wrap(ctx, "set mfa state", t.s.setUserColumn(ctx, t.tx, "mfa_state", string(state), userID))
}

// SetBlocked blocks or unblocks the user's sign-in.
func (t *tx) SetBlocked(ctx context.Context, userID int64, at time.Time, reason string) error {
	if at.IsZero() {
		reason = ""
	}
	err := t.s.execOne(ctx, t.tx, "UPDATE users SET blocked_at = ?, blocked_reason = ?, updated_at = ? WHERE id = ?",
		t.s.nullTm(at), reason, t.s.tm(Now()), userID)
	return t.wrap(ctx, "set blocked", err)
}

// UpgradePasswordHash replaces the hash when it is still oldHash.
func (t *tx) UpgradePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	return t.wrap(ctx, "upgrade password hash", t.s.upgradePasswordHash(ctx, t.tx, userID, oldHash, newHash))
}

// ClaimTOTPStep records the use of a time step.
func (t *tx) ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	ok, err := t.s.claimTOTPStep(ctx, t.tx, userID, step)
	return ok, t.wrap(ctx, "claim totp step", err)
}

// DeleteMethods deletes the user's pairing links, authenticators,
// devices and passkeys.
func (t *tx) DeleteMethods(ctx context.Context, userID int64) error {
	for _, q := range []string{
		"DELETE FROM pairings WHERE user_id = ?",
		"DELETE FROM totp_authenticators WHERE user_id = ?",
		"DELETE FROM devices WHERE user_id = ?",
		"DELETE FROM webauthn_credentials WHERE user_id = ?",
	} {
		if _, err := t.s.exec(ctx, t.tx, q, userID); err != nil {
			return t.wrap(ctx, "delete methods", err)
		}
	}
	return nil
}

// SetProfile replaces the display name, email and groups.
func (t *tx) SetProfile(ctx context.Context, userID int64, displayName, email string, groups []string) error {
	return t.wrap(ctx, "set profile", t.s.setProfile(ctx, t.tx, userID, displayName, email, normGroups(groups), Now()))
}

// SetPassword replaces the password hash and its expiry.
func (t *tx) SetPassword(ctx context.Context, userID int64, hash string, expires time.Time) error {
	if hash == "" {
		return fmt.Errorf("%s: set password: empty hash", t.s.d.Name)
	}
	err := t.s.execOne(ctx, t.tx, setPasswordSQL, hash, t.s.nullTm(expires), t.s.tm(Now()), userID)
	return t.wrap(ctx, "set password", err)
}

// SetDefaultMethod changes the default sign-in method.
func (t *tx) SetDefaultMethod(ctx context.Context, userID int64, m model.Method) error {
	if !validMethod(m) {
		return fmt.Errorf("%s: set default method: invalid method %q", t.s.d.Name, m)
	}
	return t.wrap(ctx, "set default method", t.s.setUserColumn(ctx, t.tx, "default_method", string(m), userID))
}

// DeleteUser deletes the user's row (the rest by cascade).
func (t *tx) DeleteUser(ctx context.Context, userID int64) error {
	return t.wrap(ctx, "delete user", t.s.execOne(ctx, t.tx, "DELETE FROM users WHERE id = ?", userID))
}
