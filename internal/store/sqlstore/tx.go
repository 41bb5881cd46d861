package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// maxTxAttempts bounds how often Update runs a transaction that the
// database aborted to resolve a deadlock or serialisation race.
const maxTxAttempts = 3

// Update runs fn in one write transaction (see store.Updater): SQLite's
// BEGIN IMMEDIATE on the one write connection, PostgreSQL's READ
// COMMITTED with the locks fn takes. A transaction the database aborted
// to break a deadlock (Dialect.Retryable) runs again, at most
// maxTxAttempts times in all.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = s.write(ctx, func(sqlTx *sql.Tx) error {
			return fn(ctx, &tx{s: s, tx: sqlTx})
		})
		if err == nil || s.d.Retryable == nil || !s.d.Retryable(err) {
			break
		}
	}
	// Errors of tx already carry the store's sentinels; fn's own pass as
	// they are, so the core can tell its refusals apart.
	return err
}

// tx is one transaction of Update.
type tx struct {
	s  *Store
	tx *sql.Tx
}

var _ store.Tx = (*tx)(nil)

func (t *tx) wrap(ctx context.Context, op string, err error) error { return t.s.wrap(ctx, op, err) }

// LockUser locks and reads the user's row (SQLite: the write lock already
// serialises this transaction).
func (t *tx) LockUser(ctx context.Context, userID int64) (*model.User, error) {
	s := t.s
	var one int
	if err := s.row(ctx, t.tx, "SELECT 1 FROM users WHERE id = ?"+s.d.LockUserRow, userID).Scan(&one); err != nil {
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

// LockPairings locks the user's pairing links.
func (t *tx) LockPairings(ctx context.Context, userID int64) error {
	return t.wrap(ctx, "lock pairings", t.s.lockPairings(ctx, t.tx, "user_id = ?", userID))
}

// methodCountsSQL counts the authenticators and active phones of user ?
// (twice).
const methodCountsSQL = `SELECT (SELECT count(*) FROM totp_authenticators WHERE user_id = ?),
	(SELECT count(*) FROM devices WHERE user_id = ? AND active = 1)`

// Methods counts the user's authenticators and active phones.
func (t *tx) Methods(ctx context.Context, userID int64) (model.MethodCount, error) {
	var c model.MethodCount
	err := t.s.row(ctx, t.tx, methodCountsSQL, userID, userID).Scan(&c.Authenticators, &c.Phones)
	return c, t.wrap(ctx, "count methods", err)
}

// GroupMembers lists the group's members with their method counts.
func (t *tx) GroupMembers(ctx context.Context, group string) ([]model.Member, error) {
	rows, err := t.s.query(ctx, t.tx, `SELECT u.id, u.blocked_at,
		(SELECT count(*) FROM totp_authenticators a WHERE a.user_id = u.id),
		(SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active = 1)
		FROM users u WHERE u.id IN (SELECT g.user_id FROM user_groups g WHERE g.grp = ?) ORDER BY u.id`, group)
	out, err := scanAll(rows, err, func(r scanner) (*model.Member, error) {
		var m model.Member
		var blocked dbTime
		err := r.Scan(&m.ID, &blocked, &m.Methods.Authenticators, &m.Methods.Phones)
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
	err := t.s.execOne(ctx, t.tx, "UPDATE users SET mfa_state = ?, updated_at = ? WHERE id = ?",
		string(state), t.s.tm(Now()), userID)
	return t.wrap(ctx, "set mfa state", err)
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

// ClaimFailure claims a failure slot.
func (t *tx) ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error) {
	ok, f, err := t.s.claimFailure(ctx, t.tx, key, now, window, limit, lockout)
	if err != nil {
		return false, model.Failures{}, t.wrap(ctx, "claim failure", err)
	}
	return ok, f, nil
}

// ReleaseFailure gives a slot back.
func (t *tx) ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error {
	return t.wrap(ctx, "release failure", t.s.releaseFailure(ctx, t.tx, key, window, limit))
}

// DeleteFailures deletes counters.
func (t *tx) DeleteFailures(ctx context.Context, keys ...string) error {
	return t.wrap(ctx, "delete failures", t.s.deleteFailures(ctx, t.tx, keys))
}

// RememberWrongSecret remembers a wrong secret's keyed hash.
func (t *tx) RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error {
	return t.wrap(ctx, "remember wrong secret", t.s.rememberWrongSecret(ctx, t.tx, key, digest, at, keep, before))
}

// AddTOTP inserts an authenticator.
func (t *tx) AddTOTP(ctx context.Context, a *model.TOTPAuthenticator) error {
	at := Now()
	var id int64
	err := t.s.row(ctx, t.tx, "INSERT INTO totp_authenticators (user_id, name, sealed_secret, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		a.UserID, a.Name, nonNilBlob(a.SealedSecret), t.s.tm(at)).Scan(&id)
	if err != nil {
		return t.wrap(ctx, "add totp", err)
	}
	a.ID, a.CreatedAt = id, at
	return nil
}

// DeleteTOTP deletes one authenticator of the user.
func (t *tx) DeleteTOTP(ctx context.Context, userID, id int64) error {
	err := t.s.execOne(ctx, t.tx, "DELETE FROM totp_authenticators WHERE id = ? AND user_id = ?", id, userID)
	return t.wrap(ctx, "delete totp", err)
}

// CreateSession inserts a session.
func (t *tx) CreateSession(ctx context.Context, sess *model.Session) error {
	_, err := t.s.exec(ctx, t.tx, insertSessionSQL, t.s.sessionArgs(sess)...)
	return t.wrap(ctx, "create session", err)
}

// ReplaceSession rotates a session's identifier.
func (t *tx) ReplaceSession(ctx context.Context, oldHash []byte, sess *model.Session) error {
	return t.wrap(ctx, "replace session", t.s.replaceSession(ctx, t.tx, oldHash, sess))
}

// DeleteSessions ends the user's sessions but keep.
func (t *tx) DeleteSessions(ctx context.Context, userID int64, keep []byte) (int64, error) {
	n, err := t.s.deleteSessionsBut(ctx, t.tx, userID, keep)
	return n, t.wrap(ctx, "delete sessions", err)
}

// ConsumeApproval completes an approved sign-in request.
func (t *tx) ConsumeApproval(ctx context.Context, id string, oldHash []byte, next *model.Session) error {
	return t.wrap(ctx, "consume approval", t.s.consumeApproval(ctx, t.tx, id, oldHash, next))
}

// AppendAudit stores an audit event.
func (t *tx) AppendAudit(ctx context.Context, e *model.AuditEvent) error {
	return t.wrap(ctx, "append audit", t.s.appendAudit(ctx, t.tx, e))
}

// AppendSignIn stores a sign-in log row.
func (t *tx) AppendSignIn(ctx context.Context, e *model.SignIn) error {
	return t.wrap(ctx, "append sign-in", t.s.appendSignIn(ctx, t.tx, e))
}
