package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/mfagate/mfagate/internal/store"
)

const sessionColumns = `id_hash, user_id, stage, created_at, last_seen_at, mfa_at, pending_totp, redirect_to, remote_ip, user_agent`

// CreateSession inserts s. A zero s.CreatedAt is set to now and a zero
// s.LastSeenAt to s.CreatedAt. store.ErrConflict if IDHash exists,
// store.ErrNotFound if the user does not.
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	defaultSessionTimes(sess)
	_, err := s.wdb.ExecContext(ctx, insertSessionSQL, sessionArgs(sess)...)
	return wrap(ctx, "create session", err)
}

const insertSessionSQL = `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func defaultSessionTimes(sess *store.Session) {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now()
	}
	if sess.LastSeenAt.IsZero() {
		sess.LastSeenAt = sess.CreatedAt
	}
}

func sessionArgs(sess *store.Session) []any {
	return []any{
		sess.IDHash, sess.UserID, string(sess.Stage), toMS(sess.CreatedAt), toMS(sess.LastSeenAt),
		nullMS(sess.MFAAt), nullBlob(sess.PendingTOTP), sess.RedirectTo, sess.RemoteIP, sess.UserAgent,
	}
}

// SessionByHash returns the session; store.ErrNotFound otherwise.
func (s *Store) SessionByHash(ctx context.Context, idHash []byte) (*store.Session, error) {
	row := s.rdb.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id_hash = ?", idHash)
	var sess store.Session
	var stage string
	var created, seen int64
	var mfaAt sql.NullInt64
	err := row.Scan(&sess.IDHash, &sess.UserID, &stage, &created, &seen, &mfaAt, &sess.PendingTOTP,
		&sess.RedirectTo, &sess.RemoteIP, &sess.UserAgent)
	if err != nil {
		return nil, wrap(ctx, "session by hash", err)
	}
	sess.Stage = store.Stage(stage)
	sess.CreatedAt, sess.LastSeenAt, sess.MFAAt = fromMS(created), fromMS(seen), fromNullMS(mfaAt)
	if len(sess.PendingTOTP) == 0 {
		sess.PendingTOTP = nil
	}
	return &sess, nil
}

// ReplaceSession deletes oldHash and inserts sess in one transaction.
// store.ErrNotFound (and nothing inserted) when oldHash is gone.
func (s *Store) ReplaceSession(ctx context.Context, oldHash []byte, sess *store.Session) error {
	defaultSessionTimes(sess)
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", oldHash)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, insertSessionSQL, sessionArgs(sess)...)
		return err
	})
	return wrap(ctx, "replace session", err)
}

// TouchSession sets LastSeenAt (now when lastSeen is zero);
// store.ErrNotFound if the session is gone.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	lastSeen = normTime(lastSeen, now)
	res, err := s.wdb.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", toMS(lastSeen), idHash)
	if err == nil {
		err = affectedOne(res)
	}
	return wrap(ctx, "touch session", err)
}

// DeleteSession removes one session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.wdb.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash)
	return wrap(ctx, "delete session", err)
}

// DeleteUserSessions removes all sessions of a user and returns how many.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	n, err := s.execCount(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
	return n, wrap(ctx, "delete user sessions", err)
}

// DeleteStaleSessions removes sessions created before createdBefore or last
// seen before seenBefore and returns how many. A zero bound is ignored.
func (s *Store) DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	n, err := s.execCount(ctx, "DELETE FROM sessions WHERE created_at < ? OR last_seen_at < ?",
		nullMS(createdBefore), nullMS(seenBefore))
	return n, wrap(ctx, "delete stale sessions", err)
}

// execCount runs a write statement and returns the affected row count.
func (s *Store) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
