// Package postgres implements store.Store on PostgreSQL (pgx/v5, pgxpool),
// for several mfagate nodes sharing one database.
//
// Every method runs under Options.QueryTimeout. Operations that must be
// atomic across nodes rely on PostgreSQL itself, never on Go locks:
// single-statement conditional updates (ClaimTOTPStep), upserts
// (ClaimFailure, Secret), row locks (CreateAppPassword locks the user row
// before counting) and a table lock (CreateFirstUser). Transactions run at
// READ COMMITTED, where each statement sees what committed before it
// started, including whatever the lock holder it waited for wrote.
//
// Times are timestamptz columns written at millisecond precision and
// returned in UTC; nullable time columns store the zero time as NULL.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mfagate/mfagate/internal/store"
)

var _ store.Store = (*Store)(nil)

// Defaults for zero Options fields.
const (
	DefaultMaxConns       int32 = 10
	DefaultConnectTimeout       = 5 * time.Second
	DefaultQueryTimeout         = 5 * time.Second
)

// Options tunes the connection pool. Zero fields take the defaults above;
// the DSN's pool_max_conns and connect_timeout are always overridden.
type Options struct {
	// MaxConns bounds the pool.
	MaxConns int32
	// ConnectTimeout bounds establishing one connection.
	ConnectTimeout time.Duration
	// QueryTimeout bounds every store method call.
	QueryTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	return o
}

// Store is a store.Store backed by a PostgreSQL connection pool. It is safe
// for concurrent use, also by several processes sharing the database.
type Store struct {
	pool         *pgxpool.Pool
	queryTimeout time.Duration
}

// Open connects to the database at dsn (a postgres:// URL or keyword/value
// string, as libpq accepts), checks the connection and applies any pending
// migrations. Several nodes may open a fresh database at once: migrations
// are serialised by a transaction-level advisory lock and each is applied
// exactly once. Open waits for a concurrent migration under ctx only.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("postgres: open: empty DSN")
	}
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	cfg.MinConns = 0
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	err = pool.Ping(pctx)
	cancel()
	if err != nil {
		pool.Close()
		return nil, wrap(ctx, "open", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, queryTimeout: opts.QueryTimeout}, nil
}

// Close closes the pool, waiting for connections in use to be returned. A
// second Close is harmless.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// timeout bounds ctx by the query timeout.
func (s *Store) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.queryTimeout)
}

// querier is what pool and transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a READ COMMITTED transaction and commits it when fn
// returns nil; otherwise it rolls back.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		// A failed rollback closes the connection; nothing else to do.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultQueryTimeout)
		_ = tx.Rollback(rctx)
		cancel()
		return err
	}
	return tx.Commit(ctx)
}

// wrap adds the operation name and maps driver errors to the store errors:
// pgx.ErrNoRows and foreign-key violations (the parent row is missing) to
// store.ErrNotFound, unique violations to store.ErrConflict. Errors that
// already carry a store sentinel are only prefixed. When ctx is done its
// error is added, so callers can test for context.Canceled or
// context.DeadlineExceeded.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrLimit) {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("postgres: %s: %w (%w)", op, store.ErrConflict, err)
		case codeForeignKeyViolation:
			return fmt.Errorf("postgres: %s: %w (%w)", op, store.ErrNotFound, err)
		}
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("postgres: %s: %w (%w)", op, cerr, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// affectedOne returns store.ErrNotFound when tag reports no affected row.
func affectedOne(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// now returns the current time as stored: UTC, millisecond precision.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Millisecond)
}

// stored returns t as stored: UTC, millisecond precision, no monotonic
// reading.
func stored(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// normTime returns t as stored, or def() when t is zero.
func normTime(t time.Time, def func() time.Time) time.Time {
	if t.IsZero() {
		return def()
	}
	return stored(t)
}

// nullTime converts t for a nullable time column: the zero time is NULL.
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: stored(t), Valid: true}
}

// fromNullTime converts a nullable time column: NULL is the zero time.
func fromNullTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullBlob stores an empty blob as NULL.
func nullBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nonNilBlob keeps an empty blob from becoming NULL.
func nonNilBlob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// execCount runs a write statement and returns the affected row count.
func (s *Store) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
