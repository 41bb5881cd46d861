package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mfagate/mfagate/internal/store"
)

const sessionColumns = `id_hash, user_id, stage, created_at, last_seen_at, mfa_at, pending_totp, redirect_to, remote_ip, user_agent`

const insertSessionSQL = `INSERT INTO sessions (` + sessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// CreateSession inserts s. A zero s.CreatedAt is set to now and a zero
// s.LastSeenAt to s.CreatedAt. store.ErrConflict if IDHash exists,
// store.ErrNotFound if the user does not.
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	defaultSessionTimes(sess)
	_, err := s.pool.Exec(ctx, insertSessionSQL, sessionArgs(sess)...)
	return wrap(ctx, "create session", err)
}

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
		nonNilBlob(sess.IDHash), sess.UserID, string(sess.Stage), stored(sess.CreatedAt), stored(sess.LastSeenAt),
		nullTime(sess.MFAAt), nullBlob(sess.PendingTOTP), sess.RedirectTo, sess.RemoteIP, sess.UserAgent,
	}
}

// SessionByHash returns the session; store.ErrNotFound otherwise.
func (s *Store) SessionByHash(ctx context.Context, idHash []byte) (*store.Session, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	row := s.pool.QueryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id_hash = $1", nonNilBlob(idHash))
	var sess store.Session
	var stage string
	var created, seen time.Time
	var mfaAt pgtype.Timestamptz
	err := row.Scan(&sess.IDHash, &sess.UserID, &stage, &created, &seen, &mfaAt, &sess.PendingTOTP,
		&sess.RedirectTo, &sess.RemoteIP, &sess.UserAgent)
	if err != nil {
		return nil, wrap(ctx, "session by hash", err)
	}
	sess.Stage = store.Stage(stage)
	sess.CreatedAt, sess.LastSeenAt, sess.MFAAt = created.UTC(), seen.UTC(), fromNullTime(mfaAt)
	if len(sess.PendingTOTP) == 0 {
		sess.PendingTOTP = nil
	}
	return &sess, nil
}

// ReplaceSession deletes oldHash and inserts sess in one transaction.
// store.ErrNotFound (and nothing inserted) when oldHash is gone; a failing
// insert keeps the old session.
func (s *Store) ReplaceSession(ctx context.Context, oldHash []byte, sess *store.Session) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	defaultSessionTimes(sess)
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id_hash = $1", nonNilBlob(oldHash))
		if err != nil {
			return err
		}
		if err := affectedOne(tag); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, insertSessionSQL, sessionArgs(sess)...)
		return err
	})
	return wrap(ctx, "replace session", err)
}

// TouchSession sets LastSeenAt (now when lastSeen is zero);
// store.ErrNotFound if the session is gone.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	lastSeen = normTime(lastSeen, now)
	tag, err := s.pool.Exec(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2", lastSeen, nonNilBlob(idHash))
	if err == nil {
		err = affectedOne(tag)
	}
	return wrap(ctx, "touch session", err)
}

// DeleteSession removes one session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE id_hash = $1", nonNilBlob(idHash))
	return wrap(ctx, "delete session", err)
}

// DeleteUserSessions removes all sessions of a user and returns how many.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.execCount(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return n, wrap(ctx, "delete user sessions", err)
}

// DeleteStaleSessions removes sessions created before createdBefore or last
// seen before seenBefore and returns how many. A zero bound is ignored.
func (s *Store) DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.execCount(ctx, "DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2",
		nullTime(createdBefore), nullTime(seenBefore))
	return n, wrap(ctx, "delete stale sessions", err)
}
