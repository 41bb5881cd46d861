// Package postgres opens a PostgreSQL database (pgx/v5 through its
// database/sql driver), for several mfagate nodes sharing one database,
// applies its migrations and returns the shared SQL store (store/sqlstore)
// with the PostgreSQL dialect (dialect.go).
//
// Every method runs under Options.QueryTimeout. Operations that must be
// atomic across nodes rely on PostgreSQL itself, never on Go locks:
// single-statement conditional updates (ClaimTOTPStep), upserts
// (ClaimFailure, Secret), row locks (the core's transactions lock the user
// row before counting, e.g. a user's app passwords against their limit)
// and a table lock (CreateFirstUser). Transactions run at READ COMMITTED,
// where each statement sees what committed before it started, including
// whatever the lock holder it waited for wrote.
//
// Times are timestamptz columns written at millisecond precision and
// returned in UTC; nullable time columns store the zero time as NULL.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
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

// ListenApplicationName names each node's LISTEN connection in
// pg_stat_activity: it is one connection besides the pool (max_conns).
const ListenApplicationName = "mfagate-listen"

// Store is a store.Store backed by a PostgreSQL connection pool. It is safe
// for concurrent use, also by several processes sharing the database. A
// second Close is harmless.
type Store struct {
	*sqlstore.Store
	db   *sql.DB
	opts Options
	// listenConfig opens the LISTEN connection (see Listen).
	listenConfig *pgx.ConnConfig
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
	db, err := openDB(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	// As openDB parses it (pool_* settings are the pool's, not the
	// server's).
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("postgres: open: %w", err), db.Close())
	}
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	cfg.ConnConfig.RuntimeParams["application_name"] = ListenApplicationName
	return &Store{Store: sqlstore.New(db, db, newDialect(opts.QueryTimeout)), db: db, opts: opts, listenConfig: cfg.ConnConfig}, nil
}
