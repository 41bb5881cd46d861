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

// lastSignInSQL is the last successful sign-in of the user aliased u, kept
// on the user row by AppendSignIn (one column to sort 10,000 users by,
// rather than a sign-in log lookup per user).
const lastSignInSQL = `u.last_sign_in_at`

// userSummaryCountsSQL are the method counts of the user aliased u.
const userSummaryCountsSQL = `(SELECT count(*) FROM totp_authenticators t WHERE t.user_id = u.id),
	(SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active = 1),
	(SELECT count(*) FROM app_passwords a WHERE a.user_id = u.id)`

// SearchUsers returns one page of the users q selects, in two statements:
// the page (the filter, order and LIMIT/OFFSET run on the users and their
// failure counters only; groups, counts and the last sign-in are read for
// the page's rows alone) and the count of every match.
func (s *Store) SearchUsers(ctx context.Context, q model.UserQuery) (model.UserPage, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if q.Sort == "" {
		q.Sort = model.SortUsername
	}
	if !q.Sort.Valid() {
		return model.UserPage{}, fmt.Errorf("%s: search users: unknown sort %q", s.d.Name, q.Sort)
	}
	if q.IDs != nil && len(q.IDs) == 0 {
		return model.UserPage{}, nil
	}
	from, args, err := s.userFilter(q)
	if err != nil {
		return model.UserPage{}, fmt.Errorf("%s: search users: %w", s.d.Name, err)
	}
	key, nullable := sortKey(q.Sort)
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	order := func(k, id string) string {
		o := k + dir + ", " + id + dir
		if nullable {
			o = "(" + k + " IS NULL), " + o
		}
		return o
	}
	limit := s.d.NoLimit
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	page := "SELECT " + userColumns + ", " + s.d.GroupsJSON + ", " + userSummaryCountsSQL + ", " + lastSignInSQL + ", p.locked_until" +
		" FROM (SELECT u.id AS id, f.locked_until AS locked_until, " + key + " AS k " + from +
		" ORDER BY " + order(key, "u.id") + " LIMIT ? OFFSET ?) p JOIN users u ON u.id = p.id ORDER BY " + order("p.k", "p.id")
	pageArgs := append(append([]any{}, args...), limit, int64(max(q.Offset, 0)))
	rows, err := s.query(ctx, s.r, page, pageArgs...)
	users, err := scanAll(rows, err, scanUserSummary)
	if err != nil {
		return model.UserPage{}, s.wrap(ctx, "search users", err)
	}
	var total int
	if err := s.row(ctx, s.r, "SELECT count(*) "+from, args...).Scan(&total); err != nil {
		return model.UserPage{}, s.wrap(ctx, "count users", err)
	}
	return model.UserPage{Users: users, Total: total}, nil
}

// sortKey is the expression q.Sort orders by, and whether it can be NULL
// (those rows go last either way).
func sortKey(sort model.UserSort) (string, bool) {
	switch sort {
	case model.SortDisplayName:
		return "u.display_name", false
	case model.SortMFAState:
		return "u.mfa_state", false // disabled < enabled < enforced
	case model.SortLastSignIn:
		return lastSignInSQL, true
	case model.SortCreated:
		return "u.created_at", false
	}
	return "u.username", false
}

