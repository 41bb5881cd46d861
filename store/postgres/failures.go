package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mfagate/mfagate/store"
)

// recordFailureSQL adds one failure in a single upsert. Parameters: $1 key,
// $2 at, $3 at-window (the window of a counter whose window_start is after
// it is still running), $4 limit, $5 at+lockout. A running window counts
// on; an ended one restarts at $2 with count 1. When the count reaches the
// limit (limit > 0) locked_until becomes $5; otherwise an earlier lock is
// kept until it is replaced. Concurrent upserts of one key queue on its row
// (or its unique index entry) and each sees the row its predecessor wrote.
const recordFailureSQL = `
INSERT INTO failures AS f (key, count, window_start, locked_until)
VALUES ($1::text, 1, $2::timestamptz,
	CASE WHEN $4::bigint > 0 AND 1 >= $4::bigint THEN $5::timestamptz END)
ON CONFLICT (key) DO UPDATE SET
	count = CASE WHEN f.window_start > $3::timestamptz THEN f.count + 1 ELSE 1 END,
	window_start = CASE WHEN f.window_start > $3::timestamptz THEN f.window_start ELSE $2::timestamptz END,
	locked_until = CASE
		WHEN $4::bigint > 0
			AND (CASE WHEN f.window_start > $3::timestamptz THEN f.count + 1 ELSE 1 END) >= $4::bigint
		THEN $5::timestamptz
		ELSE f.locked_until END
RETURNING count, window_start, locked_until`

// RecordFailure adds one failure to counter key at time at (the current
// time when zero) in one atomic statement. A window that has ended
// (at >= WindowStart+window) restarts at at with Count 1; when Count
// reaches limit (limit > 0), LockedUntil becomes at+lockout. A lock from an
// earlier window is kept until it is replaced.
func (s *Store) RecordFailure(ctx context.Context, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (store.Failures, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	at = normTime(at, now)
	f, err := scanFailures(s.pool.QueryRow(ctx, recordFailureSQL,
		key, at, at.Add(-window), int64(limit), stored(at.Add(lockout))))
	if err != nil {
		return store.Failures{}, wrap(ctx, "record failure", err)
	}
	return f, nil
}

// FailuresFor returns the counter for key (zero value when none).
func (s *Store) FailuresFor(ctx context.Context, key string) (store.Failures, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	f, err := scanFailures(s.pool.QueryRow(ctx, "SELECT count, window_start, locked_until FROM failures WHERE key = $1", key))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Failures{}, nil
	}
	if err != nil {
		return store.Failures{}, wrap(ctx, "failures for", err)
	}
	return f, nil
}

func scanFailures(r pgx.Row) (store.Failures, error) {
	var f store.Failures
	var count int32
	var ws time.Time
	var locked pgtype.Timestamptz
	if err := r.Scan(&count, &ws, &locked); err != nil {
		return store.Failures{}, err
	}
	f.Count, f.WindowStart, f.LockedUntil = int(count), ws.UTC(), fromNullTime(locked)
	return f, nil
}

// ClearFailures deletes counter key; a missing counter is not an error.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, "DELETE FROM failures WHERE key = $1", key)
	return wrap(ctx, "clear failures", err)
}
