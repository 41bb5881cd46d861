package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const sessionColumns = `id_hash, user_id, stage, created_at, last_seen_at, mfa_at, pending_totp, redirect_to, remote_ip, user_agent, origin`

const insertSessionSQL = `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateSession inserts s. A zero s.CreatedAt is set to now and a zero
// s.LastSeenAt to s.CreatedAt. model.ErrConflict if IDHash exists,
// model.ErrNotFound if the user does not.
func (s *Store) CreateSession(ctx context.Context, sess *model.Session) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.exec(ctx, s.w, insertSessionSQL, s.sessionArgs(sess)...)
	return s.wrap(ctx, "create session", err)
}

func (s *Store) sessionArgs(sess *model.Session) []any {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = Now()
	}
	if sess.LastSeenAt.IsZero() {
		sess.LastSeenAt = sess.CreatedAt
	}
	return []any{
		nonNilBlob(sess.IDHash), sess.UserID, string(sess.Stage), s.tm(sess.CreatedAt), s.tm(sess.LastSeenAt),
		s.nullTm(sess.MFAAt), nullBlob(sess.PendingTOTP), sess.RedirectTo, sess.RemoteIP, sess.UserAgent, sess.Origin,
	}
}

// SessionByHash returns the session; model.ErrNotFound otherwise.
func (s *Store) SessionByHash(ctx context.Context, idHash []byte) (*model.Session, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var sess model.Session
	var stage string
	var created, seen, mfaAt dbTime
	err := s.row(ctx, s.r, "SELECT "+sessionColumns+" FROM sessions WHERE id_hash = ?", nonNilBlob(idHash)).
		Scan(&sess.IDHash, &sess.UserID, &stage, &created, &seen, &mfaAt, &sess.PendingTOTP,
			&sess.RedirectTo, &sess.RemoteIP, &sess.UserAgent, &sess.Origin)
	if err != nil {
		return nil, s.wrap(ctx, "session by hash", err)
	}
	sess.Stage = model.Stage(stage)
	sess.CreatedAt, sess.LastSeenAt, sess.MFAAt = created.t, seen.t, mfaAt.t
	if len(sess.PendingTOTP) == 0 {
		sess.PendingTOTP = nil
	}
	return &sess, nil
}

// ReplaceSession deletes oldHash and inserts sess in one transaction,
// moving oldHash's pairing link to sess. model.ErrNotFound (and nothing
// changed) when oldHash is gone; a failing insert keeps the old session.
func (s *Store) ReplaceSession(ctx context.Context, oldHash []byte, sess *model.Session) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.replaceSession(ctx, tx, oldHash, sess)
	})
	return s.wrap(ctx, "replace session", err)
}

// replaceSession replaces oldHash by sess in transaction tx.
func (s *Store) replaceSession(ctx context.Context, tx *sql.Tx, oldHash []byte, sess *model.Session) error {
	args := s.sessionArgs(sess)
	// The link first: links are locked before sessions (as the core's
	// removal of a phone takes them).
	if _, err := s.exec(ctx, tx, "UPDATE pairings SET session_hash = ? WHERE session_hash = ?",
		nonNilBlob(sess.IDHash), nonNilBlob(oldHash)); err != nil {
		return err
	}
	if err := s.execOne(ctx, tx, deleteSessionSQL, nonNilBlob(oldHash)); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx, insertSessionSQL, args...)
	return err
}

// TouchSession sets LastSeenAt (now when lastSeen is zero);
// model.ErrNotFound if the session is gone.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", s.tm(normTime(lastSeen)), nonNilBlob(idHash))
	return s.wrap(ctx, "touch session", err)
}

// deleteSessionSQL deletes session ?.
const deleteSessionSQL = "DELETE FROM sessions WHERE id_hash = ?"

// deleteSessionsBut deletes the user's sessions except keep (nil: all):
// the one statement that ends a user's sessions, whoever ends them.
func (s *Store) deleteSessionsBut(ctx context.Context, x db, userID int64, keep []byte) (int64, error) {
	if keep == nil {
		return s.count(ctx, x, "DELETE FROM sessions WHERE user_id = ?", userID)
	}
	return s.count(ctx, x, "DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?", userID, keep)
}

// DeleteStaleSessions removes sessions created before createdBefore or last
// seen before seenBefore and returns how many. A zero bound is ignored.
func (s *Store) DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.count(ctx, s.w, "DELETE FROM sessions WHERE created_at < ? OR last_seen_at < ?",
		s.nullTm(createdBefore), s.nullTm(seenBefore))
	return n, s.wrap(ctx, "delete stale sessions", err)
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

// DeleteSession ends one session; a missing one is fine.
func (t *tx) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := t.s.exec(ctx, t.tx, deleteSessionSQL, nonNilBlob(idHash))
	return t.wrap(ctx, "delete session", err)
}
