package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mfagate/mfagate/internal/store"
)

// AppendAudit stores an event and sets e.ID (and e.At to now when zero).
// UserID 0 is stored as NULL.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	at := normTime(e.At, now)
	userID := pgtype.Int8{Int64: e.UserID, Valid: e.UserID != 0}
	var id int64
	err := s.pool.QueryRow(ctx,
		`INSERT INTO audit_log (at, user_id, username, event, remote_ip, detail) VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`,
		at, userID, e.Username, e.Event, e.RemoteIP, e.Detail).Scan(&id)
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
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	lim := pgtype.Int8{Int64: int64(limit), Valid: limit > 0} // LIMIT NULL: no limit
	q := "SELECT id, at, user_id, username, event, remote_ip, detail FROM audit_log"
	args := []any{lim}
	if userID != 0 {
		q += " WHERE user_id = $2"
		args = append(args, userID)
	}
	q += " ORDER BY at DESC, id DESC LIMIT $1"
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, "audit events", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var at time.Time
		var uid pgtype.Int8
		if err := rows.Scan(&e.ID, &at, &uid, &e.Username, &e.Event, &e.RemoteIP, &e.Detail); err != nil {
			return nil, wrap(ctx, "audit events", err)
		}
		e.At, e.UserID = at.UTC(), uid.Int64
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "audit events", err)
	}
	return out, nil
}
