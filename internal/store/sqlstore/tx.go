package sqlstore

import (
	"context"
	"database/sql"

	"github.com/mfagate/mfagate/internal/store"
)

// maxTxAttempts bounds how often Update runs a transaction that the
// database aborted to resolve a deadlock or serialisation race.
const maxTxAttempts = 3

// Update runs fn in one write transaction (see store.Updater): SQLite's
// BEGIN IMMEDIATE on the one write connection, PostgreSQL's READ
// COMMITTED with the locks fn takes. A transaction the database aborted
// to break a deadlock (Dialect.Retryable) runs again, at most
// maxTxAttempts times in all.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = s.write(ctx, func(sqlTx *sql.Tx) error {
			return fn(ctx, &tx{s: s, tx: sqlTx})
		})
		if err == nil || s.d.Retryable == nil || !s.d.Retryable(err) {
			break
		}
	}
	// Errors of tx already carry the store's sentinels; fn's own pass as
	// they are, so the core can tell its refusals apart.
	return err
}

// tx is one transaction of Update.
type tx struct {
	s  *Store
	tx *sql.Tx
}

var _ store.Tx = (*tx)(nil)

func (t *tx) wrap(ctx context.Context, op string, err error) error { return t.s.wrap(ctx, op, err) }
