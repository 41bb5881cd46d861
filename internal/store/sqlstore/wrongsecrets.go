package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// WrongSecretSeen reports whether digest is among the wrong secrets
// remembered for counter key at or after since; see
// store.Store.WrongSecretSeen.
func (s *Store) WrongSecretSeen(ctx context.Context, key string, digest []byte, since time.Time) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var n int64
	err := s.row(ctx, s.r, "SELECT COUNT(*) FROM wrong_secrets WHERE key = ? AND digest = ? AND seen_at >= ?",
		key, nonNilBlob(digest), s.tm(normTime(since))).Scan(&n)
	if err != nil {
		return false, s.wrap(ctx, "wrong secret seen", err)
	}
	return n > 0, nil
}

// RememberWrongSecret remembers digest for counter key at at, keeps the
// keep most recent digests of key and forgets those of every key
// remembered before before, in one write transaction; see
// store.Store.RememberWrongSecret.
func (s *Store) RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.rememberWrongSecret(ctx, tx, key, digest, at, keep, before)
	})
	return s.wrap(ctx, "remember wrong secret", err)
}

func (s *Store) rememberWrongSecret(ctx context.Context, tx *sql.Tx, key string, digest []byte, at time.Time, keep int, before time.Time) error {
	_, err := s.exec(ctx, tx, `INSERT INTO wrong_secrets (key, digest, seen_at) VALUES (?, ?, ?)
		ON CONFLICT (key, digest) DO UPDATE SET seen_at = excluded.seen_at`,
		key, nonNilBlob(digest), s.tm(normTime(at)))
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, tx, `DELETE FROM wrong_secrets WHERE key = ? AND digest NOT IN (
		SELECT digest FROM wrong_secrets WHERE key = ? ORDER BY seen_at DESC, digest DESC LIMIT ?)`,
		key, key, int64(max(keep, 0)))
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, tx, "DELETE FROM wrong_secrets WHERE seen_at < ?", s.tm(normTime(before)))
	return err
}

// RememberWrongSecret remembers a wrong secret's keyed hash.
func (t *tx) RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error {
	return t.wrap(ctx, "remember wrong secret", t.s.rememberWrongSecret(ctx, t.tx, key, digest, at, keep, before))
}
