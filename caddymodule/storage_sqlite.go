package caddymodule

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

func init() {
	caddy.RegisterModule(SQLiteStorage{})
}

// SQLiteStorage keeps users, factors and sessions in an embedded SQLite
// database file: one Caddy node. It is the default storage.
type SQLiteStorage struct {
	// Path of the database file, created when missing. Default:
	// <caddy data dir>/mfagate/mfagate.db. Placeholders such as {env.X}
	// are expanded.
	Path string `json:"path,omitempty"`

	// path is Path expanded and made absolute.
	path string
}

// CaddyModule returns the Caddy module information.
func (SQLiteStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "mfa.storage.sqlite",
		New: func() caddy.Module { return new(SQLiteStorage) },
	}
}

// defaultSQLitePath is where the database goes when no path is configured.
func defaultSQLitePath() string {
	return filepath.Join(caddy.AppDataDir(), "mfagate", "mfagate.db")
}

// Provision resolves the path. A path that is configured but expands to
// nothing is an error, never the default location.
func (s *SQLiteStorage) Provision(caddy.Context) error {
	p, err := expandSet("sqlite path", s.Path,
		"remove the path to use the default location (<caddy data dir>/mfagate/mfagate.db)")
	if err != nil {
		return err
	}
	if p == "" {
		p = defaultSQLitePath()
	}
	// Absolute, so that one file is one pool key whatever the spelling.
	abs, err := filepath.Abs(p)
	if err != nil {
		return fmt.Errorf("sqlite path %q: %w", p, err)
	}
	s.path = abs
	return nil
}

// poolKey: the file is the only thing that shapes an SQLite store.
func (s *SQLiteStorage) poolKey() string { return "sqlite:" + s.path }

func (s *SQLiteStorage) open(ctx context.Context, logger *zap.Logger) (store.Store, error) {
	st, err := sqlite.OpenWith(ctx, s.path, sqlite.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("opening sqlite database %s: %w", s.path, err)
	}
	return st, nil
}

func (s *SQLiteStorage) describe(string) string { return "sqlite store " + s.path }

// UnmarshalCaddyfile reads `sqlite [<path>]` (after `storage`).
func (s *SQLiteStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // backend name
	if d.NextArg() {
		s.Path = d.Val()
	}
	if d.NextArg() {
		return d.Errf("storage sqlite: want `storage sqlite [<path>]`")
	}
	if d.NextBlock(0) {
		return d.Errf("storage sqlite takes no block")
	}
	return nil
}

// Interface guards
var (
	_ Storage               = (*SQLiteStorage)(nil)
	_ caddy.Provisioner     = (*SQLiteStorage)(nil)
	_ caddyfile.Unmarshaler = (*SQLiteStorage)(nil)
)
