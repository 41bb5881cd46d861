// Package sqlite opens an embedded SQLite database (modernc.org/sqlite,
// pure Go), applies its migrations and returns the shared SQL store
// (store/sqlstore) with the SQLite dialect (dialect.go).
//
// The database runs in WAL mode. Writes go through a dedicated pool of one
// connection that starts every transaction with BEGIN IMMEDIATE, so writers
// in this process queue in Go instead of failing with SQLITE_BUSY, and
// writers in other processes sharing the file wait for the write lock under
// busy_timeout. Reads use a separate pool of query-only connections, which
// WAL lets run alongside the writer.
//
// Times are stored as integer Unix milliseconds and returned in UTC; nullable
// time columns store the zero time as NULL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store backed by one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	*sqlstore.Store         // writes on one BEGIN IMMEDIATE connection, reads on rdb
	rdb             *sql.DB // query-only pool: reads
}

// Options tune OpenWith.
type Options struct {
	// Logger receives warnings (file modes tightened on open); nil
	// discards them.
	Logger *zap.Logger
}

// Open opens (creating it and its directory when missing) the SQLite
// database at path and applies any pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	abs, err := prepareFile(path)
	if err != nil {
		return nil, err
	}
	// Before the first connection: SQLite creates -wal and -shm with the
	// database file's mode, so tightening it first covers them too.
	tightenModes(abs, logger)
	wdb, err := openDB(ctx, abs, true)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, wdb); err != nil {
		return nil, errors.Join(err, wdb.Close())
	}
	rdb, err := openDB(ctx, abs, false)
	if err != nil {
		return nil, errors.Join(err, wdb.Close())
	}
	return &Store{Store: sqlstore.New(wdb, rdb, dialect), rdb: rdb}, nil
}

// prepareFile creates the parent directory (0700) and the file (0600) when
// missing and returns the absolute path.
func prepareFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("sqlite: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open: %w", err)
	}
	// The driver splits the DSN at the first '?'.
	if strings.ContainsRune(abs, '?') {
		return "", fmt.Errorf("sqlite: open: path %q must not contain '?'", abs)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", fmt.Errorf("sqlite: open: create directory: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("sqlite: open: create file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("sqlite: open: create file: %w", err)
	}
	return abs, nil
}

// companionSuffixes name the files SQLite keeps beside the database; they
// hold the same data (the WAL holds recent writes, secrets included).
var companionSuffixes = [...]string{"", "-wal", "-shm", "-journal"}

// tightenModes removes group and other permissions from the database file
// and its companions: a file made by hand, by a copy or under a loose umask
// (0644) would let any local user read the sessions and the keys in the
// secrets table. Each change is logged; a file that cannot be changed (owned
// by another user) is logged too, and opening goes on.
func tightenModes(abs string, logger *zap.Logger) {
	for _, suffix := range companionSuffixes {
		name := abs + suffix
		fi, err := os.Stat(name)
		if err != nil {
			continue // absent companions are the normal case
		}
		old := fi.Mode().Perm()
		if old&0o077 == 0 {
			continue
		}
		tight := old &^ 0o077
		if err := os.Chmod(name, tight); err != nil {
			logger.Warn("sqlite database file is readable by other users and could not be restricted",
				zap.String("path", name), zap.String("mode", fmtMode(old)), zap.Error(err))
			continue
		}
		logger.Warn("sqlite database file was readable by other users; restricted it to its owner",
			zap.String("path", name), zap.String("old_mode", fmtMode(old)), zap.String("new_mode", fmtMode(tight)))
	}
}

// fmtMode formats permission bits the way chmod takes them, e.g. "0644".
func fmtMode(m os.FileMode) string {
	return fmt.Sprintf("%#o", uint32(m))
}

// dsn builds the driver data source name for the file at abs.
func dsn(abs string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1") // applied after the pragmas above
	}
	return abs + "?" + q.Encode()
}

// openDB opens and pings the write pool (write) or the read pool.
func openDB(ctx context.Context, abs string, write bool) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(abs, write))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := 1
	if !write {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := pingWhileBusy(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", abs, err), db.Close())
	}
	return db, nil
}

// openBusyWait bounds how long opening waits for other processes, like
// busy_timeout does for statements.
const openBusyWait = 5 * time.Second

// pingWhileBusy opens the first connection, retrying on SQLITE_BUSY: when
// several nodes open a fresh file at once, switching it to WAL needs a lock
// SQLite does not wait for under busy_timeout, so one of them can get BUSY
// straight away.
func pingWhileBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(openBusyWait)
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error unless
// SQLite reports "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return dialect.Wrap(ctx, "integrity check", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return dialect.Wrap(ctx, "integrity check", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return dialect.Wrap(ctx, "integrity check", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("sqlite: integrity check failed: %s", strings.Join(msgs, "; "))
	}
	return nil
}
