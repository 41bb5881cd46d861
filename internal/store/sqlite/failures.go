package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mfagate/mfagate/internal/store"
)

// ClaimFailure reserves one failure slot of counter key at time at (the
// current time when zero) in one BEGIN IMMEDIATE transaction, so claims of
// every connection and process queue on the one writer. See
// store.Store.ClaimFailure for the rules.
func (s *Store) ClaimFailure(ctx context.Context, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (bool, store.Failures, error) {
	at = normTime(at, now)
	var f store.Failures
	var claimed bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, found, err := getFailures(ctx, tx, key)
		if err != nil {
			return err
		}
		if found && old.LockedUntil.After(at) {
			f = old
			return nil
		}
		f, claimed = nextClaim(old, found, at, window, limit, lockout), true
		return putFailures(ctx, tx, key, f)
	})
	if err != nil {
		return false, store.Failures{}, wrap(ctx, "claim failure", err)
	}
	return claimed, f, nil
}

// nextClaim computes the counter after one more claim at at (already at
// millisecond precision) on a counter that is not locked now: an ended
// window or an expired lock starts a new window.
func nextClaim(f store.Failures, found bool, at time.Time, window time.Duration, limit int, lockout time.Duration) store.Failures {
	if !found || !at.Before(f.WindowStart.Add(window)) || !f.LockedUntil.IsZero() {
		f = store.Failures{WindowStart: at}
	}
	f.Count++
	if limit > 0 && f.Count >= limit {
		f.LockedUntil = fromMS(toMS(at.Add(lockout)))
	}
	return f
}

// ReleaseFailure gives back a slot claimed in the window that started at
// window; see store.Store.ReleaseFailure.
func (s *Store) ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error {
	window = normTime(window, now)
	err := s.write(ctx, func(tx *sql.Tx) error {
		f, found, err := getFailures(ctx, tx, key)
		if err != nil || !found || !f.WindowStart.Equal(window) {
			return err
		}
		if f.Count <= 1 {
			// A counter at zero is no counter (PostgreSQL's schema even
			// refuses a zero count).
			_, err := tx.ExecContext(ctx, "DELETE FROM failures WHERE key = ?", key)
			return err
		}
		f.Count--
		if f.Count < limit {
			f.LockedUntil = time.Time{}
		}
		return putFailures(ctx, tx, key, f)
	})
	return wrap(ctx, "release failure", err)
}

func putFailures(ctx context.Context, tx *sql.Tx, key string, f store.Failures) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO failures (key, count, window_start, locked_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET count = excluded.count,
			window_start = excluded.window_start, locked_until = excluded.locked_until`,
		key, f.Count, toMS(f.WindowStart), nullMS(f.LockedUntil))
	return err
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
