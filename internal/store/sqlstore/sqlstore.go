// Package sqlstore is the one SQL implementation of store.Store, over
// database/sql, shared by the SQLite (store/sqlite) and PostgreSQL
// (store/postgres) backends. Queries are written once with '?' placeholders
// and rebound to $1, $2, … for PostgreSQL; what differs between the
// databases (time encoding, locking, error codes, a few statements) is
// described by a Dialect, which the backend packages fill in. They also
// open the connections and keep their own migrations; Migrate applies them.
//
// Atomicity rests on each database's locking, never on Go locks: SQLite runs
// every write transaction on one connection with BEGIN IMMEDIATE (one
// writer per file, across processes); PostgreSQL runs READ COMMITTED
// transactions that take row locks (Dialect.LockUserRow, LockCounterRow), a
// table lock (LockUsersForFirst), single-statement upserts
// (ClaimFailureSQL) and an advisory lock for migrations (MigrationLock).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/schema"
)

// Dialect describes one database. Empty strings mean "not needed".
type Dialect struct {
	// Name prefixes errors ("sqlite", "postgres").
	Name string
	// Numbered rebinds '?' placeholders to $1, $2, … (PostgreSQL).
	Numbered bool
	// Time converts a (non-zero) time argument, already UTC at millisecond
	// precision, to the column's representation. Scanning accepts both
	// representations in use: INTEGER Unix milliseconds and timestamps.
	Time func(time.Time) any
	// WriteTx are the options of write transactions.
	WriteTx *sql.TxOptions
	// GroupsJSON is an expression giving the groups of the user aliased u
	// as a JSON array of strings (any order; [] when none).
	GroupsJSON string
	// QueryTimeout bounds every method call (0: none).
	QueryTimeout time.Duration
	// LockUserRow is appended to a SELECT of one users row to lock it for
	// the rest of the transaction (PostgreSQL: " FOR NO KEY UPDATE").
	LockUserRow string
	// LockCounterRow does the same for a failures row (" FOR UPDATE").
	LockCounterRow string
	// LockUsersForFirst runs in CreateFirstUser's transaction before the
	// conditional insert, so that concurrent inserts are serialised.
	LockUsersForFirst string
	// InsertFirstUserSQL overrides the conditional insert of CreateFirstUser
	// (same 8 arguments as insertUserSQL), e.g. to add casts.
	InsertFirstUserSQL string
	// ClaimFailureSQL, when set, claims a failure slot in one statement
	// with arguments key, at, at-window, limit, at+lockout, returning
	// count, window_start, locked_until, or no row when locked. Otherwise
	// the claim reads and writes the counter in one write transaction
	// (safe where write transactions are serialised).
	ClaimFailureSQL string
	// Retryable reports whether a failed write transaction was aborted by
	// the database to break a deadlock or serialisation race, so running
	// it again may succeed (nil: never).
	Retryable func(error) bool
	// NoLimit is the LIMIT argument meaning "all rows".
	NoLimit any
	// Classify maps a driver error to model.ErrConflict (unique
	// violation), model.ErrNotFound (foreign-key violation) or nil.
	Classify func(error) error

	// MigrationsDDL creates schema_migrations when missing.
	MigrationsDDL string
	// MigrationLock runs first in every migration transaction.
	MigrationLock string
	// RecordMigration returns the statement and arguments recording m.
	RecordMigration func(m schema.Migration) (string, []any)
}

// Store is a store.Store over database/sql. Writes use w, reads r (the
// same pool when the database needs no split). Safe for concurrent use.
type Store struct {
	w, r    *sql.DB
	d       *Dialect
	rebound sync.Map // query → rebound query
}

var _ store.Store = (*Store)(nil)

// New returns a store on the write pool w and the read pool r (may be w).
// Close closes both.
func New(w, r *sql.DB, d *Dialect) *Store {
	return &Store{w: w, r: r, d: d}
}

// Close closes the pools.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(s.r.Close(), err)
	}
	if err != nil {
		return fmt.Errorf("%s: close: %w", s.d.Name, err)
	}
	return nil
}

// q returns query with the dialect's placeholders.
func (s *Store) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	r := Rebind(query)
	s.rebound.Store(query, r)
	return r
}

// Rebind turns each '?' of query into $1, $2, … in order. The queries of
// this package hold no '?' inside literals.
func Rebind(query string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// db is what *sql.DB and *sql.Tx have in common.
type db interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, x db, query string, args ...any) (sql.Result, error) {
	return x.ExecContext(ctx, s.q(query), args...)
}

func (s *Store) row(ctx context.Context, x db, query string, args ...any) *sql.Row {
	return x.QueryRowContext(ctx, s.q(query), args...)
}

