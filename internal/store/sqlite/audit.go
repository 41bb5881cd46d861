package sqlite

import (
	"context"
	"database/sql"

	"github.com/mfagate/mfagate/internal/store"
)

// AppendAudit stores an event and sets e.ID (and e.At to now when zero).
// UserID 0 is stored as NULL.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	at := normTime(e.At, now)
	userID := sql.NullInt64{Int64: e.UserID, Valid: e.UserID != 0}
	res, err := s.wdb.ExecContext(ctx,
		"INSERT INTO audit_log (at, user_id, username, event, remote_ip, detail) VALUES (?, ?, ?, ?, ?, ?)",
		toMS(at), userID, e.Username, e.Event, e.RemoteIP, e.Detail)
	if err != nil {
		return wrap(ctx, "append audit", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return wrap(ctx, "append audit", err)
	}
	e.ID = id
	if e.At.IsZero() {
		e.At = at
	}
	return nil
}

// AuditEvents returns up to limit (all when limit <= 0) most recent events,
// newest first, only those of userID unless it is 0.
func (s *Store) AuditEvents(ctx context.Context, userID int64, limit int) ([]store.AuditEvent, error) {
	q := "SELECT id, at, user_id, username, event, remote_ip, detail FROM audit_log"
	var args []any
	if userID != 0 {
		q += " WHERE user_id = ?"
		args = append(args, userID)
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(args, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, "audit events", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var at int64
		var uid sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &uid, &e.Username, &e.Event, &e.RemoteIP, &e.Detail); err != nil {
			return nil, wrap(ctx, "audit events", err)
		}
		e.At, e.UserID = fromMS(at), uid.Int64
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "audit events", err)
	}
	return out, nil
}
