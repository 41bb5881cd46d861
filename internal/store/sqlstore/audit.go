package sqlstore

import (
	"context"
	"database/sql"

	"github.com/mfagate/mfagate/internal/model"
)

// AppendAudit stores an event and sets e.ID (and e.At to now when zero).
// UserID 0 is stored as NULL.
func (s *Store) AppendAudit(ctx context.Context, e *model.AuditEvent) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.wrap(ctx, "append audit", s.appendAudit(ctx, s.w, e))
}

func (s *Store) appendAudit(ctx context.Context, x db, e *model.AuditEvent) error {
	at := normTime(e.At)
	userID := sql.NullInt64{Int64: e.UserID, Valid: e.UserID != 0}
	var id int64
	err := s.row(ctx, x, "INSERT INTO audit_log (at, user_id, username, event, remote_ip, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		s.tm(at), userID, e.Username, e.Event, e.RemoteIP, e.Detail).Scan(&id)
	if err != nil {
		return err
	}
	e.ID = id
	if e.At.IsZero() {
		e.At = at
	}
	return nil
}

// AuditEvents returns up to limit (all when limit <= 0) most recent events,
// newest first, only those of userID unless it is 0.
func (s *Store) AuditEvents(ctx context.Context, userID int64, limit int) ([]model.AuditEvent, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q := "SELECT id, at, user_id, username, event, remote_ip, detail FROM audit_log"
	var args []any
	if userID != 0 {
		q += " WHERE user_id = ?"
		args = append(args, userID)
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	if limit > 0 {
		args = append(args, int64(limit))
	} else {
		args = append(args, s.d.NoLimit)
	}
	rows, err := s.query(ctx, s.r, q, args...)
	out, err := scanAll(rows, err, func(r scanner) (*model.AuditEvent, error) {
		var e model.AuditEvent
		var at dbTime
		var uid sql.NullInt64
		err := r.Scan(&e.ID, &at, &uid, &e.Username, &e.Event, &e.RemoteIP, &e.Detail)
		e.At, e.UserID = at.t, uid.Int64
		return &e, err
	})
	if err != nil {
		return nil, s.wrap(ctx, "audit events", err)
	}
	return out, nil
}

// AppendAudit stores an audit event.
func (t *tx) AppendAudit(ctx context.Context, e *model.AuditEvent) error {
	return t.wrap(ctx, "append audit", t.s.appendAudit(ctx, t.tx, e))
}
