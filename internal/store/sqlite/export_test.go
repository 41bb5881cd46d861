package sqlite

import (
	"context"
	"errors"

	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

// MigrateTo creates (when missing) the database at path and applies the
// embedded migrations up to and including version only, as an older binary
// would have. It is for upgrade tests.
func MigrateTo(ctx context.Context, path string, version int64) error {
	ms, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	upTo, err := schema.UpTo(ms, version)
	if err != nil {
		return err
	}
	abs, err := prepareFile(path)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, abs, true)
	if err != nil {
		return err
	}
	return errors.Join(sqlstore.Migrate(ctx, db, dialect, upTo), db.Close())
}
