package caddymodule

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/postgres"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// StorageConfig selects the database that holds users, factors and sessions.
type StorageConfig struct {
	// Backend: "sqlite" (default, embedded, one node) or "postgres"
	// (several Caddy nodes sharing one database).
	Type string `json:"type,omitempty"`
	// Path of the SQLite database file. Default:
	// <caddy data dir>/mfagate/mfagate.db. Placeholders such as {env.X}
	// are expanded.
	Path string `json:"path,omitempty"`
	// PostgreSQL connection string (URL or key=value form), e.g.
	// {env.MFA_DATABASE_URL}. Placeholders are expanded.
	DSN string `json:"dsn,omitempty"`
	// PostgreSQL pool size. Default: 10.
	MaxConns int32 `json:"max_conns,omitempty"`
	// Bound on each PostgreSQL query. Default: 5s.
	QueryTimeout caddy.Duration `json:"query_timeout,omitempty"`
}

// storagePool shares one open database per location across config reloads,
// so `caddy reload` neither leaks nor re-opens it.
var storagePool = caddy.NewUsagePool()

// pooledStore closes the database when the last config using it unloads.
type pooledStore struct{ store.Store }

// Destruct implements caddy.Destructor.
func (p pooledStore) Destruct() error { return p.Close() }

// defaultSQLitePath is where the database goes when no path is configured.
func defaultSQLitePath() string {
	return filepath.Join(caddy.AppDataDir(), "mfagate", "mfagate.db")
}

// resolved returns the backend and its expanded location. A path or DSN
// that is configured but expands to nothing is an error, never the default.
func (c StorageConfig) resolved() (backend, location string, err error) {
	backend = c.Type
	if backend == "" {
		backend = "sqlite"
	}
	switch backend {
	case "sqlite":
		location, err = expandSet("sqlite path", c.Path,
			"remove the path to use the default location (<caddy data dir>/mfagate/mfagate.db)")
		if err != nil {
			return "", "", err
		}
		if location == "" {
			location = defaultSQLitePath()
		}
		abs, err := filepath.Abs(location)
		if err != nil {
			return "", "", fmt.Errorf("storage path %q: %w", location, err)
		}
		return backend, abs, nil
	case "postgres":
		location, err = expandSet("postgres dsn", c.DSN, "give the connection string in the config")
		if err != nil {
			return "", "", err
		}
		if location == "" {
			return "", "", fmt.Errorf("storage postgres: a connection string (dsn) is required")
		}
		return backend, location, nil
	default:
		return "", "", fmt.Errorf("storage: unknown backend %q (supported: sqlite, postgres)", backend)
	}
}

// poolKey identifies one database.
func (c StorageConfig) poolKey() (string, error) {
	backend, location, err := c.resolved()
	if err != nil {
		return "", err
	}
	return backend + ":" + location, nil
}

// acquire returns the shared store for c; release it with storagePool.Delete(key).
// logger receives the store's warnings.
func (c StorageConfig) acquire(logger *zap.Logger) (store.Store, string, error) {
	key, err := c.poolKey()
	if err != nil {
		return nil, "", err
	}
	val, _, err := storagePool.LoadOrNew(key, func() (caddy.Destructor, error) {
		st, err := c.open(context.Background(), logger)
		if err != nil {
			return nil, err
		}
		return pooledStore{st}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return val.(pooledStore).Store, key, nil
}

// open opens a store outside the pool (used by the CLI); logger receives
// the store's warnings (such as a database file's mode tightened).
func (c StorageConfig) open(ctx context.Context, logger *zap.Logger) (store.Store, error) {
	backend, location, err := c.resolved()
	if err != nil {
		return nil, err
	}
	switch backend {
	case "sqlite":
		st, err := sqlite.OpenWith(ctx, location, sqlite.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("opening sqlite database %s: %w", location, err)
		}
		return st, nil
	case "postgres":
		st, err := postgres.Open(ctx, location, postgres.Options{MaxConns: c.MaxConns, QueryTimeout: time.Duration(c.QueryTimeout)})
		if err != nil {
			// The DSN may hold a password: never echo it.
			return nil, fmt.Errorf("opening postgres database: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("storage: unknown backend %q", backend)
}
