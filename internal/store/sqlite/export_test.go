package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

// MigrateTo creates (when missing) the database at path and applies the
// embedded migrations up to and including version only, as an older binary
// would have. It is for upgrade tests.
func MigrateTo(ctx context.Context, path string, version int64) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return err
	}
	var upTo []migration
	for _, m := range ms {
		if m.Version <= version {
			upTo = append(upTo, m)
		}
	}
	if len(upTo) == 0 || upTo[len(upTo)-1].Version != version {
		return fmt.Errorf("no migration with version %d", version)
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
