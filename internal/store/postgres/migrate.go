package postgres

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

// migrate applies every pending embedded migration, each in its own
// transaction that first takes the advisory lock migrateLockKey (released
// at commit or rollback; see sqlstore.Migrate). Nodes opening the database
// at once queue on the lock and skip versions already recorded, so each
// migration runs exactly once; a failed one leaves no trace. A database
// migrated by a newer binary is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return sqlstore.Migrate(ctx, db, newDialect(0), ms)
}
