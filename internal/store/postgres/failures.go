package postgres

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mfagate/mfagate/internal/store"
)

// releaseFailureSQL gives back one slot of the row locked by the release's
// transaction: $2 the new count (at least 1; a counter at zero is deleted
// instead, count > 0 being a column check), $3 the limit below which the
// lock goes.
const releaseFailureSQL = `
UPDATE failures SET count = $2::integer,
	locked_until = CASE WHEN $2::integer < $3::integer THEN NULL ELSE locked_until END
WHERE key = $1`

// ClaimFailure reserves one failure slot of counter key at time at (the
// current time when zero) in one atomic statement; see
// store.Store.ClaimFailure for the rules.
func (s *Store) ClaimFailure(ctx context.Context, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (bool, store.Failures, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	at = normTime(at, now)
	f, err := scanFailures(s.pool.QueryRow(ctx, claimFailureSQL,
		key, at, at.Add(-window), int64(limit), stored(at.Add(lockout))))
	if errors.Is(err, pgx.ErrNoRows) {
		f, err = s.FailuresFor(ctx, key)
		return false, f, err
	}
	if err != nil {
		return false, store.Failures{}, wrap(ctx, "claim failure", err)
	}
	return true, f, nil
}

// ReleaseFailure gives back a slot claimed in the window that started at
// window; see store.Store.ReleaseFailure. The counter's row is locked
// first, so a release and concurrent claims apply one after the other.
func (s *Store) ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	window = normTime(window, now)
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		f, err := scanFailures(tx.QueryRow(ctx, "SELECT count, window_start, locked_until FROM failures WHERE key = $1 FOR UPDATE", key))
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !f.WindowStart.Equal(window) {
			return nil
		}
		if err != nil {
			return err
		}
		if f.Count <= 1 {
			_, err = tx.Exec(ctx, "DELETE FROM failures WHERE key = $1", key)
			return err
		}
		_, err = tx.Exec(ctx, releaseFailureSQL, key, int32(f.Count-1), int32(min(limit, math.MaxInt32)))
		return err
	})
	return wrap(ctx, "release failure", err)
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