func (s *Store) query(ctx context.Context, x db, query string, args ...any) (*sql.Rows, error) {
	return x.QueryContext(ctx, s.q(query), args...)
}

// count runs a write statement and returns the affected row count.
func (s *Store) count(ctx context.Context, x db, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, x, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execOne runs a write statement; model.ErrNotFound when no row changed.
func (s *Store) execOne(ctx context.Context, x db, query string, args ...any) error {
	n, err := s.count(ctx, x, query, args...)
	if err == nil && n == 0 {
		err = model.ErrNotFound
	}
	return err
}

// timeout bounds ctx by the dialect's query timeout.
func (s *Store) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.d.QueryTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.d.QueryTimeout)
}

// write runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	return inTx(ctx, s.w, s.d.WriteTx, fn)
}

func inTx(ctx context.Context, x *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := x.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); !errors.Is(rerr, sql.ErrTxDone) {
			err = errors.Join(err, rerr)
		}
		return err
	}
	return tx.Commit()
}

// Wrap adds the dialect name and the operation and maps errors to the store
// errors: sql.ErrNoRows and foreign-key violations to model.ErrNotFound,
// unique violations to model.ErrConflict. Errors that already carry a store
// sentinel are only prefixed. When ctx is done its error is added, so
// callers can test for context.Canceled or context.DeadlineExceeded.
func (d *Dialect) Wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, model.ErrNotFound) || errors.Is(err, model.ErrConflict) || errors.Is(err, model.ErrLimit) {
		return fmt.Errorf("%s: %s: %w", d.Name, op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %s: %w", d.Name, op, model.ErrNotFound)
	}
	if serr := d.Classify(err); serr != nil {
		return fmt.Errorf("%s: %s: %w (%w)", d.Name, op, serr, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %s: %w (%w)", d.Name, op, cerr, err)
	}
	return fmt.Errorf("%s: %s: %w", d.Name, op, err)
}

func (s *Store) wrap(ctx context.Context, op string, err error) error {
	return s.d.Wrap(ctx, op, err)
}

// Now returns the current time as stored: UTC, millisecond precision.
func Now() time.Time {
	return time.Now().UTC().Truncate(time.Millisecond)
}

// stored returns t as stored: UTC, millisecond precision.
func stored(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// normTime returns t as stored, or Now() when t is zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return Now()
	}
	return stored(t)
}

// tm converts t for a NOT NULL time column.
func (s *Store) tm(t time.Time) any {
	return s.d.Time(stored(t))
}

// nullTm converts t for a nullable time column: the zero time is NULL.
func (s *Store) nullTm(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.tm(t)
}

// dbTime scans a time column of either representation; NULL is the zero
// time.
type dbTime struct{ t time.Time }

func (d *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		d.t = time.Time{}
	case int64:
		d.t = time.UnixMilli(x).UTC()
	case time.Time:
		d.t = x.UTC()
	default:
		return fmt.Errorf("unsupported time value %T", v)
	}
	return nil
}

// nullBlob stores an empty blob as NULL.
func nullBlob(b []byte) any {
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

// Migrate creates schema_migrations when missing and applies the pending
// ones of ms in version order, each in its own write transaction that
// first runs the dialect's MigrationLock. Concurrent openers serialise on
// the lock (SQLite: the write lock of BEGIN IMMEDIATE) and skip versions
// already recorded, so each migration runs exactly once; a failed one
// leaves no trace. A database migrated by a newer binary is refused.
func Migrate(ctx context.Context, x *sql.DB, d *Dialect, ms []schema.Migration) error {
	s := New(x, x, d)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail.
		if _, err := tx.ExecContext(ctx, d.MigrationsDDL); err != nil {
			return err
		}
		var latest sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil {
			return err
		}
		if known := lastVersion(ms); latest.Int64 > known {
			return fmt.Errorf("database schema version %d is newer than this binary's %d", latest.Int64, known)
		}
		return nil
	})
	if err != nil {
		return d.Wrap(ctx, "migrate", err)
	}
	for _, m := range ms {
		if err := s.write(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, m) }); err != nil {
			return d.Wrap(ctx, "migrate "+m.Name, err)
		}
	}
	return nil
}

func lastVersion(ms []schema.Migration) int64 {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

func (s *Store) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	if s.d.MigrationLock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.MigrationLock)
	return err
}

// apply runs m inside tx, under the migration lock, unless it is already
// recorded.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, m schema.Migration) error {
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	var one int
	err := s.row(ctx, tx, "SELECT 1 FROM schema_migrations WHERE version = ?", m.Version).Scan(&one)
	if err == nil {
		return nil // already applied
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	// No arguments: the drivers run the several statements of the file
	// (pgx with the simple protocol) inside this transaction.
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	q, args := s.d.RecordMigration(m)
	_, err = s.exec(ctx, tx, q, args...)
	return err
}
