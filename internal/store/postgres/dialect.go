package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

// migrateLockKey is the pg_advisory_xact_lock key that serialises schema
// changes of mfagate ("mfagate\x01" as a big-endian int64).
const migrateLockKey int64 = 0x6d66616761746501

// newDialect is PostgreSQL for the shared SQL layer: READ COMMITTED write
// transactions, where each statement sees what committed before it
// started, including whatever the lock holder it waited for wrote; row
// locks (the core's transactions lock the user row before counting, ReleaseFailure the counter row), a table lock in
// CreateFirstUser, a single-statement upsert for ClaimFailure and a
// transaction-level advisory lock for migrations. Times are
// timestamptz.
func newDialect(queryTimeout time.Duration) *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:               "postgres",
		Numbered:           true,
		Time:               func(t time.Time) any { return t },
		WriteTx:            &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		GroupsJSON:         groupsJSONSQL,
		QueryTimeout:       queryTimeout,
		LockUserRow:        " FOR NO KEY UPDATE",
		LockCounterRow:     " FOR UPDATE",
		LockUsersForFirst:  "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE",
		InsertFirstUserSQL: insertFirstUserSQL,
		ClaimFailureSQL:    claimFailureSQL,
		NoLimit:            nil, // LIMIT NULL
		Classify:           classify,
		Retryable:          retryable,
		MigrationsDDL:      migrationsDDL,
		MigrationLock:      fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrateLockKey),
		RecordMigration: func(m schema.Migration) (string, []any) {
			return "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", []any{m.Version, m.Name}
		},
	}
}

// groupsJSONSQL is the JSON array of the groups of the user aliased u.
const groupsJSONSQL = "(SELECT coalesce(json_agg(g.grp), '[]') FROM user_groups g WHERE g.user_id = u.id)"

// insertFirstUserSQL inserts the first user only when there is none (under
// CreateFirstUser's table lock), with typed parameters.
const insertFirstUserSQL = `INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
	SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz, $8::timestamptz
	WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id`

// migrationsDDL creates the table of applied migrations.
const migrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    bigint      PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// claimFailureSQL claims one failure slot in a single upsert. Parameters:
// $1 key, $2 at, $3 at-window (a counter whose window_start is after it is
// still in its window), $4 limit, $5 at+lockout. A locked counter
// (locked_until > $2) is left alone and no row is returned: the claim is
// refused. Otherwise an ended window or an expired lock restarts the
// counter at $2 with count 1, a running one counts on, and reaching the
// limit (limit > 0) sets locked_until to $5. Concurrent upserts of one key
// queue on its row (or its unique index entry), and PostgreSQL evaluates
// the WHERE clause again on the row its predecessor wrote, so no more than
// limit claims succeed per window.
const claimFailureSQL = `
INSERT INTO failures AS f (key, count, window_start, locked_until)
VALUES ($1::text, 1, $2::timestamptz,
	CASE WHEN $4::bigint > 0 AND 1 >= $4::bigint THEN $5::timestamptz END)
ON CONFLICT (key) DO UPDATE SET
	count = CASE WHEN f.window_start > $3::timestamptz AND f.locked_until IS NULL THEN f.count + 1 ELSE 1 END,
	window_start = CASE WHEN f.window_start > $3::timestamptz AND f.locked_until IS NULL THEN f.window_start ELSE $2::timestamptz END,
	locked_until = CASE
		WHEN $4::bigint > 0
			AND (CASE WHEN f.window_start > $3::timestamptz AND f.locked_until IS NULL THEN f.count + 1 ELSE 1 END) >= $4::bigint
		THEN $5::timestamptz
		END
WHERE f.locked_until IS NULL OR f.locked_until <= $2::timestamptz
RETURNING count, window_start, locked_until`

// PostgreSQL error codes mapped to store errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// classify maps unique violations to model.ErrConflict and foreign-key
// violations (the parent row is missing) to model.ErrNotFound.
// retryable reports a transaction PostgreSQL aborted to break a deadlock
// (40P01) or a serialisation race (40001): running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func classify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return model.ErrConflict
		case codeForeignKeyViolation:
			return model.ErrNotFound
		}
	}
	return nil
}

// openDB opens a database/sql pool on pgx's stdlib driver bounded by
// opts.MaxConns, with opts.ConnectTimeout per connection, and checks it.
// pgxpool's parser is used so that the DSN's pool_* settings are accepted
// (and overridden) as before.
func openDB(ctx context.Context, dsn string, opts Options) (*sql.DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(int(opts.MaxConns))
	db.SetMaxIdleConns(int(opts.MaxConns))
	pctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	err = db.PingContext(pctx)
	cancel()
	if err != nil {
		return nil, errors.Join(newDialect(0).Wrap(ctx, "open", err), db.Close())
	}
	return db, nil
}
