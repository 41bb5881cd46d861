package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/mfagate/mfagate/internal/model"
)

// lastSignInSQL is the last successful sign-in of the user aliased u, kept
// on the user row by AppendSignIn (one column to sort 10,000 users by,
// rather than a sign-in log lookup per user).
const lastSignInSQL = `u.last_sign_in_at`

// userSummaryCountsSQL are the method and app password counts of the
// user aliased u.
const userSummaryCountsSQL = userMethodsSQL + ", " + userPasskeysSQL + `,
	(SELECT count(*) FROM app_passwords a WHERE a.user_id = u.id)`

// SearchUsers returns one page of the users q selects, in two statements:
// the page (the filter, order and LIMIT/OFFSET run on the users and their
// two failure counters only; groups, counts and the last sign-in are read for
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
	page := "SELECT " + userColumns + ", " + s.d.GroupsJSON + ", " + userSummaryCountsSQL + ", " + lastSignInSQL + ", p.locked_until, p.basic_locked_until" +
		" FROM (SELECT u.id AS id, f.locked_until AS locked_until, b.locked_until AS basic_locked_until, " + key + " AS k " + from +
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
// account counter f and basic-auth-only counter b) and their arguments.
func (s *Store) userFilter(q model.UserQuery) (string, []any, error) {
	var cond []string
	args := []any{q.LockKeyPrefix}
	basic := "1 = 0" // no basic-auth-only counter asked for: none joined
	if q.BasicLockKeyPrefix != "" {
		basic = "b.key = CAST(? AS TEXT) || u.username"
		args = append(args, q.BasicLockKeyPrefix)
	}
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
		cond = append(cond, "(f.locked_until > ? OR b.locked_until > ?)")
		args = append(args, now, now)
	case model.StatusActive:
		cond = append(cond, "u.blocked_at IS NULL AND (f.locked_until IS NULL OR f.locked_until <= ?) AND (b.locked_until IS NULL OR b.locked_until <= ?)")
		args = append(args, now, now)
	default:
		return "", nil, fmt.Errorf("unknown status %q", q.Status)
	}
	if q.IDs != nil {
		cond = append(cond, "u.id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.IDs)), ", ")+")")
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	from := "FROM users u LEFT JOIN failures f ON f.key = CAST(? AS TEXT) || u.username LEFT JOIN failures b ON " + basic
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
	var last, locked, basicLocked dbTime
	if err := r.Scan(append(c.targets(), &su.Authenticators, &su.Phones, &su.Passkeys, &su.AppPasswords, &last, &locked, &basicLocked)...); err != nil {
		return nil, err
	}
	u, err := c.user()
	if err != nil {
		return nil, err
	}
	su.User, su.LastSignIn, su.LockedUntil, su.BasicAuthLockedUntil = u, last.t, locked.t, basicLocked.t
	return &su, nil
}
