package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const failureColumns = "count, window_start, locked_until"

// ClaimFailure reserves one failure slot of counter key at time at (the
// current time when zero); see store.Store.ClaimFailure for the rules. With
// the dialect's ClaimFailureSQL it is one atomic upsert; otherwise the
// counter is read and written in one (serialised) write transaction.
func (s *Store) ClaimFailure(ctx context.Context, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var f model.Failures
	var claimed bool
	var err error
	if s.d.ClaimFailureSQL != "" {
		claimed, f, err = s.claimFailure(ctx, s.w, key, at, window, limit, lockout)
	} else {
		err = s.write(ctx, func(tx *sql.Tx) error {
			claimed, f, err = s.claimFailure(ctx, tx, key, at, window, limit, lockout)
			return err
		})
	}
	if err != nil {
		return false, model.Failures{}, s.wrap(ctx, "claim failure", err)
	}
	return claimed, f, nil
}

// claimFailure claims a slot on x: the dialect's one-statement upsert, or
// (x being a write transaction) a locked read and an upsert.
func (s *Store) claimFailure(ctx context.Context, x db, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error) {
	at = normTime(at)
	if s.d.ClaimFailureSQL != "" {
		f, err := scanFailures(s.row(ctx, x, s.d.ClaimFailureSQL,
			key, s.tm(at), s.tm(at.Add(-window)), int64(limit), s.tm(at.Add(lockout))))
		if errors.Is(err, sql.ErrNoRows) { // locked
			f, err = s.failures(ctx, x, key, "")
			return false, f, err
		}
		return err == nil, f, err
	}
	old, err := s.failures(ctx, x, key, s.d.LockCounterRow)
	if err != nil || old.LockedUntil.After(at) {
		return false, old, err
	}
	f := nextClaim(old, at, window, limit, lockout)
	_, err = s.exec(ctx, x, `INSERT INTO failures (key, count, window_start, locked_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET count = excluded.count,
			window_start = excluded.window_start, locked_until = excluded.locked_until`,
		key, f.Count, s.tm(f.WindowStart), s.nullTm(f.LockedUntil))
	return err == nil, f, err
}

// nextClaim computes the counter after one more claim at at (already at
// millisecond precision) on a counter (zero when absent) that is not
// locked now: an ended window or an expired lock starts a new window.
func nextClaim(f model.Failures, at time.Time, window time.Duration, limit int, lockout time.Duration) model.Failures {
	if f.Count == 0 || !at.Before(f.WindowStart.Add(window)) || !f.LockedUntil.IsZero() {
		f = model.Failures{WindowStart: at}
	}
	f.Count++
	if limit > 0 && f.Count >= limit {
		f.LockedUntil = stored(at.Add(lockout))
	}
	return f
}

// ReleaseFailure gives back a slot claimed in the window that started at
// window; see store.Store.ReleaseFailure. The counter's row is read with
// LockCounterRow, so a release and concurrent claims apply one after the
// other.
func (s *Store) ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.releaseFailure(ctx, tx, key, window, limit)
	})
	return s.wrap(ctx, "release failure", err)
}

// releaseFailure gives back one slot of counter key in transaction tx.
func (s *Store) releaseFailure(ctx context.Context, tx *sql.Tx, key string, window time.Time, limit int) error {
	window = normTime(window)
	f, err := s.failures(ctx, tx, key, s.d.LockCounterRow)
	if err != nil || f.Count == 0 || !f.WindowStart.Equal(window) {
		return err
	}
	if f.Count <= 1 { // a counter at zero is no counter (count > 0 is a column check)
		return s.deleteFailures(ctx, tx, []string{key})
	}
	f.Count--
	if f.Count < limit {
		f.LockedUntil = time.Time{}
	}
	_, err = s.exec(ctx, tx, "UPDATE failures SET count = ?, locked_until = ? WHERE key = ?",
		f.Count, s.nullTm(f.LockedUntil), key)
	return err
}

// FailuresFor returns the counter for key (zero value when none).
func (s *Store) FailuresFor(ctx context.Context, key string) (model.Failures, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	f, err := s.failures(ctx, s.r, key, "")
	if err != nil {
		return model.Failures{}, s.wrap(ctx, "failures for", err)
	}
	return f, nil
}

// failures reads counter key (zero when absent), the row locked by lock.
func (s *Store) failures(ctx context.Context, x db, key, lock string) (model.Failures, error) {
	f, err := scanFailures(s.row(ctx, x, "SELECT "+failureColumns+" FROM failures WHERE key = ?"+lock, key))
	if errors.Is(err, sql.ErrNoRows) {
		return model.Failures{}, nil
	}
	return f, err
}

func scanFailures(r scanner) (model.Failures, error) {
	var f model.Failures
	var ws, locked dbTime
	if err := r.Scan(&f.Count, &ws, &locked); err != nil {
		return model.Failures{}, err
	}
	f.WindowStart, f.LockedUntil = ws.t, locked.t
	return f, nil
}

func (s *Store) deleteFailures(ctx context.Context, tx db, keys []string) error {
	for _, k := range keys {
		if _, err := s.exec(ctx, tx, "DELETE FROM failures WHERE key = ?", k); err != nil {
			return err
		}
	}
	return nil
}

// ClaimFailure claims a failure slot.
func (t *tx) ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error) {
	ok, f, err := t.s.claimFailure(ctx, t.tx, key, now, window, limit, lockout)
	if err != nil {
		return false, model.Failures{}, t.wrap(ctx, "claim failure", err)
	}
	return ok, f, nil
}

// ReleaseFailure gives a slot back.
func (t *tx) ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error {
	return t.wrap(ctx, "release failure", t.s.releaseFailure(ctx, t.tx, key, window, limit))
}

// DeleteFailures deletes counters.
func (t *tx) DeleteFailures(ctx context.Context, keys ...string) error {
	return t.wrap(ctx, "delete failures", t.s.deleteFailures(ctx, t.tx, keys))
}
