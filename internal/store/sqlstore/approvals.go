package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const approvalColumns = `id, user_id, session_hash, number, status, created_at, expires_at, answered_at, device_id, site, remote_ip, user_agent`

func scanApproval(r scanner) (*model.Approval, error) {
	var a model.Approval
	var status string
	var created, expires, answered dbTime
	var device sql.NullInt64
	if err := r.Scan(&a.ID, &a.UserID, &a.SessionHash, &a.Number, &status, &created, &expires, &answered, &device,
		&a.Site, &a.RemoteIP, &a.UserAgent); err != nil {
		return nil, err
	}
	a.Status = model.ApprovalStatus(status)
	a.CreatedAt, a.ExpiresAt, a.AnsweredAt, a.DeviceID = created.t, expires.t, answered.t, device.Int64
	return &a, nil
}

// ApprovalByID returns a request.
func (s *Store) ApprovalByID(ctx context.Context, id string) (*model.Approval, error) {
	return s.approvalWhere(ctx, "approval by id", "id = ?", id)
}

// ApprovalForSession returns the newest request of a session.
func (s *Store) ApprovalForSession(ctx context.Context, sessionHash []byte) (*model.Approval, error) {
	return s.approvalWhere(ctx, "approval for session", "session_hash = ? ORDER BY created_at DESC LIMIT 1", nonNilBlob(sessionHash))
}

// PendingApproval returns the user's pending, unexpired request.
func (s *Store) PendingApproval(ctx context.Context, userID int64, now time.Time) (*model.Approval, error) {
	return s.approvalWhere(ctx, "pending approval", "user_id = ? AND status = ? AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
		userID, string(model.ApprovalPending), s.tm(now))
}

func (s *Store) approvalWhere(ctx context.Context, op, cond string, args ...any) (*model.Approval, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	a, err := scanApproval(s.row(ctx, s.r, "SELECT "+approvalColumns+" FROM approvals WHERE "+cond, args...))
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return a, nil
}

// answerApproval records the answer in tx, under the request's row lock.
func (s *Store) answerApproval(ctx context.Context, tx *sql.Tx, id string, userID, deviceID int64, status model.ApprovalStatus, now time.Time) (*model.Approval, error) {
	switch status {
	case model.ApprovalApproved, model.ApprovalDenied, model.ApprovalReported, model.ApprovalWrongNumber:
	default:
		return nil, fmt.Errorf("invalid answer %q", status)
	}
	a, err := scanApproval(s.row(ctx, tx, "SELECT "+approvalColumns+" FROM approvals WHERE id = ? AND user_id = ?"+s.d.LockCounterRow, id, userID))
	if err != nil {
		return nil, err
	}
	// "Report suspicious activity" may follow the same device's Deny.
	reportAfterDeny := status == model.ApprovalReported && a.Status == model.ApprovalDenied && a.DeviceID == deviceID
	if !reportAfterDeny && (a.Status != model.ApprovalPending || a.Expired(now)) {
		return nil, fmt.Errorf("%w: the request is %s", model.ErrConflict, describeStatus(a, now))
	}
	t := Now()
	if err := s.execOne(ctx, tx, "UPDATE approvals SET status = ?, answered_at = ?, device_id = ? WHERE id = ?",
		string(status), s.tm(t), deviceID, id); err != nil {
		return nil, err
	}
	a.Status, a.AnsweredAt, a.DeviceID = status, t, deviceID
	return a, nil
}

func describeStatus(a *model.Approval, now time.Time) string {
	if a.Expired(now) {
		return "expired"
	}
	return string(a.Status)
}

// ConsumeApproval marks an approved request consumed and replaces its
// session by next, in one transaction.
func (s *Store) ConsumeApproval(ctx context.Context, id string, oldHash []byte, next *model.Session) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.consumeApproval(ctx, tx, id, oldHash, next)
	})
	return s.wrap(ctx, "consume approval", err)
}

