package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies every pending migration, each in its own BEGIN IMMEDIATE
// transaction, in version order (see sqlstore.Migrate). Concurrent openers
// (other processes) serialise on the write lock and skip versions already
// applied. A database migrated by a newer binary is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return sqlstore.Migrate(ctx, db, dialect, ms)
}
