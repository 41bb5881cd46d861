package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mfagate/mfagate/internal/store/sqlstore"
)

// MigrateTo applies the embedded migrations up to and including version
// only, as an older binary would have. It is for upgrade tests.
func MigrateTo(ctx context.Context, dsn string, version int64) error {
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
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	return applyAll(ctx, pool, upTo)
}

// MigrationVersions lists the versions of the embedded migrations.
func MigrationVersions() ([]int64, error) {
	ms, err := loadMigrations(migrationFS)
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
	cfg := s.pool.Config()
	return cfg.MaxConns, cfg.ConnConfig.ConnectTimeout, s.queryTimeout
}

// OpenShared opens dsn like Open but on the shared SQL layer.
func OpenShared(ctx context.Context, dsn string, opts Options) (*sqlstore.Store, error) {
	opts = opts.withDefaults()
	db, err := openDB(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	ms, err := loadMigrations(migrationFS)
	d := newDialect(opts.QueryTimeout)
	if err == nil {
		err = sqlstore.Migrate(ctx, db, d, ms)
	}
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return sqlstore.New(db, db, d), nil
}