// consumeApproval consumes request id and replaces its session in tx.
func (s *Store) consumeApproval(ctx context.Context, tx *sql.Tx, id string, oldHash []byte, next *model.Session) error {
	args := s.sessionArgs(next)
	n, err := s.count(ctx, tx, "UPDATE approvals SET status = ? WHERE id = ? AND status = ? AND session_hash = ?",
		string(model.ApprovalConsumed), id, string(model.ApprovalApproved), nonNilBlob(oldHash))
	if err != nil {
		return err
	}
	if n == 0 {
		// A request that is gone is model.ErrNotFound, as documented.
		var one int
		if err := s.row(ctx, tx, "SELECT 1 FROM approvals WHERE id = ?", id).Scan(&one); err != nil {
			return err
		}
		return fmt.Errorf("%w: the request is not approved for this session", model.ErrConflict)
	}
	if err := s.execOne(ctx, tx, deleteSessionSQL, nonNilBlob(oldHash)); err != nil {
		return err
	}
	_, err = s.exec(ctx, tx, insertSessionSQL, args...)
	return err
}

// DeleteStaleApprovals removes requests created before `before`, and
// nonces and pairings expired at now.
func (s *Store) DeleteStaleApprovals(ctx context.Context, before, now time.Time) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if n, err = s.count(ctx, tx, "DELETE FROM approvals WHERE created_at < ?", s.tm(before)); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM device_nonces WHERE expires_at <= ?", s.tm(now)); err != nil {
			return err
		}
		return s.deletePairings(ctx, tx, "expires_at <= ?", s.tm(now))
	})
	if err != nil {
		return 0, s.wrap(ctx, "delete stale approvals", err)
	}
	return n, nil
}

// ExpireApproval marks a pending request expired once its time is up, in
// one conditional statement (of two callers, one does it).
func (t *tx) ExpireApproval(ctx context.Context, id string, now time.Time) (bool, error) {
	n, err := t.s.count(ctx, t.tx, "UPDATE approvals SET status = ? WHERE id = ? AND status = ? AND expires_at <= ?",
		string(model.ApprovalExpired), id, string(model.ApprovalPending), t.s.tm(now))
	if err != nil {
		return false, t.wrap(ctx, "expire approval", err)
	}
	return n == 1, nil
}

// ConsumeApproval completes an approved sign-in request.
func (t *tx) ConsumeApproval(ctx context.Context, id string, oldHash []byte, next *model.Session) error {
	return t.wrap(ctx, "consume approval", t.s.consumeApproval(ctx, t.tx, id, oldHash, next))
}

// AnswerApproval records a device's answer.
func (t *tx) AnswerApproval(ctx context.Context, id string, userID, deviceID int64, status model.ApprovalStatus, now time.Time) (*model.Approval, error) {
	a, err := t.s.answerApproval(ctx, t.tx, id, userID, deviceID, status, now)
	if err != nil {
		return nil, t.wrap(ctx, "answer approval", err)
	}
	return a, nil
}

// CountApprovalsSince counts the user's requests created at or after
// since.
func (t *tx) CountApprovalsSince(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	err := t.s.row(ctx, t.tx, "SELECT count(*) FROM approvals WHERE user_id = ? AND created_at >= ?", userID, t.s.tm(since)).Scan(&n)
	return n, t.wrap(ctx, "count approvals", err)
}

// AddApproval cancels the user's pending requests and inserts a, pending.
func (t *tx) AddApproval(ctx context.Context, a *model.Approval) error {
	s := t.s
	at := Now()
	// created_at orders a session's requests (ApprovalForSession), at
	// millisecond precision: a request made in the same millisecond as
	// the user's previous one goes one millisecond after it.
	var last dbTime
	if err := s.row(ctx, t.tx, "SELECT max(created_at) FROM approvals WHERE user_id = ?", a.UserID).Scan(&last); err != nil {
		return t.wrap(ctx, "add approval", err)
	}
	if !at.After(last.t) {
		at = last.t.Add(time.Millisecond)
	}
	if _, err := s.exec(ctx, t.tx, "UPDATE approvals SET status = ? WHERE user_id = ? AND status = ?",
		string(model.ApprovalCancelled), a.UserID, string(model.ApprovalPending)); err != nil {
		return t.wrap(ctx, "add approval", err)
	}
	_, err := s.exec(ctx, t.tx, `INSERT INTO approvals (id, user_id, session_hash, number, status, created_at, expires_at, site, remote_ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.UserID, nonNilBlob(a.SessionHash), a.Number, string(model.ApprovalPending),
		s.tm(at), s.tm(a.ExpiresAt), a.Site, a.RemoteIP, a.UserAgent)
	if err != nil {
		return t.wrap(ctx, "add approval", err)
	}
	a.Status, a.CreatedAt, a.AnsweredAt, a.DeviceID = model.ApprovalPending, at, time.Time{}, 0
	return nil
}
