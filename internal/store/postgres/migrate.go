package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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

// migrate applies every pending embedded migration.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return applyAll(ctx, pool, ms)
}

// applyAll creates schema_migrations when missing and applies the pending
// ones of ms in version order, each in its own transaction that first takes
// the advisory lock migrateLockKey (released at commit or rollback). Nodes
// opening the database at once queue on the lock and skip versions already
// recorded, so each migration runs exactly once; a failed one leaves no
// trace. A database migrated by a newer binary is refused.
func applyAll(ctx context.Context, pool *pgxpool.Pool, ms []migration) error {
	err := inTx(ctx, pool, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail.
		const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    bigint      PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`
		if _, err := tx.Exec(ctx, create); err != nil {
			return err
		}
		return checkNotNewer(ctx, tx, ms)
	})
	if err != nil {
		return wrap(ctx, "migrate", err)
	}
	for _, m := range ms {
		if err := inTx(ctx, pool, func(tx pgx.Tx) error { return apply(ctx, tx, m) }); err != nil {
			return wrap(ctx, "migrate "+m.Name, err)
		}
	}
	return nil
}

func lockMigrations(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey)
	return err
}

// checkNotNewer fails when the database has a version this binary lacks.
func checkNotNewer(ctx context.Context, tx pgx.Tx, ms []migration) error {
	var latest *int64
	if err := tx.QueryRow(ctx, "SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil {
		return err
	}
	known := int64(0)
	if len(ms) > 0 {
		known = ms[len(ms)-1].Version
	}
	if latest != nil && *latest > known {
		return fmt.Errorf("database schema version %d is newer than this binary's %d", *latest, known)
	}
	return nil
}

// apply runs m inside tx, under the advisory lock, unless it is already
// recorded.
func apply(ctx context.Context, tx pgx.Tx, m migration) error {
	if err := lockMigrations(ctx, tx); err != nil {
		return err
	}
	var one int
	err := tx.QueryRow(ctx, "SELECT 1 FROM schema_migrations WHERE version = $1", m.Version).Scan(&one)
	if err == nil {
		return nil // already applied
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	// No arguments: pgx sends it with the simple protocol, which runs the
	// several statements of the file inside this transaction.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
	return err
}
