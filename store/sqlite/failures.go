package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mfagate/mfagate/store"
)

// RecordFailure adds one failure to counter key at time at (the current
// time when zero) in one BEGIN IMMEDIATE transaction. A window that has ended
// (at >= WindowStart+window) restarts at at with Count 1; when Count
// reaches limit (limit > 0), LockedUntil becomes at+lockout. A lock from an
// earlier window is kept until it is replaced.
func (s *Store) RecordFailure(ctx context.Context, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (store.Failures, error) {
	at = normTime(at, now)
	var f store.Failures
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, found, err := getFailures(ctx, tx, key)
		if err != nil {
			return err
		}
		f = nextFailures(old, found, at, window, limit, lockout)
		_, err = tx.ExecContext(ctx, `INSERT INTO failures (key, count, window_start, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET count = excluded.count,
				window_start = excluded.window_start, locked_until = excluded.locked_until`,
			key, f.Count, toMS(f.WindowStart), nullMS(f.LockedUntil))
		return err
	})
	if err != nil {
		return store.Failures{}, wrap(ctx, "record failure", err)
	}
	return f, nil
}

// nextFailures computes the counter after one more failure at at (already
// at millisecond precision).
func nextFailures(f store.Failures, found bool, at time.Time, window time.Duration, limit int, lockout time.Duration) store.Failures {
	if !found || !at.Before(f.WindowStart.Add(window)) {
		f.Count, f.WindowStart = 0, at
	}
	f.Count++
	if limit > 0 && f.Count >= limit {
		f.LockedUntil = fromMS(toMS(at.Add(lockout)))
	}
	return f
}

// FailuresFor returns the counter for key (zero value when none).
func (s *Store) FailuresFor(ctx context.Context, key string) (store.Failures, error) {
	var f store.Failures
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		f, _, err = getFailures(ctx, tx, key)
		return err
	})
	if err != nil {
		return store.Failures{}, wrap(ctx, "failures for", err)
	}
	return f, nil
}

// getFailures reads counter key; found is false (and f zero) when absent.
func getFailures(ctx context.Context, tx *sql.Tx, key string) (f store.Failures, found bool, err error) {
	var ws int64
	var locked sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT count, window_start, locked_until FROM failures WHERE key = ?", key).
		Scan(&f.Count, &ws, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Failures{}, false, nil
	}
	if err != nil {
		return store.Failures{}, false, err
	}
	f.WindowStart, f.LockedUntil = fromMS(ws), fromNullMS(locked)
	return f, true, nil
}

// ClearFailures deletes counter key; a missing counter is not an error.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	_, err := s.wdb.ExecContext(ctx, "DELETE FROM failures WHERE key = ?", key)
	return wrap(ctx, "clear failures", err)
}
