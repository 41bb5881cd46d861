package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

// MigrateTo applies the embedded migrations up to and including version
// only, as an older binary would have. It is for upgrade tests.
func MigrateTo(ctx context.Context, dsn string, version int64) error {
	ms, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	upTo, err := schema.UpTo(ms, version)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, dsn, Options{}.withDefaults())
	if err != nil {
		return err
	}
	return errors.Join(sqlstore.Migrate(ctx, db, newDialect(0), upTo), db.Close())
}

// MigrationVersions lists the versions of the embedded migrations.
func MigrationVersions() ([]int64, error) {
	ms, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var vs []int64
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs, nil
}

// PoolSettings reports the effective pool bound and timeouts of s.
func PoolSettings(s *Store) (maxConns int32, connectTimeout, queryTimeout time.Duration) {
	return int32(s.db.Stats().MaxOpenConnections), s.opts.ConnectTimeout, s.opts.QueryTimeout
}
