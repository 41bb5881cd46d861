package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/mfagate/mfagate/internal/store/schema"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema step.
type migration = schema.Migration

// loadMigrations returns the embedded migrations in ascending version order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	return schema.Load(fsys, "migrations")
}

// migrate creates schema_migrations and applies every pending migration, each
// in its own BEGIN IMMEDIATE transaction, in version order. Concurrent
// openers (other processes) serialise on the write lock and skip versions
// already applied. A database migrated by a newer binary is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return applyAll(ctx, db, ms)
}

// applyAll creates schema_migrations and applies the pending ones of ms.
func applyAll(ctx context.Context, db *sql.DB, ms []migration) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return wrap(ctx, "migrate", err)
	}
	if err := checkNotNewer(ctx, db, ms); err != nil {
		return err
	}
	for _, m := range ms {
		if err := inTx(ctx, db, func(tx *sql.Tx) error { return apply(ctx, tx, m) }); err != nil {
			return wrap(ctx, "migrate "+m.Name, err)
		}
	}
	return nil
}

// checkNotNewer fails when the database has a version this binary lacks.
func checkNotNewer(ctx context.Context, db *sql.DB, ms []migration) error {
	var latest sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil {
		return wrap(ctx, "migrate", err)
	}
	known := int64(0)
	if len(ms) > 0 {
		known = ms[len(ms)-1].Version
	}
	if latest.Int64 > known {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this binary's %d", latest.Int64, known)
	}
	return nil
}

// apply runs m inside tx unless it is already recorded.
func apply(ctx context.Context, tx *sql.Tx, m migration) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM schema_migrations WHERE version = ?", m.Version).Scan(&one)
	if err == nil {
		return nil // already applied
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
		m.Version, toMS(now()))
	return err
}
