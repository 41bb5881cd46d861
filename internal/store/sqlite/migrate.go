package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema step.
type migration = schema.Migration

// loadMigrations returns the embedded migrations in ascending version order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	return schema.Load(fsys, "migrations")
}

// migrate applies every pending migration, each in its own BEGIN IMMEDIATE
// transaction, in version order (see sqlstore.Migrate). Concurrent openers
// (other processes) serialise on the write lock and skip versions already
// applied. A database migrated by a newer binary is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return sqlstore.Migrate(ctx, db, dialect, ms)
}