// userFilter returns the FROM and WHERE clauses of q (users u with their
// account counter f) and their arguments.
func (s *Store) userFilter(q model.UserQuery) (string, []any, error) {
	var cond []string
	args := []any{q.LockKeyPrefix}
	if q.Search != "" {
		pat := "%" + escapeLike(strings.ToLower(q.Search)) + "%"
		cond = append(cond, `(lower(u.username) LIKE ? ESCAPE '\' OR lower(u.display_name) LIKE ? ESCAPE '\' OR lower(u.email) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat)
	}
	if q.MFAState != "" {
		if !q.MFAState.Valid() {
			return "", nil, fmt.Errorf("unknown MFA state %q", q.MFAState)
		}
		cond = append(cond, "u.mfa_state = ?")
		args = append(args, string(q.MFAState))
	}
	now := s.tm(normTime(q.Now))
	switch q.Status {
	case model.StatusAny:
	case model.StatusBlocked:
		cond = append(cond, "u.blocked_at IS NOT NULL")
	case model.StatusLocked:
		cond = append(cond, "f.locked_until > ?")
		args = append(args, now)
	case model.StatusActive:
		cond = append(cond, "u.blocked_at IS NULL AND (f.locked_until IS NULL OR f.locked_until <= ?)")
		args = append(args, now)
	default:
		return "", nil, fmt.Errorf("unknown status %q", q.Status)
	}
	if q.IDs != nil {
		cond = append(cond, "u.id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.IDs)), ", ")+")")
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	from := "FROM users u LEFT JOIN failures f ON f.key = CAST(? AS TEXT) || u.username"
	if len(cond) > 0 {
		from += " WHERE " + strings.Join(cond, " AND ")
	}
	return from, args, nil
}

// escapeLike escapes the LIKE wildcards of s with '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func scanUserSummary(r scanner) (*model.UserSummary, error) {
	var su model.UserSummary
	var c userCols
	var last, locked dbTime
	if err := r.Scan(append(c.targets(), &su.Authenticators, &su.Phones, &su.AppPasswords, &last, &locked)...); err != nil {
		return nil, err
	}
	u, err := c.user()
	if err != nil {
		return nil, err
	}
	su.User, su.LastSignIn, su.LockedUntil = u, last.t, locked.t
	return &su, nil
}

// qualifiedAdminsSQL counts the users in group ? who may administer: not
// blocked, with a second factor (an authenticator or an active phone).
const qualifiedAdminsSQL = `SELECT count(*) FROM users u
	WHERE u.blocked_at IS NULL
	AND u.id IN (SELECT g.user_id FROM user_groups g WHERE g.grp = ?)
	AND (EXISTS (SELECT 1 FROM totp_authenticators t WHERE t.user_id = u.id)
		OR EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.active = 1))`

// ApplyAdminChange applies ch in one write transaction under g's checks.
// Locks are taken in the order links, users (by ID), as everywhere: the
// user's pairings when devices may go, then every member of the admin
// group, which serialises admin changes on PostgreSQL (SQLite serialises
// every writer), then the user's row. Under those locks the actor must
// still be an admin, and a change that leaves no qualified admin where
// there was one is rolled back. Counting happens in statements of their
// own after the locks, so on PostgreSQL (READ COMMITTED) they see every
// admin change that committed before.
func (s *Store) ApplyAdminChange(ctx context.Context, g model.AdminGuard, ch model.AdminChange) (model.AdminOutcome, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var out model.AdminOutcome
	err := s.write(ctx, func(tx *sql.Tx) error {
		if ch.Kind == model.ChangeMethods || ch.Kind == model.ChangeRemove {
			if err := s.lockPairings(ctx, tx, "user_id = ?", ch.UserID); err != nil {
				return err
			}
		}
		if err := s.lockAdmins(ctx, tx, g.Group); err != nil {
			return err
		}
		var one int
		if err := s.row(ctx, tx, "SELECT 1 FROM users WHERE id = ?"+s.d.LockUserRow, ch.UserID).Scan(&one); err != nil {
			return err
		}
		before, err := scanUser(s.row(ctx, tx, s.selectUsers()+" WHERE u.id = ?", ch.UserID))
		if err != nil {
			return err
		}
		out.Before = *before
		if g.ActorID != 0 {
			var ok bool
			if err := s.row(ctx, tx, `SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.blocked_at IS NULL
				AND u.id IN (SELECT g.user_id FROM user_groups g WHERE g.grp = ?))`, g.ActorID, g.Group).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return model.ErrNotAdmin
			}
		}
		var qualified int
		if err := s.row(ctx, tx, qualifiedAdminsSQL, g.Group).Scan(&qualified); err != nil {
			return err
		}
		if out.Count, err = s.adminChange(ctx, tx, ch); err != nil {
			return err
		}
		if qualified == 0 {
			return nil // none before: this change cannot remove the last
		}
		if err := s.row(ctx, tx, qualifiedAdminsSQL, g.Group).Scan(&qualified); err != nil {
			return err
		}
		if qualified == 0 {
			return model.ErrLastAdmin
		}
		return nil
	})
	if err != nil {
		return model.AdminOutcome{}, s.wrap(ctx, "admin change "+string(ch.Kind), err)
	}
	return out, nil
}

// lockAdmins locks the rows of the group's members, by ID, for the rest
// of tx (nothing where write transactions are serialised).
func (s *Store) lockAdmins(ctx context.Context, tx *sql.Tx, group string) error {
	if s.d.LockUserRow == "" {
		return nil
	}
	rows, err := s.query(ctx, tx, "SELECT u.id FROM users u WHERE u.id IN (SELECT g.user_id FROM user_groups g WHERE g.grp = ?) ORDER BY u.id"+s.d.LockUserRow, group)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	return errors.Join(rows.Err(), rows.Close())
}

// adminChange makes the change itself and says how many rows of the kind
// it deletes went.
func (s *Store) adminChange(ctx context.Context, tx *sql.Tx, ch model.AdminChange) (int64, error) {
	id, now := ch.UserID, s.tm(Now())
	switch ch.Kind {
	case model.ChangeMFAState:
		if !ch.MFAState.Valid() {
			return 0, fmt.Errorf("invalid MFA state %q", ch.MFAState)
		}
		return 0, s.execOne(ctx, tx, "UPDATE users SET mfa_state = ?, updated_at = ? WHERE id = ?", string(ch.MFAState), now, id)
	case model.ChangeAppPasswords:
		return s.count(ctx, tx, "DELETE FROM app_passwords WHERE user_id = ?", id)
	case model.ChangeMethods:
		if _, err := s.exec(ctx, tx, "DELETE FROM pairings WHERE user_id = ?", id); err != nil {
			return 0, err
		}
		totps, err := s.count(ctx, tx, "DELETE FROM totp_authenticators WHERE user_id = ?", id)
		if err != nil {
			return 0, err
		}
		devices, err := s.count(ctx, tx, "DELETE FROM devices WHERE user_id = ? AND active = 1", id)
		if err != nil {
			return 0, err
		}
		_, err = s.exec(ctx, tx, "DELETE FROM devices WHERE user_id = ?", id)
		return totps + devices, err
	case model.ChangeSessions:
		return s.count(ctx, tx, "DELETE FROM sessions WHERE user_id = ?", id)
	case model.ChangeBlock:
		if ch.BlockedAt.IsZero() {
			return 0, errors.New("blocking needs a time")
		}
		return 0, s.setBlocked(ctx, tx, id, ch.BlockedAt, ch.BlockedReason)
	case model.ChangeUnblock:
		if err := s.setBlocked(ctx, tx, id, time.Time{}, ""); err != nil {
			return 0, err
		}
		return 0, s.deleteFailures(ctx, tx, ch.FailureKeys)
	case model.ChangeProfile:
		if err := s.execOne(ctx, tx, "UPDATE users SET display_name = ?, email = ?, updated_at = ? WHERE id = ?",
			ch.DisplayName, ch.Email, now, id); err != nil {
			return 0, err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM user_groups WHERE user_id = ?", id); err != nil {
			return 0, err
		}
		return 0, s.insertGroups(ctx, tx, id, normGroups(ch.Groups))
	case model.ChangePassword:
		if ch.PasswordHash == "" || ch.PasswordExpiresAt.IsZero() {
			return 0, errors.New("a temporary password needs a hash and an expiry")
		}
		if err := s.execOne(ctx, tx, "UPDATE users SET password_hash = ?, password_expires_at = ?, updated_at = ? WHERE id = ?",
			ch.PasswordHash, s.tm(ch.PasswordExpiresAt), now, id); err != nil {
			return 0, err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
			return 0, err
		}
		return s.count(ctx, tx, "DELETE FROM app_passwords WHERE user_id = ?", id)
	case model.ChangeRemove:
		if err := s.execOne(ctx, tx, "DELETE FROM users WHERE id = ?", id); err != nil {
			return 0, err
		}
		return 0, s.deleteFailures(ctx, tx, ch.FailureKeys)
	}
	return 0, fmt.Errorf("unknown admin change %q", ch.Kind)
}

func (s *Store) deleteFailures(ctx context.Context, tx db, keys []string) error {
	for _, k := range keys {
		if _, err := s.exec(ctx, tx, "DELETE FROM failures WHERE key = ?", k); err != nil {
			return err
		}
	}
	return nil
}
